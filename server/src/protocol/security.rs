//! Browser security reports (`POST /api/{project_id}/security/`) → one [`Event`] per report.
//!
//! What browsers send, detected from the body whatever its `Content-Type`:
//! - a CSP violation, the deprecated serialization of W3C CSP3 (`report-uri`,
//!   `application/csp-report`): `{"csp-report": {"document-uri", "violated-directive",
//!   "effective-directive", "blocked-uri", "disposition", ...}}`;
//! - a Reporting API batch (`report-to`, `application/reports+json`): an array of
//!   `{"type", "age", "url", "user_agent", "body"}`. Each `csp-violation` entry (its body has
//!   `documentURL`, `effectiveDirective`, `blockedURL`, ...) is one report; entries of other
//!   types (`deprecation`, `intervention`, `crash`, `network-error`, `coep`...) are not
//!   security policy reports: they are skipped and returned in [`Reports::skipped`] so the
//!   endpoint can count them. A single such object outside an array is read as a batch of one;
//! - an HPKP report (RFC 7469 §3): the object itself, `{"hostname", "port", "known-pins",
//!   "noted-hostname", ...}`;
//! - an Expect-CT report: `{"expect-ct-report": {"hostname", "port", "scts", ...}}`;
//! - an Expect-Staple report: `{"expect-staple-report": {"hostname", "response-status",
//!   "cert-status", ...}}`.
//!
//! Titles read as Sentry's do: `Blocked 'script' from 'evil.example'`, `Blocked unsafe inline
//! 'script'`, `Blocked unsafe eval() 'script'`, `Blocked 'image' from 'data:'`, `Public key
//! pinning validation failed for 'shop.example'`, `Expect-CT failed for 'shop.example'`,
//! `Expect-Staple failed for 'shop.example'`. Each event carries a fingerprint, so one issue is
//! one directive and one blocked place (`["csp", "script-src", "evil.example"]`; the `-elem`
//! directives Chromium reports group with the plain ones Firefox reports for the same
//! violation), or one report type and hostname. The whole report is kept in
//! `contexts.csp` / `hpkp` / `expectct` / `expectstaple`.

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Map, Value};

use crate::event::{Event, Level, Request};

/// Most reports one request may carry. Browsers send far fewer (Chromium queues at most 100);
/// a larger batch is refused rather than half stored.
pub const MAX_REPORTS: usize = 100;

/// What the accepted shapes are, for the answer to a body that is none of them.
pub const ACCEPTED: &str =
    "expected a CSP report {\"csp-report\": {...}} (application/csp-report), \
    a Reporting API batch [{\"type\": \"csp-violation\", \"body\": {...}}, ...] \
    (application/reports+json), an HPKP report {\"hostname\": ..., \"known-pins\": [...]}, \
    an Expect-CT report {\"expect-ct-report\": {...}} or an Expect-Staple report \
    {\"expect-staple-report\": {...}}";

/// Longest tag value kept; longer ones are cut.
const MAX_TAG: usize = 200;

/// Reporting API `age` beyond which it is not believed (the report's time is then the
/// request's).
const MAX_AGE_MS: i64 = 7 * 24 * 3600 * 1000;

/// What the endpoint knows of the request that brought the reports.
#[derive(Debug, Clone, Copy)]
pub struct Received<'a> {
    pub at: DateTime<Utc>,
    /// `?sentry_environment=`.
    pub environment: Option<&'a str>,
    /// `?sentry_release=`.
    pub release: Option<&'a str>,
    /// The request's `User-Agent`; a Reporting API entry's own `user_agent` wins.
    pub user_agent: Option<&'a str>,
}

/// The reports of one request.
#[derive(Debug, Default)]
pub struct Reports {
    pub reports: Vec<Report>,
    pub skipped: Vec<Skipped>,
}

/// One report mapped: the event, and the report as received for the occurrence's raw body.
#[derive(Debug)]
pub struct Report {
    pub event: Event,
    pub raw: Vec<u8>,
}

/// A Reporting API entry that was not stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skipped {
    /// Not a security report: its `type` (`deprecation`, `intervention`, ...).
    OtherType(String),
    /// Not usable, and why.
    Invalid(String),
}

/// Why a body holds no report to store. All of them are the sender's mistake (400).
#[derive(Debug, thiserror::Error)]
pub enum SecurityError {
    #[error("payload is not valid JSON: {0}")]
    InvalidJson(serde_json::Error),
    #[error("not a security report: {ACCEPTED}")]
    UnknownShape,
    #[error("invalid security report: {0}")]
    Invalid(String),
    #[error("a report batch holds at most {MAX_REPORTS} reports, this one has {0}")]
    TooMany(usize),
}

/// The report types, with their names in tags and fingerprints and their context keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Csp,
    Hpkp,
    ExpectCt,
    ExpectStaple,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Csp => "csp",
            Kind::Hpkp => "hpkp",
            Kind::ExpectCt => "expect-ct",
            Kind::ExpectStaple => "expect-staple",
        }
    }

    fn context(self) -> &'static str {
        match self {
            Kind::Csp => "csp",
            Kind::Hpkp => "hpkp",
            Kind::ExpectCt => "expectct",
            Kind::ExpectStaple => "expectstaple",
        }
    }
}

/// Maps a request body into its reports.
pub fn reports_from_body(body: &[u8], received: &Received) -> Result<Reports, SecurityError> {
    let value: Value = serde_json::from_slice(body).map_err(SecurityError::InvalidJson)?;
    match value {
        Value::Array(entries) => batch(entries, received),
        Value::Object(obj) => single(obj, body, received),
        _ => Err(SecurityError::UnknownShape),
    }
}

