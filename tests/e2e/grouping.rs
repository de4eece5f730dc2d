//! Grouping version 2 as a user meets it: the official SDKs (Python `sentry-sdk`,
//! `@sentry/node`, the Rust `sentry` crate) and the Bugle client report real errors to the real
//! server, and the issue list must show one issue per bug: one log template however its
//! arguments vary, one recursion at any depth, one failing function whichever caller reached it
//! (the callers kept as call paths), one frameless chain whatever ids and paths its messages
//! carry; and two issues for the same message failing in two functions, or for two messages.
//!
//! Each SDK runs once per backend, against one server, with one project per scenario: the
//! run's result (every issue as `GET /api/v1/issues/{id}` returns it) is kept, and each test
//! reads its scenario from it. A failing check prints the issues the server made: titles,
//! counts, `grouping.components`, call paths and the latest occurrence's exceptions and frames.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bugle_tests::server::{create_project, create_user_token, Backend, Project, TestServer};
use serde_json::{json, Value};

/// What one SDK's run left on one backend: per scenario, its project's issues, most frequent
/// first, each as `GET /api/v1/issues/{id}` returns it.
struct Run {
    backend: &'static str,
    scenarios: BTreeMap<&'static str, Vec<Value>>,
}

impl Run {
    fn issues(&self, scenario: &str) -> &[Value] {
        &self.scenarios[scenario]
    }
}

/// The runs on every backend, or why the SDK's run failed.
type Runs = Result<Vec<Run>, String>;

fn logging() -> bool {
    std::env::var_os("TEST_LOG").is_some()
}

/// The DSN printed by `project create`, pointed at the test server's port.
fn dsn(project: &Project, server: &TestServer) -> String {
    let host = server.url.strip_prefix("http://").unwrap();
    project.dsn.replace("127.0.0.1:8080", host)
}

/// The projects' DSNs by scenario, as JSON for a script's argument.
fn dsns(server: &TestServer, projects: &BTreeMap<&'static str, Project>) -> Value {
    projects
        .iter()
        .map(|(&scenario, project)| (scenario.to_owned(), json!(dsn(project, server))))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// Each issue of a project in full, most frequent first.
fn issues(server: &TestServer, api: &str, project: &Project) -> Vec<Value> {
    let list = server.get(
        api,
        &format!(
            "/api/v1/projects/{}/issues?sort=count&status=all",
            project.slug
        ),
    );
    assert_eq!(list.status, 200, "{}", list.body);
    list.json()["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|issue| {
            let detail = server.get(api, &format!("/api/v1/issues/{}", issue["id"]));
            assert_eq!(detail.status, 200, "{}", detail.body);
            detail.json()
        })
        .collect()
}

