//! Which issue an event belongs to, and how that issue is titled.
//!
//! [`group`] is pure and versioned: the same event and rules always give the same
//! [`Grouping`], and every hash input starts with the algorithm's version, so a better
//! algorithm adds new hashes instead of silently splitting or merging the issues old hashes
//! point to. An event carries its version-2 hashes first, then its version-1 hashes: it joins
//! the issue its version-2 hashes point to, else the one its version-1 hashes point to (which
//! then learns the new hashes), else a new issue.
//!
//! One bug is one failing statement failing the same way. What version 2 hashes, in order of
//! precedence:
//! 1. the project's fingerprint rules ([`rules`]), then a client fingerprint (`{{ default }}`
//!    in either expands to the default components);
//! 2. an exception chain: per exception its type and its failing site ([`frames`]: the
//!    innermost in-app frame, or a recursion's cycle) — never the path that led there, which
//!    is kept as the call path for the issue's "call paths" breakdown. The project's stack
//!    rules first mark frames in-app or not and drop frames from grouping; frames an SDK left
//!    unmarked are judged by path. When no exception has frames, the crashed (else current)
//!    thread's stack stands in for them;
//! 3. a chain without frames (or whose frames only say where it was reported, as the Bugle
//!    client's `capture_error`): the chain's types and the outermost exception's
//!    parameterized message ([`parameterize`]);
//! 4. a message: its template when the event carries one (`logentry.message` with params, the
//!    client's `log` integration), else the parameterized message;
//! 5. nothing of these: one `<unlabeled event>` issue.
//!
//! The hashed components are kept in [`Grouping::components`], so the issue page can show why
//! two errors are together. Each stage has its module: [`frames`] (labels, in-app, recursion,
//! site), [`parameterize`], `templates` (a message's identity), [`rules`], `hash` (hashing,
//! fingerprints), `title` (title, culprit), `v1` (version 1, kept for the upgrade).

pub mod frames;
mod hash;
pub mod parameterize;
pub mod rules;
mod templates;
mod title;
mod v1;

use crate::event::{Event, Exception, Frame};
use frames::Labelled;
use rules::Rules;

pub use parameterize::parameterize;
pub use title::{MAX_TITLE_CHARS, UNLABELED};

/// The current algorithm; stored with each hash so old issues never silently split.
pub const GROUPING_VERSION: u32 = 2;

/// A version of the algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V1,
    V2,
}

impl Version {
    pub fn number(self) -> u32 {
        match self {
            Version::V1 => 1,
            Version::V2 => 2,
        }
    }
}

/// One hash an event may join an issue by, with the version that made it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct GroupHash {
    pub version: u32,
    /// Hex sha256.
    pub hash: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Grouping {
    /// Hashes this event may join an issue by, best first, deduplicated, never empty: version 2
    /// with the project's rules, version 2 without its stack rules (when they changed
    /// anything), then version 1's (in-app frames, all frames) unless a fingerprint rule matched.
    pub hashes: Vec<GroupHash>,
    /// Human-readable components hashed for `hashes[0]`, shown on the issue page to explain
    /// "why these are together": `["type: KeyError", "site: app.cart in total"]`.
    pub components: Vec<String>,
    /// `Type: first line of message`, the template, a rule's or the client's title; ≤ 255 chars.
    pub title: String,
    /// The innermost in-app frame as `module in function` (or `file in function`).
    pub culprit: Option<String>,
    /// The frames that led to the failing site, outermost first (`a → b → c`), for the issue's
    /// call paths breakdown; None without frames or callers.
    pub call_path: Option<String>,
}

/// The one grouping function, with the project's rules.
pub fn group(event: &Event, rules: &Rules) -> Grouping {
    let root = event.server.as_ref().and_then(|s| s.root.as_deref());
    let plain = version_2(event, root, None);
    let ruled = rules
        .has_stack_rules()
        .then(|| version_2(event, root, Some(rules)));
    let defaults = ruled.as_ref().unwrap_or(&plain);
    let rule_fingerprint = rules.fingerprint(event);
    let fingerprint = rule_fingerprint
        .as_ref()
        .map(|f| f.values.as_slice())
        .or_else(|| hash::client_fingerprint(event));
    let mut hashes = Vec::new();
    let components = match fingerprint {
        Some(fingerprint) => {
            let components = hash::expand_fingerprint(fingerprint, &defaults.components);
            hashes.push(v2_hash(&components));
            components
        }
        None => {
            hashes.push(v2_hash(&defaults.components));
            if defaults.components != plain.components {
                // Stack rules apply to new events; events of an issue made before the rules
                // still find it through their hash without them.
                hashes.push(v2_hash(&plain.components));
            }
            defaults.components.clone()
        }
    };
    // A project's fingerprint rule means a new issue for what it matches (the preview shows
    // which issues it gathers); any other event may find the issue its version-1 hashes had.
    if rule_fingerprint.is_none() {
        hashes.extend(version_1(event, root).hashes);
    }
    dedup(&mut hashes);
    let title = match rule_fingerprint.and_then(|f| f.title) {
        Some(t) => title::truncate_chars(t.trim(), MAX_TITLE_CHARS),
        None => title::title(event, Version::V2),
    };
    Grouping {
        hashes,
        components,
        title,
        culprit: title::culprit(event, root),
        call_path: defaults.call_path.clone(),
    }
}

/// Grouping as one version of the algorithm did it, without project rules: version 1's
/// hashes alone, or version 2's followed by version 1's (what [`group`] gives with no rules).
pub fn group_version(event: &Event, version: u32) -> Grouping {
    match version {
        1 => version_1(event, event.server.as_ref().and_then(|s| s.root.as_deref())),
        _ => group(event, &Rules::default()),
    }
}

