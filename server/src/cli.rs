//! The `silo` command line. Every subcommand loads the same layered configuration.
use clap::{Args, Parser, Subcommand};
use silo_domain::services::NewToken;
use silo_domain::Scope;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::config::Config;
use crate::state::AppState;

#[derive(Parser, Debug)]
#[command(
    name = "silo",
    version,
    about = "A container registry for Apptainer/Singularity images"
)]
pub struct Cli {
    /// TOML configuration file (settings from SILO_* environment variables override it).
    #[arg(long, global = true, env = "SILO_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the registry: library API, web interface and its server functions.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage user accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Inspect the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Print the REST API's OpenAPI document (as served at /api/openapi.json and committed
    /// as docs/openapi.json).
    Openapi,
    /// Fill an empty registry with demonstration data: users, collections, thousands of
    /// containers (small non-SIF blobs of varied size), pulls and stars over past days. For
    /// trying the web interface and for benchmarks; never on a production registry.
    Seed(SeedArgs),
    /// Write a consistent backup of the database and the blobs it references into a
    /// directory, while the registry keeps serving (see docs/OPERATIONS.md).
    Backup(crate::backup_cli::BackupArgs),
    /// Restore a backup into an empty database and a blob store (any backend).
    Restore(crate::backup_cli::RestoreArgs),
    /// Remove unreferenced blobs (past the grace period), expired upload sessions and
    /// abandoned temporary files, and report what went.
    Gc(crate::cli_storage::GcArgs),
    /// Check the database against the blob store; exits non-zero while problems remain.
    Fsck(crate::cli_storage::FsckArgs),
}

#[derive(Args, Debug)]
pub struct SeedArgs {
    /// Containers to create (one tagged image each).
    #[arg(long, default_value_t = 10_000)]
    pub containers: u64,
    /// Users, each with an entity of their own.
    #[arg(long, default_value_t = 40)]
    pub entities: u64,
    /// Containers per collection.
    #[arg(long, default_value_t = 20)]
    pub per_collection: u64,
    /// Every n-th collection is private (0: none).
    #[arg(long, default_value_t = 7)]
    pub private_every: u64,
    /// Largest image in KiB (sizes are spread log-uniformly from 1 KiB).
    #[arg(long, default_value_t = 256)]
    pub max_kib: u64,
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create a local user (and, on first push, the entity named after them).
    Create(UserCreate),
    /// List users.
    List,
}

#[derive(Args, Debug)]
pub struct UserCreate {
    pub name: String,
    /// Make the user an administrator.
    #[arg(long)]
    pub admin: bool,
    #[arg(long, default_value = "")]
    pub email: String,
}

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Create an API token for a user and print it (only the token, on standard output).
    Create(TokenCreate),
}

#[derive(Args, Debug)]
pub struct TokenCreate {
    /// The user the token belongs to.
    pub name: String,
    #[arg(long, default_value = "cli")]
    pub label: String,
    /// Days until the token expires; without it the token does not expire.
    #[arg(long)]
    pub expires_days: Option<u32>,
    /// read, push or admin (default: admin for admins, push for others).
    #[arg(long)]
    pub scope: Option<String>,
    /// Also issue a secret for the legacy `sregistry` client (bound to this token's scope,
    /// expiry and revocation) and print the `~/.sregistry` JSON instead of the token.
    #[arg(long)]
    pub sregistry: bool,
}

