//! The machinery behind the one table of settings (`settings! { … }` in
//! `config/mod.rs`): the `settings!` macro, how each type of value is read
//! ([`SettingValue`]), the layers (defaults < TOML file < environment) and the
//! renderings of the table (`huddle --help`, the README's table).
//!
//! The table is the only place a setting is written. From it the macro makes
//! the flat, typed [`Settings`](super::Settings) struct (a field per setting,
//! its doc the setting's help), the [`SETTINGS`](super::SETTINGS) list that
//! names, defaults and explains them, and the parser that fills the struct,
//! each field by its type's [`SettingValue`]. The nested
//! [`Config`](super::Config) is then derived from the typed struct; what
//! depends on several settings (a provider and its credentials) is decided
//! there. The alternative, a `serde` struct, would have kept the help, the
//! defaults and the error messages (`HUDDLE_X = … is not valid`) elsewhere.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::num::{NonZeroU32, NonZeroU64, NonZeroUsize};
use std::path::Path;

use super::{ConfigError, Secret, TestNumbers};
use crate::auth::address::TrustedProxies;

/// One configurable value, as the table declares it.
#[derive(Debug)]
pub struct Setting {
    /// Key in the TOML file; the environment name is `HUDDLE_` + upper case.
    pub key: &'static str,
    /// Default value ("" = unset).
    pub default: &'static str,
    /// What it does.
    pub help: &'static str,
}

impl Setting {
    /// `HUDDLE_<KEY>`.
    pub fn env_name(&self) -> String {
        env_name(self.key)
    }
}

/// `HUDDLE_<KEY>`, the name errors use.
pub fn env_name(key: &str) -> String {
    format!("HUDDLE_{}", key.to_ascii_uppercase())
}

/// Declares every setting once. Each line is
///
/// ```text
/// key: Type = "default", "Help shown by --help and in the README.";
/// ```
///
/// and makes a field `key: Type` of `Settings`, a row of `SETTINGS` (TOML key
/// `key`, environment `HUDDLE_KEY`, default `""` = unset) and its parsing by
/// `<Type as SettingValue>`, whose errors name `HUDDLE_KEY`. Adding a setting
/// is that one line; if the server reads it through `Config`, also the field
/// there and the line that derives it (`Config::from_settings`). Run
/// `HUDDLE_UPDATE_README=1 cargo test --lib readme` to write its README row.
macro_rules! settings {
    ($($key:ident: $ty:ty = $default:literal, $help:literal;)*) => {
        /// Every setting, typed and checked by its type; read by
        /// `Config::from_settings`.
        #[derive(Debug, Clone)]
        pub struct Settings {
            // The help as plain text (it holds URLs and brackets, not markdown).
            $(#[doc = "```text"] #[doc = $help] #[doc = "```"] pub $key: $ty,)*
        }

        /// Every setting huddle reads, in the order `--help` and the README show them.
        pub const SETTINGS: &[Setting] = &[
            $(Setting { key: stringify!($key), default: $default, help: $help },)*
        ];

        impl Settings {
            /// Reads every setting from its text (missing = "").
            fn from_raw(raw: &$crate::config::settings::Raw) -> Result<Self, ConfigError> {
                Ok(Self {
                    $($key: $crate::config::settings::SettingValue::parse_setting(
                        stringify!($key),
                        raw.text(stringify!($key)),
                    )?,)*
                })
            }
        }
    };
}
pub(super) use settings;

/// A type a setting can have: how its text is read.
pub trait SettingValue: Sized {
    /// Reads `text` (as given: untrimmed); errors name [`env_name`]`(key)`.
    fn parse_setting(key: &str, text: &str) -> Result<Self, ConfigError>;
}

/// Values through [`std::str::FromStr`] (trimmed).
macro_rules! from_str_values {
    ($($ty:ty),*) => {$(
        impl SettingValue for $ty {
            fn parse_setting(key: &str, text: &str) -> Result<Self, ConfigError> {
                parse(key, text.trim())
            }
        }
    )*};
}
from_str_values!(u32, u64, usize, SocketAddr);

/// Numbers that must not be 0.
macro_rules! non_zero_values {
    ($($ty:ty: $int:ty),*) => {$(
        impl SettingValue for $ty {
            fn parse_setting(key: &str, text: &str) -> Result<Self, ConfigError> {
                <$ty>::new(parse::<$int>(key, text.trim())?).ok_or_else(|| {
                    ConfigError(format!("{} must be greater than 0", env_name(key)))
                })
            }
        }
    )*};
}
non_zero_values!(NonZeroU32: u32, NonZeroU64: u64, NonZeroUsize: usize);

fn parse<T: std::str::FromStr>(key: &str, value: &str) -> Result<T, ConfigError>
where
    T::Err: fmt::Display,
{
    value
        .parse()
        .map_err(|e| ConfigError(format!("{} = {value:?} is not valid: {e}", env_name(key))))
}

/// Text, trimmed.
impl SettingValue for String {
    fn parse_setting(_key: &str, text: &str) -> Result<Self, ConfigError> {
        Ok(text.trim().to_owned())
    }
}

/// A secret, trimmed; never printed.
impl SettingValue for Secret {
    fn parse_setting(_key: &str, text: &str) -> Result<Self, ConfigError> {
        Ok(Secret::new(text.trim()))
    }
}

/// `true`/`1` or `false`/`0`.
impl SettingValue for bool {
    fn parse_setting(key: &str, text: &str) -> Result<Self, ConfigError> {
        match text.trim() {
            "true" | "1" => Ok(true),
            "false" | "0" => Ok(false),
            other => Err(ConfigError(format!(
                "{} must be true or false, not {other:?}",
                env_name(key)
            ))),
        }
    }
}

/// Empty (after trimming) = unset.
impl<T: SettingValue> SettingValue for Option<T> {
    fn parse_setting(key: &str, text: &str) -> Result<Self, ConfigError> {
        let text = text.trim();
        if text.is_empty() {
            Ok(None)
        } else {
            T::parse_setting(key, text).map(Some)
        }
    }
}

/// Text kept exactly as given, spaces included (a body template).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verbatim(pub String);

impl SettingValue for Verbatim {
    fn parse_setting(_key: &str, text: &str) -> Result<Self, ConfigError> {
        Ok(Self(text.to_owned()))
    }
}

/// An `http(s)://host…` base URL, without a trailing `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl(pub String);

impl SettingValue for BaseUrl {
    fn parse_setting(key: &str, text: &str) -> Result<Self, ConfigError> {
        let value = text.trim();
        let parsed = url::Url::parse(value)
            .map_err(|e| ConfigError(format!("{} = {value:?} is not a URL: {e}", env_name(key))))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(ConfigError(format!(
                "{} must be an http(s) URL with a host, not {value:?}",
                env_name(key)
            )));
        }
        Ok(Self(value.trim_end_matches('/').to_owned()))
    }
}

