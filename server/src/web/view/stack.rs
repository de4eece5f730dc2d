//! What failed and where: exceptions and their frames, the process's threads, and for native
//! code the binaries that were loaded (debug images). Frames are not symbolicated: addresses
//! are shown as sent, with the image each falls in when the sender listed the images.

use serde_json::Value;

use super::values::{json_pair, pretty, text_at, BLOCK_CHARS};
use super::Pair;
use crate::event::{Exception, Frame, Mechanism, Thread};

/// One source line of a frame's context.
#[derive(Debug, Clone)]
pub struct Line {
    pub number: String,
    pub text: String,
    pub current: bool,
}

#[derive(Debug, Clone)]
pub struct FrameView {
    /// The function, else the raw symbol; empty when the frame is only an address.
    pub function: String,
    /// The raw symbol, when it differs from the function shown.
    pub symbol: Option<String>,
    /// `file:line:col`, or empty.
    pub location: String,
    /// Native: the instruction's address, as sent.
    pub address: Option<String>,
    /// Native: the binary's file name; `package_path` is its full path.
    pub package: Option<String>,
    pub package_path: String,
    /// Native: `image 0x100000000 +0x4d8`, where the binary was loaded and the offset in it.
    pub image: Option<String>,
    pub in_app: bool,
    pub lines: Vec<Line>,
    pub vars: Option<String>,
}

/// Consecutive frames of one kind: app frames are shown, library frames fold away. A stack
/// with no app frame at all is one group shown whole (nothing to tell apart). A group with
/// `omitted` frames stands for the middle of a stack too deep to show whole.
#[derive(Debug, Clone)]
pub struct FrameGroup {
    pub in_app: bool,
    pub folded: bool,
    pub omitted: usize,
    pub frames: Vec<FrameView>,
}

#[derive(Debug, Clone)]
pub struct MechanismView {
    pub ty: String,
    pub handled: Option<bool>,
    /// Whatever else the SDK said (`synthetic`, `meta`, `description`…).
    pub data: Vec<Pair>,
}

#[derive(Debug, Clone)]
pub struct ExceptionView {
    pub ty: String,
    pub value: String,
    pub module: Option<String>,
    pub mechanism: Option<MechanismView>,
    pub groups: Vec<FrameGroup>,
}

#[derive(Debug, Clone)]
pub struct ThreadView {
    /// The thread's name, or `thread N` when it has none.
    pub name: String,
    pub id: Option<String>,
    pub state: Option<String>,
    pub crashed: bool,
    pub current: bool,
    pub main: bool,
    pub frame_count: usize,
    /// This thread's stack is the one shown as the event's stack: not repeated.
    pub shown_above: bool,
    /// Its frames are past what the page lists ([`LISTED_FRAMES`]).
    pub unlisted: bool,
    pub groups: Vec<FrameGroup>,
}

/// The stack shown for an event whose exception has no frames (or that has no exception).
#[derive(Debug, Clone)]
pub struct ThreadStack {
    /// `thread main (crashed)`.
    pub label: String,
    pub groups: Vec<FrameGroup>,
}

/// One loaded binary (Sentry `debug_meta.images`), one table row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageView {
    /// The file name; `path` is the full path.
    pub file: String,
    pub path: String,
    pub debug_id: String,
    pub address: String,
    /// `1.2 MiB`; `bytes` is the exact size.
    pub size: String,
    pub bytes: String,
    pub arch: String,
    pub ty: String,
    /// Start and end, for finding the image an address falls in.
    range: Option<(u64, u64)>,
}

/// The last path component (`/usr/lib/libc.so.6` → `libc.so.6`, `C:\app\app.exe` → `app.exe`).
pub fn basename(path: &str) -> &str {
    let trimmed = path.trim_end_matches(['/', '\\']);
    trimmed
        .rsplit(['/', '\\'])
        .next()
        .filter(|s| !s.is_empty())
        .unwrap_or(path)
}

