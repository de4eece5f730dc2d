//! Delivery when the process ends without dropping the guard.
//!
//! `std::process::exit` (how command-line tools usually fail) runs no destructors, so the guard's
//! flush never happens. The C library still runs its `atexit` functions, on the exiting thread,
//! while the transport threads are alive: the hook registered here flushes there, bounded by the
//! shutdown timeout. After a normal return from `main` the guard has already flushed and unbound
//! the client, so the hook finds nothing to do.
//!
//! SIGTERM's default action kills the process at once. With [`crate::Options::flush_on_sigterm`]
//! and no handler of the app's own, a handler notes the signal (writing one byte to a pipe is all
//! a signal handler may safely do) and a `bugle-signal` thread flushes, then restores the default
//! action and raises SIGTERM again, so the process still ends as killed by it.
#![allow(unsafe_code)]

#[cfg(unix)]
use std::panic::AssertUnwindSafe;
#[cfg(unix)]
use std::sync::Once;

#[cfg(unix)]
static AT_EXIT: Once = Once::new();

/// Registers the `atexit` flush once per process (later `init`s reuse it: it reads the current client).
pub(crate) fn install_at_exit() {
    #[cfg(unix)]
    AT_EXIT.call_once(|| {
        // SAFETY: registers a plain `extern "C" fn` that never unwinds.
        if unsafe { libc::atexit(flush_at_exit) } != 0 {
            crate::debug::bugle_debug!("atexit refused the flush hook");
        }
    });
}

/// Flushes the current client; called by the C library from `exit`.
#[cfg(unix)]
extern "C" fn flush_at_exit() {
    // Unwinding out of an `extern "C"` fn aborts: whatever happens here stays here.
    let _ = std::panic::catch_unwind(AssertUnwindSafe(|| {
        if let Some(c) = crate::client::current() {
            if !c.flush(c.options.shutdown_timeout) {
                crate::debug::bugle_debug!("exiting with undelivered events");
            }
        }
    }));
}

#[cfg(unix)]
pub(crate) use sigterm::install as install_sigterm;

#[cfg(not(unix))]
pub(crate) fn install_sigterm() {}

#[cfg(unix)]
mod sigterm {
    use std::io::Read;
    use std::os::fd::FromRawFd;
    use std::panic::AssertUnwindSafe;
    use std::sync::atomic::{AtomicI32, Ordering};
    use std::sync::Once;

    use crate::debug::bugle_debug;

    static INSTALL: Once = Once::new();
    /// Write end of the pipe the handler signals through.
    static WAKE_FD: AtomicI32 = AtomicI32::new(-1);

    extern "C" fn on_sigterm(_: libc::c_int) {
        let fd = WAKE_FD.load(Ordering::Relaxed);
        // SAFETY: write(2) is async-signal-safe; the buffer is a live static byte.
        unsafe { libc::write(fd, b"T".as_ptr().cast(), 1) };
    }

    pub(crate) fn install() {
        INSTALL.call_once(|| {
            // SAFETY: sigaction with a null new action only reads the current one into `old`.
            let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
            if unsafe { libc::sigaction(libc::SIGTERM, std::ptr::null(), &mut old) } != 0 {
                return;
            }
            if old.sa_sigaction != libc::SIG_DFL {
                bugle_debug!("SIGTERM already has a handler: the app's own is kept");
                return;
            }
            let mut fds = [0 as libc::c_int; 2];
            // SAFETY: `fds` has room for the two descriptors pipe(2) writes.
            if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
                return;
            }
            WAKE_FD.store(fds[1], Ordering::Relaxed);
            // SAFETY: fds[0] is a fresh descriptor owned by nobody else.
            let mut reader = unsafe { std::fs::File::from_raw_fd(fds[0]) };
            let spawned = std::thread::Builder::new()
                .name("bugle-signal".into())
                .spawn(move || {
                    let mut byte = [0u8; 1];
                    if reader.read_exact(&mut byte).is_err() {
                        return;
                    }
                    let _ = std::panic::catch_unwind(AssertUnwindSafe(|| {
                        if let Some(c) = crate::client::current() {
                            let _ = c.flush(c.options.shutdown_timeout);
                        }
                    }));
                    // SAFETY: restoring the default action and raising it ends the process the
                    // way SIGTERM would have without us.
                    unsafe {
                        libc::signal(libc::SIGTERM, libc::SIG_DFL);
                        libc::raise(libc::SIGTERM);
                    }
                });
            if spawned.is_err() {
                return;
            }
            // SAFETY: a zeroed sigaction with a handler and an empty mask is valid.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_sigterm as extern "C" fn(libc::c_int) as usize;
                action.sa_flags = libc::SA_RESTART;
                libc::sigemptyset(&mut action.sa_mask);
                libc::sigaction(libc::SIGTERM, &action, std::ptr::null_mut());
            }
        });
    }
}