/// A body that is one object: a legacy CSP report, HPKP, Expect-CT, Expect-Staple, or one
/// Reporting API entry.
fn single(
    mut obj: Map<String, Value>,
    body: &[u8],
    received: &Received,
) -> Result<Reports, SecurityError> {
    let wrapped = [
        ("csp-report", Kind::Csp),
        ("expect-ct-report", Kind::ExpectCt),
        ("expect-staple-report", Kind::ExpectStaple),
    ];
    let found = wrapped
        .iter()
        .find_map(|(key, kind)| Some((*key, *kind, obj.remove(*key)?)));
    let event = match found {
        Some((key, kind, inner)) => {
            let Value::Object(inner) = inner else {
                return Err(SecurityError::Invalid(format!("`{key}` must be an object")));
            };
            match kind {
                Kind::Csp => csp_event(inner, &Via::ReportUri, received),
                kind => certificate_event(kind, key, inner, received),
            }
        }
        None if obj.get("type").is_some_and(Value::is_string) && obj.contains_key("body") => {
            return batch(vec![Value::Object(obj)], received);
        }
        None if obj.contains_key("known-pins")
            || (obj.contains_key("hostname") && obj.contains_key("noted-hostname")) =>
        {
            certificate_event(Kind::Hpkp, "report", obj, received)
        }
        None => return Err(SecurityError::UnknownShape),
    }
    .map_err(SecurityError::Invalid)?;
    Ok(Reports {
        reports: vec![Report {
            event,
            raw: body.to_vec(),
        }],
        skipped: Vec::new(),
    })
}

/// A Reporting API batch: each `csp-violation` entry is a report, others are skipped.
fn batch(entries: Vec<Value>, received: &Received) -> Result<Reports, SecurityError> {
    if entries.len() > MAX_REPORTS {
        return Err(SecurityError::TooMany(entries.len()));
    }
    let mut out = Reports::default();
    for (i, entry) in entries.into_iter().enumerate() {
        let raw = serde_json::to_vec(&entry).expect("a JSON value serializes");
        let Value::Object(mut entry) = entry else {
            out.skipped
                .push(Skipped::Invalid(format!("reports[{i}] is not an object")));
            continue;
        };
        let Some(ty) = entry.get("type").and_then(Value::as_str).map(str::to_owned) else {
            out.skipped
                .push(Skipped::Invalid(format!("reports[{i}] has no `type`")));
            continue;
        };
        if ty != "csp-violation" {
            out.skipped.push(Skipped::OtherType(ty));
            continue;
        }
        let Some(Value::Object(body)) = entry.remove("body") else {
            out.skipped.push(Skipped::Invalid(format!(
                "reports[{i}].body must be an object"
            )));
            continue;
        };
        let via = Via::ReportTo {
            url: text(&entry, &["url"]).map(str::to_owned),
            user_agent: text(&entry, &["user_agent"]).map(str::to_owned),
            age_ms: entry.get("age").and_then(Value::as_i64),
        };
        match csp_event(body, &via, received) {
            Ok(event) => out.reports.push(Report { event, raw }),
            Err(reason) => out
                .skipped
                .push(Skipped::Invalid(format!("reports[{i}]: {reason}"))),
        }
    }
    if out.reports.is_empty() {
        if let Some(reason) = out.skipped.iter().find_map(|s| match s {
            Skipped::Invalid(reason) => Some(reason.clone()),
            Skipped::OtherType(_) => None,
        }) {
            return Err(SecurityError::Invalid(reason));
        }
    }
    Ok(out)
}

/// How a CSP report came: alone through `report-uri`, or in a Reporting API entry whose
/// envelope adds the page, the browser and how old the report is.
enum Via {
    ReportUri,
    ReportTo {
        url: Option<String>,
        user_agent: Option<String>,
        age_ms: Option<i64>,
    },
}

/// The field spellings of the CSP serializations: the deprecated report's, the Reporting API's,
/// and Sentry's `csp` event interface's.
const DOCUMENT: &[&str] = &["document-uri", "documentURL", "document_uri"];
const EFFECTIVE: &[&str] = &[
    "effective-directive",
    "effectiveDirective",
    "effective_directive",
];
const VIOLATED: &[&str] = &[
    "violated-directive",
    "violatedDirective",
    "violated_directive",
];
const BLOCKED: &[&str] = &["blocked-uri", "blockedURL", "blocked_uri"];
const REFERRER: &[&str] = &["referrer"];
const DISPOSITION: &[&str] = &["disposition"];

fn csp_event(body: Map<String, Value>, via: &Via, received: &Received) -> Result<Event, String> {
    let directive = text(&body, EFFECTIVE)
        .and_then(directive_name)
        .or_else(|| text(&body, VIOLATED).and_then(directive_name))
        .ok_or("the CSP report names no directive (effective-directive or violated-directive)")?;
    let blocked_text = text(&body, BLOCKED).unwrap_or("");
    let blocked = Blocked::of(blocked_text);
    let disposition = text(&body, DISPOSITION).map(str::to_ascii_lowercase);

    let mut event = base_event(Kind::Csp, received);
    let title = csp_title(&directive, &blocked, text(&body, VIOLATED).unwrap_or(""));
    event.message = Some(title.clone());
    event.title = Some(title);
    event.fingerprint = Some(vec![
        Kind::Csp.name().to_owned(),
        directive_group(&directive).to_owned(),
        blocked.key(),
    ]);
    event.level = Some(match disposition.as_deref() {
        Some("report") => Level::Warning,
        _ => Level::Error,
    });
    tag(&mut event, "effective-directive", &directive);
    tag(&mut event, "blocked-uri", &blocked.sanitized(blocked_text));
    if let Some(host) = &blocked.host {
        tag(&mut event, "blocked-host", host);
    }
    if let Some(disposition) = &disposition {
        tag(&mut event, "disposition", disposition);
    }

    let (page, user_agent) = match via {
        Via::ReportUri => (None, None),
        Via::ReportTo {
            url,
            user_agent,
            age_ms,
        } => {
            if let Some(age) = age_ms.filter(|a| (0..=MAX_AGE_MS).contains(a)) {
                event.timestamp = Some(received.at - Duration::milliseconds(age));
            }
            (url.as_deref(), user_agent.as_deref())
        }
    };
    let mut request = Request {
        url: text(&body, DOCUMENT).or(page).map(str::to_owned),
        ..Request::default()
    };
    if let Some(referrer) = text(&body, REFERRER) {
        request
            .headers
            .insert("Referer".into(), referrer.to_owned());
    }
    finish(&mut event, request, user_agent, received);
    event
        .contexts
        .insert(Kind::Csp.context().into(), Value::Object(body));
    Ok(event)
}