/// `0x1a2b` (or decimal) as a number.
fn parse_addr(s: &str) -> Option<u64> {
    let s = s.trim();
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

fn addr_value(v: Option<&Value>) -> Option<u64> {
    match v? {
        Value::String(s) => parse_addr(s),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
}

fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut size = bytes as f64 / 1024.0;
    let mut unit = 0;
    while size >= 1024.0 && unit < UNITS.len() - 1 {
        size /= 1024.0;
        unit += 1;
    }
    format!("{size:.1} {}", UNITS[unit])
}

pub fn image_view(v: &Value) -> ImageView {
    let empty = serde_json::Map::new();
    let map = v.as_object().unwrap_or(&empty);
    let path = text_at(map, &["code_file", "name", "debug_file"]).unwrap_or_default();
    let start = addr_value(map.get("image_addr"));
    let size = addr_value(map.get("image_size"));
    let address = match map.get("image_addr") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.as_u64().map(|a| format!("{a:#x}")).unwrap_or_default(),
        _ => String::new(),
    };
    ImageView {
        file: basename(&path).to_owned(),
        debug_id: text_at(map, &["debug_id", "uuid", "id"]).unwrap_or_default(),
        address,
        size: size.map(human_size).unwrap_or_default(),
        bytes: size.map(|s| format!("{s} bytes")).unwrap_or_default(),
        arch: text_at(map, &["arch", "cpu_type"]).unwrap_or_default(),
        ty: text_at(map, &["type"]).unwrap_or_default(),
        range: start.zip(size).map(|(start, size)| (start, start + size)),
        path,
    }
}

/// The image the address falls in.
fn image_at(images: &[ImageView], addr: u64) -> Option<&ImageView> {
    images.iter().find(|i| {
        i.range
            .is_some_and(|(start, end)| start <= addr && addr < end)
    })
}

fn frame_view(f: &Frame, images: &[ImageView]) -> FrameView {
    let file = f.filename.clone().or_else(|| f.abs_path.clone());
    let location = match (file, f.lineno, f.colno) {
        (Some(file), Some(l), Some(c)) => format!("{file}:{l}:{c}"),
        (Some(file), Some(l), None) => format!("{file}:{l}"),
        (Some(file), None, _) => file,
        (None, _, _) => match (&f.module, &f.function) {
            // A module alone says where, when there is no file (JVM, .NET).
            (Some(m), Some(func)) if !func.starts_with(m.as_str()) => m.clone(),
            (Some(m), None) => m.clone(),
            _ => String::new(),
        },
    };
    let mut lines = Vec::new();
    if let Some(current) = &f.context_line {
        let at = f.lineno.map(i64::from);
        let number = |offset: i64| at.map(|l| (l + offset).to_string()).unwrap_or_default();
        let pre = f.pre_context.len() as i64;
        for (i, text) in f.pre_context.iter().enumerate() {
            lines.push(Line {
                number: number(i as i64 - pre),
                text: text.clone(),
                current: false,
            });
        }
        lines.push(Line {
            number: number(0),
            text: current.clone(),
            current: true,
        });
        for (i, text) in f.post_context.iter().enumerate() {
            lines.push(Line {
                number: number(i as i64 + 1),
                text: text.clone(),
                current: false,
            });
        }
    }
    let addr = f.instruction_addr.as_deref().and_then(parse_addr);
    // The image: the one the frame names, else the listed image its address falls in.
    let found = addr.and_then(|a| image_at(images, a));
    let package_path = f
        .package
        .clone()
        .or_else(|| found.map(|i| i.path.clone()).filter(|p| !p.is_empty()));
    let base = f
        .image_addr
        .as_deref()
        .and_then(parse_addr)
        .or_else(|| found.and_then(|i| i.range.map(|(start, _)| start)));
    let image = match (base, addr) {
        (Some(base), Some(addr)) if addr >= base => {
            Some(format!("image {base:#x} +{:#x}", addr - base))
        }
        (Some(base), _) => Some(format!("image {base:#x}")),
        _ => None,
    };
    let function = f
        .function
        .clone()
        .or_else(|| f.symbol.clone())
        .unwrap_or_default();
    let function = if function.is_empty() && f.instruction_addr.is_none() {
        "?".to_owned()
    } else {
        function
    };
    FrameView {
        symbol: f.symbol.clone().filter(|s| *s != function),
        function,
        location,
        address: f.instruction_addr.clone(),
        package: package_path.as_deref().map(|p| basename(p).to_owned()),
        package_path: package_path.unwrap_or_default(),
        image,
        in_app: f.in_app.unwrap_or(false),
        lines,
        vars: f.vars.as_ref().map(|v| pretty(v, BLOCK_CHARS)),
    }
}

