//! The panic hook: installed once, it reports the panic, flushes (bounded by the shutdown timeout),
//! then runs the hook that was there before, so the app's own panic output and exit are unchanged.
//! It reports before the previous hook runs, which is also what makes `panic = "abort"` work: the
//! abort comes after the hooks.

use std::any::Any;
use std::cell::Cell;
use std::sync::Once;

use crate::backtrace::{self, FrameConfig, Trim};
use crate::{Event, Exception, Level, Mechanism};

static INSTALL: Once = Once::new();

thread_local! {
    static IN_HOOK: Cell<bool> = const { Cell::new(false) };
}

pub(crate) fn install() {
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let location = info
                .location()
                .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
            report(info.payload(), location);
            previous(info);
        }));
    });
}

fn report(payload: &(dyn Any + Send), location: Option<String>) {
    // A panic on the transport thread, or while the SDK is already busy on this thread, is not
    // reported: flushing would wait on ourselves.
    if IN_HOOK.with(Cell::get) || crate::client::is_reentrant() {
        return;
    }
    let Some(client) = crate::client::current() else {
        return;
    };
    IN_HOOK.with(|c| c.set(true));
    let event = event_from_panic(payload_message(payload), location, &client.frames);
    if client.capture(event).is_some() {
        client.flush_for_panic();
    }
    IN_HOOK.with(|c| c.set(false));
}

/// `&str` and `String` payloads (what `panic!` makes) as text; anything else as `Box<dyn Any>`.
pub(crate) fn payload_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "Box<dyn Any>".to_owned()
    }
}

pub(crate) fn event_from_panic(
    message: String,
    location: Option<String>,
    frames: &FrameConfig,
) -> Event {
    let mut event = Event::new(Level::Critical);
    event.message = Some(match &location {
        Some(loc) => format!("panicked at {loc}: {message}"),
        None => format!("panicked: {message}"),
    });
    if let Some(loc) = location {
        event.tags.insert("panic.location".into(), loc);
    }
    event.exceptions.push(Exception {
        mechanism: Some(Mechanism::new("panic", false)),
        frames: backtrace::capture(frames, Trim::Panic),
        ..Exception::new("panic", message)
    });
    event
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_become_messages() {
        assert_eq!(payload_message(&"static"), "static");
        assert_eq!(payload_message(&String::from("owned")), "owned");
        assert_eq!(payload_message(&42u8), "Box<dyn Any>");
    }

    #[test]
    fn a_panic_on_any_thread_is_reported_and_the_previous_hook_still_runs() {
        let events = crate::test::with_captured_events(|| {
            let r = std::thread::Builder::new()
                .name("worker-7".into())
                .spawn(|| panic!("boom {}", 7))
                .unwrap()
                .join();
            assert!(r.is_err());
        });
        // Only this test's thread: another test failing meanwhile would be reported too.
        let events: Vec<_> = events
            .into_iter()
            .filter(|e| e.thread.as_ref().is_some_and(|t| t.name == "worker-7"))
            .collect();
        assert_eq!(events.len(), 1);
        let ev = &events[0];
        assert_eq!(ev.level, Level::Critical);
        let ex = &ev.exceptions[0];
        assert_eq!(
            (ex.ty.as_str(), ex.value.as_deref()),
            ("panic", Some("boom 7"))
        );
        assert_eq!(ex.mechanism, Some(Mechanism::new("panic", false)));
        assert_eq!(
            ev.thread.as_ref().map(|t| t.name.as_str()),
            Some("worker-7")
        );
        let loc = &ev.tags["panic.location"];
        assert!(loc.contains("panic.rs:"), "{loc}");
        assert!(ev.message.as_deref().unwrap().ends_with(": boom 7"));
        // The hook's own frames and std's panic machinery are trimmed from the top (in-app marking
        // of the panicking code is tested from another crate, in tests/capture.rs).
        assert!(!ex.frames.is_empty());
        for f in &ex.frames {
            let name = f.function.as_deref().unwrap_or_default();
            assert!(
                !name.contains("rust_panic_with_hook") && !name.starts_with("backtrace::"),
                "{name}"
            );
        }
    }
}
