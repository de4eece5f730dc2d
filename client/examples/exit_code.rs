//! A command-line tool that fails the usual way: it reports, then calls `std::process::exit(3)`,
//! which runs no destructors (the guard's drop never happens). The `atexit` hook delivers anyway.
//!
//! ```sh
//! BUGLE_ENDPOINT=http://127.0.0.1:8080 BUGLE_TOKEN=<project token> cargo run -p bugle --example exit_code
//! ```
//! Other ways out, chosen by the first argument (the end-to-end tests run each):
//! - `abort`: panics with a hook that aborts right after the hooks, as `panic = "abort"` does.
//! - `sigterm`: reports 20 messages, then sends itself SIGTERM (set `BUGLE_FLUSH_ON_SIGTERM=1`).
//! - `flood`: overfills the queue, prints `dropped N`, then reports once more and exits 3; that
//!   last send tells the server about the N dropped.

use bugle::Level;

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    if mode == "abort" {
        // Installed before init, so bugle's hook runs first and this one ends the process the
        // way the panic runtime does under `panic = "abort"`: no unwinding, no destructors.
        std::panic::set_hook(Box::new(|info| {
            eprintln!("{info}");
            std::process::abort();
        }));
    }
    let mut options = bugle::Options::from_env();
    if mode == "flood" {
        options = options.queue_size(5);
    }
    let bugle = bugle::init(options);
    match mode.as_str() {
        "abort" => panic!("config file is corrupt"),
        "sigterm" => {
            for i in 0..20 {
                bugle::capture_message(&format!("terminated while busy {i}"), Level::Error);
            }
            let pid = std::process::id().to_string();
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid])
                .status();
            // SIGTERM ends the process from the signal thread once it has flushed.
            loop {
                std::thread::sleep(std::time::Duration::from_secs(1));
            }
        }
        "flood" => {
            for i in 0..200 {
                bugle::capture_message(&format!("flood {i}"), Level::Info);
            }
            bugle::flush(std::time::Duration::from_secs(10));
            println!("dropped {}", bugle.dropped_events());
        }
        _ => {}
    }
    bugle::capture_message("cannot open the input file: exiting with 3", Level::Error);
    std::process::exit(3);
}
