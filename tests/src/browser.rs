//! A minimal W3C WebDriver client over a private `chromedriver` and headless Chromium, so the
//! end-to-end tests can drive the real web UI without a Selenium stack.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};

/// Keys under which element references arrive: the W3C one, and the one some chromedriver
/// builds (e.g. Debian's 156) use instead, for replies and arguments alike.
const ELEMENT_KEYS: [&str; 2] = [
    "element-6066-11e4-a837-5f0d4d1b5ec8",
    "element-6066-11e4-a52e-4f735466cecf",
];
/// How long `find` and `wait_for` give a page to settle before failing.
const WAIT: Duration = Duration::from_secs(5);
const POLL: Duration = Duration::from_millis(100);

/// One headless Chromium session. Drop ends the session and the driver.
pub struct Browser {
    agent: ureq::Agent,
    /// `http://127.0.0.1:PORT/session/ID`, the prefix of every command.
    session: String,
    driver: Child,
    /// Chromium's profile and the driver's log; removed after the driver is gone.
    dir: tempfile::TempDir,
}

/// An element of the current page; stale once the page navigates.
pub struct Element<'a> {
    browser: &'a Browser,
    id: String,
    /// The reference as the driver sent it, so scripts get back the key it understands.
    reference: Value,
}

/// Where failing tests leave screenshots: `target/browser-screenshots`, which CI uploads.
pub fn artifacts_dir() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root");
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        // A relative target dir is relative to where cargo ran, normally the workspace root.
        Some(dir) => workspace.join(dir),
        None => workspace.join("target"),
    };
    target.join("browser-screenshots")
}

/// `env` if set, else the first of `candidates` (absolute paths or names on PATH) that exists.
fn locate(env: &str, candidates: &[&str]) -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os(env) {
        let path = PathBuf::from(path);
        if path.is_file() {
            return Ok(path);
        }
        return Err(format!("{env}={} does not exist", path.display()));
    }
    let path_dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    candidates
        .iter()
        .flat_map(|c| {
            if Path::new(c).is_absolute() {
                vec![PathBuf::from(c)]
            } else {
                path_dirs.iter().map(|d| d.join(c)).collect()
            }
        })
        .find(|p| p.is_file())
        .ok_or_else(|| format!("none of {candidates:?} found (set {env})"))
}