/// Runs `send` once per backend against a fresh server with one project per scenario, then
/// reads every project's issues. A panic (the SDK saw a delivery problem, a script failed)
/// becomes the `Err` every test of this SDK reports.
fn run_on_each_backend(
    sdk: &str,
    scenarios: &[&'static str],
    send: impl Fn(&TestServer, &BTreeMap<&'static str, Project>),
) -> Runs {
    catch_unwind(AssertUnwindSafe(|| {
        Backend::all()
            .into_iter()
            .map(|backend| {
                let db = &backend.database_url;
                let projects: BTreeMap<_, _> = scenarios
                    .iter()
                    .map(|&scenario| (scenario, create_project(db, scenario)))
                    .collect();
                let api = create_user_token(db, "ada@example.com", true);
                let server = TestServer::start(db);
                send(&server, &projects);
                let scenarios: BTreeMap<_, _> = projects
                    .iter()
                    .map(|(&scenario, project)| (scenario, issues(&server, &api, project)))
                    .collect();
                // A shared target dir may hold a `bugle-server` built from another tree.
                for issue in scenarios.values().flatten() {
                    assert_eq!(
                        issue["grouping"]["version"],
                        2,
                        "{} groups with another version: build it from this tree \
                         (`cargo build -p bugle-server`): {issue:#}",
                        bugle_tests::server::binary().display()
                    );
                }
                if logging() {
                    for (scenario, issues) in &scenarios {
                        eprintln!(
                            "{sdk} on {}, {scenario}:\n{}",
                            backend.name,
                            describe(issues)
                        );
                    }
                }
                Run {
                    backend: backend.name,
                    scenarios,
                }
            })
            .collect()
    }))
    .map_err(|panic| {
        let message = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_default();
        format!("the {sdk} run failed: {message}")
    })
}

/// The runs of one SDK: `None` when the SDK is unavailable (outside CI); panics with the
/// run's failure.
fn runs(
    cell: &'static OnceLock<Option<Runs>>,
    init: fn() -> Option<Runs>,
) -> Option<&'static [Run]> {
    match cell.get_or_init(init) {
        None => None,
        Some(Ok(runs)) => Some(runs),
        Some(Err(why)) => panic!("{why}"),
    }
}

/// Runs `check` on every backend's run, so one backend's failure does not hide another's;
/// each failure's panic message is printed above the summary.
fn on_each_backend(runs: &[Run], check: impl Fn(&Run)) {
    let failed: Vec<&str> = runs
        .iter()
        .filter(|run| catch_unwind(AssertUnwindSafe(|| check(run))).is_err())
        .map(|run| run.backend)
        .collect();
    assert!(
        failed.is_empty(),
        "failed on {failed:?} (of {:?}); see the panics above",
        runs.iter().map(|r| r.backend).collect::<Vec<_>>()
    );
}

/// What the server made of the events: per issue its count, title, components, call paths,
/// and the latest occurrence's message, exceptions and in-app frames.
fn describe(issues: &[Value]) -> String {
    let mut out = format!("{} issue(s)\n", issues.len());
    for issue in issues {
        let latest = &issue["latest"];
        out += &format!(
            "- #{} count {} title {}\n  components {}\n  hashes {}\n  call paths {}\n",
            issue["id"],
            issue["count"],
            issue["title"],
            issue["grouping"]["components"],
            issue["grouping"]["hashes"],
            issue["facets"]["call_path"],
        );
        if !latest["message"].is_null() {
            out += &format!("  latest message {}\n", latest["message"]);
        }
        for exc in latest["exceptions"].as_array().into_iter().flatten() {
            let frames: Vec<String> = exc["frames"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|f| {
                    let place = f["module"].as_str().or(f["filename"].as_str());
                    let app = if f["in_app"] == true { "*" } else { "" };
                    format!("{app}{} in {}", place.unwrap_or("?"), f["function"])
                })
                .collect();
            out += &format!(
                "  latest {}: {} mechanism {}\n    frames (outermost first, * in-app) {frames:?}\n",
                exc["type"], exc["value"], exc["mechanism"]
            );
        }
    }
    out
}

fn components(issue: &Value) -> Vec<&str> {
    issue["grouping"]["components"]
        .as_array()
        .unwrap_or_else(|| panic!("no grouping.components: {issue:#}"))
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect()
}

/// The issue's call paths as (value, count), most frequent first.
fn call_paths(issue: &Value) -> Vec<(String, u64)> {
    let mut paths: Vec<(String, u64)> = issue["facets"]["call_path"]
        .as_array()
        .unwrap_or_else(|| panic!("no facets.call_path: {issue:#}"))
        .iter()
        .map(|v| {
            (
                v["value"].as_str().unwrap().to_owned(),
                v["count"].as_u64().unwrap(),
            )
        })
        .collect();
    paths.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    paths
}

/// Runs a script with an interpreter and an argument; panics with its output unless it exits 0
/// (the scripts exit 1 when the SDK saw a delivery problem). Returns its stdout.
fn run_script(
    interpreter: &Path,
    file: &str,
    script: &str,
    arg: &Value,
    env: &[(&str, &Path)],
) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(file);
    std::fs::write(&path, script).unwrap();
    let out = Command::new(interpreter)
        .arg(&path)
        .arg(arg.to_string())
        .envs(env.iter().copied())
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{file} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    if logging() {
        eprintln!("{file}: {stdout}");
    }
    stdout
}

// --- Python sentry-sdk ---------------------------------------------------------------------

