//! Severity.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

/// How bad an occurrence is, in Rollbar's words; Sentry's and log crates' spellings are
/// accepted when parsing.
///
/// # Examples
/// ```
/// assert_eq!("warn".parse::<bugle_wire::Level>(), Ok(bugle_wire::Level::Warning));
/// assert_eq!("fatal".parse::<bugle_wire::Level>(), Ok(bugle_wire::Level::Critical));
/// assert_eq!(bugle_wire::Level::Critical.to_string(), "critical");
/// ```
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Fine-grained diagnostics.
    Debug,
    /// Something worth knowing.
    Info,
    /// Something that may need attention.
    Warning,
    /// A failed operation (the default for captured errors).
    #[default]
    Error,
    /// The process or a thread cannot go on (panics).
    Critical,
}

impl Level {
    /// The wire spelling: `critical`, `error`, `warning`, `info` or `debug`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warning => "warning",
            Level::Error => "error",
            Level::Critical => "critical",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The string was not a level name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownLevel(pub String);

impl fmt::Display for UnknownLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown level {:?} (expected critical, error, warning, info or debug)",
            self.0
        )
    }
}

impl std::error::Error for UnknownLevel {}

impl FromStr for Level {
    type Err = UnknownLevel;
    fn from_str(s: &str) -> Result<Self, UnknownLevel> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "critical" | "fatal" => Level::Critical,
            "error" | "err" => Level::Error,
            "warning" | "warn" => Level::Warning,
            "info" | "log" | "notice" => Level::Info,
            "debug" | "trace" => Level::Debug,
            _ => return Err(UnknownLevel(s.to_owned())),
        })
    }
}

impl<'de> Deserialize<'de> for Level {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_parse_from_other_spellings_and_refuse_unknown_ones() {
        assert_eq!("FATAL".parse(), Ok(Level::Critical));
        assert_eq!("log".parse(), Ok(Level::Info));
        assert_eq!("err".parse(), Ok(Level::Error));
        let err = serde_json::from_str::<Level>("\"loud\"").unwrap_err();
        assert!(err.to_string().contains("unknown level"), "{err}");
    }
}
