//! Client configuration: a builder, with defaults from `BUGLE_*` environment variables.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::transport::Transport;
use crate::Event;

/// The hook type of [`Options::before_send`]: return `None` to drop the event.
pub type BeforeSend = Arc<dyn Fn(Event) -> Option<Event> + Send + Sync>;

/// Keys whose values are replaced by `[Filtered]` before an event leaves the process (matched
/// case-insensitively as substrings, so `db_password` and `X-Auth-Token` are caught too).
pub const DEFAULT_SCRUB_KEYS: &[&str] = &["password", "token", "secret", "authorization", "cookie"];

/// How the client reports: where, as which project, and what it sends.
///
/// Build it with [`Options::new`] or [`Options::from_env`] and the consuming setters, then pass it to
/// [`crate::init`]. Without an endpoint and a token (and no custom transport) the client is disabled.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// let options = bugle::Options::new("http://127.0.0.1:8080", "proj_token")
///     .environment("production")
///     .release(env!("CARGO_PKG_VERSION"))
///     .sample_rate(1.0)
///     .max_breadcrumbs(50)
///     .shutdown_timeout(Duration::from_secs(2))
///     .before_send(|mut ev| { ev.tags.remove("internal"); Some(ev) });
/// assert!(options.is_enabled());
/// assert!(!bugle::Options::default().is_enabled());
/// ```
#[derive(Clone)]
#[must_use]
#[non_exhaustive]
pub struct Options {
    pub(crate) endpoint: Option<String>,
    pub(crate) token: Option<String>,
    pub(crate) environment: Option<String>,
    pub(crate) release: Option<String>,
    pub(crate) server_name: Option<String>,
    pub(crate) code_root: Option<PathBuf>,
    pub(crate) sample_rate: f64,
    pub(crate) before_send: Option<BeforeSend>,
    pub(crate) max_breadcrumbs: usize,
    pub(crate) shutdown_timeout: Duration,
    pub(crate) scrub_keys: Vec<String>,
    pub(crate) debug: bool,
    pub(crate) spool_dir: Option<PathBuf>,
    pub(crate) queue_size: usize,
    pub(crate) install_panic_hook: bool,
    pub(crate) flush_on_sigterm: bool,
    pub(crate) tags: BTreeMap<String, String>,
    pub(crate) in_app_include: Vec<String>,
    pub(crate) in_app_exclude: Vec<String>,
    pub(crate) transport: Option<Arc<dyn Transport>>,
}

impl Default for Options {
    /// Disabled (no endpoint, no token); every other option at its default.
    fn default() -> Self {
        Options {
            endpoint: None,
            token: None,
            environment: Some(default_environment().to_owned()),
            release: None,
            server_name: None,
            code_root: None,
            sample_rate: 1.0,
            before_send: None,
            max_breadcrumbs: 100,
            shutdown_timeout: Duration::from_secs(2),
            scrub_keys: DEFAULT_SCRUB_KEYS.iter().map(|k| (*k).to_owned()).collect(),
            debug: false,
            spool_dir: None,
            queue_size: 100,
            install_panic_hook: true,
            flush_on_sigterm: false,
            tags: BTreeMap::new(),
            in_app_include: Vec::new(),
            in_app_exclude: Vec::new(),
            transport: None,
        }
    }
}

impl Options {
    /// Report to the server at `endpoint` (e.g. `http://127.0.0.1:8080`) with a project token.
    pub fn new(endpoint: impl Into<String>, token: impl Into<String>) -> Self {
        Options::default().endpoint(endpoint).token(token)
    }

