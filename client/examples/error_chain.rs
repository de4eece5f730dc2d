//! An app that reports a three-level error chain and exits normally.
//!
//! ```sh
//! BUGLE_ENDPOINT=http://127.0.0.1:8080 BUGLE_TOKEN=<project token> cargo run -p bugle --example error_chain
//! ```
//! It prints `captured <uuid>` (the occurrence's uuid) and exits 0 after the guard's flush.
//! The exceptions, outermost first:
//! 1. `error_chain::AppError`: `cannot start the app`
//! 2. `ConfigError`: `cannot load config from /nonexistent/bugle-example/app.toml`
//! 3. `std::io::Error`: `No such file or directory (os error 2)`

use std::error::Error;
use std::fmt;

const CONFIG_PATH: &str = "/nonexistent/bugle-example/app.toml";

#[derive(Debug)]
struct AppError {
    source: ConfigError,
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("cannot start the app")
    }
}

impl Error for AppError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.source)
    }
}

#[derive(Debug)]
struct ConfigError {
    path: String,
    source: std::io::Error,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot load config from {}", self.path)
    }
}

impl Error for ConfigError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.source)
    }
}

fn load_config(path: &str) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|source| ConfigError {
        path: path.to_owned(),
        source,
    })
}

fn start() -> Result<(), AppError> {
    load_config(CONFIG_PATH).map_err(|source| AppError { source })?;
    Ok(())
}

fn main() {
    let mut options = bugle::Options::from_env();
    if std::env::var_os("BUGLE_RELEASE").is_none() {
        options = options.release(env!("CARGO_PKG_VERSION"));
    }
    let bugle = bugle::init(options);
    if let Err(err) = start() {
        eprintln!("error: {err}");
        match bugle::capture_error(&err) {
            Some(uuid) => println!("captured {uuid}"),
            None => println!("not captured (reporting is off)"),
        }
    }
    drop(bugle); // flushes, up to the shutdown timeout
}
