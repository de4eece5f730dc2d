//! How much of one event is kept: long lists are cut, noted in `processing_notes`, never refused.
//!
//! A body within the size limits can still hold 100,000 frames or breadcrumbs (a runaway recursion,
//! a logger that never clears); grouping, storage and the occurrence page would pay for every one.
//! Like Relay, a stack keeps both ends (where it started and where it failed), breadcrumbs keep the
//! newest, the other lists their first entries.

use crate::event::{Event, Frame, ProcessingNote};

/// Frames kept per stack: the first and last half of this.
pub const MAX_FRAMES: usize = 250;
pub const MAX_BREADCRUMBS: usize = 100;
/// Exceptions in one chain.
pub const MAX_EXCEPTIONS: usize = 50;
pub const MAX_THREADS: usize = 100;
pub const MAX_DEBUG_IMAGES: usize = 1000;

/// Cuts every list of `event` to its bound, with one note per list cut.
pub fn bound_lists(event: &mut Event) {
    let mut notes = Vec::new();
    let mut cut = |path: String, had: usize, kept: usize| {
        notes.push(ProcessingNote::new(
            path,
            format!("{had} entries: {} dropped, {kept} kept", had - kept),
        ));
    };
    let had = event.exceptions.len();
    if had > MAX_EXCEPTIONS {
        event.exceptions.truncate(MAX_EXCEPTIONS);
        cut("exceptions".into(), had, MAX_EXCEPTIONS);
    }
    for (i, exc) in event.exceptions.iter_mut().enumerate() {
        if let Some(had) = bound_frames(&mut exc.frames) {
            cut(format!("exceptions[{i}].frames"), had, MAX_FRAMES);
        }
    }
    let had = event.threads.len();
    if had > MAX_THREADS {
        event.threads.truncate(MAX_THREADS);
        cut("threads".into(), had, MAX_THREADS);
    }
    for (i, thread) in event.threads.iter_mut().enumerate() {
        if let Some(had) = bound_frames(&mut thread.frames) {
            cut(format!("threads[{i}].frames"), had, MAX_FRAMES);
        }
    }
    let had = event.breadcrumbs.len();
    if had > MAX_BREADCRUMBS {
        event.breadcrumbs.drain(..had - MAX_BREADCRUMBS);
        cut("breadcrumbs".into(), had, MAX_BREADCRUMBS);
    }
    let had = event.debug_images.len();
    if had > MAX_DEBUG_IMAGES {
        event.debug_images.truncate(MAX_DEBUG_IMAGES);
        cut("debug_images".into(), had, MAX_DEBUG_IMAGES);
    }
    event.processing_notes.extend(notes);
}

/// Keeps the outermost and innermost halves; the length it had when it was cut.
fn bound_frames(frames: &mut Vec<Frame>) -> Option<usize> {
    let had = frames.len();
    if had <= MAX_FRAMES {
        return None;
    }
    let head = MAX_FRAMES / 2;
    frames.drain(head..had - (MAX_FRAMES - head));
    Some(had)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Breadcrumb, Exception};

    fn frame(n: usize) -> Frame {
        Frame {
            function: Some(format!("f{n}")),
            ..Frame::default()
        }
    }

    #[test]
    fn a_huge_stack_keeps_both_ends_and_says_so() {
        let mut ev = Event::default();
        let mut exc = Exception::new("RecursionError", "deep");
        exc.frames = (0..100_000).map(frame).collect();
        ev.exceptions.push(exc);
        bound_lists(&mut ev);
        let frames = &ev.exceptions[0].frames;
        assert_eq!(frames.len(), MAX_FRAMES);
        assert_eq!(frames[0].function.as_deref(), Some("f0"));
        assert_eq!(frames[124].function.as_deref(), Some("f124"));
        assert_eq!(frames[125].function.as_deref(), Some("f99875"));
        assert_eq!(frames[249].function.as_deref(), Some("f99999"));
        assert_eq!(ev.processing_notes.len(), 1);
        assert_eq!(ev.processing_notes[0].path, "exceptions[0].frames");
        assert!(ev.processing_notes[0].reason.contains("99750 dropped"));
    }

    #[test]
    fn breadcrumbs_keep_the_newest_and_short_lists_are_untouched() {
        let mut ev = Event {
            breadcrumbs: (0..100_000)
                .map(|i| Breadcrumb {
                    message: Some(format!("b{i}")),
                    ..Breadcrumb::default()
                })
                .collect(),
            threads: vec![Default::default(); 3],
            ..Event::default()
        };
        bound_lists(&mut ev);
        assert_eq!(ev.breadcrumbs.len(), MAX_BREADCRUMBS);
        assert_eq!(ev.breadcrumbs[99].message.as_deref(), Some("b99999"));
        assert_eq!(ev.threads.len(), 3);
        assert_eq!(ev.processing_notes.len(), 1);
        assert_eq!(ev.processing_notes[0].path, "breadcrumbs");
    }
}