    /// Options from the environment; unset or empty variables leave the default.
    ///
    /// | variable | option |
    /// | --- | --- |
    /// | `BUGLE_ENDPOINT` | [`endpoint`](Self::endpoint) |
    /// | `BUGLE_TOKEN` | [`token`](Self::token) |
    /// | `BUGLE_ENVIRONMENT` | [`environment`](Self::environment) (default `development` or `production` by build) |
    /// | `BUGLE_RELEASE` | [`release`](Self::release) |
    /// | `BUGLE_SPOOL_DIR` | [`spool_dir`](Self::spool_dir) |
    /// | `BUGLE_ROOT` | [`code_root`](Self::code_root) |
    /// | `BUGLE_SERVER_NAME` | [`server_name`](Self::server_name) |
    /// | `BUGLE_SAMPLE_RATE` | [`sample_rate`](Self::sample_rate) (0.0 to 1.0) |
    /// | `BUGLE_SHUTDOWN_TIMEOUT` | [`shutdown_timeout`](Self::shutdown_timeout), in seconds (`0.5` allowed) |
    /// | `BUGLE_DEBUG` | [`debug`](Self::debug) (`1`/`true`) |
    /// | `BUGLE_FLUSH_ON_SIGTERM` | [`flush_on_sigterm`](Self::flush_on_sigterm) (`1`/`true`) |
    ///
    /// Without `BUGLE_ENDPOINT` and `BUGLE_TOKEN`, [`crate::init`] returns a disabled guard.
    ///
    /// # Examples
    /// ```
    /// let _bugle = bugle::init(bugle::Options::from_env().release(env!("CARGO_PKG_VERSION")));
    /// ```
    pub fn from_env() -> Self {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    pub(crate) fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        let get = |key: &str| {
            get(key)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let mut o = Options {
            endpoint: get("BUGLE_ENDPOINT"),
            token: get("BUGLE_TOKEN"),
            environment: get("BUGLE_ENVIRONMENT")
                .or_else(|| Some(default_environment().to_owned())),
            release: get("BUGLE_RELEASE"),
            spool_dir: get("BUGLE_SPOOL_DIR").map(PathBuf::from),
            code_root: get("BUGLE_ROOT").map(PathBuf::from),
            server_name: get("BUGLE_SERVER_NAME"),
            debug: get("BUGLE_DEBUG").is_some_and(|v| is_on(&v)),
            flush_on_sigterm: get("BUGLE_FLUSH_ON_SIGTERM").is_some_and(|v| is_on(&v)),
            ..Options::default()
        };
        if let Some(rate) = get("BUGLE_SAMPLE_RATE").and_then(|v| v.parse::<f64>().ok()) {
            o = o.sample_rate(rate);
        }
        if let Some(secs) = get("BUGLE_SHUTDOWN_TIMEOUT").and_then(|v| v.parse::<f64>().ok()) {
            if secs.is_finite() && secs >= 0.0 {
                o.shutdown_timeout = Duration::from_secs_f64(secs.min(3600.0));
            }
        }
        o
    }

    /// The server's base URL; events go to `{endpoint}/api/v1/events`.
    pub fn endpoint(self, endpoint: impl Into<String>) -> Self {
        Options {
            endpoint: Some(endpoint.into()),
            ..self
        }
    }

    /// The project token, sent as `Authorization: Bearer <token>`.
    pub fn token(self, token: impl Into<String>) -> Self {
        Options {
            token: Some(token.into()),
            ..self
        }
    }

    /// Deployment environment (`production`, `staging`…). Default: `development` in debug builds,
    /// `production` in release builds.
    pub fn environment(self, environment: impl Into<String>) -> Self {
        Options {
            environment: Some(environment.into()),
            ..self
        }
    }

    /// The app's version, e.g. `env!("CARGO_PKG_VERSION")` or a git sha.
    pub fn release(self, release: impl Into<String>) -> Self {
        Options {
            release: Some(release.into()),
            ..self
        }
    }

    /// The host name to report. Default: the machine's host name.
    pub fn server_name(self, name: impl Into<String>) -> Self {
        Options {
            server_name: Some(name.into()),
            ..self
        }
    }

    /// The code root: frame file names under it are sent relative to it. Default: the working directory.
    pub fn code_root(self, root: impl Into<PathBuf>) -> Self {
        Options {
            code_root: Some(root.into()),
            ..self
        }
    }

    /// The share of events sent, from 0.0 (none) to 1.0 (all, the default). Applied after `before_send`.
    pub fn sample_rate(self, rate: f64) -> Self {
        let rate = if rate.is_nan() {
            1.0
        } else {
            rate.clamp(0.0, 1.0)
        };
        Options {
            sample_rate: rate,
            ..self
        }
    }

    /// Called with every event before it is queued: change it, or return `None` to drop it.
    ///
    /// # Examples
    /// ```
    /// let options = bugle::Options::default()
    ///     .before_send(|ev| if ev.message.as_deref() == Some("noise") { None } else { Some(ev) });
    /// let sent = bugle::test::with_captured_events_options(options, || {
    ///     bugle::capture_message("noise", bugle::Level::Info);
    ///     bugle::capture_message("signal", bugle::Level::Info);
    /// });
    /// assert_eq!(sent.len(), 1);
    /// ```
    pub fn before_send<F>(self, f: F) -> Self
    where
        F: Fn(Event) -> Option<Event> + Send + Sync + 'static,
    {
        Options {
            before_send: Some(Arc::new(f)),
            ..self
        }
    }

    /// How many breadcrumbs are kept (oldest dropped first). Default 100; 0 disables them.
    pub fn max_breadcrumbs(self, n: usize) -> Self {
        Options {
            max_breadcrumbs: n,
            ..self
        }
    }

    /// The longest a flush may wait: in the panic hook and when the guard drops. Default 2 s.
    pub fn shutdown_timeout(self, timeout: Duration) -> Self {
        Options {
            shutdown_timeout: timeout,
            ..self
        }
    }

    /// Replaces the list of sensitive keys (default [`DEFAULT_SCRUB_KEYS`]).
    pub fn scrub_keys<I, S>(self, keys: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Options {
            scrub_keys: keys
                .into_iter()
                .map(|k| k.into().to_ascii_lowercase())
                .collect(),
            ..self
        }
    }

    /// Adds one sensitive key to the list.
    pub fn add_scrub_key(mut self, key: impl Into<String>) -> Self {
        self.scrub_keys.push(key.into().to_ascii_lowercase());
        self
    }

    /// Print the SDK's own problems (send failures, drops) to stderr.
    pub fn debug(self, on: bool) -> Self {
        Options { debug: on, ..self }
    }

    /// Write each event to this directory until the server has it, and send what is left there at the
    /// next start: a crash during an outage then loses nothing. Default: off.
    pub fn spool_dir(self, dir: impl Into<PathBuf>) -> Self {
        Options {
            spool_dir: Some(dir.into()),
            ..self
        }
    }

    /// How many events may wait for the transport; more are dropped and counted. Default 100.
    pub fn queue_size(self, n: usize) -> Self {
        Options {
            queue_size: n.max(1),
            ..self
        }
    }

    /// On Unix, when SIGTERM has no handler yet: deliver what is queued (up to the shutdown
    /// timeout) before the process ends as killed by SIGTERM. Default false, because an app that
    /// later installs its own handler (e.g. `tokio::signal`) chains to this one and would then be
    /// ended by it instead of shutting down its own way; turn it on in apps that never handle
    /// SIGTERM themselves.
    pub fn flush_on_sigterm(self, on: bool) -> Self {
        Options {
            flush_on_sigterm: on,
            ..self
        }
    }

    /// Whether [`crate::init`] installs the panic hook. Default true.
    pub fn install_panic_hook(self, on: bool) -> Self {
        Options {
            install_panic_hook: on,
            ..self
        }
    }

    /// A tag on every event.
    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.tags.insert(key.into(), value.into());
        self
    }