fn v2_hash(components: &[String]) -> GroupHash {
    GroupHash {
        version: 2,
        hash: hash::hash_components(2, components),
    }
}

fn dedup(hashes: &mut Vec<GroupHash>) {
    let mut seen = std::collections::HashSet::new();
    hashes.retain(|h| seen.insert(h.hash.clone()));
}

fn version_1(event: &Event, root: Option<&str>) -> Grouping {
    let variants = v1::variants(event, root);
    let (hashes, components) = match hash::client_fingerprint(event) {
        Some(fingerprint) => {
            let components = hash::expand_fingerprint(fingerprint, &variants[0]);
            (vec![hash::hash_components(1, &components)], components)
        }
        None => {
            let mut hashes: Vec<String> = variants
                .iter()
                .map(|components| hash::hash_components(1, components))
                .collect();
            // All frames in-app: both variants are the same list.
            hashes.dedup();
            (hashes, variants[0].clone())
        }
    };
    Grouping {
        hashes: hashes
            .into_iter()
            .map(|hash| GroupHash { version: 1, hash })
            .collect(),
        components,
        title: title::title(event, Version::V1),
        culprit: title::culprit(event, root),
        call_path: None,
    }
}

/// Version 2's default components, with or without the project's stack rules.
struct Components {
    components: Vec<String>,
    call_path: Option<String>,
}

/// Mechanisms whose frames say where an error was reported, not where it failed.
const REPORTED_AT: &[&str] = &["capture_error"];

/// Longest call path kept, in chars; the innermost callers are kept.
const MAX_CALL_PATH: usize = 255;
const CALL_PATH_FRAMES: usize = 6;

fn version_2(event: &Event, root: Option<&str>, rules: Option<&Rules>) -> Components {
    // Event-level matchers of the stack rules are checked once, not per frame.
    let rules = rules.map(|r| r.for_event(event));
    let label = |frames: &[Frame]| labelled(event, frames, root, rules.as_ref());
    let mut stacks: Vec<Vec<Labelled>> =
        event.exceptions.iter().map(|e| label(&e.frames)).collect();
    let thread = stacks
        .iter()
        .all(Vec::is_empty)
        .then(|| failing_thread(event))
        .flatten()
        .map(|t| label(&t.frames))
        .filter(|frames| !frames.is_empty());
    let mut components = Vec::new();
    let mut call_path = None;
    let mut site_components = |frames: &[Labelled], out: &mut Vec<String>| {
        if let Some(site) = frames::failing_site(frames) {
            let kind = if site.recursion { "recursion" } else { "site" };
            out.extend(site.frames.iter().map(|l| format!("{kind}: {l}")));
            if call_path.is_none() && !site.callers.is_empty() {
                call_path = Some(render_call_path(&site.callers));
            }
        }
    };
    if event.exceptions.is_empty() {
        if let Some(frames) = &thread {
            components.push("thread: crashed".to_owned());
            site_components(frames, &mut components);
        } else {
            components.push(templates::message_component(event));
        }
        return Components {
            components,
            call_path,
        };
    }
    if let (Some(frames), Some(first)) = (thread, stacks.first_mut()) {
        *first = frames;
    }
    for (exc, frames) in event.exceptions.iter().zip(&stacks) {
        components.push(format!("type: {}", exc.ty.trim()));
        site_components(frames, &mut components);
    }
    let outermost = &event.exceptions[0];
    let located = stacks.iter().any(|s| !s.is_empty());
    if !located || reported_at(outermost) {
        if let Some(value) = outermost
            .value
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
        {
            components.push(format!("message: {}", parameterize(value, Version::V2)));
        }
    }
    Components {
        components,
        call_path,
    }
}

fn reported_at(exc: &Exception) -> bool {
    exc.mechanism
        .as_ref()
        .is_some_and(|m| REPORTED_AT.contains(&m.ty.as_str()))
}

/// The thread whose stack tells where a crash happened: the crashed one, else the current
/// one, else the only one with frames.
fn failing_thread(event: &Event) -> Option<&crate::event::Thread> {
    let with_frames = || event.threads.iter().filter(|t| !t.frames.is_empty());
    with_frames()
        .find(|t| t.crashed == Some(true))
        .or_else(|| with_frames().find(|t| t.current == Some(true)))
        .or_else(|| {
            let mut it = with_frames();
            let only = it.next();
            it.next().is_none().then_some(only).flatten()
        })
}

/// The frames grouping counts, labelled, with the project's stack rules applied and
/// unmarked frames judged by path.
fn labelled(
    event: &Event,
    frames: &[Frame],
    root: Option<&str>,
    rules: Option<&rules::EventRules<'_>>,
) -> Vec<Labelled> {
    let language = event.language.as_deref();
    frames
        .iter()
        .filter_map(|frame| {
            let action = rules.map(|r| r.frame_action(frame)).unwrap_or_default();
            if action.group == Some(false) {
                return None;
            }
            let in_app = action
                .in_app
                .or(frame.in_app)
                .or_else(|| crate::otlp::stacktrace::guess_in_app(language, frame))
                .unwrap_or(false);
            Some(Labelled {
                label: frames::label(frame, root, Version::V2)?,
                in_app,
            })
        })
        .collect()
}