/// Most frames one stack shows: the newest ones and the [`OLDEST_SHOWN`] oldest; a deeper
/// stack (a runaway recursion) says how many it leaves out between them.
pub const MAX_FRAMES: usize = 250;
const OLDEST_SHOWN: usize = 50;
/// Most frames the thread list shows over all threads; threads past it give their count only.
pub const LISTED_FRAMES: usize = 1_500;

/// Frames newest call first (the way people read a trace), grouped by in-app.
pub fn frame_groups(frames: &[Frame], images: &[ImageView]) -> Vec<FrameGroup> {
    let any_app = frames.iter().any(|f| f.in_app == Some(true));
    let newest_first: Vec<&Frame> = frames.iter().rev().collect();
    let mut groups = Vec::new();
    if newest_first.len() > MAX_FRAMES {
        let (head, rest) = newest_first.split_at(MAX_FRAMES - OLDEST_SHOWN);
        let (gap, tail) = rest.split_at(rest.len() - OLDEST_SHOWN);
        push_groups(&mut groups, head, any_app, images);
        groups.push(FrameGroup {
            in_app: false,
            folded: false,
            omitted: gap.len(),
            frames: Vec::new(),
        });
        push_groups(&mut groups, tail, any_app, images);
    } else {
        push_groups(&mut groups, &newest_first, any_app, images);
    }
    groups
}

/// Adds frames to the groups: runs of library frames fold when the stack has app frames to
/// tell them from; without any, the stack is one group shown whole.
fn push_groups(
    groups: &mut Vec<FrameGroup>,
    frames: &[&Frame],
    any_app: bool,
    images: &[ImageView],
) {
    for f in frames {
        let view = frame_view(f, images);
        let folded = any_app && !view.in_app;
        match groups.last_mut() {
            Some(g) if g.omitted == 0 && g.in_app == view.in_app => g.frames.push(view),
            _ => groups.push(FrameGroup {
                in_app: view.in_app,
                folded,
                omitted: 0,
                frames: vec![view],
            }),
        }
    }
}

fn mechanism_view(m: &Mechanism) -> MechanismView {
    MechanismView {
        ty: m.ty.clone(),
        handled: m.handled,
        data: m.other.iter().map(|(k, v)| json_pair(k, v)).collect(),
    }
}

pub fn exception_view(e: &Exception, images: &[ImageView]) -> ExceptionView {
    ExceptionView {
        ty: e.ty.clone(),
        value: e.value.clone().unwrap_or_default(),
        module: e.module.clone().filter(|m| !e.ty.starts_with(m.as_str())),
        mechanism: e.mechanism.as_ref().map(mechanism_view),
        groups: frame_groups(&e.frames, images),
    }
}

/// The thread whose stack stands for the event when its exception has none: the crashed one,
/// else the current one, else the only one with frames.
pub fn stack_thread(threads: &[Thread]) -> Option<usize> {
    let with_frames = |t: &&Thread| !t.frames.is_empty();
    let position =
        |pick: fn(&Thread) -> bool| threads.iter().position(|t| pick(t) && with_frames(&t));
    position(|t| t.crashed == Some(true))
        .or_else(|| position(|t| t.current == Some(true)))
        .or_else(|| {
            let mut having = threads.iter().enumerate().filter(|(_, t)| with_frames(t));
            match (having.next(), having.next()) {
                (Some((i, _)), None) => Some(i),
                _ => None,
            }
        })
}