    /// Frames whose function starts with this path (`my_lib`, `my_lib::db`) are in-app, even if they
    /// would not be by default (a dependency of yours that you want to see as your code).
    pub fn in_app_include(mut self, prefix: impl Into<String>) -> Self {
        self.in_app_include.push(prefix.into());
        self
    }

    /// Frames whose function starts with this path are not in-app (e.g. your framework crate).
    pub fn in_app_exclude(mut self, prefix: impl Into<String>) -> Self {
        self.in_app_exclude.push(prefix.into());
        self
    }

    /// Sends through this transport instead of HTTP (tests, or a custom channel). Enables the client
    /// without an endpoint or token.
    pub fn transport(self, transport: Arc<dyn Transport>) -> Self {
        Options {
            transport: Some(transport),
            ..self
        }
    }

    /// True when [`crate::init`] would report: an endpoint and a token, or a custom transport.
    pub fn is_enabled(&self) -> bool {
        self.transport.is_some() || (self.endpoint.is_some() && self.token.is_some())
    }
}

/// What `cfg!(debug_assertions)` says about the build: `development` or `production`.
fn is_on(v: &str) -> bool {
    matches!(v, "1" | "true" | "yes" | "on")
}

fn default_environment() -> &'static str {
    if cfg!(debug_assertions) {
        "development"
    } else {
        "production"
    }
}