const TEMPLATE: &str = "Invoice %s was not sent to %s: mail relay %s refused it";
const CUSTOMERS: [&str; 5] = [
    "ada@example.com",
    "Bob Stone",
    "carol",
    "Dmitri Ivanov (ACME GmbH)",
    "eve",
];
const RELAYS: [&str; 4] = [
    "smtp-1.eu.example.net",
    "10.0.4.17",
    "relay.internal",
    "mx2.mail.example.org",
];

/// The `n`th log call's arguments (the script makes the same ones) and formatted message.
fn invoice_message(n: usize) -> String {
    format!(
        "Invoice {} was not sent to {}: mail relay {} refused it",
        88200 + 7 * n,
        CUSTOMERS[n % CUSTOMERS.len()],
        RELAYS[n % RELAYS.len()]
    )
}

const PYTHON_SCENARIOS: &[&str] = &["log_template", "recursion", "callers", "same_message"];

/// All Python scenarios in one run: `sentry_sdk.init` with each scenario's DSN in turn.
const GROUPING_PY: &str = r#"
import json, logging, sys
import sentry_sdk
from sentry_sdk.integrations.logging import LoggingIntegration

problems = []
class Problems(logging.Handler):
    def emit(self, record):
        if record.levelno >= logging.WARNING:
            problems.append(record.getMessage())
logging.getLogger("sentry_sdk.errors").addHandler(Problems())

arg = json.loads(sys.argv[1])

def start(scenario):
    sentry_sdk.init(
        dsn=arg["dsns"][scenario],
        release="shop@3.1.0",
        integrations=[LoggingIntegration(level=logging.INFO, event_level=logging.ERROR)],
    )

def finish():
    sentry_sdk.flush(timeout=10)

# 1. One log call, twenty different messages.
start("log_template")
log = logging.getLogger("billing.mailer")
customers, relays = arg["customers"], arg["relays"]
for n in range(20):
    log.error("Invoice %s was not sent to %s: mail relay %s refused it",
              88200 + 7 * n, customers[n % len(customers)], relays[n % len(relays)])
finish()

# 2. A recursive-descent parser failing at depths 5 to 30.
start("recursion")
class ParseError(Exception):
    pass

class Parser:
    def __init__(self, text):
        self.text = text
        self.pos = 0

    def parse_value(self):
        c = self.text[self.pos] if self.pos < len(self.text) else "end of input"
        if c == "[":
            return self.parse_list()
        if c.isdigit():
            self.pos += 1
            return int(c)
        raise ParseError("unexpected %r at offset %d" % (c, self.pos))

    def parse_list(self):
        self.pos += 1
        items = [self.parse_value()]
        while self.text[self.pos] == ",":
            self.pos += 1
            items.append(self.parse_value())
        self.pos += 1
        return items

def parse(text):
    return Parser(text).parse_value()

for depth in range(5, 31):
    try:
        parse("[1," * depth + "?x!"[depth % 3])
    except ParseError as e:
        sentry_sdk.capture_exception(e)
finish()

# 3. One failing function, two callers.
start("callers")
def compute_total(cart):
    subtotal = sum(item["price"] * item["qty"] for item in cart["items"])
    return subtotal + cart["shipping"]

def checkout(cart):
    total = compute_total(cart)
    return "charged %d" % total

def invoice(cart):
    return {"total": compute_total(cart), "currency": "EUR"}

carts = [{"items": [{"price": p, "qty": q}]} for p, q in [(3, 1), (5, 2), (7, 3), (11, 4), (13, 5)]]
for i, cart in enumerate(carts):
    try:
        if i < 3:
            checkout(cart)
        else:
            invoice(cart)
    except KeyError as e:
        sentry_sdk.capture_exception(e)
finish()

# 4. The same message raised in two functions.
start("same_message")
def add_to_cart(cart, sku, qty):
    if qty <= 0:
        raise ValueError("quantity must be positive")
    cart[sku] = qty

def update_quantity(cart, sku, qty):
    if sku not in cart:
        cart[sku] = 1
    if qty <= 0:
        raise ValueError("quantity must be positive")
    cart[sku] = qty