fn thread_name(t: &Thread, index: usize) -> String {
    if t.name.is_empty() {
        format!("thread {}", t.id.as_deref().unwrap_or(&index.to_string()))
    } else {
        t.name.clone()
    }
}

/// `main (crashed)`: the thread and what it was.
pub fn thread_label(t: &Thread, index: usize) -> String {
    let mut roles = Vec::new();
    for (flag, role) in [
        (t.crashed, "crashed"),
        (t.current, "current"),
        (t.main, "main"),
    ] {
        if flag == Some(true) && !(role == "main" && t.name == "main") {
            roles.push(role);
        }
    }
    let name = thread_name(t, index);
    if roles.is_empty() {
        name
    } else {
        format!("{name} ({})", roles.join(", "))
    }
}

pub fn thread_views(
    threads: &[Thread],
    shown: Option<usize>,
    images: &[ImageView],
) -> Vec<ThreadView> {
    let mut budget = LISTED_FRAMES;
    threads
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let listed = shown != Some(i) && t.frames.len().min(MAX_FRAMES) <= budget;
            if listed {
                budget -= t.frames.len().min(MAX_FRAMES);
            }
            (i, t, listed)
        })
        .map(|(i, t, listed)| ThreadView {
            name: thread_name(t, i),
            id: t.id.clone(),
            state: t.state.clone(),
            crashed: t.crashed == Some(true),
            current: t.current == Some(true),
            main: t.main == Some(true),
            frame_count: t.frames.len(),
            shown_above: shown == Some(i),
            unlisted: !listed && shown != Some(i) && !t.frames.is_empty(),
            groups: if listed {
                frame_groups(&t.frames, images)
            } else {
                Vec::new()
            },
        })
        .collect()
}