impl Browser {
    /// Starts chromedriver and a session; `None` when chromedriver or Chromium isn't
    /// installed, except under CI, where a missing browser must fail the run instead.
    pub fn start() -> Option<Browser> {
        let found = locate("CHROMEDRIVER", &["/usr/bin/chromedriver", "chromedriver"])
            .and_then(|d| Ok((d, locate("CHROME", &["/usr/bin/chromium", "chromium"])?)));
        let (driver_bin, chrome) = match found {
            Ok(found) => found,
            Err(e) if crate::in_ci() => panic!("a browser is required under CI=true: {e}"),
            Err(e) => {
                eprintln!("skipping browser test: {e}");
                return None;
            }
        };
        let dir = tempfile::tempdir().expect("a temporary folder");
        let log = dir.path().join("chromedriver.log");
        // Free now; chromedriver takes it a moment later.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let driver = Command::new(&driver_bin)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", driver_bin.display()));
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let mut browser = Browser {
            agent,
            session: format!("http://127.0.0.1:{port}"),
            driver,
            dir,
        };
        browser.wait_until_ready(&log);

        let profile = browser.dir.path().join("profile");
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,900",
            &format!("--user-data-dir={}", profile.display()),
        ];
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chrome, "args": args},
        }}});
        let created = browser.command("POST", "/session", Some(capabilities));
        let id = match created.as_ref().map(|v| v["sessionId"].as_str()) {
            Ok(Some(id)) => id.to_owned(),
            _ => panic!(
                "chromedriver could not start {}: {created:?}",
                chrome.display()
            ),
        };
        browser.session = format!("{}/session/{id}", browser.session);
        Some(browser)
    }

    /// Polls GET /status: the driver needs a moment to listen.
    fn wait_until_ready(&mut self, log: &Path) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(status) = self.command("GET", "/status", None) {
                if status["ready"] == true {
                    return;
                }
            }
            let exited = self.driver.try_wait().ok().flatten();
            if exited.is_some() || Instant::now() > deadline {
                let log = std::fs::read_to_string(log).unwrap_or_default();
                panic!("chromedriver not ready within 10 s (exit: {exited:?}); log:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends one command (`path` relative to the session) and returns its `value`, or the
    /// WebDriver error as "error: message"; transport failures are errors too.
    fn command(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let url = format!("{}{path}", self.session);
        let sent = match (method, body) {
            ("GET", _) => self.agent.get(&url).call(),
            ("DELETE", _) => self.agent.delete(&url).call(),
            (_, body) => self.agent.post(&url).send_json(body.unwrap_or(json!({}))),
        };
        let mut response = sent.map_err(|e| format!("{method} {url}: {e}"))?;
        let ok = response.status().is_success();
        let reply: Value = (response.body_mut().with_config())
            .limit(64 << 20)
            .read_json()
            .map_err(|e| format!("{method} {url}: unreadable reply: {e}"))?;
        let value = reply.get("value").cloned().unwrap_or(Value::Null);
        let (error, message) = (value["error"].as_str(), value["message"].as_str());
        match (ok, error, message.unwrap_or_default()) {
            (true, None, _) => Ok(value),
            // chromedriver's messages usually repeat the error code already.
            (_, Some(error), message) if message.starts_with(error) => Err(message.to_owned()),
            (_, error, message) => Err(format!("{}: {message}", error.unwrap_or("http error"))),
        }
    }

    /// As [`Browser::command`], panicking with the command and the driver's error.
    fn run(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.command(method, path, body)
            .unwrap_or_else(|e| panic!("WebDriver {method} {path} failed: {e}"))
    }

    pub fn goto(&self, url: &str) {
        self.run("POST", "/url", Some(json!({ "url": url })));
    }

    pub fn current_url(&self) -> String {
        string(self.run("GET", "/url", None))
    }

    pub fn title(&self) -> String {
        string(self.run("GET", "/title", None))
    }

    pub fn page_source(&self) -> String {
        string(self.run("GET", "/source", None))
    }

    pub fn back(&self) {
        self.run("POST", "/back", None);
    }

    /// The first element matching `css`, waiting for scripts to render it.
    pub fn find(&self, css: &str) -> Element<'_> {
        self.find_in("", css)
    }

    /// Every element matching `css` right now.
    pub fn find_all(&self, css: &str) -> Vec<Element<'_>> {
        self.find_all_in("", css)
    }

    /// Whether `css` matches anything right now.
    pub fn exists(&self, css: &str) -> bool {
        !self.find_all(css).is_empty()
    }

    /// Polls `f` until it holds; panics naming `what` after 5 s.
    pub fn wait_for(&self, what: &str, f: impl Fn(&Browser) -> bool) {
        let deadline = Instant::now() + WAIT;
        while !f(self) {
            if Instant::now() > deadline {
                panic!(
                    "timed out after {WAIT:?} waiting for {what} at {}",
                    self.current_url()
                );
            }
            std::thread::sleep(POLL);
        }
    }

    /// Runs `script` as a function body with `arguments`; returns what it returns.
    pub fn execute(&self, script: &str, args: Vec<Value>) -> Value {
        let body = json!({ "script": script, "args": args });
        self.run("POST", "/execute/sync", Some(body))
    }

    /// Saves the viewport as a PNG at `path`, creating its folder.
    pub fn screenshot(&self, path: &Path) {
        let encoded = string(self.run("GET", "/screenshot", None));
        let png = (base64::engine::general_purpose::STANDARD.decode(encoded))
            .unwrap_or_else(|e| panic!("screenshot is not base64: {e}"));
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .unwrap_or_else(|e| panic!("cannot create {}: {e}", parent.display()));
        }
        std::fs::write(path, png)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }

    /// The cookies visible to the current page, as WebDriver cookie objects.
    pub fn cookies(&self) -> Vec<Value> {
        match self.run("GET", "/cookie", None) {
            Value::Array(cookies) => cookies,
            other => panic!("WebDriver GET /cookie returned {other}"),
        }
    }

    /// `scope` is "" for the document or "/element/ID" for an element's descendants.
    fn find_in(&self, scope: &str, css: &str) -> Element<'_> {
        let deadline = Instant::now() + WAIT;
        let query = json!({ "using": "css selector", "value": css });
        loop {
            match self.command("POST", &format!("{scope}/element"), Some(query.clone())) {
                Ok(found) => return self.element(found),
                Err(e) if !e.starts_with("no such element") => {
                    panic!("finding {css:?} failed: {e}")
                }
                Err(_) if Instant::now() > deadline => panic!(
                    "no element matches {css:?} after {WAIT:?} at {}",
                    self.current_url()
                ),
                Err(_) => std::thread::sleep(POLL),
            }
        }
    }

    fn find_all_in(&self, scope: &str, css: &str) -> Vec<Element<'_>> {
        let query = json!({ "using": "css selector", "value": css });
        match self.run("POST", &format!("{scope}/elements"), Some(query)) {
            Value::Array(found) => found.into_iter().map(|v| self.element(v)).collect(),
            other => panic!("finding all {css:?} returned {other}"),
        }
    }

    fn element(&self, reference: Value) -> Element<'_> {
        match ELEMENT_KEYS.iter().find_map(|key| reference[key].as_str()) {
            Some(id) => Element {
                browser: self,
                id: id.to_owned(),
                reference,
            },
            None => panic!("not an element reference: {reference}"),
        }
    }
}

