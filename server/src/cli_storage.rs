//! `silo gc` and `silo fsck`: thin commands over `Registry::collect_garbage` and
//! `Registry::fsck`, each printing a human summary or, with `--json`, a stable document
//! (other tools and tests read it).
use clap::Args;
use serde_json::json;
use silo_domain::services::{FsckOptions, FsckProblem, FsckReport, GcKind, GcReport};
use std::process::ExitCode;

use crate::config::Config;

#[derive(Args, Debug)]
pub struct GcArgs {
    /// Report what would be removed; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the report as JSON (counts, bytes and every item).
    #[arg(long)]
    pub json: bool,
    /// Override `[maintenance] grace_minutes` for this run.
    #[arg(long)]
    pub grace_minutes: Option<u64>,
    /// Override `[maintenance] abandoned_upload_minutes` for this run.
    #[arg(long)]
    pub abandoned_upload_minutes: Option<u64>,
}

#[derive(Args, Debug)]
pub struct FsckArgs {
    /// Flag records whose bytes are missing or bad, and delete bad bytes (see
    /// docs/OPERATIONS.md).
    #[arg(long)]
    pub repair: bool,
    /// Rehash every blob while streaming it and report those whose bytes do not match.
    #[arg(long)]
    pub verify: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

pub async fn gc(config: &Config, args: GcArgs) -> anyhow::Result<ExitCode> {
    let mut settings = config.maintenance.clone();
    if let Some(minutes) = args.grace_minutes {
        settings.grace_minutes = minutes;
    }
    if let Some(minutes) = args.abandoned_upload_minutes {
        settings.abandoned_upload_minutes = minutes;
    }
    let registry = crate::open_registry(config).await?;
    let report = registry
        .collect_garbage(&settings.gc_options(args.dry_run))
        .await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&gc_json(&report))?);
    } else {
        print!("{}", gc_text(&report));
    }
    Ok(ExitCode::SUCCESS)
}

fn gc_json(report: &GcReport) -> serde_json::Value {
    let mut summary = serde_json::Map::new();
    for kind in GcKind::ALL {
        let name = serde_json::to_value(kind).unwrap_or_default();
        summary.insert(
            name.as_str().unwrap_or_default().to_string(),
            json!({"count": report.count(kind), "bytes": report.bytes(kind)}),
        );
    }
    json!({
        "dry_run": report.dry_run,
        "summary": summary,
        "adopted": report.adopted,
        "items": report.items,
    })
}

fn gc_text(report: &GcReport) -> String {
    let mut out = String::new();
    if report.dry_run {
        out.push_str("dry run: nothing was changed; a real run would remove:\n");
    }
    for kind in GcKind::ALL {
        out.push_str(&format!(
            "{}: {} ({} bytes)\n",
            kind.label(),
            report.count(kind),
            report.bytes(kind)
        ));
    }
    out.push_str(&format!(
        "blobs without a record, kept for the grace period: {}\n",
        report.adopted.len()
    ));
    out
}

pub async fn fsck(config: &Config, args: FsckArgs) -> anyhow::Result<ExitCode> {
    let registry = crate::open_registry(config).await?;
    let options = FsckOptions {
        repair: args.repair,
        verify: args.verify,
    };
    let report = registry.fsck(options).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&fsck_json(&report))?);
    } else {
        print!("{}", fsck_text(&report));
    }
    Ok(if report.problems_remaining() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn fsck_json(report: &FsckReport) -> serde_json::Value {
    json!({
        "stored_blobs": report.stored_blobs,
        "referenced_blobs": report.referenced_blobs,
        "verified_blobs": report.verified_blobs,
        "missing": report.count(FsckProblem::Missing),
        "wrong_size": report.count(FsckProblem::WrongSize),
        "corrupt": report.count(FsckProblem::Corrupt),
        "problems": report.issues.len(),
        "problems_remaining": report.problems_remaining(),
        "unrecorded": report.unrecorded.len(),
        "unreferenced": report.unreferenced.len(),
        "dangling": report.dangling.len(),
        "issues": report.issues,
        "unrecorded_blobs": report.unrecorded,
        "unreferenced_blobs": report.unreferenced,
        "dangling_records": report.dangling,
    })
}

fn fsck_text(report: &FsckReport) -> String {
    let mut out = format!(
        "blobs stored: {}, referenced: {}, rehashed: {}\n",
        report.stored_blobs, report.referenced_blobs, report.verified_blobs
    );
    for (problem, label) in [
        (FsckProblem::Missing, "missing blobs"),
        (FsckProblem::WrongSize, "blobs of the wrong size"),
        (FsckProblem::Corrupt, "corrupt blobs"),
    ] {
        out.push_str(&format!("{label}: {}\n", report.count(problem)));
        for issue in report.issues.iter().filter(|i| i.problem == problem) {
            out.push_str(&format!(
                "  sha256:{} ({}): {}{}\n",
                issue.digest,
                issue.records.join(", "),
                issue.detail,
                if issue.repaired { " [repaired]" } else { "" }
            ));
        }
    }
    out.push_str(&format!(
        "blobs without a record (garbage collection collects them): {}\n\
         unreferenced blobs (garbage collection collects them): {}\n\
         records of absent, unreferenced blobs: {}\n\
         problems remaining: {}\n",
        report.unrecorded.len(),
        report.unreferenced.len(),
        report.dangling.len(),
        report.problems_remaining()
    ));
    out
}