/// Native code whose frames are addresses: a frame with an address and no function, or
/// images listed. The page then says frames are not symbolicated.
pub fn is_native(exceptions: &[Exception], threads: &[Thread], images: usize) -> bool {
    let unsymbolicated =
        |f: &Frame| f.instruction_addr.is_some() && f.function.as_deref().unwrap_or("").is_empty();
    images > 0
        || exceptions
            .iter()
            .flat_map(|e| &e.frames)
            .any(unsymbolicated)
        || threads.iter().flat_map(|t| &t.frames).any(unsymbolicated)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn frames(v: Value) -> Vec<Frame> {
        serde_json::from_value(v).unwrap()
    }

    fn thread(v: Value) -> Thread {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn frames_read_newest_first_with_library_frames_grouped() {
        let groups = frame_groups(
            &frames(json!([
                {"filename": "main.rs", "function": "main", "lineno": 3, "in_app": true},
                {"filename": "lib.rs", "function": "lib_a", "in_app": false},
                {"filename": "lib.rs", "function": "lib_b", "in_app": false},
                {"filename": "app.rs", "function": "handler", "lineno": 10, "in_app": true,
                 "pre_context": ["a", "b"], "context_line": "c", "post_context": ["d"]}
            ])),
            &[],
        );
        assert_eq!(groups.len(), 3);
        assert_eq!(groups[0].frames[0].function, "handler");
        assert_eq!(groups[0].frames[0].location, "app.rs:10");
        let numbers: Vec<_> = groups[0].frames[0]
            .lines
            .iter()
            .map(|l| l.number.as_str())
            .collect();
        assert_eq!(numbers, ["8", "9", "10", "11"]);
        assert!(groups[0].frames[0].lines[2].current);
        assert!(!groups[1].in_app && groups[1].folded);
        assert_eq!(groups[1].frames.len(), 2);
    }

    #[test]
    fn a_stack_without_app_frames_is_shown_whole() {
        let groups = frame_groups(
            &frames(json!([{"function": "a"}, {"function": "b", "in_app": false}])),
            &[],
        );
        assert_eq!(groups.len(), 1);
        assert!(!groups[0].folded);
        assert_eq!(groups[0].frames[0].function, "b");
        assert!(frame_groups(&[], &[]).is_empty());
    }

    #[test]
    fn a_runaway_recursion_shows_its_newest_and_oldest_frames() {
        let deep: Vec<Frame> = (0..10_000)
            .map(|i| Frame {
                function: Some(format!("f{i}")),
                in_app: Some(i % 2 == 0),
                ..Frame::default()
            })
            .collect();
        let groups = frame_groups(&deep, &[]);
        let shown: usize = groups.iter().map(|g| g.frames.len()).sum();
        assert_eq!(shown, MAX_FRAMES);
        let gap = groups.iter().find(|g| g.omitted > 0).unwrap();
        assert_eq!(gap.omitted, 10_000 - MAX_FRAMES);
        assert_eq!(groups[0].frames[0].function, "f9999");
        assert_eq!(groups.last().unwrap().frames[0].function, "f0");

        // The thread list stops listing frames past its budget and says so.
        let threads: Vec<Thread> = (0..20)
            .map(|i| Thread {
                name: format!("t{i}"),
                frames: deep[..200].to_vec(),
                ..Thread::default()
            })
            .collect();
        let views = thread_views(&threads, None, &[]);
        let listed = views.iter().filter(|t| !t.groups.is_empty()).count();
        assert_eq!(listed, LISTED_FRAMES / 200);
        assert!(views[listed].unlisted && views[listed].frame_count == 200);
    }

    #[test]
    fn native_frames_show_address_package_symbol_and_image() {
        let images = [image_view(&json!({
            "type": "macho", "code_file": "/private/var/containers/Bundle/Application/X/MyApp.app/MyApp",
            "debug_id": "2f1a0c3e-0000-4000-8000-000000000001", "image_addr": "0x100000000",
            "image_size": 4_194_304, "arch": "arm64"
        }))];
        let views: Vec<_> = frames(json!([
            {"instruction_addr": "0x1000004d8"},
            {"instruction_addr": "0x1a2b3c4d8", "package": "/usr/lib/system/libsystem_kernel.dylib",
             "symbol": "__pthread_kill", "image_addr": "0x1a2b00000"},
            {"instruction_addr": "0x100000100", "function": "main", "symbol": "_main"},
            {"instruction_addr": "0x7fff0000"}
        ]))
        .iter()
        .map(|f| frame_view(f, &images))
        .collect();

        // Only an address: a row all the same, its image found from the address.
        let only = &views[0];
        assert_eq!(only.function, "");
        assert_eq!(only.address.as_deref(), Some("0x1000004d8"));
        assert_eq!(only.package.as_deref(), Some("MyApp"));
        assert!(only.package_path.ends_with("MyApp.app/MyApp"));
        assert_eq!(only.image.as_deref(), Some("image 0x100000000 +0x4d8"));

        let kernel = &views[1];
        assert_eq!(kernel.function, "__pthread_kill");
        assert_eq!(kernel.symbol, None, "not repeated");
        assert_eq!(kernel.package.as_deref(), Some("libsystem_kernel.dylib"));
        assert_eq!(
            kernel.package_path,
            "/usr/lib/system/libsystem_kernel.dylib"
        );
        assert_eq!(kernel.image.as_deref(), Some("image 0x1a2b00000 +0x3c4d8"));
        assert_eq!(kernel.location, "");

        assert_eq!(views[2].function, "main");
        assert_eq!(views[2].symbol.as_deref(), Some("_main"));
        // Outside every image: the address alone.
        assert_eq!(
            (views[3].package.as_deref(), views[3].image.as_deref()),
            (None, None)
        );
    }

    #[test]
    fn the_stack_is_the_crashed_threads_else_the_current_else_the_only_one() {
        let f = json!([{"instruction_addr": "0x1"}]);
        let threads = [
            thread(json!({"name": "main", "current": true, "frames": f})),
            thread(json!({"name": "worker", "crashed": true, "frames": f})),
        ];
        assert_eq!(stack_thread(&threads), Some(1));
        let threads = [
            thread(json!({"name": "a", "crashed": true})),
            thread(json!({"name": "b", "frames": f})),
            thread(json!({"name": "c", "current": true, "frames": f})),
        ];
        assert_eq!(
            stack_thread(&threads),
            Some(2),
            "a crashed thread without frames is passed over"
        );
        let threads = [
            thread(json!({"name": "a"})),
            thread(json!({"name": "b", "frames": f})),
        ];
        assert_eq!(stack_thread(&threads), Some(1));
        let threads = [
            thread(json!({"name": "a", "frames": f})),
            thread(json!({"name": "b", "frames": f})),
        ];
        assert_eq!(stack_thread(&threads), None, "no telling which");
        assert_eq!(stack_thread(&[]), None);

        let t = thread(json!({"id": "7", "crashed": true, "main": true}));
        assert_eq!(thread_label(&t, 0), "thread 7 (crashed, main)");
        let t = thread(json!({"name": "main", "main": true, "current": true}));
        assert_eq!(thread_label(&t, 0), "main (current)");
    }

    #[test]
    fn threads_list_every_thread_and_skip_the_stack_shown_above() {
        let f = json!([{"function": "run"}, {"function": "wait"}]);
        let threads = [
            thread(
                json!({"name": "main", "id": "1", "main": true, "state": "Waiting", "frames": f}),
            ),
            thread(json!({"id": "2", "crashed": true, "frames": f})),
        ];
        let views = thread_views(&threads, stack_thread(&threads), &[]);
        assert_eq!(views.len(), 2);
        assert_eq!(
            (views[0].name.as_str(), views[0].state.as_deref()),
            ("main", Some("Waiting"))
        );
        assert!(views[0].main && !views[0].shown_above);
        assert_eq!(views[0].groups[0].frames[0].function, "wait");
        assert_eq!(views[1].name, "thread 2");
        assert!(views[1].crashed && views[1].shown_above && views[1].groups.is_empty());
        assert_eq!(views[1].frame_count, 2);
    }

    #[test]
    fn image_rows_take_what_senders_call_their_fields() {
        let row = image_view(&json!({
            "type": "macho", "code_file": "/usr/lib/libobjc.A.dylib", "debug_id": "abc",
            "image_addr": "0x18f000000", "image_size": 1_258_291, "arch": "arm64e"
        }));
        assert_eq!(
            (row.file.as_str(), row.path.as_str(), row.debug_id.as_str()),
            ("libobjc.A.dylib", "/usr/lib/libobjc.A.dylib", "abc")
        );
        assert_eq!(
            (row.address.as_str(), row.size.as_str()),
            ("0x18f000000", "1.2 MiB")
        );
        assert_eq!(
            (row.bytes.as_str(), row.arch.as_str(), row.ty.as_str()),
            ("1258291 bytes", "arm64e", "macho")
        );
        // Apple's older form: `name`, `uuid`, a numeric address.
        let row = image_view(
            &json!({"name": "C:\\app\\app.exe", "uuid": "u-1", "image_addr": 4096, "image_size": "0x400"}),
        );
        assert_eq!(
            (row.file.as_str(), row.debug_id.as_str()),
            ("app.exe", "u-1")
        );
        assert_eq!(
            (row.address.as_str(), row.size.as_str()),
            ("0x1000", "1.0 KiB")
        );
        assert_eq!(image_view(&json!("junk")).file, "");
    }

    #[test]
    fn native_events_are_told_apart() {
        let symbolicated = frames(json!([{"function": "main", "instruction_addr": "0x1"}]));
        let raw = frames(json!([{"instruction_addr": "0x1"}]));
        let exc = |frames: Vec<Frame>| Exception {
            ty: "E".into(),
            frames,
            ..Exception::default()
        };
        assert!(!is_native(&[exc(symbolicated.clone())], &[], 0));
        assert!(is_native(&[exc(symbolicated)], &[], 1));
        assert!(is_native(&[exc(raw.clone())], &[], 0));
        let t = Thread {
            frames: raw,
            ..Thread::default()
        };
        assert!(is_native(&[], &[t], 0));
    }
}
