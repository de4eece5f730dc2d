//! An app that panics inside nested functions of its own, reporting to Bugle.
//!
//! ```sh
//! BUGLE_ENDPOINT=http://127.0.0.1:8080 BUGLE_TOKEN=<project token> cargo run -p bugle --example panic
//! ```
//! The panic is reported (level `critical`, exception type `panic`, value
//! `invalid port "eighty" in config line 2`), then std's hook prints it as usual and the process
//! exits with status 101. Without `BUGLE_ENDPOINT`/`BUGLE_TOKEN` it just panics.

const CONFIG: &str = "host = example.org\nport = eighty\n";

fn main() {
    let mut options = bugle::Options::from_env();
    if std::env::var_os("BUGLE_RELEASE").is_none() {
        options = options.release(env!("CARGO_PKG_VERSION"));
    }
    let _bugle = bugle::init(options);
    let port = load_config(CONFIG);
    println!("listening on port {port}");
}

#[inline(never)]
fn load_config(text: &str) -> u16 {
    let (number, line) = text
        .lines()
        .enumerate()
        .find(|(_, l)| l.starts_with("port"))
        .expect("a port line");
    parse_port(line, number + 1)
}

#[inline(never)]
fn parse_port(line: &str, number: usize) -> u16 {
    let value = line.split('=').nth(1).unwrap_or_default().trim();
    match value.parse() {
        Ok(port) => port,
        Err(_) => panic!("invalid port {value:?} in config line {number}"),
    }
}