/// A setting only some configurations read (a provider's option): its error
/// stops the start only when it is read, so a stale `HUDDLE_S3_PATH_STYLE`
/// does not stop a server that stores locally.
#[derive(Debug, Clone)]
pub struct IfUsed<T>(Result<T, ConfigError>);

impl<T: Clone> IfUsed<T> {
    /// The value, or why it is not valid.
    pub fn get(&self) -> Result<T, ConfigError> {
        self.0.clone()
    }
}

impl<T: SettingValue> SettingValue for IfUsed<T> {
    fn parse_setting(key: &str, text: &str) -> Result<Self, ConfigError> {
        Ok(Self(T::parse_setting(key, text)))
    }
}

impl SettingValue for TestNumbers {
    fn parse_setting(_key: &str, text: &str) -> Result<Self, ConfigError> {
        TestNumbers::parse(text.trim())
    }
}

impl SettingValue for TrustedProxies {
    fn parse_setting(key: &str, text: &str) -> Result<Self, ConfigError> {
        TrustedProxies::parse(text.trim())
            .map_err(|e| ConfigError(format!("{}: {e}", env_name(key))))
    }
}

impl SettingValue for crate::http::cors::CorsOrigins {
    fn parse_setting(key: &str, text: &str) -> Result<Self, ConfigError> {
        Self::parse(text).map_err(|e| ConfigError(format!("{}: {e}", env_name(key))))
    }
}

