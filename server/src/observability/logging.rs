//! The log subscriber of `silo serve`: text or JSON lines on standard output.
use tracing_subscriber::EnvFilter;

use super::settings::{LogFormat, LogSettings};

/// The filter: `SILO_LOG`, else `RUST_LOG`, else `[log] level`.
fn filter(settings: &LogSettings) -> EnvFilter {
    EnvFilter::try_from_env("SILO_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new(settings.filter()))
}

/// Installs the global subscriber. Every line written while a request is handled carries
/// the request's span (`request{id=… method=… target=…}`; in JSON, a `span` object with
/// `id`, and `spans`), so lines of one request can be found by its ID.
pub fn init(settings: &LogSettings) {
    // Colours only on a terminal: files, pipes and journald get plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter(settings))
        .with_ansi(ansi);
    let installed = match settings.format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .flatten_event(true)
            .try_init(),
    };
    if let Err(e) = installed {
        eprintln!("warning: logging was already set up: {e}");
    }
}
