//! The one global client: it prepares each event (metadata, scope, `before_send`, sampling last,
//! scrubbing) and hands it to the transport.

use std::cell::Cell;
use std::collections::{BTreeMap, VecDeque};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use uuid::Uuid;

use crate::backtrace::FrameConfig;
use crate::debug::bugle_debug;
use crate::metadata::Metadata;
use crate::transport::{HttpConfig, HttpTransport, Transport};
use crate::{Breadcrumb, Event, Options, Person};

static CURRENT: RwLock<Option<Arc<Client>>> = RwLock::new(None);

thread_local! {
    /// Set while this thread is inside the SDK (preparing an event, running `before_send`): a `log`
    /// or `tracing` record emitted from there must not become another event.
    static IN_CAPTURE: Cell<bool> = const { Cell::new(false) };
}

/// The active client, if `init` enabled one and its guard is alive.
pub(crate) fn current() -> Option<Arc<Client>> {
    CURRENT.read().unwrap_or_else(|e| e.into_inner()).clone()
}

pub(crate) fn bind(client: Arc<Client>) {
    *CURRENT.write().unwrap_or_else(|e| e.into_inner()) = Some(client);
}

/// Unbinds `client` only if it is still the active one (a later `init` may have replaced it).
pub(crate) fn unbind(client: &Arc<Client>) {
    let mut current = CURRENT.write().unwrap_or_else(|e| e.into_inner());
    if current.as_ref().is_some_and(|c| Arc::ptr_eq(c, client)) {
        *current = None;
    }
}

/// True while this thread is inside the SDK or is the transport thread.
pub(crate) fn is_reentrant() -> bool {
    IN_CAPTURE.with(Cell::get) || crate::transport::is_sdk_thread()
}

#[derive(Default)]
struct Scope {
    tags: BTreeMap<String, String>,
    person: Option<Person>,
    custom: Map<String, Value>,
    breadcrumbs: VecDeque<Breadcrumb>,
}

pub(crate) struct Client {
    pub(crate) options: Options,
    transport: Arc<dyn Transport>,
    metadata: Metadata,
    pub(crate) frames: FrameConfig,
    scope: Mutex<Scope>,
    captured: AtomicU64,
    /// (deadline, `captured` then) of the panic hook's last flush: see [`Client::close`].
    panic_flush: Mutex<Option<(Instant, u64)>>,
}

impl Client {
    pub(crate) fn new(options: Options) -> Client {
        let transport: Arc<dyn Transport> = match &options.transport {
            Some(t) => t.clone(),
            None => {
                let endpoint = options.endpoint.as_deref().unwrap_or_default();
                if endpoint.starts_with("https://") && !cfg!(feature = "rustls") {
                    bugle_debug!(
                        "{endpoint} is https but the `rustls` feature is off: sends will fail"
                    );
                }
                let token = options.token.as_deref().unwrap_or_default();
                let mut config = HttpConfig::new(endpoint, token);
                config.capacity = options.queue_size;
                config.spool_dir = options.spool_dir.clone();
                Arc::new(HttpTransport::new(config))
            }
        };
        let metadata =
            Metadata::collect(options.server_name.as_deref(), options.code_root.as_deref());
        let frames = FrameConfig {
            root: metadata.root.clone(),
            include: options.in_app_include.clone(),
            exclude: options.in_app_exclude.clone(),
        };
        Client {
            options,
            transport,
            metadata,
            frames,
            scope: Mutex::new(Scope::default()),
            captured: AtomicU64::new(0),
            panic_flush: Mutex::new(None),
        }
    }

    fn scope(&self) -> std::sync::MutexGuard<'_, Scope> {
        self.scope.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Prepares and queues an event; its uuid if it was queued (not dropped by `before_send` or sampling).
    pub(crate) fn capture(&self, event: Event) -> Option<Uuid> {
        if is_reentrant() {
            return None;
        }
        IN_CAPTURE.with(|c| c.set(true));
        // A bug in here (or in before_send) must not take the app down with it.
        let prepared = std::panic::catch_unwind(AssertUnwindSafe(|| self.prepare(event)))
            .unwrap_or_else(|_| {
                bugle_debug!("preparing an event panicked; event dropped");
                None
            });
        let uuid = prepared.map(|event| {
            let uuid = event.uuid;
            self.captured.fetch_add(1, Ordering::Relaxed);
            self.transport.send(event);
            uuid
        });
        IN_CAPTURE.with(|c| c.set(false));
        uuid
    }

