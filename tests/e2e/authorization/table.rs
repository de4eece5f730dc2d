//! The matrix: one entry per route the server registers (`bugle-server routes`), the request
//! that tries it on Shop, and who may call it. `Kind` gives the answer per caller; `except`
//! lists the cells that differ, each for a reason said beside it.

use serde_json::{json, Value};

use super::fixture::{Caller, Fixture};
use Caller::*;

pub enum Body {
    None,
    Json(Value),
    /// Form fields; the caller's form token is added when it has a session.
    Form(Vec<(&'static str, String)>),
    Raw(&'static str, Vec<u8>),
}

/// Who may call a route, and the status of a permitted call.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// The same answer for every caller: health, metrics, assets, sign-in, links carrying
    /// their own token (tried with an unknown one), CORS preflights.
    Open(u16),
    /// A dashboard page or form about Shop: its members and admins; the outsider gets 404 (the
    /// project is not revealed); without a session, 303 to the login page.
    Shop(u16),
    /// Dashboard, admins only: other users 403.
    AdminOnly(u16),
    /// Dashboard, any signed-in user (their own account, lists filtered to what they see).
    SignedIn(u16),
    /// JSON API read about Shop: an API token of a member or admin (read or write scope);
    /// 401 without a valid token, 404 for the outsider.
    ApiRead(u16),
    /// As `ApiRead`, and a read-only token gets 403.
    ApiWrite(u16),
    /// JSON API any token holder may call (answers filtered to what it sees).
    ApiAny(u16),
    /// Ingest: Shop's key only (`X-Sentry-Auth`, `X-Rollbar-Access-Token`, a form's
    /// `access_token`); another project's key 403, no key 401.
    Ingest(u16),
    /// As `Ingest`, the key read from `Authorization: Bearer`: there an API token is an
    /// unknown key, 403.
    IngestBearer(u16),
}

pub struct Entry {
    pub method: &'static str,
    pub pattern: &'static str,
    pub kind: Kind,
    /// The concrete path and body; may make fresh rows for routes that delete what they name.
    pub make: fn(&Fixture) -> (String, Body),
    pub except: &'static [(Caller, u16)],
    /// The route ends the caller's session: tried with a fresh one.
    pub ends_session: bool,
}

impl Kind {
    pub fn expected(self, caller: Caller) -> u16 {
        let session = matches!(caller, Outsider | Member | Admin);
        let token = matches!(caller, Outsider | Member | Admin | TokenRead | TokenWrite);
        match self {
            Kind::Open(ok) => ok,
            Kind::Shop(ok) => match caller {
                _ if !session => 303,
                Outsider => 404,
                _ => ok,
            },
            Kind::AdminOnly(ok) => match caller {
                _ if !session => 303,
                Admin => ok,
                _ => 403,
            },
            Kind::SignedIn(ok) => match caller {
                _ if !session => 303,
                _ => ok,
            },
            Kind::ApiRead(ok) | Kind::ApiWrite(ok) | Kind::ApiAny(ok) => match caller {
                _ if !token => 401,
                Outsider if !matches!(self, Kind::ApiAny(_)) => 404,
                TokenRead if matches!(self, Kind::ApiWrite(_)) => 403,
                _ => ok,
            },
            Kind::Ingest(ok) | Kind::IngestBearer(ok) => match caller {
                Key => ok,
                OtherKey => 403,
                _ if token || caller == Revoked => {
                    if matches!(self, Kind::IngestBearer(_)) {
                        403
                    } else {
                        401
                    }
                }
                _ => 401,
            },
        }
    }
}

fn form(fields: &[(&'static str, &str)]) -> Body {
    Body::Form(fields.iter().map(|(k, v)| (*k, v.to_string())).collect())
}

fn unique() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn envelope() -> Body {
    let id = unique();
    let event = json!({"event_id": id, "message": "matrix"}).to_string();
    let body = format!(
        "{{\"event_id\":\"{id}\"}}\n{{\"type\":\"event\",\"length\":{}}}\n{event}\n",
        event.len()
    );
    Body::Raw("application/x-sentry-envelope", body.into_bytes())
}

fn csp() -> Body {
    let report = json!({"csp-report": {
        "document-uri": "https://shop.example.com/cart",
        "violated-directive": "script-src",
        "effective-directive": "script-src",
        "blocked-uri": "https://evil.example.com/x.js",
    }});
    Body::Raw("application/csp-report", report.to_string().into_bytes())
}

fn rollbar_item() -> Body {
    Body::Json(json!({"data": {
        "environment": "production",
        "body": {"message": {"body": "matrix"}},
    }}))
}

fn otlp() -> Body {
    Body::Json(json!({}))
}

fn feedback(f: &Fixture) -> Body {
    let _ = f;
    Body::Json(json!({
        "event_id": unique(),
        "name": "Ada",
        "email": "ada@example.com",
        "comments": "it broke",
    }))
}

macro_rules! entry {
    ($method:literal $pattern:literal, $kind:expr, $make:expr) => {
        entry!($method $pattern, $kind, $make, &[])
    };
    ($method:literal $pattern:literal, $kind:expr, $make:expr, $except:expr) => {
        Entry {
            method: $method,
            pattern: $pattern,
            kind: $kind,
            make: $make,
            except: $except,
            ends_session: false,
        }
    };
}

pub fn entries() -> Vec<Entry> {
    use Kind::*;
    let mut all = vec![
        // Ingest.
        // The key alone names the project: Blog's key stores a Blog event.
        entry!("POST" "/api/v1/events", IngestBearer(200), |_| (
            "/api/v1/events".into(),
            Body::Json(json!({"message": "matrix"}))
        ), &[(OtherKey, 200)]),
        // Another project's deploy is not revealed.
        entry!("PATCH" "/api/1/deploy/{id}", Ingest(200), |f| (
            format!("/api/1/deploy/{}", f.deploy),
            Body::Json(json!({"status": "succeeded"}))
        ), &[(OtherKey, 404)]),
    ];
    for pattern in ["/api/{project_id}/envelope/", "/api/{project_id}/envelope"] {
        all.push(Entry {
            method: "POST",
            pattern,
            kind: Ingest(200),
            make: if pattern.ends_with('/') {
                |f| (format!("/api/{}/envelope/", f.shop.id), envelope())
            } else {
                |f| (format!("/api/{}/envelope", f.shop.id), envelope())
            },
            except: &[],
            ends_session: false,
        });
    }
    for pattern in ["/api/{project_id}/store/", "/api/{project_id}/store"] {
        all.push(Entry {
            method: "POST",
            pattern,
            kind: Ingest(200),
            make: if pattern.ends_with('/') {
                |f| {
                    (
                        format!("/api/{}/store/", f.shop.id),
                        Body::Json(json!({"message": "matrix"})),
                    )
                }
            } else {
                |f| {
                    (
                        format!("/api/{}/store", f.shop.id),
                        Body::Json(json!({"message": "matrix"})),
                    )
                }
            },
            except: &[],
            ends_session: false,
        });
    }
    // Security reports and OTLP name their paths by project id; tried on Shop's.
    for (pattern, make) in [
        (
            "/api/{project_id}/security/",
            (|f| (format!("/api/{}/security/", f.shop.id), csp()))
                as fn(&Fixture) -> (String, Body),
        ),
        ("/api/{project_id}/security", |f| {
            (format!("/api/{}/security", f.shop.id), csp())
        }),
        ("/api/{project_id}/csp-report/", |f| {
            (format!("/api/{}/csp-report/", f.shop.id), csp())
        }),
        ("/api/{project_id}/csp-report", |f| {
            (format!("/api/{}/csp-report", f.shop.id), csp())
        }),
        ("/api/{project_id}/integration/otlp/v1/traces", |f| {
            (
                format!("/api/{}/integration/otlp/v1/traces", f.shop.id),
                otlp(),
            )
        }),
        ("/api/{project_id}/integration/otlp/v1/traces/", |f| {
            (
                format!("/api/{}/integration/otlp/v1/traces/", f.shop.id),
                otlp(),
            )
        }),
        ("/api/{project_id}/integration/otlp/v1/logs", |f| {
            (
                format!("/api/{}/integration/otlp/v1/logs", f.shop.id),
                otlp(),
            )
        }),
        ("/api/{project_id}/integration/otlp/v1/logs/", |f| {
            (
                format!("/api/{}/integration/otlp/v1/logs/", f.shop.id),
                otlp(),
            )
        }),
    ] {
        let kind = match pattern {
            p if p.contains("otlp") => IngestBearer(200),
            _ => Ingest(201),
        };
        all.push(Entry {
            method: "POST",
            pattern,
            kind,
            make,
            except: &[],
            ends_session: false,
        });
    }
    // Sentry's user feedback API takes an API token (or `Authorization: DSN`, tried in
    // tests/e2e/envelopes.rs): the ingest key as a Bearer token is an unknown API token.
    for (pattern, make) in [
        (
            "/api/0/projects/{org}/{project}/user-feedback/",
            (|f| {
                (
                    format!("/api/0/projects/bugle/{}/user-feedback/", f.shop.slug),
                    feedback(f),
                )
            }) as fn(&Fixture) -> (String, Body),
        ),
        ("/api/0/projects/{org}/{project}/user-feedback", |f| {
            (
                format!("/api/0/projects/bugle/{}/user-feedback", f.shop.slug),
                feedback(f),
            )
        }),
    ] {
        all.push(Entry {
            method: "POST",
            pattern,
            kind: ApiWrite(200),
            make,
            except: &[],
            ends_session: false,
        });
    }
    // Paths without a project: the key alone says which.
    for (pattern, make) in [
        (
            "/v1/traces",
            (|_| ("/v1/traces".to_owned(), otlp())) as fn(&Fixture) -> (String, Body),
        ),
        ("/v1/traces/", |_| ("/v1/traces/".into(), otlp())),
        ("/v1/logs", |_| ("/v1/logs".into(), otlp())),
        ("/v1/logs/", |_| ("/v1/logs/".into(), otlp())),
        ("/api/1/item/", |_| ("/api/1/item/".into(), rollbar_item())),
        ("/api/1/item", |_| ("/api/1/item".into(), rollbar_item())),
        ("/api/1/deploy", |_| {
            (
                "/api/1/deploy".into(),
                Body::Json(json!({"environment": "production", "revision": "abc"})),
            )
        }),
        ("/api/1/deploy/", |_| {
            (
                "/api/1/deploy/".into(),
                Body::Json(json!({"environment": "production", "revision": "abc"})),
            )
        }),
    ] {
        // Blog's key on a path naming no project is simply Blog's event.
        let kind = if pattern.starts_with("/v1/") {
            IngestBearer(200)
        } else {
            Ingest(200)
        };
        all.push(Entry {
            method: "POST",
            pattern,
            kind,
            make,
            except: &[(OtherKey, 200)],
            ends_session: false,
        });
    }
    // CORS preflights answer anyone: browsers send them without credentials.
    for (pattern, make) in [
        (
            "/api/{project_id}/envelope/",
            (|f| (format!("/api/{}/envelope/", f.shop.id), Body::None))
                as fn(&Fixture) -> (String, Body),
        ),
        ("/api/{project_id}/envelope", |f| {
            (format!("/api/{}/envelope", f.shop.id), Body::None)
        }),
        ("/api/{project_id}/store/", |f| {
            (format!("/api/{}/store/", f.shop.id), Body::None)
        }),
        ("/api/{project_id}/store", |f| {
            (format!("/api/{}/store", f.shop.id), Body::None)
        }),
        ("/api/{project_id}/security/", |f| {
            (format!("/api/{}/security/", f.shop.id), Body::None)
        }),
        ("/api/{project_id}/security", |f| {
            (format!("/api/{}/security", f.shop.id), Body::None)
        }),
        ("/api/{project_id}/csp-report/", |f| {
            (format!("/api/{}/csp-report/", f.shop.id), Body::None)
        }),
        ("/api/{project_id}/csp-report", |f| {
            (format!("/api/{}/csp-report", f.shop.id), Body::None)
        }),
    ] {
        all.push(Entry {
            method: "OPTIONS",
            pattern,
            kind: Open(200),
            make,
            except: &[],
            ends_session: false,
        });
    }
    all.extend([
        // JSON API.
        entry!("GET" "/api/v1/projects", ApiAny(200), |_| ("/api/v1/projects".into(), Body::None)),
        entry!("GET" "/api/v1/projects/{slug}/issues", ApiRead(200), |f| (format!("/api/v1/projects/{}/issues", f.shop.slug), Body::None)),
        entry!("GET" "/api/v1/issues", ApiAny(200), |_| ("/api/v1/issues".into(), Body::None)),
        entry!("GET" "/api/v1/issues/{id}", ApiRead(200), |f| (format!("/api/v1/issues/{}", f.issue), Body::None)),
        entry!("PATCH" "/api/v1/issues/{id}", ApiWrite(200), |f| (format!("/api/v1/issues/{}", f.issue), Body::Json(json!({"status": "unresolved"})))),
        entry!("POST" "/api/v1/issues/{id}/merge", ApiWrite(200), |f| {
            let (a, b) = (f.new_issue("into"), f.new_issue("from"));
            (format!("/api/v1/issues/{b}/merge"), Body::Json(json!({"into": a})))
        }),
        entry!("GET" "/api/v1/issues/{id}/occurrences", ApiRead(200), |f| (format!("/api/v1/issues/{}/occurrences", f.issue), Body::None)),
        entry!("GET" "/api/v1/occurrences/{uuid}", ApiRead(200), |f| (format!("/api/v1/occurrences/{}", f.occurrence), Body::None)),
        entry!("GET" "/api/v1/projects/{slug}/grouping", ApiRead(200), |f| (format!("/api/v1/projects/{}/grouping", f.shop.slug), Body::None)),
        entry!("PUT" "/api/v1/projects/{slug}/grouping", ApiWrite(200), |f| (format!("/api/v1/projects/{}/grouping", f.shop.slug), Body::Json(json!({"rules": ""})))),
        entry!("POST" "/api/v1/projects/{slug}/grouping/preview", ApiWrite(200), |f| (format!("/api/v1/projects/{}/grouping/preview", f.shop.slug), Body::Json(json!({"rules": ""})))),
        entry!("POST" "/api/v1/issues/{id}/unmerge", ApiWrite(200), |f| {
            let (issue, hash) = f.merged_issue();
            (format!("/api/v1/issues/{issue}/unmerge"), Body::Json(json!({"hashes": [hash]})))
        }),
        entry!("GET" "/api/v1/projects/{slug}/feedback", ApiRead(200), |f| (format!("/api/v1/projects/{}/feedback", f.shop.slug), Body::None)),
        entry!("GET" "/api/v1/attachments/{id}", ApiRead(200), |f| (format!("/api/v1/attachments/{}", f.attachment), Body::None)),
        entry!("GET" "/api/v1/projects/{slug}/channels", ApiRead(200), |f| (format!("/api/v1/projects/{}/channels", f.shop.slug), Body::None)),
        entry!("POST" "/api/v1/projects/{slug}/channels", ApiWrite(201), |f| (
            format!("/api/v1/projects/{}/channels", f.shop.slug),
            Body::Json(json!({"kind": "webhook", "url": "http://127.0.0.1:9/hook"}))
        )),
        entry!("DELETE" "/api/v1/projects/{slug}/channels/{id}", ApiWrite(204), |f| (format!("/api/v1/projects/{}/channels/{}", f.shop.slug, f.new_channel()), Body::None)),
        entry!("POST" "/api/v1/projects/{slug}/channels/{id}/test", ApiWrite(200), |f| (format!("/api/v1/projects/{}/channels/{}/test", f.shop.slug, f.new_channel()), Body::None)),
        entry!("GET" "/api/v1/projects/{slug}/alert-rules", ApiRead(200), |f| (format!("/api/v1/projects/{}/alert-rules", f.shop.slug), Body::None)),
        entry!("POST" "/api/v1/projects/{slug}/alert-rules", ApiWrite(201), |f| (
            format!("/api/v1/projects/{}/alert-rules", f.shop.slug),
            Body::Json(json!({"events": ["regression"], "filter": "level:error", "mail": true}))
        )),
        entry!("PUT" "/api/v1/projects/{slug}/alert-rules/{id}", ApiWrite(200), |f| (
            format!("/api/v1/projects/{}/alert-rules/{}", f.shop.slug, f.new_rule()),
            Body::Json(json!({"events": ["new_issue", "regression"], "mail": true}))
        )),
        entry!("DELETE" "/api/v1/projects/{slug}/alert-rules/{id}", ApiWrite(204), |f| (format!("/api/v1/projects/{}/alert-rules/{}", f.shop.slug, f.new_rule()), Body::None)),
        entry!("GET" "/api/v1/projects/{slug}/ownership", ApiRead(200), |f| (format!("/api/v1/projects/{}/ownership", f.shop.slug), Body::None)),
        entry!("PUT" "/api/v1/projects/{slug}/ownership", ApiWrite(200), |f| (
            format!("/api/v1/projects/{}/ownership", f.shop.slug),
            Body::Json(json!({"rules": "path:src/payments/** -> member@example.com"}))
        )),
        entry!("GET" "/api/v1/projects/{slug}/services", ApiRead(200), |f| (format!("/api/v1/projects/{}/services", f.shop.slug), Body::None)),
        entry!("GET" "/api/v1/projects/{slug}/searches", ApiRead(200), |f| (format!("/api/v1/projects/{}/searches", f.shop.slug), Body::None)),
        entry!("POST" "/api/v1/projects/{slug}/searches", ApiWrite(201), |f| (
            format!("/api/v1/projects/{}/searches", f.shop.slug),
            Body::Json(json!({"name": unique(), "query": "is:unresolved"}))
        )),
        entry!("GET" "/api/v1/searches", ApiAny(200), |_| ("/api/v1/searches".into(), Body::None)),
        // The list across projects is everyone's own: the outsider saves theirs.
        entry!("POST" "/api/v1/searches", ApiWrite(201), |_| (
            "/api/v1/searches".into(),
            Body::Json(json!({"name": unique(), "query": "is:unresolved"}))
        ), &[(Outsider, 201)]),
        // Saved searches are their owner's (the Shop member's): the admin gets 404 too.
        entry!("DELETE" "/api/v1/searches/{id}", ApiWrite(204), |f| (format!("/api/v1/searches/{}", f.new_saved_search()), Body::None), &[(Admin, 404)]),
        entry!("GET" "/api/v1/projects/{slug}/releases", ApiRead(200), |f| (format!("/api/v1/projects/{}/releases", f.shop.slug), Body::None)),
        entry!("POST" "/api/v1/projects/{slug}/releases", ApiWrite(201), |f| (format!("/api/v1/projects/{}/releases", f.shop.slug), Body::Json(json!({"version": unique()})))),
        entry!("GET" "/api/v1/projects/{slug}/releases/{version}", ApiRead(200), |f| (format!("/api/v1/projects/{}/releases/1.0", f.shop.slug), Body::None)),
        entry!("POST" "/api/v1/projects/{slug}/releases/{version}/deploys", ApiWrite(201), |f| (format!("/api/v1/projects/{}/releases/1.0/deploys", f.shop.slug), Body::Json(json!({"environment": "production"})))),
        // The Sentry API subset sentry-cli calls; the organization is not checked.
        entry!("GET" "/api/0/", ApiAny(200), |_| ("/api/0/".into(), Body::None)),
        entry!("GET" "/api/0/organizations/{org}/releases/", ApiAny(200), |_| ("/api/0/organizations/bugle/releases/".into(), Body::None)),
        // A project the token cannot see is "unknown", as one that does not exist.
        entry!("POST" "/api/0/organizations/{org}/releases/", ApiWrite(201), |f| (
            "/api/0/organizations/bugle/releases/".into(),
            Body::Json(json!({"version": unique(), "projects": [f.shop.slug]}))
        ), &[(Outsider, 400)]),
        entry!("GET" "/api/0/organizations/{org}/releases/{version}/", ApiRead(200), |_| ("/api/0/organizations/bugle/releases/1.0/".into(), Body::None)),
        entry!("PUT" "/api/0/organizations/{org}/releases/{version}/", ApiWrite(200), |_| ("/api/0/organizations/bugle/releases/1.0/".into(), Body::Json(json!({})))),
        entry!("GET" "/api/0/organizations/{org}/releases/{version}/commits/", ApiRead(200), |_| ("/api/0/organizations/bugle/releases/1.0/commits/".into(), Body::None)),
        // `{}` ("no earlier release with commits") among the caller's projects: the same
        // answer as for a version that does not exist, so nothing is revealed.
        entry!("GET" "/api/0/organizations/{org}/releases/{version}/previous-with-commits/", ApiRead(200), |_| ("/api/0/organizations/bugle/releases/1.0/previous-with-commits/".into(), Body::None), &[(Outsider, 200)]),
        entry!("GET" "/api/0/organizations/{org}/releases/{version}/deploys/", ApiRead(200), |_| ("/api/0/organizations/bugle/releases/1.0/deploys/".into(), Body::None)),
        entry!("POST" "/api/0/organizations/{org}/releases/{version}/deploys/", ApiWrite(201), |_| ("/api/0/organizations/bugle/releases/1.0/deploys/".into(), Body::Json(json!({"environment": "production"})))),
        entry!("GET" "/api/0/projects/{org}/{project}/releases/", ApiRead(200), |f| (format!("/api/0/projects/bugle/{}/releases/", f.shop.slug), Body::None)),
        // sentry-cli 2.x creates and finalizes releases under the project.
        entry!("POST" "/api/0/projects/{org}/{project}/releases/", ApiWrite(201), |f| (
            format!("/api/0/projects/bugle/{}/releases/", f.shop.slug),
            Body::Json(json!({"version": unique()}))
        ), &[(Outsider, 400)]),
        entry!("PUT" "/api/0/projects/{org}/{project}/releases/{version}/", ApiWrite(200), |f| (
            format!("/api/0/projects/bugle/{}/releases/1.0/", f.shop.slug),
            Body::Json(json!({}))
        ), &[(Outsider, 400)]),
        entry!("GET" "/api/0/organizations/{org}/repos/", ApiAny(200), |_| ("/api/0/organizations/bugle/repos/".into(), Body::None)),
        // Links that carry their own token: an unknown one is refused to everyone alike.
        entry!("GET" "/unsubscribe/{token}", Open(404), |_| ("/unsubscribe/not-a-token".into(), Body::None)),
        entry!("POST" "/unsubscribe/{token}", Open(404), |_| ("/unsubscribe/not-a-token".into(), Body::None)),
        entry!("GET" "/setup/{token}", Open(404), |_| ("/setup/not-a-token".into(), Body::None)),
        entry!("POST" "/setup/{token}", Open(404), |_| ("/setup/not-a-token".into(), form(&[("password", "correct horse battery"), ("confirm", "correct horse battery")]))),
        // Dashboard.
        entry!("GET" "/", Open(303), |_| ("/".into(), Body::None)),
        entry!("GET" "/static/{name}", Open(200), |_| ("/static/app.css".into(), Body::None)),
        entry!("GET" "/login", Open(200), |_| ("/login".into(), Body::None)),
        entry!("POST" "/login", Open(403), |_| ("/login".into(), form(&[("email", "member@example.com"), ("password", "wrong")]))),
        entry!("GET" "/projects", SignedIn(200), |_| ("/projects".into(), Body::None)),
        entry!("POST" "/projects", AdminOnly(303), |_| ("/projects".into(), Body::Form(vec![("name", unique())]))),
        entry!("GET" "/projects/{slug}/settings", Shop(200), |f| (format!("/projects/{}/settings", f.shop.slug), Body::None)),
        entry!("POST" "/projects/{slug}/keys", Shop(303), |f| (format!("/projects/{}/keys", f.shop.slug), form(&[]))),
        entry!("POST" "/projects/{slug}/keys/{id}/revoke", Shop(303), |f| (format!("/projects/{}/keys/{}/revoke", f.shop.slug, f.new_key()), form(&[]))),
        entry!("POST" "/projects/{slug}/members", AdminOnly(303), |f| (format!("/projects/{}/members", f.shop.slug), Body::Form(vec![("email", f.new_user())]))),
        entry!("POST" "/projects/{slug}/members/{id}/remove", AdminOnly(303), |f| (format!("/projects/{}/members/{}/remove", f.shop.slug, f.new_member()), form(&[]))),
        entry!("POST" "/projects/{slug}/recipients", Shop(303), |f| (format!("/projects/{}/recipients", f.shop.slug), form(&[("add", "ops@example.com")]))),
        entry!("POST" "/projects/{slug}/limits", Shop(303), |f| (format!("/projects/{}/limits", f.shop.slug), form(&[("rate_limit", ""), ("retention_days", ""), ("max_occurrences", "")]))),
        entry!("GET" "/issues", SignedIn(200), |_| ("/issues".into(), Body::None)),
        entry!("POST" "/issues/bulk", Shop(303), |f| ("/issues/bulk".into(), Body::Form(vec![("issue", f.issue.to_string()), ("action", "unresolved".into())]))),
        entry!("GET" "/projects/{slug}/issues", Shop(200), |f| (format!("/projects/{}/issues", f.shop.slug), Body::None)),
        entry!("GET" "/issues/{id}", Shop(200), |f| (format!("/issues/{}", f.issue), Body::None)),
        entry!("POST" "/issues/{id}/status", Shop(303), |f| (format!("/issues/{}/status", f.issue), form(&[("status", "unresolved")]))),
        entry!("POST" "/issues/{id}/assign", Shop(303), |f| (format!("/issues/{}/assign", f.issue), form(&[("user", "")]))),
        entry!("POST" "/issues/{id}/merge", Shop(303), |f| {
            let (a, b) = (f.new_issue("into"), f.new_issue("from"));
            (format!("/issues/{b}/merge"), Body::Form(vec![("into", a.to_string())]))
        }),
        entry!("GET" "/occurrences/{uuid}/json", Shop(200), |f| (format!("/occurrences/{}/json", f.occurrence), Body::None)),
        entry!("GET" "/occurrences/{uuid}", Shop(200), |f| (format!("/occurrences/{}", f.occurrence), Body::None)),
        entry!("POST" "/searches", Shop(303), |f| ("/searches".into(), Body::Form(vec![("name", unique()), ("query", "is:unresolved".into()), ("project", f.shop.slug.clone())]))),
        // Saved searches are their owner's: the admin cannot delete the member's either.
        entry!("POST" "/searches/{id}/delete", Shop(303), |f| (format!("/searches/{}/delete", f.new_saved_search()), form(&[])), &[(Admin, 404)]),
        entry!("GET" "/projects/{slug}/grouping", Shop(200), |f| (format!("/projects/{}/grouping", f.shop.slug), Body::None)),
        entry!("POST" "/projects/{slug}/grouping", Shop(303), |f| (format!("/projects/{}/grouping", f.shop.slug), form(&[("rules", "")]))),
        entry!("POST" "/issues/{id}/unmerge", Shop(303), |f| {
            let (issue, hash) = f.merged_issue();
            (format!("/issues/{issue}/unmerge"), Body::Form(vec![("hash", hash)]))
        }),
        entry!("POST" "/projects/{slug}/alert-rules", Shop(200), |f| (format!("/projects/{}/alert-rules", f.shop.slug), form(&[("rule_events", "regression"), ("mail", "1")]))),
        entry!("POST" "/projects/{slug}/alert-rules/{id}/remove", Shop(303), |f| (format!("/projects/{}/alert-rules/{}/remove", f.shop.slug, f.new_rule()), form(&[]))),
        entry!("GET" "/projects/{slug}/ownership", Shop(200), |f| (format!("/projects/{}/ownership", f.shop.slug), Body::None)),
        entry!("POST" "/projects/{slug}/ownership", Shop(303), |f| (format!("/projects/{}/ownership", f.shop.slug), form(&[("rules", "")]))),
        entry!("GET" "/projects/{slug}/services", Shop(200), |f| (format!("/projects/{}/services", f.shop.slug), Body::None)),
        entry!("GET" "/projects/{slug}/channels", Shop(200), |f| (format!("/projects/{}/channels", f.shop.slug), Body::None)),
        // The page again, showing a webhook's signing secret this once.
        entry!("POST" "/projects/{slug}/channels", Shop(200), |f| (format!("/projects/{}/channels", f.shop.slug), form(&[("kind", "webhook"), ("url", "http://127.0.0.1:9/hook")]))),
        entry!("POST" "/projects/{slug}/channels/{id}/test", Shop(200), |f| (format!("/projects/{}/channels/{}/test", f.shop.slug, f.new_channel()), form(&[]))),
        entry!("POST" "/projects/{slug}/channels/{id}/remove", Shop(303), |f| (format!("/projects/{}/channels/{}/remove", f.shop.slug, f.new_channel()), form(&[]))),
        entry!("GET" "/attachments/{id}", Shop(200), |f| (format!("/attachments/{}", f.attachment), Body::None)),
        entry!("GET" "/projects/{slug}/feedback", Shop(200), |f| (format!("/projects/{}/feedback", f.shop.slug), Body::None)),
        entry!("GET" "/projects/{slug}/releases", Shop(200), |f| (format!("/projects/{}/releases", f.shop.slug), Body::None)),
        entry!("GET" "/projects/{slug}/releases/{version}", Shop(200), |f| (format!("/projects/{}/releases/1.0", f.shop.slug), Body::None)),
        entry!("GET" "/settings", SignedIn(200), |_| ("/settings".into(), Body::None)),
        entry!("POST" "/settings/tokens", SignedIn(200), |_| ("/settings/tokens".into(), Body::Form(vec![("name", unique())]))),
        // API tokens are their owner's: only the member may revoke the member's.
        entry!("POST" "/settings/tokens/{id}/revoke", SignedIn(303), |f| (format!("/settings/tokens/{}/revoke", f.new_member_token()), form(&[])), &[(Outsider, 404), (Admin, 404)]),
        entry!("POST" "/settings/password", SignedIn(303), |_| ("/settings/password".into(), form(&[("current", bugle_tests::web::PASSWORD), ("password", bugle_tests::web::PASSWORD), ("confirm", bugle_tests::web::PASSWORD)]))),
        entry!("POST" "/settings/mail", SignedIn(303), |_| ("/settings/mail".into(), form(&[("kind", "new_issue")]))),
        entry!("GET" "/admin/users", AdminOnly(200), |_| ("/admin/users".into(), Body::None)),
        entry!("POST" "/admin/users", AdminOnly(200), |_| ("/admin/users".into(), Body::Form(vec![("email", format!("{}@example.com", unique()))]))),
        // Operations: open unless BUGLE_METRICS_TOKEN is set.
        entry!("GET" "/healthz", Open(200), |_| ("/healthz".into(), Body::None)),
        entry!("GET" "/readyz", Open(200), |_| ("/readyz".into(), Body::None)),
        entry!("GET" "/metrics", Open(200), |_| ("/metrics".into(), Body::None)),
    ]);
    all.push(Entry {
        method: "POST",
        pattern: "/logout",
        kind: Kind::SignedIn(303),
        make: |_| ("/logout".into(), form(&[])),
        except: &[],
        ends_session: true,
    });
    all
}
