//! Logging: `tracing` to stdout, filtered by `HUDDLE_LOG`, human-readable or JSON
//! lines (`HUDDLE_LOG_FORMAT`). Secrets are never logged: configuration values
//! that are secret print as `***` (URLs through [`redact_url`]), phone numbers
//! are masked, query strings (signs, access tokens) and bodies are not logged.

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

pub use huddle_actors::db::redact_url;

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_in_urls_are_redacted() {
        for (url, shown) in [
            ("sqlite://huddle.db", "sqlite://huddle.db"),
            (
                "postgres://huddle:pw1@db:5432/huddle",
                "postgres://huddle:***@db:5432/huddle",
            ),
            (
                "postgres://huddle@db/huddle?sslmode=require&password=pw2&sslpassword=pw3",
                "postgres://huddle@db/huddle?sslmode=require&password=***&sslpassword=***",
            ),
            ("redis://:pw4@redis:6379/0", "redis://:***@redis:6379/0"),
            ("redis://redis:6379/0", "redis://redis:6379/0"),
            ("not a url with pw5@host", "***"),
        ] {
            let redacted = redact_url(url);
            assert_eq!(redacted.replace("%2A%2A%2A", "***"), shown, "{url}");
            for pw in ["pw1", "pw2", "pw3", "pw4", "pw5"] {
                assert!(!redacted.contains(pw), "{redacted}");
            }
        }
    }
}