for change, sku, qty in [(add_to_cart, "A-1", 0), (add_to_cart, "B-2", -1),
                         (update_quantity, "A-1", -3), (update_quantity, "C-3", 0)]:
    try:
        change({}, sku, qty)
    except ValueError as e:
        sentry_sdk.capture_exception(e)
finish()

print("sentry-sdk", sentry_sdk.VERSION)
if problems:
    print("\n".join(problems))
    sys.exit(1)
"#;

fn python_runs() -> Option<&'static [Run]> {
    static RUNS: OnceLock<Option<Runs>> = OnceLock::new();
    runs(&RUNS, || {
        let python = bugle_tests::python::venv()?;
        Some(run_on_each_backend(
            "Python sentry-sdk",
            PYTHON_SCENARIOS,
            |server, projects| {
                let arg = json!({
                    "dsns": dsns(server, projects),
                    "customers": CUSTOMERS,
                    "relays": RELAYS,
                });
                run_script(python, "app.py", GROUPING_PY, &arg, &[]);
            },
        ))
    })
}

#[test]
fn twenty_log_errors_from_one_template_are_one_issue() {
    let Some(runs) = python_runs() else { return };
    on_each_backend(runs, |run| {
        let issues = run.issues("log_template");
        let all = describe(issues);
        assert_eq!(issues.len(), 1, "{}: one issue:\n{all}", run.backend);
        let issue = &issues[0];
        assert_eq!(issue["count"], 20, "{}:\n{all}", run.backend);
        assert_eq!(
            issue["title"], TEMPLATE,
            "{}: titled by the template:\n{all}",
            run.backend
        );
        assert_eq!(
            issue["latest"]["message"],
            invoice_message(19),
            "{}: the latest occurrence keeps its formatted message:\n{all}",
            run.backend
        );
    });
}

#[test]
fn a_recursion_failing_at_any_depth_is_one_issue() {
    let Some(runs) = python_runs() else { return };
    on_each_backend(runs, |run| {
        let issues = run.issues("recursion");
        let all = describe(issues);
        assert_eq!(issues.len(), 1, "{}: one issue:\n{all}", run.backend);
        assert_eq!(
            issues[0]["count"], 26,
            "{}: depths 5 to 30:\n{all}",
            run.backend
        );
        assert!(
            issues[0]["title"]
                .as_str()
                .is_some_and(|t| t.starts_with("ParseError: unexpected")),
            "{}:\n{all}",
            run.backend
        );
        let components = components(&issues[0]);
        assert!(
            components
                .iter()
                .any(|c| c.starts_with("recursion: ") && c.contains("parse_value"))
                && components
                    .iter()
                    .any(|c| c.starts_with("recursion: ") && c.contains("parse_list")),
            "{}: the cycle is the site:\n{all}",
            run.backend
        );
    });
}

#[test]
fn one_function_failing_from_two_callers_is_one_issue_with_two_call_paths() {
    let Some(runs) = python_runs() else { return };
    on_each_backend(runs, |run| {
        let issues = run.issues("callers");
        let all = describe(issues);
        assert_eq!(issues.len(), 1, "{}: one issue:\n{all}", run.backend);
        let issue = &issues[0];
        assert_eq!(issue["count"], 5, "{}:\n{all}", run.backend);
        assert_eq!(
            issue["title"], "KeyError: 'shipping'",
            "{}:\n{all}",
            run.backend
        );
        let paths = call_paths(issue);
        assert_eq!(paths.len(), 2, "{}: two call paths:\n{all}", run.backend);
        assert!(
            paths[0].0.contains("checkout") && paths[0].1 == 3,
            "{}: {paths:?}",
            run.backend
        );
        assert!(
            paths[1].0.contains("invoice") && paths[1].1 == 2,
            "{}: {paths:?}",
            run.backend
        );
    });
}

#[test]
fn the_same_message_raised_in_two_functions_is_two_issues() {
    let Some(runs) = python_runs() else { return };
    on_each_backend(runs, |run| {
        let issues = run.issues("same_message");
        assert_same_message_two_issues(run.backend, issues, "add_to_cart", "update_quantity");
    });
}