/// An enum read from one of a few words; the error lists them
/// (`HUDDLE_STORAGE must be local, s3 or oss, not "x"`).
macro_rules! choice {
    ($(#[$meta:meta])* $vis:vis enum $name:ident {
        $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        $vis enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $crate::config::settings::SettingValue for $name {
            fn parse_setting(key: &str, text: &str) -> Result<Self, ConfigError> {
                match text.trim() {
                    $($text => Ok(Self::$variant),)+
                    other => Err(ConfigError(format!(
                        "{} must be {}, not {other:?}",
                        $crate::config::settings::env_name(key),
                        $crate::config::settings::one_of(&[$($text),+]),
                    ))),
                }
            }
        }
    };
}
pub(super) use choice;

/// `a`, `a or b`, `a, b or c`.
pub fn one_of(words: &[&str]) -> String {
    match words.split_last() {
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// Each setting's text by key, layer over layer.
#[derive(Debug, Default)]
pub struct Raw(BTreeMap<&'static str, String>);

impl Raw {
    /// The defaults.
    pub fn defaults(settings: &'static [Setting]) -> Self {
        Self(
            settings
                .iter()
                .map(|s| (s.key, s.default.to_owned()))
                .collect(),
        )
    }

    /// A setting's text ("" when missing).
    pub fn text(&self, key: &str) -> &str {
        self.0.get(key).map(String::as_str).unwrap_or("")
    }

    /// Lays the file at `path` over what is there.
    pub fn merge_file(
        &mut self,
        settings: &'static [Setting],
        path: &Path,
    ) -> Result<(), ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError(format!("cannot read {}: {e}", path.display())))?;
        self.merge_toml(settings, &text)
            .map_err(|e| ConfigError(format!("{}: {}", path.display(), e.0)))
    }

    fn merge_toml(&mut self, settings: &'static [Setting], text: &str) -> Result<(), ConfigError> {
        let table: toml::Table = text
            .parse()
            .map_err(|e| ConfigError(format!("not valid TOML: {e}")))?;
        for (key, value) in table {
            let setting = settings
                .iter()
                .find(|s| s.key == key)
                .ok_or_else(|| ConfigError(format!("unknown setting {key:?}")))?;
            let text = match value {
                toml::Value::String(s) => s,
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                toml::Value::Float(f) => f.to_string(),
                other => {
                    return Err(ConfigError(format!(
                        "{key} must be a string or a number, not {}",
                        other.type_str()
                    )))
                }
            };
            self.0.insert(setting.key, text);
        }
        Ok(())
    }

    /// Lays the environment (read through `env`) over what is there.
    pub fn merge_env(
        &mut self,
        settings: &'static [Setting],
        env: impl Fn(&str) -> Option<String>,
    ) {
        for s in settings {
            if let Some(v) = env(&s.env_name()) {
                self.0.insert(s.key, v);
            }
        }
    }
}

fn shown_default(s: &Setting) -> Option<&'static str> {
    Some(s.default).filter(|d| !d.is_empty())
}

/// The settings table shown by `huddle --help`.
pub fn help(settings: &[Setting]) -> String {
    let mut out = String::from("Configuration (environment variable, default; also settable in --config FILE as lower-case key without HUDDLE_):\n");
    for s in settings {
        out.push_str(&format!(
            "  {}  [default: {}]\n      {}\n",
            s.env_name(),
            shown_default(s).unwrap_or("unset"),
            s.help
        ));
    }
    out
}

/// The rows of the README's configuration table.
pub fn readme_rows(settings: &[Setting]) -> Vec<String> {
    settings
        .iter()
        .map(|s| {
            let default = shown_default(s).map_or_else(|| "unset".to_owned(), |d| format!("`{d}`"));
            format!("| `{}` | {default} | {} |", s.env_name(), s.help)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_list_their_words() {
        assert_eq!(one_of(&["on"]), "on");
        assert_eq!(one_of(&["log", "http"]), "log or http");
        assert_eq!(one_of(&["local", "s3", "oss"]), "local, s3 or oss");
    }

    #[test]
    fn values_by_type() {
        assert_eq!(u32::parse_setting("workers", " 3 ").unwrap(), 3);
        let e = u32::parse_setting("workers", "x").unwrap_err();
        assert!(
            e.0.starts_with("HUDDLE_WORKERS = \"x\" is not valid"),
            "{e}"
        );
        let e = NonZeroU64::parse_setting("ws_ping_interval_ms", "0").unwrap_err();
        assert_eq!(e.0, "HUDDLE_WS_PING_INTERVAL_MS must be greater than 0");
        assert_eq!(Option::<String>::parse_setting("k", "  ").unwrap(), None);
        assert_eq!(Verbatim::parse_setting("k", " a ").unwrap().0, " a ");
        assert_eq!(
            BaseUrl::parse_setting("k", "https://a.example/").unwrap().0,
            "https://a.example"
        );
        assert!(BaseUrl::parse_setting("k", "ftp://a.example").is_err());
        let later = IfUsed::<bool>::parse_setting("s3_path_style", "maybe").unwrap();
        assert_eq!(
            later.get().unwrap_err().0,
            "HUDDLE_S3_PATH_STYLE must be true or false, not \"maybe\""
        );
    }
}