/// HPKP, Expect-CT and Expect-Staple: a TLS connection to `hostname` broke the host's policy.
fn certificate_event(
    kind: Kind,
    key: &str,
    body: Map<String, Value>,
    received: &Received,
) -> Result<Event, String> {
    let hostname = text(&body, &["hostname"])
        .map(|h| h.trim_end_matches('.').to_ascii_lowercase())
        .filter(|h| !h.is_empty())
        .ok_or_else(|| format!("`{key}.hostname` is missing"))?;
    let port = body.get("port").and_then(|p| match p {
        Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
        Value::String(s) => s.trim().parse::<u16>().ok(),
        _ => None,
    });
    let title = certificate_title(kind.context(), Some(&hostname));
    let mut event = base_event(kind, received);
    event.message = Some(title.clone());
    event.title = Some(title);
    event.level = Some(Level::Error);
    event.fingerprint = Some(vec![kind.name().to_owned(), hostname.clone()]);
    tag(&mut event, "hostname", &hostname);
    if let Some(port) = port {
        tag(&mut event, "port", &port.to_string());
    }
    let flags: &[&str] = match kind {
        Kind::Hpkp => &["include-subdomains"],
        Kind::ExpectStaple => &["response-status", "cert-status"],
        _ => &[],
    };
    for name in flags {
        if let Some(value) = body.get(*name).and_then(scalar) {
            tag(&mut event, name, &value);
        }
    }
    if let Some(at) = text(&body, &["date-time"])
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
        .filter(|t| *t <= received.at)
    {
        event.timestamp = Some(at);
    }
    let url = match port {
        None | Some(443) => format!("https://{hostname}/"),
        Some(port) => format!("https://{hostname}:{port}/"),
    };
    let request = Request {
        url: Some(url),
        ..Request::default()
    };
    finish(&mut event, request, None, received);
    event
        .contexts
        .insert(kind.context().into(), Value::Object(body));
    Ok(event)
}

/// What every security report's event has: where it comes from and the query's environment
/// and release.
fn base_event(kind: Kind, received: &Received) -> Event {
    let mut event = Event {
        platform: Some("javascript".into()),
        language: Some("javascript".into()),
        environment: received.environment.map(str::to_owned),
        release: received.release.map(str::to_owned),
        ..Event::default()
    };
    // Sentry files every security report under the `csp` logger.
    tag(&mut event, "logger", "csp");
    tag(&mut event, "report-type", kind.name());
    event
}

/// The request part and the browser context, from the report's user agent or the request's.
fn finish(event: &mut Event, mut request: Request, user_agent: Option<&str>, received: &Received) {
    if let Some(ua) = user_agent
        .or(received.user_agent)
        .map(str::trim)
        .filter(|ua| !ua.is_empty())
    {
        request.headers.insert("User-Agent".into(), ua.to_owned());
        event.contexts.insert("browser".into(), browser_context(ua));
    }
    event.request = Some(request);
}

fn tag(event: &mut Event, key: &str, value: &str) {
    let value: String = value.chars().take(MAX_TAG).collect();
    if !value.is_empty() {
        event.tags.insert(key.to_owned(), value);
    }
}

/// The first non-empty string among a field's spellings, trimmed.
fn text<'a>(obj: &'a Map<String, Value>, keys: &[&str]) -> Option<&'a str> {
    keys.iter()
        .filter_map(|k| obj.get(*k)?.as_str())
        .map(str::trim)
        .find(|s| !s.is_empty())
}

/// A string, number or boolean as text.
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A directive's name from `effective-directive` or `violated-directive`: CSP2 browsers send
/// `script-src 'self' cdn.example` there, the name is the first word.
fn directive_name(text: &str) -> Option<String> {
    let name = text.split_whitespace().next()?.to_ascii_lowercase();
    let valid = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    valid.then_some(name)
}

/// The directive an issue is grouped under: Chromium reports `script-src-elem` where Firefox
/// reports `script-src` for the same blocked script, and likewise for styles.
fn directive_group(directive: &str) -> &str {
    match directive {
        "script-src-elem" => "script-src",
        "style-src-elem" => "style-src",
        other => other,
    }
}

/// The resource kind a directive guards, as titles say it (`'image'`, `'script'`).
fn resource(directive: &str) -> &str {
    match directive {
        "child-src" => "child",
        "connect-src" => "connect",
        "font-src" => "font",
        "frame-src" => "frame",
        "img-src" => "image",
        "manifest-src" => "manifest",
        "media-src" => "media",
        "object-src" => "object",
        "prefetch-src" => "prefetch",
        "script-src" | "script-src-elem" => "script",
        "style-src" | "style-src-elem" => "style",
        "worker-src" => "worker",
        other => other,
    }
}