/// Two issues of two events each, titled alike, each failing in its own function.
fn assert_same_message_two_issues(backend: &str, issues: &[Value], one: &str, other: &str) {
    let all = describe(issues);
    assert_eq!(issues.len(), 2, "{backend}: two issues:\n{all}");
    for issue in issues {
        assert_eq!(issue["count"], 2, "{backend}:\n{all}");
        assert!(
            issue["title"]
                .as_str()
                .is_some_and(|t| t.ends_with("quantity must be positive")),
            "{backend}:\n{all}"
        );
    }
    let site = |f: &str| {
        issues
            .iter()
            .filter(|i| components(i).iter().any(|c| c.contains(f)))
            .count()
    };
    assert!(
        site(one) == 1 && site(other) == 1,
        "{backend}: one issue per function:\n{all}"
    );
}

// --- @sentry/node --------------------------------------------------------------------------

const NODE_SCENARIOS: &[&str] = &["callers", "same_message"];

/// Both Node scenarios in one run: `Sentry.init` with each scenario's DSN, `Sentry.close` after.
/// Every envelope's HTTP status is recorded; anything but 200, or fewer events sent than
/// captured, fails the script. The default `Dedupe` integration is left out: it drops an event
/// whose message and stack equal the previous event's, and these scenarios repeat on purpose.
const GROUPING_JS: &str = r#"
const Sentry = require("@sentry/node");

const arg = JSON.parse(process.argv[2]);
const problems = [];
const statuses = [];
let captured = 0;
let sent = 0;

function recordingTransport(options) {
  const inner = Sentry.makeNodeTransport(options);
  return {
    send: async (envelope) => {
      sent += envelope[1].filter(([item]) => item.type === "event").length;
      try {
        const reply = await inner.send(envelope);
        statuses.push(reply.statusCode);
        return reply;
      } catch (e) {
        problems.push(`send failed: ${e}`);
        throw e;
      }
    },
    flush: (timeout) => inner.flush(timeout),
  };
}

async function scenario(name, body) {
  Sentry.init({
    dsn: arg.dsns[name],
    release: "shop-web@4.0.0",
    transport: recordingTransport,
    integrations: (defaults) => defaults.filter((i) => i.name !== "Dedupe"),
  });
  body();
  if (!(await Sentry.close(10000))) problems.push(`${name}: close timed out`);
}

function capture(e) {
  Sentry.captureException(e);
  captured += 1;
}

// One failing function, two callers.
function computeTotal(cart) {
  const subtotal = cart.items.reduce((sum, item) => sum + item.price * item.qty, 0);
  return subtotal + cart.shipping.cost;
}

function checkout(cart) {
  const total = computeTotal(cart);
  return `charged ${total}`;
}

function invoice(cart) {
  return { total: computeTotal(cart), currency: "EUR" };
}

// The same message thrown in two functions.
function addToCart(cart, sku, qty) {
  if (qty <= 0) throw new Error("quantity must be positive");
  cart[sku] = qty;
}

function updateQuantity(cart, sku, qty) {
  if (!(sku in cart)) cart[sku] = 1;
  if (qty <= 0) throw new Error("quantity must be positive");
  cart[sku] = qty;
}

async function main() {
  await scenario("callers", () => {
    const carts = [[3, 1], [5, 2], [7, 3], [11, 4], [13, 5]].map(([price, qty]) => ({
      items: [{ price, qty }],
    }));
    for (let i = 0; i < carts.length; i++) {
      try {
        if (i < 3) checkout(carts[i]);
        else invoice(carts[i]);
      } catch (e) {
        capture(e);
      }
    }
  });
  await scenario("same_message", () => {
    const changes = [[addToCart, "A-1", 0], [addToCart, "B-2", -1],
                     [updateQuantity, "A-1", -3], [updateQuantity, "C-3", 0]];
    for (const [change, sku, qty] of changes) {
      try {
        change({}, sku, qty);
      } catch (e) {
        capture(e);
      }
    }
  });
  console.log(`@sentry/node ${Sentry.SDK_VERSION}: ${captured} captured, ${sent} sent, statuses ${JSON.stringify(statuses)}`);
  if (sent !== captured || statuses.some((s) => s !== 200)) {
    problems.push(`${captured} events captured, ${sent} sent, envelope statuses ${JSON.stringify(statuses)}`);
  }
  if (problems.length) {
    console.log(problems.join("\n"));
    process.exit(1);
  }
}