fn render_call_path(callers: &[&str]) -> String {
    let skip = callers.len().saturating_sub(CALL_PATH_FRAMES);
    let mut path = callers[skip..].join(" → ");
    if skip > 0 {
        path = format!("… → {path}");
    }
    if path.chars().count() > MAX_CALL_PATH {
        let tail: Vec<char> = path.chars().rev().take(MAX_CALL_PATH - 2).collect();
        path = format!("… {}", tail.into_iter().rev().collect::<String>());
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Server;

    fn grouped(event: &Event) -> Grouping {
        group(event, &Rules::default())
    }

    fn primary(event: &Event) -> GroupHash {
        grouped(event).hashes[0].clone()
    }

    const RUSTC: &str = "/rustc/90b35a6239c3d8bdabc530a6a0816f7ff89a0aaf/library";
    const CRATES: &str = "/home/ci/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f";
    const VENV: &str = "/srv/shop/.venv/lib/python3.12/site-packages";

    fn frame(file: &str, function: &str, line: u32, in_app: bool) -> Frame {
        Frame {
            filename: Some(file.into()),
            function: Some(function.into()),
            lineno: Some(line),
            colno: Some(line % 40 + 1),
            in_app: Some(in_app),
            ..Frame::default()
        }
    }

    fn py_frame(module: &str, file: &str, function: &str, line: u32, in_app: bool) -> Frame {
        Frame {
            module: Some(module.into()),
            abs_path: Some(file.into()),
            ..frame(file, function, line, in_app)
        }
    }

    fn exception(ty: &str, value: &str, frames: Vec<Frame>) -> Exception {
        Exception {
            ty: ty.into(),
            value: Some(value.into()),
            frames,
            ..Exception::default()
        }
    }

    fn with_exceptions(exceptions: Vec<Exception>) -> Event {
        Event {
            exceptions,
            ..Event::default()
        }
    }

    fn message_event(message: &str) -> Event {
        Event {
            message: Some(message.into()),
            ..Event::default()
        }
    }

    /// A tokio worker panicking on `unwrap()` in `app::config::load`, as the Rust client reports it.
    fn rust_panic_frames(load_line: u32) -> Vec<Frame> {
        vec![
            frame(
                &format!("{RUSTC}/std/src/rt.rs"),
                "std::rt::lang_start_internal::h5f0a8b1c2d3e4f60",
                174,
                false,
            ),
            frame(
                &format!("{CRATES}/tokio-1.40.0/src/runtime/scheduler/multi_thread/worker.rs"),
                "tokio::runtime::scheduler::multi_thread::worker::Context::run::h0b1c2d3e4f5a6b7c",
                576,
                false,
            ),
            frame(
                &format!("{CRATES}/tokio-1.40.0/src/runtime/task/harness.rs"),
                "tokio::runtime::task::harness::Harness<T,S>::poll::h1c2d3e4f5a6b7c8d",
                163,
                false,
            ),
            frame(
                "src/main.rs",
                "app::main::{{closure}}::h2d3e4f5a6b7c8d9e",
                21,
                true,
            ),
            frame(
                "src/config.rs",
                "app::config::load::h3e4f5a6b7c8d9e0f",
                load_line,
                true,
            ),
            frame(
                &format!("{RUSTC}/core/src/result.rs"),
                "core::result::Result<T,E>::unwrap::h4f5a6b7c8d9e0f1a",
                1102,
                false,
            ),
            frame(
                &format!("{RUSTC}/core/src/result.rs"),
                "core::result::unwrap_failed::h5a6b7c8d9e0f1a2b",
                1679,
                false,
            ),
            frame(
                &format!("{RUSTC}/core/src/panicking.rs"),
                "core::panicking::panic_fmt::h6b7c8d9e0f1a2b3c",
                74,
                false,
            ),
            frame(
                &format!("{RUSTC}/std/src/panicking.rs"),
                "std::panicking::begin_panic_handler::h7c8d9e0f1a2b3c4d",
                665,
                false,
            ),
        ]
    }

    fn rust_panic(load_line: u32) -> Event {
        with_exceptions(vec![exception(
            "panic",
            "called `Result::unwrap()` on an `Err` value: Os { code: 2, kind: NotFound, message: \"No such file or directory\" }",
            rust_panic_frames(load_line),
        )])
    }

    /// Django handling `POST /checkout`, failing in the app's payment service.
    fn django_frames(root: &str, charge_line: u32) -> Vec<Frame> {
        vec![
            py_frame(
                "django.core.handlers.exception",
                &format!("{VENV}/django/core/handlers/exception.py"),
                "inner",
                55,
                false,
            ),
            py_frame(
                "django.core.handlers.base",
                &format!("{VENV}/django/core/handlers/base.py"),
                "_get_response",
                197,
                false,
            ),
            py_frame(
                "app.views",
                &format!("{root}/app/views.py"),
                "checkout",
                42,
                true,
            ),
            py_frame(
                "app.services.payments",
                &format!("{root}/app/services/payments.py"),
                "charge",
                charge_line,
                true,
            ),
        ]
    }

    fn django_error(charge_line: u32) -> Event {
        with_exceptions(vec![exception(
            "ValueError",
            "invalid literal for int() with base 10: 'abc'",
            django_frames("/srv/shop", charge_line),
        )])
    }

    /// Express routing `POST /cart/checkout` into the app's cart route, under `root`.
    fn express_frames(root: &str, line: u32) -> Vec<Frame> {
        vec![
            frame(
                &format!("{root}/node_modules/express/lib/router/layer.js"),
                "Layer.handle [as handle_request]",
                95,
                false,
            ),
            frame(
                &format!("{root}/node_modules/express/lib/router/route.js"),
                "next",
                149,
                false,
            ),
            frame(
                &format!("{root}/src/routes/cart.js"),
                "async CartController.checkout",
                line,
                true,
            ),
            frame(
                &format!("{root}/src/services/cart.js"),
                "CartService.total",
                line + 7,
                true,
            ),
        ]
    }

    fn express_error(root: &str, host: &str, pid: u32, line: u32) -> Event {
        Event {
            server: Some(Server {
                host: Some(host.into()),
                pid: Some(pid),
                root: Some(root.into()),
                ..Server::default()
            }),
            ..with_exceptions(vec![exception(
                "TypeError",
                "Cannot read properties of undefined (reading 'price')",
                express_frames(root, line),
            )])
        }
    }

    #[test]
    fn title_and_culprit_for_a_rust_panic() {
        let g = grouped(&rust_panic(31));
        assert_eq!(
            g.title,
            "panic: called `Result::unwrap()` on an `Err` value: Os { code: 2, kind: NotFound, message: \"No such file or directory\" }"
        );
        assert_eq!(
            g.culprit.as_deref(),
            Some("src/config.rs in app::config::load")
        );
    }

    #[test]
    fn title_and_culprit_for_a_python_error() {
        let g = grouped(&django_error(12));
        assert_eq!(
            g.title,
            "ValueError: invalid literal for int() with base 10: 'abc'"
        );
        assert_eq!(
            g.culprit.as_deref(),
            Some("app.services.payments in charge")
        );
    }

    #[test]
    fn title_and_culprit_for_a_javascript_error() {
        let g = grouped(&express_error("/srv/app", "web-1", 7, 10));
        assert_eq!(
            g.title,
            "TypeError: Cannot read properties of undefined (reading 'price')"
        );
        assert_eq!(
            g.culprit.as_deref(),
            Some("src/services/cart.js in CartService.total")
        );
    }

    #[test]
    fn the_culprit_is_the_last_frame_when_none_is_in_app() {
        let mut event = express_error("/srv/app", "web-1", 7, 10);
        event.exceptions[0].frames.truncate(2);
        let g = grouped(&event);
        assert_eq!(
            g.culprit.as_deref(),
            Some("node_modules/express/lib/router/route.js in next")
        );
    }

    #[test]
    fn the_culprit_comes_from_the_outermost_exception_with_frames() {
        let event = with_exceptions(vec![
            exception("anyhow::Error", "request failed", vec![]),
            exception("hyper::Error", "connection closed", rust_panic_frames(3)),
        ]);
        assert_eq!(
            grouped(&event).culprit.as_deref(),
            Some("src/config.rs in app::config::load")
        );
        assert_eq!(grouped(&message_event("disk full")).culprit, None);
        assert_eq!(
            grouped(&with_exceptions(vec![exception("E", "x", vec![])])).culprit,
            None
        );
    }

    #[test]
    fn the_title_uses_the_client_title_then_the_first_line() {
        let mut event = django_error(12);
        event.title = Some("Checkout failed".into());
        assert_eq!(grouped(&event).title, "Checkout failed");

        let event = with_exceptions(vec![exception(
            "KeyError",
            "\n'card_token'\nTraceback follows",
            vec![],
        )]);
        assert_eq!(grouped(&event).title, "KeyError: 'card_token'");

        let mut event = with_exceptions(vec![exception("StopIteration", "", vec![])]);
        assert_eq!(grouped(&event).title, "StopIteration");
        event.exceptions[0].value = None;
        assert_eq!(grouped(&event).title, "StopIteration");

        assert_eq!(
            grouped(&message_event("Disk almost full\nused: 97%")).title,
            "Disk almost full"
        );
    }

    #[test]
    fn a_long_title_is_cut_on_a_char_boundary_to_255_chars() {
        let exactly = "é".repeat(255);
        assert_eq!(grouped(&message_event(&exactly)).title, exactly);

        let title = grouped(&message_event(&"é".repeat(300))).title;
        assert_eq!(title.chars().count(), 255);
        assert!(title.ends_with("é…"));
    }

    #[test]
    fn symbol_hashes_closure_numbering_and_generic_args_do_not_split_groups() {
        // The same binary built with the v0 symbol mangling, and demangled without hashes.
        let mut v0 = rust_panic(31);
        let functions = [
            "std::rt::lang_start_internal",
            "<tokio::runtime::scheduler::multi_thread::worker::Context>::run",
            "<tokio::runtime::task::harness::Harness<app::main::{closure#0}, alloc::sync::Arc<tokio::runtime::scheduler::multi_thread::handle::Handle>>>::poll",
            "app::main::{closure#0}",
            "app::config::load",
            "<core::result::Result<app::config::Config, std::io::error::Error>>::unwrap",
            "core::result::unwrap_failed",
            "core::panicking::panic_fmt",
            "std::panicking::begin_panic_handler",
        ];
        for (f, name) in v0.exceptions[0].frames.iter_mut().zip(functions) {
            f.function = Some(name.into());
        }
        let (legacy, v0) = (grouped(&rust_panic(31)), grouped(&v0));
        assert_eq!(
            legacy.hashes, v0.hashes,
            "{:?}\n{:?}",
            legacy.components, v0.components
        );
        assert_eq!(
            legacy.components,
            ["type: panic", "site: src/config.rs in app::config::load"]
        );
    }

    #[test]
    fn webpack_bundles_from_different_deploys_are_one_group() {
        let bundle = |hash: &str, host: &str| {
            with_exceptions(vec![exception(
                "TypeError",
                "Cannot read properties of null (reading 'addEventListener')",
                vec![
                    frame(
                        &format!("https://{host}/static/js/vendors.{hash}.js"),
                        "Object.<anonymous>",
                        2,
                        false,
                    ),
                    frame(
                        &format!("https://{host}/static/js/main.{hash}.js?v=3"),
                        "initCart",
                        1,
                        true,
                    ),
                ],
            )])
        };
        let (a, b) = (
            grouped(&bundle("3f2a9c1b", "shop.example.com")),
            grouped(&bundle("7d1e4b2a", "cdn.example.net")),
        );
        assert_eq!(a.hashes, b.hashes);
        assert_eq!(
            a.culprit.as_deref(),
            Some("static/js/main.<hash>.js in initCart")
        );
    }

    #[test]
    fn messages_with_different_words_are_different_groups() {
        let a = grouped(&message_event("disk almost full on /var"));
        let b = grouped(&message_event("certificate expires soon"));
        assert_ne!(a.hashes, b.hashes);
    }

    #[test]
    fn the_same_error_from_different_line_numbers_and_columns_is_one_group() {
        assert_eq!(
            grouped(&rust_panic(31)).hashes,
            grouped(&rust_panic(48)).hashes
        );
        assert_eq!(
            grouped(&django_error(12)).hashes,
            grouped(&django_error(19)).hashes
        );
        let a = express_error("/srv/app", "web-1", 7, 10);
        let b = express_error("/srv/app", "web-1", 7, 24);
        assert_eq!(grouped(&a).hashes, grouped(&b).hashes);
    }

    #[test]
    fn the_same_error_from_different_hosts_pids_and_roots_is_one_group() {
        let a = grouped(&express_error("/srv/app", "web-1", 4242, 10));
        let b = grouped(&express_error("/home/ci/app", "ci-runner-7", 99, 10));
        assert_eq!(a.hashes, b.hashes);
        assert!(
            a.components
                .contains(&"site: src/services/cart.js in CartService.total".to_owned()),
            "{:?}",
            a.components
        );
    }

    #[test]
    fn the_same_python_error_from_different_virtualenvs_and_roots_is_one_group() {
        // Rollbar's Python SDK sends absolute filenames and no module.
        let deployed = |root: &str, venv: &str| {
            let mut event = django_error(12);
            for f in &mut event.exceptions[0].frames {
                let path = f.abs_path.take().unwrap();
                f.filename = Some(path.replace("/srv/shop", root).replace(VENV, venv));
                f.module = None;
            }
            event.server = Some(Server {
                root: Some(root.into()),
                ..Server::default()
            });
            event
        };
        let a = grouped(&deployed("/srv/shop", VENV));
        let b = grouped(&deployed(
            "/home/ci/shop",
            "/home/ci/.virtualenvs/shop/lib/python3.11/site-packages",
        ));
        assert_eq!(a.hashes, b.hashes);
        assert_eq!(
            a.components,
            [
                "type: ValueError",
                "site: app/services/payments.py in charge"
            ]
        );
        assert_eq!(
            a.culprit.as_deref(),
            Some("app/services/payments.py in charge")
        );
    }

    #[test]
    fn messages_differing_only_by_variable_parts_are_one_group() {
        let pairs = [
            ("user 42 not found", "user 1337 not found"),
            (
                "order 3f2a9c1b-8d4e-4f6a-9b2c-7e5d1a0f3c8b expired",
                "order 00000000-0000-4000-8000-000000000000 expired",
            ),
            (
                "cannot mail alice@example.com",
                "cannot mail bob.smith+tag@mail.example.org",
            ),
            (
                "connect to 10.0.3.17:5432 refused",
                "connect to 192.168.1.2:6432 refused",
            ),
            (
                "connect to [fe80::1ff:fe23:4567:890a]:80 refused",
                "connect to [::1]:80 refused",
            ),
            ("bad pointer 0x7ffd5fbff8a8", "bad pointer 0xdeadbeef"),
            (
                "object 3f2a9c1b8d4e not in cache",
                "object 9b2c7e5d1a0f not in cache",
            ),
            ("unknown key 'user_id'", "unknown key 'email'"),
            ("no such table \"orders\"", "no such table \"carts\""),
            (
                "request to https://api.stripe.com/v1/charges?id=1 failed",
                "request to http://localhost:8080/health failed",
            ),
            (
                "job ran at 2026-11-01T12:34:56Z",
                "job ran at 2025-01-02T03:04:05.123+02:00",
            ),
            ("timed out after 150ms", "timed out after 2.5s"),
            ("retrying in 3 minutes", "retrying in 10 seconds"),
            ("load average 0.75", "load average 12.5"),
        ];
        for (a, b) in pairs {
            let (ga, gb) = (grouped(&message_event(a)), grouped(&message_event(b)));
            assert_eq!(
                ga.hashes, gb.hashes,
                "{a:?} vs {b:?}: {:?} vs {:?}",
                ga.components, gb.components
            );
            let without_frames =
                |m: &str| with_exceptions(vec![exception("app::Error", m, vec![])]);
            assert_eq!(
                grouped(&without_frames(a)).hashes,
                grouped(&without_frames(b)).hashes,
                "{a:?} vs {b:?}"
            );
        }
    }

    #[test]
    fn an_exception_without_frames_groups_by_type_and_parameterized_message() {
        let event = with_exceptions(vec![exception(
            "sqlx::Error",
            "pool timed out after 30s while waiting for a connection",
            vec![],
        )]);
        let g = grouped(&event);
        assert_eq!(
            g.components,
            [
                "type: sqlx::Error",
                "message: pool timed out after <duration> while waiting for a connection"
            ]
        );
        assert_eq!(g.hashes.iter().filter(|h| h.version == 2).count(), 1);
        let other = with_exceptions(vec![exception(
            "sqlx::Error",
            "database \"bugle\" does not exist",
            vec![],
        )]);
        assert_ne!(grouped(&other).hashes, g.hashes);
    }

    #[test]
    fn the_exception_message_is_not_hashed_when_frames_exist() {
        let mut other = django_error(12);
        other.exceptions[0].value = Some("invalid literal for int() with base 16: 'zz'".into());
        assert_eq!(grouped(&django_error(12)).hashes, grouped(&other).hashes);
        assert!(grouped(&other)
            .components
            .iter()
            .all(|c| !c.starts_with("message:")));
    }

    #[test]
    fn a_different_cause_in_the_chain_is_a_different_group() {
        let chain = |cause: &str| {
            with_exceptions(vec![
                exception("anyhow::Error", "loading config", rust_panic_frames(31)),
                exception(cause, "No such file or directory (os error 2)", vec![]),
            ])
        };
        let (a, b) = (
            grouped(&chain("std::io::Error")),
            grouped(&chain("toml::de::Error")),
        );
        assert_ne!(a.hashes[0], b.hashes[0]);
        assert_eq!(
            a.components,
            [
                "type: anyhow::Error",
                "site: src/config.rs in app::config::load",
                "type: std::io::Error"
            ]
        );
    }

    #[test]
    fn a_client_fingerprint_overrides_the_default_grouping() {
        let fingerprinted = |event: Event| Event {
            fingerprint: Some(vec!["payment-provider-down".into()]),
            ..event
        };
        let (a, b) = (
            grouped(&fingerprinted(django_error(12))),
            grouped(&fingerprinted(rust_panic(31))),
        );
        // One version-2 hash and one version-1 hash, the same for both events.
        assert_eq!(a.hashes.len(), 2);
        assert_eq!(a.hashes, b.hashes);
        assert_eq!(a.components, ["fingerprint: payment-provider-down"]);
        // Title and culprit still describe the event itself.
        assert_eq!(
            a.title,
            "ValueError: invalid literal for int() with base 10: 'abc'"
        );
    }

    #[test]
    fn default_in_a_client_fingerprint_expands_to_the_default_components() {
        let default = grouped(&django_error(12));
        for marker in ["{{ default }}", "{{default}}"] {
            let only_default = Event {
                fingerprint: Some(vec![marker.into()]),
                ..django_error(12)
            };
            assert_eq!(
                grouped(&only_default).hashes[0],
                default.hashes[0],
                "{marker}"
            );

            let per_tenant = |tenant: &str| Event {
                fingerprint: Some(vec![marker.into(), tenant.into()]),
                ..django_error(12)
            };
            let (a, b) = (
                grouped(&per_tenant("tenant-a")),
                grouped(&per_tenant("tenant-b")),
            );
            assert_ne!(a.hashes, b.hashes);
            assert_eq!(
                a.components[..default.components.len()],
                default.components[..]
            );
            assert_eq!(a.components.last().unwrap(), "fingerprint: tenant-a");
        }
    }

    #[test]
    fn an_empty_client_fingerprint_is_ignored() {
        let event = Event {
            fingerprint: Some(vec![]),
            ..django_error(12)
        };
        assert_eq!(grouped(&event), grouped(&django_error(12)));
    }

    #[test]
    fn recursion_depth_does_not_split_groups() {
        let walk = |depth: usize| {
            let mut frames = vec![frame("src/main.rs", "app::main", 3, true)];
            frames.extend(
                (0..depth).map(|i| frame("src/tree.rs", "app::tree::walk", 10 + i as u32, true)),
            );
            with_exceptions(vec![exception("panic", "stack overflow", frames)])
        };
        assert_eq!(grouped(&walk(3)).hashes[0], grouped(&walk(250)).hashes[0]);
        let parser = |depth: usize| {
            let mut frames = vec![py_frame("app.main", "/srv/app/main.py", "main", 3, true)];
            for i in 0..depth {
                frames.push(py_frame(
                    "app.parse",
                    "/srv/app/parse.py",
                    "parse_value",
                    10 + i as u32,
                    true,
                ));
                frames.push(py_frame(
                    "app.parse",
                    "/srv/app/parse.py",
                    "parse_list",
                    30,
                    true,
                ));
            }
            frames.push(py_frame(
                "app.parse",
                "/srv/app/parse.py",
                "parse_value",
                12,
                true,
            ));
            with_exceptions(vec![exception("ParseError", "unexpected token", frames)])
        };
        let five = primary(&parser(5));
        for depth in 6..=30 {
            assert_eq!(primary(&parser(depth)), five, "depth {depth}");
        }
    }

    #[test]
    fn a_different_exception_type_is_a_different_group() {
        let mut other = django_error(12);
        other.exceptions[0].ty = "KeyError".into();
        assert_ne!(primary(&django_error(12)), primary(&other));
    }

    #[test]
    fn the_same_failing_function_reached_through_two_callers_is_one_group() {
        let mut other = django_error(12);
        other.exceptions[0].frames[2].function = Some("update_cart".into());
        let (a, b) = (grouped(&django_error(12)), grouped(&other));
        assert_eq!(a.hashes[0], b.hashes[0]);
        assert_eq!(a.call_path.as_deref(), Some("app.views in checkout"));
        assert_eq!(b.call_path.as_deref(), Some("app.views in update_cart"));
        // Version 1 told them apart; the version-1 hashes still do.
        assert_ne!(a.hashes[1..], b.hashes[1..]);
    }

    #[test]
    fn two_functions_failing_alike_are_two_groups() {
        let mut other = django_error(12);
        other.exceptions[0].frames[3].function = Some("refund".into());
        assert_ne!(primary(&django_error(12)), primary(&other));
    }

    #[test]
    fn a_frame_added_or_removed_at_the_outer_end_does_not_split() {
        let mut fewer = django_error(12);
        fewer.exceptions[0].frames.remove(2);
        let mut more = django_error(12);
        more.exceptions[0].frames.insert(
            0,
            py_frame("app.wsgi", "/srv/shop/app/wsgi.py", "application", 3, true),
        );
        let mut library_changed = django_error(12);
        library_changed.exceptions[0].frames[1].function = Some("_get_response_async".into());
        for other in [fewer, more, library_changed] {
            assert_eq!(primary(&django_error(12)), primary(&other));
        }
    }

    #[test]
    fn frames_an_sdk_left_unmarked_are_judged_by_path() {
        let mut unmarked = django_error(12);
        unmarked.language = Some("python".into());
        for f in &mut unmarked.exceptions[0].frames {
            f.in_app = None;
        }
        assert_eq!(primary(&django_error(12)), primary(&unmarked));
        let mut node = express_error("/srv/app", "web-1", 7, 10);
        node.language = Some("javascript".into());
        let marked = primary(&node);
        for f in &mut node.exceptions[0].frames {
            f.in_app = None;
        }
        assert_eq!(marked, primary(&node));
    }

    #[test]
    fn version_2_hashes_come_first_then_version_1s_deduplicated_and_never_empty() {
        for event in [
            django_error(12),
            message_event(""),
            Event::default(),
            rust_panic(1),
        ] {
            let grouping = grouped(&event);
            assert_eq!(grouping.hashes[0].version, 2);
            let v1 = group_version(&event, 1).hashes;
            assert!(!v1.is_empty() && v1.iter().all(|h| h.version == 1));
            assert!(grouping.hashes.ends_with(&v1), "{:?}", grouping.hashes);
            assert!(grouping
                .hashes
                .iter()
                .all(|h| h.hash.len() == 64 && h.hash.bytes().all(|b| b.is_ascii_hexdigit())));
            let mut unique = grouping.hashes.clone();
            unique.dedup();
            assert_eq!(unique, grouping.hashes);
        }
        assert_eq!(
            group_version(&django_error(12), 2),
            grouped(&django_error(12))
        );
    }

    #[test]
    fn components_explain_the_group() {
        assert_eq!(
            grouped(&django_error(12)).components,
            ["type: ValueError", "site: app.services.payments in charge"]
        );
        assert_eq!(
            grouped(&message_event("user 42 signed in from 10.0.0.1")).components,
            ["message: user <int> signed in from <ip>"]
        );
        assert_eq!(grouped(&Event::default()).components, ["unlabeled"]);
        assert_eq!(grouped(&Event::default()).title, UNLABELED);
    }

    #[test]
    fn a_stack_overflow_cut_anywhere_in_its_cycle_is_one_group() {
        // V8 keeps only the innermost frames of a RangeError: the cycle starts anywhere.
        let cut = |start: usize, depth: usize| {
            let cycle = ["parseValue", "parseArray", "parseElement"];
            let frames = (0..depth)
                .map(|i| {
                    let f = cycle[(start + i) % 3];
                    frame("/srv/app/src/parser.js", f, 10 + i as u32, true)
                })
                .collect();
            with_exceptions(vec![exception(
                "RangeError",
                "Maximum call stack size exceeded",
                frames,
            )])
        };
        let first = grouped(&cut(0, 10));
        for (start, depth) in [(1, 10), (2, 10), (0, 11), (2, 50)] {
            assert_eq!(
                grouped(&cut(start, depth)).hashes[0],
                first.hashes[0],
                "{start} {depth}"
            );
        }
        assert!(
            first.components[1].starts_with("recursion: "),
            "{:?}",
            first.components
        );
    }

    #[test]
    fn a_template_groups_messages_whatever_their_arguments() {
        let logged = |customer: &str, relay: &str| Event {
            message: Some(format!(
                "Invoice 7 was not sent to {customer}: mail relay {relay} refused it"
            )),
            message_template: Some(
                "Invoice %s was not sent to %s: mail relay %s refused it".into(),
            ),
            ..Event::default()
        };
        let (a, b) = (
            grouped(&logged("Ada Lovelace", "mx.one")),
            grouped(&logged("Bob", "relay two")),
        );
        assert_eq!(a.hashes[0], b.hashes[0]);
        assert_eq!(
            a.title,
            "Invoice %s was not sent to %s: mail relay %s refused it"
        );
        assert_eq!(
            a.components,
            ["message: Invoice %s was not sent to %s: mail relay %s refused it"]
        );
    }

    #[test]
    fn a_frameless_chain_groups_on_its_types_and_the_outermost_parameterized_message() {
        let chain = |invoice: &str, path: &str, zone: &str| {
            with_exceptions(vec![
                exception(
                    "app::SyncError",
                    &format!("cannot sync invoice {invoice} in {zone}"),
                    vec![],
                ),
                exception(
                    "std::io::Error",
                    &format!("cannot open {path}: permission denied"),
                    vec![],
                ),
            ])
        };
        let a = grouped(&chain("INV-88213", "/var/lib/app/7731.db", "eu-west7-b"));
        let b = grouped(&chain("INV-3", "/srv/data/x.db", "us-east2-a"));
        assert_eq!(a.hashes[0], b.hashes[0]);
        assert_eq!(
            a.components,
            [
                "type: app::SyncError",
                "type: std::io::Error",
                "message: cannot sync invoice <id> in <id>"
            ]
        );
        let other = grouped(&chain_other());
        assert_ne!(other.hashes[0], a.hashes[0]);
        fn chain_other() -> Event {
            with_exceptions(vec![exception(
                "app::SyncError",
                "remote refused the invoice",
                vec![],
            )])
        }
    }

    #[test]
    fn frames_of_where_an_error_was_reported_do_not_hide_its_message() {
        let reported = |message: &str| {
            let mut event =
                with_exceptions(vec![exception("app::Error", message, rust_panic_frames(3))]);
            event.exceptions[0].mechanism =
                Some(crate::event::Mechanism::new("capture_error", true));
            event
        };
        let (a, b) = (
            grouped(&reported("config missing")),
            grouped(&reported("database down")),
        );
        assert_ne!(a.hashes[0], b.hashes[0]);
        assert_eq!(a.components.last().unwrap(), "message: config missing");
    }

    #[test]
    fn a_native_crash_groups_on_the_crashed_threads_stack() {
        let crash = |idle: &str| Event {
            exceptions: vec![exception("EXC_BAD_ACCESS", "SIGSEGV at 0x0", vec![])],
            threads: vec![
                crate::event::Thread {
                    name: "worker".into(),
                    frames: vec![frame("idle.c", idle, 3, false)],
                    ..Default::default()
                },
                crate::event::Thread {
                    crashed: Some(true),
                    frames: vec![
                        Frame {
                            package: Some("/Applications/Shop.app/Shop".into()),
                            function: Some("main".into()),
                            in_app: Some(true),
                            ..Frame::default()
                        },
                        Frame {
                            package: Some("/Applications/Shop.app/Shop".into()),
                            function: Some("-[Cart total]".into()),
                            in_app: Some(true),
                            instruction_addr: Some("0x10004a2b0".into()),
                            ..Frame::default()
                        },
                    ],
                    ..Default::default()
                },
            ],
            ..Event::default()
        };
        let a = grouped(&crash("wait"));
        assert_eq!(a.hashes[0], grouped(&crash("poll")).hashes[0]);
        assert_eq!(
            a.components,
            ["type: EXC_BAD_ACCESS", "site: Shop in -[Cart total]"]
        );
    }

    #[test]
    fn an_empty_stack_rules_pass_leaves_one_version_2_hash() {
        let grouping = grouped(&django_error(12));
        assert_eq!(grouping.hashes.iter().filter(|h| h.version == 2).count(), 1);
    }

    #[test]
    fn a_fingerprint_rule_names_the_group_and_its_title() {
        let rules = rules::parse(
            "error.type:ValueError stack.function:charge -> payments title=\"Payments broken\"",
        )
        .unwrap();
        let (a, b) = (
            group(&django_error(12), &rules),
            group(&rust_panic(3), &rules),
        );
        assert_eq!(a.components, ["fingerprint: payments"]);
        assert_eq!(a.title, "Payments broken");
        assert_ne!(
            b.components, a.components,
            "the rule does not match a Rust panic"
        );
    }

    #[test]
    fn a_stack_rule_moves_the_site_and_keeps_the_way_back_to_older_issues() {
        let rules = rules::parse("stack.function:charge -group").unwrap();
        let ruled = group(&django_error(12), &rules);
        let plain = grouped(&django_error(12));
        assert_eq!(
            ruled.components,
            ["type: ValueError", "site: app.views in checkout"]
        );
        assert_eq!(
            ruled.hashes[1], plain.hashes[0],
            "the hash without the rule follows"
        );
        assert!(ruled
            .hashes
            .ends_with(&group_version(&django_error(12), 1).hashes));
    }

    /// Java as the Sentry Java SDK sends it: module is the class, in-app by package.
    fn java_error(caller: &str, method: &str) -> Event {
        let jframe = |module: &str, function: &str, in_app: bool| Frame {
            module: Some(module.into()),
            function: Some(function.into()),
            filename: Some(format!("{}.java", module.rsplit('.').next().unwrap())),
            lineno: Some(40),
            in_app: Some(in_app),
            ..Frame::default()
        };
        with_exceptions(vec![exception(
            "java.lang.IllegalStateException",
            "order 88213 rejected",
            vec![
                jframe("java.lang.Thread", "run", false),
                jframe(
                    "org.springframework.web.servlet.FrameworkServlet",
                    "service",
                    false,
                ),
                jframe("com.shop.web.OrderController", caller, true),
                jframe("com.shop.orders.OrderService", method, true),
                jframe("java.util.Objects", "requireNonNull", false),
            ],
        )])
    }

    #[test]
    fn java_the_failing_method_decides_not_the_controller_that_called_it() {
        let a = grouped(&java_error("place", "validate"));
        assert_eq!(
            a.hashes[0],
            grouped(&java_error("reorder", "validate")).hashes[0]
        );
        assert_ne!(
            a.hashes[0],
            grouped(&java_error("place", "price")).hashes[0]
        );
        assert_eq!(
            a.components,
            [
                "type: java.lang.IllegalStateException",
                "site: com.shop.orders.OrderService in validate"
            ]
        );
        assert_eq!(
            a.call_path.as_deref(),
            Some("com.shop.web.OrderController in place")
        );
    }

    #[test]
    fn go_frames_from_a_module_cache_and_goroot_are_not_the_site() {
        let go = |user: &str| Event {
            language: Some("go".into()),
            ..with_exceptions(vec![exception(
                "*net.OpError",
                &format!("dial tcp 10.0.3.7:5432: connect: connection refused ({user})"),
                vec![
                    Frame {
                        module: Some("main".into()),
                        function: Some("main".into()),
                        abs_path: Some("/src/shop/main.go".into()),
                        ..Frame::default()
                    },
                    Frame {
                        module: Some("github.com/shop/api/db".into()),
                        function: Some("Connect".into()),
                        abs_path: Some("/src/shop/db/db.go".into()),
                        ..Frame::default()
                    },
                    Frame {
                        module: Some("github.com/jackc/pgx/v5".into()),
                        function: Some("ConnectConfig".into()),
                        abs_path: Some(
                            "/root/go/pkg/mod/github.com/jackc/pgx/v5@v5.5.0/conn.go".into(),
                        ),
                        ..Frame::default()
                    },
                    Frame {
                        module: Some("net".into()),
                        function: Some("(*Dialer).DialContext".into()),
                        abs_path: Some("/usr/local/go/src/net/dial.go".into()),
                        ..Frame::default()
                    },
                ],
            )])
        };
        let a = grouped(&go("ada"));
        assert_eq!(a.hashes[0], grouped(&go("bob")).hashes[0]);
        assert_eq!(a.components[1], "site: github.com/shop/api/db in Connect");
    }
}