    /// id → sdk → metadata → scope → `before_send` → sampling (last) → scrubbing.
    fn prepare(&self, mut event: Event) -> Option<Event> {
        let o = &self.options;
        let m = &self.metadata;
        event.language = "rust".into();
        event.sdk = crate::Sdk {
            name: Some(crate::SDK_NAME.into()),
            version: Some(crate::SDK_VERSION.into()),
        };
        event.platform.get_or_insert_with(|| m.platform.to_owned());
        event.server.host = event.server.host.take().or_else(|| m.host.clone());
        event.server.pid.get_or_insert(m.pid);
        if event.server.root.is_none() {
            event.server.root = m.root.as_ref().map(|r| r.to_string_lossy().into_owned());
        }
        for (k, v) in &m.contexts {
            event.contexts.entry(k.clone()).or_insert_with(|| v.clone());
        }
        if event.thread.is_none() {
            event.thread = Some(crate::metadata::current_thread());
        }
        if event.release.is_none() {
            event.release = o.release.clone();
        }
        if event.environment.is_none() {
            event.environment = o.environment.clone();
        }
        if event.trace.is_none() {
            event.trace = crate::trace::current();
        }
        {
            let scope = self.scope();
            let mut tags = o.tags.clone();
            tags.extend(scope.tags.iter().map(|(k, v)| (k.clone(), v.clone())));
            tags.append(&mut event.tags);
            event.tags = tags;
            if event.person.is_none() {
                event.person = scope.person.clone();
            }
            for (k, v) in &scope.custom {
                event.custom.entry(k.clone()).or_insert_with(|| v.clone());
            }
            let mut crumbs: Vec<Breadcrumb> = scope.breadcrumbs.iter().cloned().collect();
            crumbs.append(&mut event.breadcrumbs);
            let excess = crumbs.len().saturating_sub(o.max_breadcrumbs);
            crumbs.drain(..excess);
            event.breadcrumbs = crumbs;
        }
        if let Some(before_send) = &o.before_send {
            let uuid = event.uuid;
            event = match before_send(event) {
                Some(e) => e,
                None => {
                    bugle_debug!("before_send dropped event {uuid}");
                    return None;
                }
            };
        }
        if !sampled(event.uuid, o.sample_rate) {
            return None;
        }
        crate::scrub::scrub_event(&mut event, &o.scrub_keys);
        Some(event)
    }

    pub(crate) fn add_breadcrumb(&self, crumb: Breadcrumb) {
        let max = self.options.max_breadcrumbs;
        if max == 0 {
            return;
        }
        let mut scope = self.scope();
        while scope.breadcrumbs.len() >= max {
            scope.breadcrumbs.pop_front();
        }
        scope.breadcrumbs.push_back(crumb);
    }

    pub(crate) fn set_tag(&self, key: String, value: Option<String>) {
        let mut scope = self.scope();
        match value {
            Some(v) => scope.tags.insert(key, v),
            None => scope.tags.remove(&key),
        };
    }

    pub(crate) fn set_person(&self, person: Option<Person>) {
        self.scope().person = person;
    }

    pub(crate) fn set_custom(&self, key: String, value: Value) {
        self.scope().custom.insert(key, value);
    }

    pub(crate) fn flush(&self, timeout: Duration) -> bool {
        self.transport.flush(timeout)
    }

    /// The panic hook's flush. Remembered so that the guard, dropped while that panic unwinds, only
    /// gets what is left of the same deadline: exit is delayed by one shutdown timeout, not two.
    pub(crate) fn flush_for_panic(&self) -> bool {
        let timeout = self.options.shutdown_timeout;
        let deadline = Instant::now() + timeout;
        *self.panic_flush.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((deadline, self.captured.load(Ordering::Relaxed)));
        self.transport.flush(timeout)
    }

    /// Drains within the shutdown timeout, then stops the transport.
    pub(crate) fn close(&self) {
        let mut timeout = self.options.shutdown_timeout;
        let panic_flush = *self.panic_flush.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((deadline, captured)) = panic_flush {
            // Nothing captured since the panic was flushed: only its deadline's remainder is owed.
            if captured == self.captured.load(Ordering::Relaxed) {
                timeout = deadline.saturating_duration_since(Instant::now());
            }
        }
        if !self.transport.shutdown(timeout) {
            bugle_debug!("not every event was delivered within {timeout:?}");
        }
    }

    pub(crate) fn dropped(&self) -> u64 {
        self.transport.dropped()
    }
}

