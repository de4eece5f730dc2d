//! Building events from errors and messages.

use std::error::Error;

use crate::backtrace::{self, FrameConfig, Trim};
use crate::{Event, Exception, Level, Mechanism};

/// The whole `source()` chain, outermost first, without frames.
pub(crate) fn exceptions_from_error<E: Error + ?Sized>(err: &E) -> Vec<Exception> {
    let mut out = vec![Exception::new(outer_type_name(err), err.to_string())];
    let mut next = err.source();
    while let Some(e) = next {
        out.push(Exception::new(type_name_of(e), e.to_string()));
        next = e.source();
        if out.len() >= 64 {
            break; // a cyclic or absurd chain
        }
    }
    out
}

/// An error event with the chain and a stack trace of where it was captured on the outermost error.
pub(crate) fn event_from_error<E: Error + ?Sized>(err: &E, frames: &FrameConfig) -> Event {
    let mut event = Event::new(Level::Error);
    event.exceptions = exceptions_from_error(err);
    if let Some(first) = event.exceptions.first_mut() {
        first.frames = backtrace::capture(frames, Trim::Sdk);
        // The stack says where the error was reported, not where it failed: the server
        // groups such a chain by its message too.
        first.mechanism = Some(Mechanism::new("capture_error", true));
    }
    event
}

pub(crate) fn event_from_message(message: &str, level: Level) -> Event {
    let mut event = Event::new(level);
    event.message = Some(message.to_owned());
    event
}

/// The static type when the caller's type is concrete, else a guess from `Debug`.
fn outer_type_name<E: Error + ?Sized>(err: &E) -> String {
    let name = std::any::type_name::<E>();
    if name.starts_with("dyn ") || name.contains("dyn ") {
        return type_from_debug(&format!("{err:?}"), &err.to_string());
    }
    public_name(name).to_owned()
}