/// The title of a CSP report in any of its spellings (a browser's, or the `csp` interface of a
/// Sentry event): `Blocked 'script' from 'evil.example'`.
pub fn csp_report_title(report: &Map<String, Value>) -> String {
    match csp_directive(report) {
        Some(directive) => csp_title(
            &directive,
            &Blocked::of(text(report, BLOCKED).unwrap_or("")),
            text(report, VIOLATED).unwrap_or(""),
        ),
        None => "Blocked by the Content Security Policy".into(),
    }
}

/// The directive a CSP report names: the effective one, else the violated one's name.
pub fn csp_directive(report: &Map<String, Value>) -> Option<String> {
    text(report, EFFECTIVE)
        .and_then(directive_name)
        .or_else(|| text(report, VIOLATED).and_then(directive_name))
}

/// The title of an HPKP (`hpkp`), Expect-CT (`expectct`) or Expect-Staple (`expectstaple`)
/// report: `Expect-CT failed for 'shop.example'`.
pub fn certificate_title(kind: &str, hostname: Option<&str>) -> String {
    let what = match kind {
        "hpkp" => "Public key pinning validation failed",
        "expectct" => "Expect-CT failed",
        _ => "Expect-Staple failed",
    };
    match hostname {
        Some(host) => format!("{what} for '{host}'"),
        None => what.to_owned(),
    }
}

/// `policy` is the violated directive with its sources (CSP2 browsers send it): when it allows
/// one of inline code and eval(), an unnamed blocked script was the other.
fn csp_title(directive: &str, blocked: &Blocked, policy: &str) -> String {
    let what = resource(directive);
    let script = matches!(directive, "script-src" | "script-src-elem");
    match (&blocked.what, directive) {
        (What::Local, _) if script && policy.contains("'unsafe-inline'") => {
            "Blocked unsafe eval() 'script'".into()
        }
        (What::Local, _) if script && policy.contains("'unsafe-eval'") => {
            "Blocked unsafe inline 'script'".into()
        }
        (What::Eval, _) => "Blocked unsafe eval() 'script'".into(),
        (What::WasmEval, _) => "Blocked unsafe WebAssembly eval() 'script'".into(),
        (What::TrustedTypesSink, _) => {
            "Blocked a string passed to a Trusted Types sink (require-trusted-types-for)".into()
        }
        (What::TrustedTypesPolicy, _) => "Blocked creating a Trusted Types policy".into(),
        (What::Inline | What::Local, "script-src-attr") => "Blocked inline script attribute".into(),
        (What::Inline | What::Local, "style-src-attr") => "Blocked inline style attribute".into(),
        (What::Inline, "script-src" | "script-src-elem") => "Blocked unsafe inline 'script'".into(),
        // Browsers before CSP3 said `self` or nothing for both inline code and eval().
        (What::Local, "script-src" | "script-src-elem") => {
            "Blocked unsafe (eval() or inline) 'script'".into()
        }
        (What::Inline | What::Local, _) => format!("Blocked inline '{what}'"),
        (What::Place(place), "form-action") => format!("Blocked 'form' action to '{place}'"),
        (What::Place(place), "frame-ancestors") => {
            format!("Blocked framing by '{place}' ('frame-ancestors')")
        }
        (What::Place(place), _) => format!("Blocked '{what}' from '{place}'"),
    }
}

/// What a CSP report says was blocked, read from `blocked-uri` / `blockedURL`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Blocked {
    what: What,
    /// The host of an `http(s)` or `ws(s)` URL, for the `blocked-host` tag.
    host: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum What {
    /// CSP3's `inline`: an inline script, style or event handler.
    Inline,
    /// CSP3's `eval`.
    Eval,
    /// CSP3's `wasm-eval`.
    WasmEval,
    TrustedTypesSink,
    TrustedTypesPolicy,
    /// `self`, `'self'` or nothing: what older browsers sent for inline code and eval().
    Local,
    /// Where the blocked resource lives: `host[:port]` for http(s), `scheme://host` for other
    /// schemes with a host, `scheme:` without one (`data:`, `blob:`).
    Place(String),
}

impl Blocked {
    fn of(uri: &str) -> Blocked {
        let special = match uri {
            "inline" => Some(What::Inline),
            "eval" => Some(What::Eval),
            "wasm-eval" => Some(What::WasmEval),
            "trusted-types-sink" => Some(What::TrustedTypesSink),
            "trusted-types-policy" => Some(What::TrustedTypesPolicy),
            "" | "self" | "'self'" => Some(What::Local),
            _ => None,
        };
        if let Some(what) = special {
            return Blocked { what, host: None };
        }
        match Uri::parse(uri) {
            Some(parsed) => {
                let host = parsed
                    .host
                    .clone()
                    .filter(|_| matches!(parsed.scheme.as_str(), "http" | "https" | "ws" | "wss"));
                Blocked {
                    what: What::Place(parsed.place()),
                    host,
                }
            }
            // Firefox and older Chrome report a bare scheme (`data`, `blob`) for such URLs.
            None if is_scheme(uri) && !uri.contains('.') => Blocked {
                what: What::Place(format!("{}:", uri.to_ascii_lowercase())),
                host: None,
            },
            // Anything else (a bare host, or not a URL) is shown as sent.
            None => Blocked {
                what: What::Place(uri.chars().take(MAX_TAG).collect()),
                host: None,
            },
        }
    }