/// Deterministic per event: the uuid's random bits are the dice. A rate of 1 never looks.
fn sampled(uuid: Uuid, rate: f64) -> bool {
    if rate >= 1.0 {
        return true;
    }
    // The low 53 bits of a v4 uuid are random (the variant bits sit higher).
    let bits = (uuid.as_u128() as u64) & ((1u64 << 53) - 1);
    (bits as f64 / (1u64 << 53) as f64) < rate
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test::{with_captured_events, with_captured_events_options};
    use crate::Level;

    #[test]
    fn sample_rate_zero_drops_everything_and_one_keeps_everything() {
        let none = with_captured_events_options(Options::default().sample_rate(0.0), || {
            for _ in 0..50 {
                assert!(crate::capture_message("x", Level::Info).is_none());
            }
        });
        assert!(none.is_empty());
        let all = with_captured_events_options(Options::default().sample_rate(1.0), || {
            for _ in 0..50 {
                crate::capture_message("x", Level::Info);
            }
        });
        assert_eq!(all.len(), 50);
        let kept = (0..10_000)
            .filter(|_| sampled(Uuid::new_v4(), 0.25))
            .count();
        assert!((2000..3000).contains(&kept), "{kept}");
    }

    #[test]
    fn before_send_can_drop_and_mutate() {
        let options = Options::default().before_send(|mut ev| {
            if ev.message.as_deref() == Some("drop me") {
                return None;
            }
            ev.tags.insert("seen".into(), "yes".into());
            ev.tags.remove("internal");
            Some(ev)
        });
        let events = with_captured_events_options(options, || {
            crate::set_tag("internal", "1");
            crate::capture_message("drop me", Level::Info);
            crate::capture_message("keep me", Level::Info);
        });
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].tags.get("seen").map(String::as_str), Some("yes"));
        assert!(!events[0].tags.contains_key("internal"));
    }

    #[test]
    fn breadcrumbs_keep_the_newest_up_to_the_limit() {
        let events = with_captured_events_options(Options::default().max_breadcrumbs(3), || {
            for i in 0..10 {
                crate::add_breadcrumb(Breadcrumb::new("test", format!("crumb {i}")));
            }
            crate::capture_message("now", Level::Error);
        });
        let msgs: Vec<_> = events[0]
            .breadcrumbs
            .iter()
            .map(|b| b.message.clone().unwrap())
            .collect();
        assert_eq!(msgs, ["crumb 7", "crumb 8", "crumb 9"]);
    }

    #[test]
    fn every_event_carries_metadata_and_scope() {
        let options = Options::default()
            .release("1.2.3")
            .environment("test")
            .tag("region", "eu");
        let events = with_captured_events_options(options, || {
            crate::set_person(Person::new("42").username("ada"));
            crate::set_custom("cart", serde_json::json!({"items": 3}));
            crate::set_tag("tenant", "t1");
            crate::capture_message("hello", Level::Warning);
        });
        let ev = &events[0];
        assert_eq!(ev.language, "rust");
        assert_eq!(ev.level, Level::Warning);
        assert_eq!(ev.release.as_deref(), Some("1.2.3"));
        assert_eq!(ev.environment.as_deref(), Some("test"));
        assert_eq!(ev.server.pid, Some(std::process::id()));
        assert!(ev.server.host.is_some());
        assert!(ev.server.root.is_some());
        assert_eq!(ev.platform.as_deref(), Some(std::env::consts::OS));
        assert_eq!(ev.contexts["device"]["arch"], std::env::consts::ARCH);
        assert_eq!(ev.contexts["os"]["name"], std::env::consts::OS);
        assert!(ev.thread.as_ref().is_some_and(|t| !t.name.is_empty()));
        assert_eq!(ev.sdk.name.as_deref(), Some("bugle-rust"));
        assert_eq!(ev.tags["region"], "eu");
        assert_eq!(ev.tags["tenant"], "t1");
        assert_eq!(
            ev.person
                .as_ref()
                .map(|p| p.id.as_deref().unwrap_or_default()),
            Some("42")
        );
        assert_eq!(ev.custom["cart"]["items"], 3);
        assert_eq!(ev.uuid.get_version_num(), 4);
        assert!(ev.timestamp.timestamp() > 1_700_000_000);
    }

    #[test]
    fn scrubbing_applies_before_the_transport_sees_the_event() {
        let events = with_captured_events(|| {
            crate::set_custom("api_token", "abc".into());
            crate::capture_message("x", Level::Info);
        });
        assert_eq!(events[0].custom["api_token"], crate::scrub::FILTERED);
    }

    #[test]
    fn a_panicking_before_send_drops_the_event_and_not_the_app() {
        let events = with_captured_events_options(
            Options::default().before_send(|_| panic!("hook bug")),
            || {
                assert!(crate::capture_message("x", Level::Info).is_none());
            },
        );
        assert!(events.is_empty());
    }

    #[test]
    fn a_disabled_client_captures_nothing() {
        let _lock = crate::test::lock();
        let guard = crate::init(Options::default());
        assert!(!guard.is_enabled());
        assert!(crate::capture_message("x", Level::Info).is_none());
    }
}