/// A cause's type: known std types by downcast, others from their derived `Debug`
/// (`ConfigError { .. }` → `ConfigError`), `Error` when Debug says nothing more than Display.
pub(crate) fn type_name_of(err: &(dyn Error + 'static)) -> String {
    macro_rules! known {
        ($($ty:ty => $name:expr),* $(,)?) => {
            $(if err.is::<$ty>() { return $name.to_owned(); })*
        };
    }
    known! {
        std::io::Error => "std::io::Error",
        std::fmt::Error => "std::fmt::Error",
        std::num::ParseIntError => "std::num::ParseIntError",
        std::num::ParseFloatError => "std::num::ParseFloatError",
        std::num::TryFromIntError => "std::num::TryFromIntError",
        std::str::ParseBoolError => "std::str::ParseBoolError",
        std::str::Utf8Error => "std::str::Utf8Error",
        std::string::FromUtf8Error => "std::string::FromUtf8Error",
        std::env::VarError => "std::env::VarError",
        std::time::SystemTimeError => "std::time::SystemTimeError",
        std::net::AddrParseError => "std::net::AddrParseError",
        serde_json::Error => "serde_json::Error",
    }
    type_from_debug(&format!("{err:?}"), &err.to_string())
}

/// `std::io::error::Error` is how `type_name` spells `std::io::Error`.
fn public_name(name: &str) -> &str {
    match name {
        "std::io::error::Error" => "std::io::Error",
        "core::fmt::Error" => "std::fmt::Error",
        "core::num::error::ParseIntError" => "std::num::ParseIntError",
        "core::num::dec2flt::ParseFloatError" => "std::num::ParseFloatError",
        "alloc::string::FromUtf8Error" => "std::string::FromUtf8Error",
        "core::str::error::Utf8Error" => "std::str::Utf8Error",
        other => other,
    }
}

fn type_from_debug(debug: &str, display: &str) -> String {
    if debug == display {
        return "Error".into();
    }
    let ident: String = debug
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
        .collect();
    let ident = ident.trim_end_matches(':');
    if ident.is_empty() || ident.starts_with(|c: char| c.is_ascii_digit()) {
        "Error".into()
    } else {
        ident.to_owned()
    }
}

#[cfg(feature = "anyhow")]
pub(crate) fn event_from_anyhow(err: &anyhow::Error, frames: &FrameConfig) -> Event {
    let mut event = Event::new(Level::Error);
    event.exceptions = err
        .chain()
        .map(|e| Exception::new(type_name_of(e), e.to_string()))
        .collect();
    let bt = err.backtrace();
    let trace = if bt.status() == std::backtrace::BacktraceStatus::Captured {
        // Where the error was created, which beats where it was reported.
        let raw = backtrace::parse_std_backtrace(&format!("{bt:#}"));
        Some(backtrace::frames_from_raw(raw, frames, Trim::NotInApp))
    } else {
        None
    };
    if let Some(first) = event.exceptions.first_mut() {
        let reported_at = trace.is_none();
        first.frames = trace.unwrap_or_else(|| backtrace::capture(frames, Trim::Sdk));
        if reported_at {
            first.mechanism = Some(Mechanism::new("capture_error", true));
        }
    }
    event
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt;

    #[derive(Debug)]
    struct AppError {
        source: ConfigError,
    }
    #[derive(Debug)]
    struct ConfigError {
        path: String,
        source: std::io::Error,
    }
    impl fmt::Display for AppError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("cannot start")
        }
    }
    impl fmt::Display for ConfigError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "cannot load {}", self.path)
        }
    }
    impl Error for AppError {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&self.source)
        }
    }
    impl Error for ConfigError {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&self.source)
        }
    }

    fn chain() -> AppError {
        AppError {
            source: ConfigError {
                path: "/etc/app.toml".into(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
            },
        }
    }

    #[test]
    fn the_source_chain_is_walked_outermost_first() {
        let ex = exceptions_from_error(&chain());
        let got: Vec<_> = ex
            .iter()
            .map(|e| (e.ty.as_str(), e.value.as_deref().unwrap_or_default()))
            .collect();
        assert_eq!(
            got,
            [
                ("bugle::capture::tests::AppError", "cannot start"),
                ("ConfigError", "cannot load /etc/app.toml"),
                ("std::io::Error", "no such file"),
            ]
        );
    }

    #[test]
    fn a_dyn_error_gets_its_name_from_debug() {
        let err: Box<dyn Error + Send + Sync> = Box::new(chain());
        let ex = exceptions_from_error(&*err);
        assert_eq!(ex[0].ty, "AppError");
        assert_eq!(ex.len(), 3);
        let msg: Box<dyn Error> = "plain".into();
        assert_eq!(exceptions_from_error(&*msg)[0].ty, "Error");
    }

    #[test]
    fn capture_error_sends_the_chain_with_a_stack_trace() {
        let events = crate::test::with_captured_events(|| {
            crate::capture_error(&chain());
        });
        let ev = &events[0];
        assert_eq!(ev.level, Level::Error);
        assert_eq!(ev.exceptions.len(), 3);
        assert!(!ev.exceptions[0].frames.is_empty());
        assert!(ev.exceptions[1].frames.is_empty());
    }

    #[cfg(feature = "anyhow")]
    #[test]
    fn anyhow_errors_keep_their_context_chain() {
        use anyhow::Context;
        let err = Err::<(), _>(std::io::Error::other("disk"))
            .context("saving")
            .unwrap_err();
        let events = crate::test::with_captured_events(|| {
            crate::capture_anyhow(&err);
        });
        let values: Vec<_> = events[0]
            .exceptions
            .iter()
            .map(|e| e.value.as_deref().unwrap_or_default())
            .collect();
        assert_eq!(values, ["saving", "disk"]);
        assert_eq!(events[0].exceptions[1].ty, "std::io::Error");
        assert!(!events[0].exceptions[0].frames.is_empty());
    }
}