fn string(value: Value) -> String {
    match value {
        Value::String(s) => s,
        other => panic!("WebDriver returned {other} where a string was expected"),
    }
}

impl<'a> Element<'a> {
    fn run(&self, method: &str, command: &str, body: Option<Value>) -> Value {
        let path = format!("/element/{}{command}", self.id);
        self.browser.run(method, &path, body)
    }

    pub fn click(&self) {
        self.run("POST", "/click", None);
    }

    /// The rendered (visible) text.
    pub fn text(&self) -> String {
        string(self.run("GET", "/text", None))
    }

    /// Types `text` as key presses, appending to the current value.
    pub fn send_keys(&self, text: &str) {
        self.run("POST", "/value", Some(json!({ "text": text })));
    }

    pub fn clear(&self) {
        self.run("POST", "/clear", None);
    }

    /// The attribute (or, as WebDriver does, the same-named property), if set.
    pub fn attr(&self, name: &str) -> Option<String> {
        match self.run("GET", &format!("/attribute/{name}"), None) {
            Value::Null => None,
            Value::String(s) => Some(s),
            other => Some(other.to_string()),
        }
    }

    /// The first matching descendant, waiting as [`Browser::find`] does.
    pub fn find(&self, css: &str) -> Element<'a> {
        self.browser.find_in(&format!("/element/{}", self.id), css)
    }

    pub fn find_all(&self, css: &str) -> Vec<Element<'a>> {
        self.browser
            .find_all_in(&format!("/element/{}", self.id), css)
    }

    pub fn is_displayed(&self) -> bool {
        self.run("GET", "/displayed", None) == true
    }

    /// This element as an argument for [`Browser::execute`].
    pub fn as_arg(&self) -> Value {
        self.reference.clone()
    }
}

impl Drop for Browser {
    /// Best effort and panic-free: a test that already failed must still report its own panic.
    fn drop(&mut self) {
        if self.session.contains("/session/") {
            let quit = (self.agent.delete(&self.session).config())
                .timeout_global(Some(Duration::from_secs(5)))
                .build()
                .call();
            if let Err(e) = quit {
                eprintln!("closing the browser session failed: {e}");
            }
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    const PAGE: &str = r#"<!doctype html><title>Self test</title>
<p id="out">waiting</p><input id="name" value="old">
<ul><li>a</li><li>b</li></ul>
<button id="go" onclick="setTimeout(() => {
  document.getElementById('out').textContent = 'clicked ' + document.getElementById('name').value;
}, 200)">Go</button>"#;

    /// Serves `PAGE` at `/` (404 elsewhere) until the test process exits.
    fn serve() -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        let url = format!("http://{}/", listener.local_addr().expect("an address"));
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                let mut request = Vec::new();
                let mut buf = [0; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let (status, body) = match request.starts_with(b"GET / ") {
                    true => ("200 OK", PAGE),
                    false => ("404 Not Found", ""),
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        url
    }

    #[test]
    fn drives_a_page() {
        let Some(browser) = Browser::start() else {
            return;
        };
        let url = serve();
        browser.goto(&url);
        assert_eq!(browser.current_url(), url);
        assert_eq!(browser.title(), "Self test");
        assert!(browser.page_source().contains("waiting"));
        assert!(browser.exists("#go") && !browser.exists("#missing"));
        assert_eq!(browser.find_all("li").len(), 2);
        assert_eq!(browser.find("ul").find_all("li")[1].text(), "b");

        let name = browser.find("#name");
        assert_eq!(name.attr("value").as_deref(), Some("old"));
        assert_eq!(name.attr("data-missing"), None);
        name.clear();
        name.send_keys("Ada");
        browser.find("#go").click();
        browser.wait_for("the click handler", |b| b.find("#out").text() != "waiting");
        assert_eq!(browser.find("#out").text(), "clicked Ada");
        assert!(browser.find("#go").is_displayed());
        let sum = browser.execute(
            "return arguments[0] + arguments[1];",
            vec![json!(2), json!(3)],
        );
        assert_eq!(sum, json!(5));
        let tag = browser.execute("return arguments[0].tagName;", vec![name.as_arg()]);
        assert_eq!(tag, json!("INPUT"));
        assert!(browser.cookies().is_empty());

        let dir = tempfile::tempdir().expect("a temporary folder");
        let png = dir.path().join("nested/shot.png");
        browser.screenshot(&png);
        let bytes = std::fs::read(&png).expect("the screenshot");
        assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));

        browser.goto(&format!("{url}other"));
        browser.back();
        assert_eq!(browser.current_url(), url);
    }
}