/// Written by hand so the token never lands in a log.
impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("endpoint", &self.endpoint)
            .field("token", &self.token.as_ref().map(|_| "[redacted]"))
            .field("environment", &self.environment)
            .field("release", &self.release)
            .field("server_name", &self.server_name)
            .field("code_root", &self.code_root)
            .field("sample_rate", &self.sample_rate)
            .field("before_send", &self.before_send.is_some())
            .field("max_breadcrumbs", &self.max_breadcrumbs)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .field("scrub_keys", &self.scrub_keys)
            .field("debug", &self.debug)
            .field("spool_dir", &self.spool_dir)
            .field("queue_size", &self.queue_size)
            .field("flush_on_sigterm", &self.flush_on_sigterm)
            .field("install_panic_hook", &self.install_panic_hook)
            .field("tags", &self.tags)
            .field("in_app_include", &self.in_app_include)
            .field("in_app_exclude", &self.in_app_exclude)
            .field("transport", &self.transport.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn from(vars: &[(&str, &str)]) -> Options {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Options::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn the_environment_fills_the_options() {
        let o = from(&[
            ("BUGLE_ENDPOINT", "http://127.0.0.1:9"),
            ("BUGLE_TOKEN", "t"),
            ("BUGLE_ENVIRONMENT", "staging"),
            ("BUGLE_RELEASE", "1.2.3"),
            ("BUGLE_SPOOL_DIR", "/tmp/spool"),
            ("BUGLE_SHUTDOWN_TIMEOUT", "0.5"),
            ("BUGLE_SAMPLE_RATE", "7"),
        ]);
        assert!(o.is_enabled());
        assert_eq!(o.environment.as_deref(), Some("staging"));
        assert_eq!(o.release.as_deref(), Some("1.2.3"));
        assert_eq!(o.spool_dir, Some(PathBuf::from("/tmp/spool")));
        assert_eq!(o.shutdown_timeout, Duration::from_millis(500));
        assert_eq!(o.sample_rate, 1.0);
    }

    #[test]
    fn no_token_or_endpoint_is_disabled() {
        assert!(!from(&[("BUGLE_ENDPOINT", "http://x")]).is_enabled());
        assert!(!from(&[("BUGLE_TOKEN", "t"), ("BUGLE_ENDPOINT", "  ")]).is_enabled());
        assert!(!from(&[]).is_enabled());
        assert_eq!(
            from(&[]).environment.as_deref(),
            Some(default_environment())
        );
    }

    #[test]
    fn debug_output_redacts_the_token() {
        let s = format!("{:?}", Options::new("http://x", "super-secret-token"));
        assert!(!s.contains("super-secret-token"), "{s}");
    }
}
