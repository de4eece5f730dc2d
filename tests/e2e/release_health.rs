//! Release health end to end: the real Python `sentry-sdk` sends sessions (single sessions in
//! application mode, aggregates in request mode) for two releases, with crashes in one; the
//! JSON API and the releases pages show the crash-free figures.

use bugle_tests::python::venv as python;
use bugle_tests::server::{create_project, create_user_token, Backend, TestServer};
use bugle_tests::web::{create_user, WebUser, PASSWORD};
use serde_json::Value;

use crate::sdks::{dsn, run_python};

/// argv: dsn, release, sessions, crashed, running. Half the sessions are application sessions
/// (one `session` item each) for users user-0..; the other half request sessions (counted into
/// a `sessions` aggregate) without a user. Crashes are a handled error, then an unhandled
/// exception, split alike. `running` more application sessions get a handled error and are
/// still running when the script flushes and exits.
const SESSIONS_PY: &str = r#"
import logging, sys
import sentry_sdk
from sentry_sdk.utils import event_from_exception

problems = []
class Problems(logging.Handler):
    def emit(self, record):
        if record.levelno >= logging.WARNING:
            problems.append(record.getMessage())
logging.getLogger("sentry_sdk.errors").addHandler(Problems())

dsn, release, total, crashed, running = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
sentry_sdk.init(dsn=dsn, release=release, environment="production", auto_session_tracking=True)
client = sentry_sdk.get_client()
scope = sentry_sdk.get_isolation_scope()

def handled():
    try:
        int("not a number")
    except ValueError:
        sentry_sdk.capture_exception()

def crash():
    handled()
    try:
        {}["missing"]
    except KeyError:
        event, hint = event_from_exception(
            sys.exc_info(), client_options=client.options,
            mechanism={"type": "excepthook", "handled": False})
        sentry_sdk.capture_event(event, hint=hint)

half = total // 2
for i in range(total):
    mode = "application" if i < half else "request"
    sentry_sdk.set_user({"id": "user-%d" % i} if mode == "application" else None)
    scope.start_session(session_mode=mode)
    if (i < half and i < crashed // 2) or (i >= half and i - half < crashed - crashed // 2):
        crash()
    scope.end_session()
for i in range(running):
    sentry_sdk.set_user({"id": "running-%d" % i})
    scope.start_session(session_mode="application")
    handled()
sentry_sdk.flush(timeout=10)
if problems:
    print("\n".join(problems))
    sys.exit(1)
"#;

fn release<'a>(list: &'a [Value], version: &str) -> &'a Value {
    list.iter()
        .find(|r| r["version"] == version)
        .unwrap_or_else(|| panic!("no release {version}: {list:#?}"))
}

#[test]
fn python_sentry_sdk_sessions_give_crash_free_rates_per_release() {
    let Some(python) = python() else { return };
    for backend in Backend::all() {
        let name = backend.name;
        let db = &backend.database_url;
        let project = create_project(db, "Health");
        let api = create_user_token(db, "ada@example.com", true);
        let server = TestServer::start(db);
        let dsn = dsn(&project, &server);
        run_python(python, SESSIONS_PY, &[&dsn, "shop@1.0.0", "8", "0", "1"]);
        run_python(python, SESSIONS_PY, &[&dsn, "shop@2.0.0", "8", "2", "0"]);

        let list = server.get(&api, &format!("/api/v1/projects/{}/releases", project.slug));
        assert_eq!(list.status, 200, "{name}: {}", list.body);
        let list = list.json()["releases"].as_array().unwrap().clone();
        let healthy = &release(&list, "shop@1.0.0")["health"];
        assert_eq!(healthy["sessions"], 9, "{name}: {healthy:#}");
        assert_eq!(healthy["crashed_sessions"], 0, "{name}: {healthy:#}");
        assert_eq!(
            healthy["errored_sessions"], 1,
            "{name}: running, with an error: {healthy:#}"
        );
        assert_eq!(healthy["crash_free_sessions"], 1.0, "{name}: {healthy:#}");
        let broken = &release(&list, "shop@2.0.0")["health"];
        assert_eq!(broken["sessions"], 8, "{name}: {broken:#}");
        assert_eq!(broken["crashed_sessions"], 2, "{name}: {broken:#}");
        assert_eq!(
            broken["errored_sessions"], 0,
            "{name}: an error, then a crash, is a crashed session: {broken:#}"
        );
        assert_eq!(broken["crash_free_sessions"], 0.75, "{name}: {broken:#}");
        assert_eq!(
            broken["users"], 4,
            "{name}: application sessions' users: {broken:#}"
        );
        assert_eq!(broken["crash_free_users"], 0.75, "{name}: {broken:#}");
        assert_eq!(
            broken["environments"]["production"]["sessions"], 8,
            "{name}: {broken:#}"
        );

        let one = server.get(
            &api,
            &format!("/api/v1/projects/{}/releases/shop@2.0.0", project.slug),
        );
        assert_eq!(one.json()["health"], *broken, "{name}");

        create_user(db, "bob@example.com", true);
        let web = WebUser::sign_in(&server.url, "bob@example.com", PASSWORD);
        let page = web.get(&format!("/projects/{}/releases", project.slug));
        assert_eq!(page.status, 200, "{name}");
        assert!(
            page.body.contains(r#"<td class="crash-free">75.0%"#),
            "{name}: {}",
            page.body
        );
        assert!(
            page.body.contains(r#"<td class="crash-free">100%"#),
            "{name}"
        );
        let page = web.get(&format!("/projects/{}/releases/shop%402.0.0", project.slug));
        assert!(
            page.body
                .contains(r#"<span class="big" id="release-crash-free">75.0%</span>"#),
            "{name}: {}",
            page.body
        );
        assert!(
            page.body
                .contains(r#"<tr class="health" data-env="production">"#),
            "{name}"
        );
    }
}
