//! Capturing from outside the SDK's crate, so that in-app marking sees an app crate (`capture`).

use bugle::test::with_captured_events;
use bugle::Level;

#[inline(never)]
fn outer() {
    inner(3);
}

#[inline(never)]
fn inner(n: u32) {
    if n > 2 {
        panic!("too many: {n}");
    }
}

#[test]
fn a_panic_has_in_app_frames_of_the_app_with_the_failing_frame_last() {
    let events = with_captured_events(|| {
        let r = std::thread::spawn(outer).join();
        assert!(r.is_err());
    });
    assert_eq!(events.len(), 1);
    let ev = &events[0];
    assert_eq!(ev.level, Level::Critical);
    let ex = &ev.exceptions[0];
    assert_eq!(ex.value.as_deref(), Some("too many: 3"));
    let last = ex.frames.last().expect("frames");
    assert_eq!(
        last.function.as_deref(),
        Some("capture::inner"),
        "{:#?}",
        ex.frames
    );
    assert_eq!(last.in_app, Some(true));
    assert_eq!(last.module.as_deref(), Some("capture"));
    assert!(
        last.filename
            .as_deref()
            .is_some_and(|f| f.ends_with("tests/capture.rs")),
        "{last:?}"
    );
    assert!(
        last.context_line
            .as_deref()
            .is_some_and(|l| l.contains("panic!(\"too many")),
        "{last:?}"
    );
    assert_eq!(last.pre_context.len(), 5);
    assert_eq!(last.post_context.len(), 5);
    let app: Vec<_> = ex
        .frames
        .iter()
        .filter(|f| f.in_app == Some(true))
        .filter_map(|f| f.function.as_deref())
        .collect();
    assert_eq!(app, ["capture::outer", "capture::inner"]);
    for f in &ex.frames {
        let name = f.function.as_deref().unwrap_or_default();
        assert!(
            !name.starts_with("bugle::") && !name.starts_with("backtrace::"),
            "{name}"
        );
        if name.starts_with("std::") || name.starts_with("core::") || name.starts_with("<alloc::") {
            assert_eq!(f.in_app, Some(false), "{name}");
        }
    }
}

#[test]
fn capture_error_has_a_stack_trace_of_the_capture_site() {
    let err = std::fs::read("/nonexistent/bugle/x").unwrap_err();
    let events = with_captured_events(|| {
        bugle::capture_error(&err);
    });
    let ex = &events[0].exceptions[0];
    assert_eq!(ex.ty, "std::io::Error");
    let last = ex.frames.last().unwrap();
    assert_eq!(last.in_app, Some(true), "{last:?}");
    assert!(
        last.function
            .as_deref()
            .unwrap()
            .starts_with("capture::capture_error_has_a_stack_trace"),
        "{last:?}"
    );
}