main();
"#;

fn node_runs() -> Option<&'static [Run]> {
    static RUNS: OnceLock<Option<Runs>> = OnceLock::new();
    runs(&RUNS, || {
        let project = bugle_tests::node::project()?;
        if logging() {
            eprintln!(
                "@sentry/node {:?} in {}",
                bugle_tests::node::sentry_node_version(project),
                project.display()
            );
        }
        let modules = project.join("node_modules");
        Some(run_on_each_backend(
            "@sentry/node",
            NODE_SCENARIOS,
            |server, projects| {
                let arg = json!({"dsns": dsns(server, projects)});
                run_script(
                    Path::new("node"),
                    "app.js",
                    GROUPING_JS,
                    &arg,
                    &[("NODE_PATH", &modules)],
                );
            },
        ))
    })
}

#[test]
fn node_one_function_failing_from_two_callers_is_one_issue_with_two_call_paths() {
    let Some(runs) = node_runs() else { return };
    on_each_backend(runs, |run| {
        let issues = run.issues("callers");
        let all = describe(issues);
        assert_eq!(issues.len(), 1, "{}: one issue:\n{all}", run.backend);
        let issue = &issues[0];
        assert_eq!(issue["count"], 5, "{}:\n{all}", run.backend);
        assert!(
            issue["title"]
                .as_str()
                .is_some_and(|t| t.starts_with("TypeError: ")),
            "{}:\n{all}",
            run.backend
        );
        let paths = call_paths(issue);
        assert_eq!(paths.len(), 2, "{}: two call paths:\n{all}", run.backend);
        assert!(
            paths[0].0.contains("checkout") && paths[0].1 == 3,
            "{}: {paths:?}",
            run.backend
        );
        assert!(
            paths[1].0.contains("invoice") && paths[1].1 == 2,
            "{}: {paths:?}",
            run.backend
        );
    });
}

#[test]
fn node_the_same_message_thrown_in_two_functions_is_two_issues() {
    let Some(runs) = node_runs() else { return };
    on_each_backend(runs, |run| {
        let issues = run.issues("same_message");
        assert_same_message_two_issues(run.backend, issues, "addToCart", "updateQuantity");
    });
}

// --- Rust: the sentry crate and the Bugle client ---------------------------------------------

/// An error whose message carries ids, caused by an I/O error whose message carries a path.
#[derive(Debug)]
struct SyncError {
    message: String,
    source: std::io::Error,
}

impl std::fmt::Display for SyncError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SyncError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// (invoice, region, database file) of the failed syncs.
const SYNCS: [(&str, &str, u32); 4] = [
    ("INV-88213", "eu-west7-b", 7731),
    ("INV-90417", "us-east2-a", 1204),
    ("INV-10233", "ap-south1-c", 88),
    ("INV-55102", "eu-north3-a", 40961),
];

/// Four errors of one kind ("cannot sync invoice …"), then two of another ("… was rejected by
/// the ledger"), each with its own ids and paths.
fn sync_errors() -> Vec<SyncError> {
    let cause = |file: u32| {
        std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("cannot open /var/lib/app/{file}.db"),
        )
    };
    let syncs = SYNCS.iter().map(|&(invoice, region, file)| SyncError {
        message: format!("cannot sync invoice {invoice} in {region}"),
        source: cause(file),
    });
    let rejected = SYNCS[..2].iter().map(|&(invoice, _, file)| SyncError {
        message: format!("invoice {invoice} was rejected by the ledger"),
        source: cause(file),
    });
    syncs.chain(rejected).collect()
}