    /// The fingerprint part: the special value's name or the place.
    fn key(&self) -> String {
        match &self.what {
            What::Inline => "inline".into(),
            What::Eval => "eval".into(),
            What::WasmEval => "wasm-eval".into(),
            What::TrustedTypesSink => "trusted-types-sink".into(),
            What::TrustedTypesPolicy => "trusted-types-policy".into(),
            What::Local => "'self'".into(),
            What::Place(place) => place.clone(),
        }
    }

    /// The blocked URI for the tag: without query and fragment (they carry tokens and ids),
    /// and only the scheme of a URL without a host (a `data:` URL's payload).
    fn sanitized(&self, uri: &str) -> String {
        match Uri::parse(uri) {
            Some(parsed) if parsed.host.is_some() => {
                let path = parsed.rest.split(['?', '#']).next().unwrap_or("");
                format!("{}://{}{path}", parsed.scheme, parsed.authority())
            }
            Some(parsed) => format!("{}:", parsed.scheme),
            None => uri.to_owned(),
        }
    }
}

/// The parts of a URL that reports are titled and tagged by.
struct Uri<'a> {
    /// Lowercase.
    scheme: String,
    /// Lowercase; `None` for URLs without an authority (`data:...`, `blob:...`).
    host: Option<String>,
    /// Only when not the scheme's default.
    port: Option<u16>,
    /// What follows the authority: path, query, fragment.
    rest: &'a str,
}

