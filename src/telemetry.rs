//! Logging: `tracing` to stdout, filtered by `HUDDLE_LOG`, human-readable or JSON
//! lines (`HUDDLE_LOG_FORMAT`). Secrets are never logged: configuration values
//! that are secret print as `***`, phone numbers are masked.

use tracing_subscriber::EnvFilter;

use crate::config::{Config, LogFormat};

/// Installs the global subscriber (once per process).
pub fn init(config: &Config) -> anyhow::Result<()> {
    let filter = EnvFilter::try_new(&config.log)
        .map_err(|e| anyhow::anyhow!("HUDDLE_LOG = {:?} is not a valid filter: {e}", config.log))?;
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let result = match config.log_format {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
    result.map_err(|e| anyhow::anyhow!("cannot install the logger: {e}"))
}