/// Four syncs failing with different ids and paths are one issue; two rejections another.
fn assert_two_chains(backend: &str, issues: &[Value]) {
    let all = describe(issues);
    assert_eq!(issues.len(), 2, "{backend}: two issues:\n{all}");
    assert_eq!(issues[0]["count"], 4, "{backend}:\n{all}");
    assert!(
        issues[0]["title"]
            .as_str()
            .is_some_and(|t| t.contains("cannot sync invoice")),
        "{backend}:\n{all}"
    );
    assert_eq!(issues[1]["count"], 2, "{backend}:\n{all}");
    assert!(
        issues[1]["title"]
            .as_str()
            .is_some_and(|t| t.contains("was rejected by the ledger")),
        "{backend}:\n{all}"
    );
}

fn sentry_crate_runs() -> Option<&'static [Run]> {
    static RUNS: OnceLock<Option<Runs>> = OnceLock::new();
    runs(&RUNS, || {
        Some(run_on_each_backend(
            "Rust sentry crate",
            &["chains"],
            |server, projects| {
                // A client of its own, without integrations: no backtrace is attached, and no
                // process-wide panic hook is installed.
                let mut options = sentry::ClientOptions::new();
                options.dsn = Some(dsn(&projects["chains"], server).parse().unwrap());
                options.release = Some("sync@1.4.0".into());
                options.default_integrations = false;
                let client = Arc::new(sentry::Client::from(sentry::apply_defaults(options)));
                let hub =
                    sentry::Hub::new(Some(client.clone()), Arc::new(sentry::Scope::default()));
                for err in sync_errors() {
                    let event = sentry::event_from_error(&err);
                    assert!(
                        event.exception.iter().all(|e| e.stacktrace.is_none()),
                        "the chain has no frames: {event:?}"
                    );
                    hub.capture_error(&err);
                }
                assert!(
                    client.close(Some(Duration::from_secs(10))),
                    "the SDK flushed every event"
                );
            },
        ))
    })
}

#[test]
fn rust_error_chains_are_one_issue_across_ids_and_paths_and_another_message_is_another() {
    let Some(runs) = sentry_crate_runs() else {
        return;
    };
    on_each_backend(runs, |run| {
        let issues = run.issues("chains");
        assert_two_chains(run.backend, issues);
        for issue in issues {
            assert!(
                issue["latest"]["exceptions"][0]["frames"]
                    .as_array()
                    .is_none_or(|f| f.is_empty()),
                "{}: sent without frames: {issue:#}",
                run.backend
            );
        }
    });
}

/// Where the app reports a failed sync: the stack the client attaches ends here.
#[inline(never)]
fn report_failed_sync(err: &SyncError) -> Option<bugle::Uuid> {
    bugle::capture_error(err)
}

fn bugle_client_runs() -> Option<&'static [Run]> {
    static RUNS: OnceLock<Option<Runs>> = OnceLock::new();
    runs(&RUNS, || {
        Some(run_on_each_backend(
            "Bugle client",
            &["chains"],
            |server, projects| {
                // The process-wide client; no other test of this binary uses it.
                let guard = bugle::init(
                    bugle::Options::new(&server.url, &projects["chains"].token)
                        .release("sync@1.4.0")
                        .install_panic_hook(false),
                );
                for err in sync_errors() {
                    assert!(report_failed_sync(&err).is_some(), "queued");
                }
                assert!(
                    bugle::flush(Duration::from_secs(10)),
                    "the client delivered every event"
                );
                drop(guard);
            },
        ))
    })
}

#[test]
fn bugle_captured_chains_are_one_issue_across_ids_and_paths_and_another_message_is_another() {
    let Some(runs) = bugle_client_runs() else {
        return;
    };
    on_each_backend(runs, |run| {
        let issues = run.issues("chains");
        assert_two_chains(run.backend, issues);
        for issue in issues {
            let outermost = &issue["latest"]["exceptions"][0];
            assert_eq!(
                outermost["mechanism"]["type"], "capture_error",
                "{}: {issue:#}",
                run.backend
            );
            let components = components(issue);
            assert!(
                components.iter().any(|c| c.starts_with("message: ")),
                "{}: the outermost message is hashed:\n{}",
                run.backend,
                describe(issues)
            );
            assert!(
                components.contains(&"site: e2e::grouping in e2e::grouping::report_failed_sync"),
                "{}: the capture site is the site:\n{}",
                run.backend,
                describe(issues)
            );
        }
    });
}