#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// Validate the configuration (file and environment) and report problems.
    Check,
    /// Print the effective configuration as TOML.
    Show,
}

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    if let Command::Openapi = cli.command {
        print!("{}", crate::rest::openapi_json());
        return Ok(ExitCode::SUCCESS);
    }
    if let ConfigCommand::Check = match &cli.command {
        Command::Config(c) => c,
        _ => &ConfigCommand::Show,
    } {
        return Ok(config_check(cli.config.as_deref()));
    }
    let config = Config::load(cli.config.as_deref())?;
    for name in Config::unknown_env_vars() {
        eprintln!("warning: unknown environment variable {name} (not a Silo setting)");
    }
    match cli.command {
        Command::Config(ConfigCommand::Show) => {
            print!("{}", toml::to_string_pretty(&config)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Config(ConfigCommand::Check) | Command::Openapi => unreachable!("handled above"),
        Command::Serve => serve(config).await,
        Command::Backup(args) => crate::backup_cli::backup(&config, args).await,
        Command::Restore(args) => crate::backup_cli::restore(&config, args).await,
        Command::Migrate => {
            crate::open_registry(&config).await?;
            eprintln!("database is up to date");
            Ok(ExitCode::SUCCESS)
        }
        Command::User(UserCommand::Create(args)) => {
            let registry = crate::open_registry(&config).await?;
            let user = registry
                .create_user(&args.name, &args.email, args.admin)
                .await?;
            eprintln!(
                "created {} {:?}",
                if user.is_admin { "admin" } else { "user" },
                user.username
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::User(UserCommand::List) => {
            let registry = crate::open_registry(&config).await?;
            for user in registry.list_users().await? {
                println!(
                    "{}\t{}\t{}",
                    user.username,
                    if user.is_admin { "admin" } else { "user" },
                    if user.is_active { "active" } else { "disabled" }
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Seed(args) => {
            let registry = crate::open_registry(&config)
                .await?
                .with_accept_non_sif(true);
            let plan = silo_domain::seed::SeedPlan {
                containers: args.containers,
                entities: args.entities,
                containers_per_collection: args.per_collection,
                private_every: args.private_every,
                max_image_kib: args.max_kib,
                ..Default::default()
            };
            let started = std::time::Instant::now();
            let report = registry
                .seed(&plan, |done| {
                    eprint!("\rseeded {done}/{} containers", plan.containers)
                })
                .await?;
            eprintln!(
                "\nseeded {} users, {} collections, {} containers ({} MiB), {} pulls, {} stars in {:.1} s",
                report.users,
                report.collections,
                report.containers,
                report.bytes / (1024 * 1024),
                report.downloads,
                report.stars,
                started.elapsed().as_secs_f64()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Gc(args) => crate::cli_storage::gc(&config, args).await,
        Command::Fsck(args) => crate::cli_storage::fsck(&config, args).await,
        Command::Token(TokenCommand::Create(args)) => {
            let registry = crate::open_registry(&config).await?;
            let scope = args.scope.as_deref().map(Scope::parse).transpose()?;
            let new = NewToken {
                label: args.label,
                scope,
                expires_in_days: args.expires_days,
            };
            if args.sregistry {
                let created = registry.create_sregistry_secret(&args.name, new).await?;
                let secrets = serde_json::json!({"registry": {
                    "token": created.secret,
                    "username": created.username,
                    "base": config.public_url(),
                }});
                println!("{}", serde_json::to_string_pretty(&secrets)?);
                return Ok(ExitCode::SUCCESS);
            }
            let created = registry.create_token(&args.name, new).await?;
            println!("{}", created.secret);
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn config_check(file: Option<&std::path::Path>) -> ExitCode {
    let unknown = Config::unknown_env_vars();
    for name in &unknown {
        eprintln!("unknown environment variable {name}: not a Silo setting");
    }
    match Config::load(file) {
        Ok(config) if unknown.is_empty() => {
            println!("configuration OK");
            println!("  listen       {}", config.listen);
            println!("  public_url   {}", config.public_url());
            println!("  data_dir     {}", config.data_dir.display());
            println!(
                "  database     {}",
                crate::config::redact_url(&config.database_url())
            );
            ExitCode::SUCCESS
        }
        Ok(_) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("{err}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<ExitCode> {
    crate::observability::logging::init(&config.log);
    let registry = crate::open_registry(&config).await?;
    let listen = config.listen.clone();
    let state = AppState::new(registry, config);
    let public = state.public_url.clone();
    let stop_streams = state.shutdown.clone();
    crate::background::start(&state.registry, &state.config, &state.shutdown).await;
    let tls = state.config.tls.server_config()?;
    let header_read_timeout = state.config.limits.header_read_timeout();
    if state.config.auth.rate_limit.client_ip_header.is_some() {
        tracing::warn!(
            "auth.rate_limit.client_ip_header is deprecated: list the proxies in [proxy] trusted_proxies instead"
        );
    }
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!(%listen, %scheme, %public, "silo is ready");
    crate::edge::serve::serve(
        listener,
        tls,
        crate::router::app(state),
        header_read_timeout,
        async move {
            shutdown_signal().await;
            stop_streams.cancel();
        },
    )
    .await?;
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