impl<'a> Uri<'a> {
    fn parse(uri: &'a str) -> Option<Uri<'a>> {
        let (scheme, after) = uri.split_once(':')?;
        if !is_scheme(scheme) {
            return None;
        }
        let scheme = scheme.to_ascii_lowercase();
        let Some(after) = after.strip_prefix("//") else {
            // `host:port` without a scheme is not a URL.
            if !after.is_empty() && after.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            return Some(Uri {
                scheme,
                host: None,
                port: None,
                rest: after,
            });
        };
        let end = after.find(['/', '?', '#']).unwrap_or(after.len());
        let (authority, rest) = after.split_at(end);
        let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
        let (host, port) = match authority.strip_prefix('[') {
            Some(v6) => {
                let (addr, tail) = v6.split_once(']')?;
                (format!("[{addr}]"), tail.strip_prefix(':'))
            }
            None => match authority.rsplit_once(':') {
                Some((host, port)) => (host.to_owned(), Some(port)),
                None => (authority.to_owned(), None),
            },
        };
        let port = match port.filter(|p| !p.is_empty()) {
            Some(p) => Some(p.parse::<u16>().ok()?),
            None => None,
        };
        let default = match scheme.as_str() {
            "http" | "ws" => Some(80),
            "https" | "wss" => Some(443),
            _ => None,
        };
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        Some(Uri {
            host: (!host.is_empty()).then_some(host),
            port: port.filter(|p| Some(*p) != default),
            scheme,
            rest,
        })
    }

    /// `host[:port]`.
    fn authority(&self) -> String {
        let host = self.host.as_deref().unwrap_or("");
        match self.port {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        }
    }

    /// What titles say: `evil.example`, `evil.example:8443`, `wss://chat.example`, `data:`.
    fn place(&self) -> String {
        match (&self.host, self.scheme.as_str()) {
            (Some(_), "http" | "https") => self.authority(),
            (Some(_), scheme) => format!("{scheme}://{}", self.authority()),
            (None, scheme) => format!("{scheme}:"),
        }
    }
}

/// RFC 3986: `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`.
fn is_scheme(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// A `browser` context from a user agent: the first product that names the browser (Edge and
/// Opera also say Chrome; Chrome also says Safari), else the whole string as the name.
fn browser_context(ua: &str) -> Value {
    const PRODUCTS: &[(&str, &str)] = &[
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("SamsungBrowser/", "Samsung Internet"),
        ("Firefox/", "Firefox"),
        ("FxiOS/", "Firefox"),
        ("CriOS/", "Chrome"),
        ("HeadlessChrome/", "Chrome"),
        ("Chrome/", "Chrome"),
        ("Version/", "Safari"),
    ];
    let found = PRODUCTS.iter().find_map(|(token, name)| {
        let start = ua.find(token)? + token.len();
        let version: String = ua[start..]
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        (!version.is_empty()).then_some((*name, version))
    });
    match found {
        Some((name, version)) => {
            json!({"type": "browser", "name": name, "version": version, "user_agent": ua})
        }
        None => json!({"type": "browser", "name": ua}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHROME_UA: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";

    fn received() -> Received<'static> {
        Received {
            at: DateTime::parse_from_rfc3339("2026-11-30T10:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
            environment: Some("production"),
            release: Some("shop@1.4.2"),
            user_agent: Some(CHROME_UA),
        }
    }

    fn map(body: &str) -> Reports {
        reports_from_body(body.as_bytes(), &received()).unwrap()
    }

    fn one(body: &str) -> Event {
        let mut reports = map(body);
        assert_eq!(reports.reports.len(), 1, "{reports:?}");
        reports.reports.remove(0).event
    }

    fn csp(fields: Value) -> Event {
        one(&json!({ "csp-report": fields }).to_string())
    }

    fn tags(event: &Event) -> &std::collections::BTreeMap<String, String> {
        &event.tags
    }

    fn title(event: &Event) -> &str {
        event.title.as_deref().unwrap()
    }

    fn fingerprint(event: &Event) -> Vec<&str> {
        event
            .fingerprint
            .as_ref()
            .unwrap()
            .iter()
            .map(String::as_str)
            .collect()
    }

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/security");

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(format!("{FIXTURES}/{name}")).unwrap()
    }

    #[test]
    fn a_legacy_csp_report_becomes_an_event_titled_by_directive_and_host() {
        let event = one(&fixture("csp-report-chrome.json"));
        assert_eq!(title(&event), "Blocked 'script' from 'evil.example'");
        assert_eq!(event.message.as_deref(), Some(title(&event)));
        assert_eq!(fingerprint(&event), ["csp", "script-src", "evil.example"]);
        assert_eq!(event.level, Some(Level::Error));
        assert_eq!(event.platform.as_deref(), Some("javascript"));
        assert_eq!(event.language.as_deref(), Some("javascript"));
        assert_eq!(event.environment.as_deref(), Some("production"));
        assert_eq!(event.release.as_deref(), Some("shop@1.4.2"));
        let t = tags(&event);
        assert_eq!(t["effective-directive"], "script-src-elem");
        assert_eq!(t["blocked-uri"], "https://evil.example/steal.js");
        assert_eq!(t["blocked-host"], "evil.example");
        assert_eq!(t["disposition"], "enforce");
        assert_eq!(t["logger"], "csp");
        assert_eq!(t["report-type"], "csp");
        let request = event.request.as_ref().unwrap();
        assert_eq!(
            request.url.as_deref(),
            Some("https://shop.example/checkout?step=2")
        );
        assert_eq!(request.headers["User-Agent"], CHROME_UA);
        assert_eq!(request.headers["Referer"], "https://shop.example/cart");
        assert_eq!(
            event.contexts["csp"]["original-policy"],
            "script-src 'self'; report-uri /api/1/security/?sentry_key=k"
        );
        assert_eq!(event.contexts["csp"]["line-number"], 12);
        assert_eq!(event.contexts["browser"]["name"], "Chrome");
        assert_eq!(event.contexts["browser"]["version"], "126.0.0.0");
        assert_eq!(event.timestamp, None, "the server's receive time is used");
    }

    #[test]
    fn firefox_reports_without_effective_directive_use_the_violated_one() {
        let event = one(&fixture("csp-report-firefox.json"));
        assert_eq!(
            title(&event),
            "Blocked 'image' from 'cdn.tracker.example:8443'"
        );
        assert_eq!(
            fingerprint(&event),
            ["csp", "img-src", "cdn.tracker.example:8443"]
        );
        assert_eq!(tags(&event)["effective-directive"], "img-src");
        // Query strings may hold tokens: not in the tag.
        assert_eq!(
            tags(&event)["blocked-uri"],
            "https://cdn.tracker.example:8443/pixel.gif"
        );
    }

    #[test]
    fn special_blocked_uris_read_as_what_they_are() {
        let cases = [
            (
                "script-src-elem",
                "inline",
                "Blocked unsafe inline 'script'",
                "inline",
            ),
            (
                "script-src",
                "inline",
                "Blocked unsafe inline 'script'",
                "inline",
            ),
            (
                "script-src",
                "eval",
                "Blocked unsafe eval() 'script'",
                "eval",
            ),
            (
                "script-src",
                "wasm-eval",
                "Blocked unsafe WebAssembly eval() 'script'",
                "wasm-eval",
            ),
            (
                "script-src",
                "self",
                "Blocked unsafe (eval() or inline) 'script'",
                "'self'",
            ),
            (
                "script-src",
                "",
                "Blocked unsafe (eval() or inline) 'script'",
                "'self'",
            ),
            (
                "script-src-attr",
                "inline",
                "Blocked inline script attribute",
                "inline",
            ),
            (
                "style-src-elem",
                "inline",
                "Blocked inline 'style'",
                "inline",
            ),
            (
                "style-src-attr",
                "inline",
                "Blocked inline style attribute",
                "inline",
            ),
            (
                "img-src",
                "data:image/png;base64,iVBORw0KGgo=",
                "Blocked 'image' from 'data:'",
                "data:",
            ),
            ("img-src", "data", "Blocked 'image' from 'data:'", "data:"),
            (
                "worker-src",
                "blob:https://shop.example/5b9c-11",
                "Blocked 'worker' from 'blob:'",
                "blob:",
            ),
            (
                "connect-src",
                "wss://chat.example/socket",
                "Blocked 'connect' from 'wss://chat.example'",
                "wss://chat.example",
            ),
            (
                "font-src",
                "http://fonts.example:80/a.woff",
                "Blocked 'font' from 'fonts.example'",
                "fonts.example",
            ),
            (
                "form-action",
                "https://phish.example/login",
                "Blocked 'form' action to 'phish.example'",
                "phish.example",
            ),
            (
                "frame-ancestors",
                "https://framer.example",
                "Blocked framing by 'framer.example' ('frame-ancestors')",
                "framer.example",
            ),
            (
                "base-uri",
                "https://other.example/",
                "Blocked 'base-uri' from 'other.example'",
                "other.example",
            ),
            (
                "require-trusted-types-for",
                "trusted-types-sink",
                "Blocked a string passed to a Trusted Types sink (require-trusted-types-for)",
                "trusted-types-sink",
            ),
        ];
        for (directive, blocked, want, key) in cases {
            let event = csp(json!({
                "document-uri": "https://shop.example/",
                "effective-directive": directive,
                "violated-directive": directive,
                "blocked-uri": blocked,
            }));
            assert_eq!(title(&event), want, "{directive} {blocked:?}");
            assert_eq!(fingerprint(&event)[2], key, "{directive} {blocked:?}");
        }
    }

    #[test]
    fn a_data_url_tag_keeps_only_its_scheme_and_no_host_tag_is_made() {
        let event = csp(json!({"effective-directive": "img-src",
            "blocked-uri": "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"}));
        assert_eq!(tags(&event)["blocked-uri"], "data:");
        assert!(!tags(&event).contains_key("blocked-host"));
    }

    #[test]
    fn the_same_violation_from_chromium_and_firefox_gets_one_fingerprint() {
        let chrome = csp(json!({"effective-directive": "script-src-elem",
            "violated-directive": "script-src-elem", "blocked-uri": "https://evil.example/a.js"}));
        let firefox = csp(json!({"violated-directive": "script-src 'self'",
            "blocked-uri": "https://EVIL.example/b.js?x=1"}));
        assert_eq!(chrome.fingerprint, firefox.fingerprint);
        assert_eq!(title(&chrome), title(&firefox));
        let other_host = csp(json!({"effective-directive": "script-src",
            "blocked-uri": "https://other.example/a.js"}));
        assert_ne!(chrome.fingerprint, other_host.fingerprint);
        let other_directive = csp(json!({"effective-directive": "img-src",
            "blocked-uri": "https://evil.example/a.js"}));
        assert_ne!(chrome.fingerprint, other_directive.fingerprint);
    }

    #[test]
    fn grouping_takes_the_title_and_groups_by_the_fingerprint() {
        let rules = crate::grouping::rules::Rules::default();
        let a = crate::grouping::group(&one(&fixture("csp-report-chrome.json")), &rules);
        assert_eq!(a.title, "Blocked 'script' from 'evil.example'");
        assert_eq!(
            a.components,
            [
                "fingerprint: csp",
                "fingerprint: script-src",
                "fingerprint: evil.example"
            ]
        );
        let batch = map(&fixture("reports-batch.json"));
        let b = crate::grouping::group(&batch.reports[0].event, &rules);
        let c = crate::grouping::group(&batch.reports[1].event, &rules);
        assert_eq!(
            a.hashes[0], b.hashes[0],
            "legacy and Reporting API reports group together"
        );
        assert_eq!(
            b.hashes[0], c.hashes[0],
            "two paths on one host are one issue"
        );
        let eval = crate::grouping::group(&batch.reports[2].event, &rules);
        assert_ne!(eval.hashes[0], a.hashes[0]);
    }

    #[test]
    fn a_report_only_violation_is_a_warning() {
        let event = csp(
            json!({"effective-directive": "style-src-elem", "blocked-uri": "inline",
            "disposition": "report"}),
        );
        assert_eq!(event.level, Some(Level::Warning));
        assert_eq!(tags(&event)["disposition"], "report");
        let enforced = csp(
            json!({"effective-directive": "style-src-elem", "blocked-uri": "inline",
            "disposition": "enforce"}),
        );
        assert_eq!(enforced.level, Some(Level::Error));
        // Same issue whether reported or enforced: the disposition is a tag, not a group.
        assert_eq!(event.fingerprint, enforced.fingerprint);
    }

    #[test]
    fn a_reporting_api_batch_gives_one_event_per_csp_violation_and_skips_other_types() {
        let reports = map(&fixture("reports-batch.json"));
        let titles: Vec<&str> = reports.reports.iter().map(|r| title(&r.event)).collect();
        assert_eq!(
            titles,
            [
                "Blocked 'script' from 'evil.example'",
                "Blocked 'script' from 'evil.example'",
                "Blocked unsafe eval() 'script'",
                "Blocked inline 'style'",
            ]
        );
        assert_eq!(
            reports.skipped,
            [
                Skipped::OtherType("deprecation".into()),
                Skipped::OtherType("network-error".into())
            ]
        );
        let first = &reports.reports[0].event;
        let request = first.request.as_ref().unwrap();
        assert_eq!(
            request.url.as_deref(),
            Some("https://shop.example/checkout")
        );
        // The entry's own user agent wins over the request's.
        assert!(request.headers["User-Agent"].contains("Firefox/128.0"));
        assert_eq!(first.contexts["browser"]["name"], "Firefox");
        assert_eq!(
            first.contexts["csp"]["blockedURL"],
            "https://evil.example/steal.js"
        );
        // `age` is how long the report waited: it happened that long before it arrived.
        assert_eq!(
            first.timestamp,
            Some(received().at - Duration::milliseconds(1500))
        );
        assert_eq!(reports.reports[3].event.level, Some(Level::Warning));
        // Each occurrence keeps its own entry as raw body.
        let raw: Value = serde_json::from_slice(&reports.reports[2].raw).unwrap();
        assert_eq!(raw["body"]["blockedURL"], "eval");
        assert_eq!(raw["type"], "csp-violation");
    }

    #[test]
    fn a_single_reporting_api_entry_outside_an_array_is_read_too() {
        let event = one(
            &json!({"type": "csp-violation", "url": "https://shop.example/",
            "body": {"documentURL": "https://shop.example/", "effectiveDirective": "img-src",
                     "blockedURL": "https://ads.example/a.png", "disposition": "enforce"}})
            .to_string(),
        );
        assert_eq!(title(&event), "Blocked 'image' from 'ads.example'");
    }

    #[test]
    fn hpkp_expect_ct_and_expect_staple_are_titled_and_grouped_by_hostname() {
        let cases = [
            (
                "hpkp.json",
                "Public key pinning validation failed for 'shop.example'",
                "hpkp",
                "hpkp",
            ),
            (
                "expect-ct.json",
                "Expect-CT failed for 'shop.example'",
                "expect-ct",
                "expectct",
            ),
            (
                "expect-staple.json",
                "Expect-Staple failed for 'shop.example'",
                "expect-staple",
                "expectstaple",
            ),
        ];
        for (file, want, kind, context) in cases {
            let event = one(&fixture(file));
            assert_eq!(title(&event), want, "{file}");
            assert_eq!(fingerprint(&event), [kind, "shop.example"], "{file}");
            assert_eq!(event.level, Some(Level::Error));
            let t = tags(&event);
            assert_eq!(t["report-type"], kind);
            assert_eq!(t["hostname"], "shop.example");
            assert_eq!(t["port"], "443");
            assert_eq!(t["logger"], "csp");
            assert!(event.contexts[context]["served-certificate-chain"].is_array());
            assert_eq!(
                event.request.as_ref().unwrap().url.as_deref(),
                Some("https://shop.example/")
            );
            assert_eq!(
                event.timestamp.unwrap().to_rfc3339(),
                "2026-11-30T09:58:00+00:00",
                "{file}"
            );
        }
        let hpkp = one(&fixture("hpkp.json"));
        assert_eq!(tags(&hpkp)["include-subdomains"], "false");
        let staple = one(&fixture("expect-staple.json"));
        assert_eq!(tags(&staple)["response-status"], "ERROR_RESPONSE");
        assert_eq!(tags(&staple)["cert-status"], "REVOKED");
    }

    #[test]
    fn a_certificate_report_from_the_future_happens_when_it_arrives() {
        let event = one(
            &json!({"expect-ct-report": {"hostname": "Shop.Example.", "port": 8443,
                "date-time": "2099-01-01T00:00:00Z"}})
            .to_string(),
        );
        assert_eq!(event.timestamp, None);
        assert_eq!(title(&event), "Expect-CT failed for 'shop.example'");
        assert_eq!(
            event.request.unwrap().url.as_deref(),
            Some("https://shop.example:8443/")
        );
    }

    #[test]
    fn garbage_is_refused_with_a_reason() {
        let err = |body: &str| reports_from_body(body.as_bytes(), &received()).unwrap_err();
        assert!(matches!(err("{not json"), SecurityError::InvalidJson(_)));
        assert!(matches!(err(""), SecurityError::InvalidJson(_)));
        let unknown = err(r#"{"message": "hello"}"#);
        assert!(matches!(unknown, SecurityError::UnknownShape));
        let text = unknown.to_string();
        for accepted in [
            "csp-report",
            "csp-violation",
            "known-pins",
            "expect-ct-report",
            "expect-staple-report",
        ] {
            assert!(text.contains(accepted), "{text}");
        }
        assert!(matches!(err("42"), SecurityError::UnknownShape));
        assert!(matches!(err(r#""csp""#), SecurityError::UnknownShape));
        let text = err(r#"{"csp-report": "x"}"#).to_string();
        assert!(text.contains("`csp-report` must be an object"), "{text}");
        let text = err(r#"{"csp-report": {"blocked-uri": "https://evil.example"}}"#).to_string();
        assert!(text.contains("names no directive"), "{text}");
        let text = err(r#"{"expect-ct-report": {"port": 443}}"#).to_string();
        assert!(
            text.contains("`expect-ct-report.hostname` is missing"),
            "{text}"
        );
        let text = err(r#"[1, {"body": {}}]"#).to_string();
        assert!(text.contains("reports[0] is not an object"), "{text}");
        let text = err(r#"[{"type": "csp-violation", "body": {}}]"#).to_string();
        assert!(
            text.contains("reports[0]: the CSP report names no directive"),
            "{text}"
        );
        let many = Value::Array(vec![
            json!({"type": "deprecation", "body": {}});
            MAX_REPORTS + 1
        ]);
        assert!(matches!(
            err(&many.to_string()),
            SecurityError::TooMany(n) if n == MAX_REPORTS + 1
        ));
    }

    #[test]
    fn a_batch_keeps_its_good_reports_and_counts_the_rest() {
        let reports = map(r#"[
            {"type": "csp-violation", "body": {"effectiveDirective": "img-src", "blockedURL": "https://a.example/x"}},
            {"type": "csp-violation", "body": {"blockedURL": "https://a.example/x"}},
            {"type": "intervention", "body": {"id": "x"}},
            "garbage"
        ]"#);
        assert_eq!(reports.reports.len(), 1);
        assert_eq!(reports.skipped.len(), 3);
        assert!(matches!(&reports.skipped[0], Skipped::Invalid(r) if r.contains("reports[1]")));
        // Nothing but other types, or nothing at all: accepted, nothing to store.
        let reports = map(r#"[{"type": "deprecation", "body": {"id": "x"}}]"#);
        assert!(reports.reports.is_empty());
        assert!(map("[]").reports.is_empty());
    }

    #[test]
    fn urls_are_read_as_browsers_write_them() {
        let place = |uri: &str| match Blocked::of(uri).what {
            What::Place(p) => p,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            place("https://user:pw@Evil.Example:443/x?y#z"),
            "evil.example"
        );
        assert_eq!(place("http://[::1]:8080/x"), "[::1]:8080");
        assert_eq!(place("https://evil.example."), "evil.example");
        assert_eq!(place("about:blank"), "about:");
        assert_eq!(place("blob"), "blob:");
        assert_eq!(place("evil.example"), "evil.example");
        assert_eq!(place("evil.example:8443"), "evil.example:8443");
        assert_eq!(
            place("chrome-extension://abcdef/content.js"),
            "chrome-extension://abcdef"
        );
        assert_eq!(
            Blocked::of("https://evil.example/a").host.as_deref(),
            Some("evil.example")
        );
        assert_eq!(Blocked::of("chrome-extension://abc/x").host, None);
    }

    #[test]
    fn the_browser_context_names_the_browser() {
        let name = |ua: &str| browser_context(ua)["name"].as_str().unwrap().to_owned();
        assert_eq!(name(CHROME_UA), "Chrome");
        assert_eq!(
            name("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.2592.68"),
            "Edge"
        );
        assert_eq!(
            name("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15"),
            "Safari"
        );
        assert_eq!(name("curl/8.5.0"), "curl/8.5.0");
    }
}
