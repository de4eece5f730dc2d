//! The dashboard as a person uses it: headless Chromium (Debian's `chromium` and
//! `chromium-driver`) over WebDriver against the real binary. Screenshots of the main pages
//! land in `target/browser-screenshots/`.

use bugle_tests::browser::{artifacts_dir, Browser};
use bugle_tests::server::{cli, create_project, Backend, TestServer};
use bugle_tests::web::{create_user, PASSWORD};
use serde_json::json;

fn sign_in(browser: &Browser, base: &str, email: &str) {
    browser.goto(&format!("{base}/projects"));
    browser.wait_for("the login page", |b| b.current_url().contains("/login"));
    browser.find("input[name=email]").send_keys(email);
    browser.find("input[name=password]").send_keys(PASSWORD);
    browser.find("#sign-in").click();
    browser.wait_for("the projects page", |b| {
        b.current_url().ends_with("/projects") && b.exists("h1")
    });
}

fn shot(browser: &Browser, name: &str) {
    browser.screenshot(&artifacts_dir().join(format!("{name}.png")));
}

fn config_error(host: &str, release: &str) -> serde_json::Value {
    json!({
        "level": "error", "language": "rust", "environment": "production", "release": release,
        "exceptions": [
            {"type": "app::ConfigError", "value": "cannot load /etc/app/config.toml",
             "frames": [
                {"filename": "src/main.rs", "function": "app::main", "lineno": 12, "in_app": true},
                {"filename": "/rustc/library/std/src/rt.rs", "function": "std::rt::lang_start", "lineno": 165, "in_app": false},
                {"filename": "/rustc/library/core/src/ops.rs", "function": "core::ops::function::FnOnce::call_once", "lineno": 250, "in_app": false},
                {"filename": "src/config.rs", "function": "app::config::load", "lineno": 40, "in_app": true,
                 "pre_context": ["pub fn load(path: &Path) -> Result<Config> {"],
                 "context_line": "    let text = fs::read_to_string(path)?;",
                 "post_context": ["    toml::from_str(&text)"]}]},
            {"type": "std::io::Error", "value": "No such file or directory (os error 2)"}],
        "server": {"host": host, "pid": 4242, "root": "/app"},
        "person": {"id": "42", "username": "ada"},
        "tags": {"region": "eu-west"},
        "breadcrumbs": [{"category": "http", "message": "GET /checkout"}],
        "request": {"method": "POST", "url": "https://shop.example/checkout"},
        "trace": {"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"}
    })
}

#[test]
fn a_team_triages_errors_in_the_browser() {
    let Some(browser) = Browser::start() else {
        return;
    };
    let backend = Backend::sqlite();
    let db = &backend.database_url;
    let shop = create_project(db, "Shop");
    let secret = create_project(db, "Secret");
    create_user(db, "ada@example.com", false);
    create_user(db, "bob@example.com", false);
    cli(
        db,
        &["project", "add-member", &shop.slug, "ada@example.com"],
        None,
    );
    cli(
        db,
        &["project", "add-member", &secret.slug, "bob@example.com"],
        None,
    );
    let server = TestServer::start_with(
        db,
        &[(
            "BUGLE_TRACE_URL",
            "https://tracing.example/trace/{trace_id}",
        )],
    );
    let send = |token: &str, event: serde_json::Value| {
        let reply = server.send_event(token, &event);
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.json()["issue_id"].as_i64().unwrap()
    };
    let config = send(&shop.token, config_error("web-1", "1.4.2"));
    send(&shop.token, config_error("web-2", "1.4.3"));
    let xss = send(
        &shop.token,
        json!({"title": "<script>window.pwned=1</script>", "message": "<img src=x onerror=\"window.pwned=2\">",
               "exceptions": [{"type": "<b>Bold</b>", "value": "<img src=x onerror=\"window.pwned=3\">"}]}),
    );
    let key_a = send(
        &shop.token,
        json!({"exceptions": [{"type": "KeyError", "value": "'cart'"}], "environment": "staging"}),
    );
    let key_b = send(
        &shop.token,
        json!({"exceptions": [{"type": "KeyErrorLegacy", "value": "'cart'"}], "environment": "staging"}),
    );
    let hidden = send(&secret.token, json!({"message": "bob's secret"}));

    // Sign in and see the projects page, then the project's issues.
    sign_in(&browser, &server.url, "ada@example.com");
    assert!(browser.find("#projects").text().contains("Shop"));
    assert!(!browser.page_source().contains("Secret"));
    shot(&browser, "projects");
    browser.find("#projects a.strong").click();
    browser.wait_for("the issue list", |b| b.exists("#issues"));
    assert_eq!(browser.find_all("#issues tr.issue").len(), 4);
    shot(&browser, "issues");

    // The hostile event is text: its title reads as typed, no element or script came of it.
    let title = browser
        .find(&format!("tr[data-issue='{xss}'] a.title"))
        .text();
    assert_eq!(title, "<script>window.pwned=1</script>");
    assert!(!browser.exists("img[src=x]"));
    assert_eq!(
        browser.execute("return window.pwned === undefined;", vec![]),
        json!(true)
    );

    // Filter by environment, then search.
    browser.find("input[name=environment]").send_keys("staging");
    browser.find("#apply-filters").click();
    browser.wait_for("the staging issues", |b| {
        b.current_url().contains("environment=staging") && b.find_all("#issues tr.issue").len() == 2
    });
    assert_eq!(
        browser.find("#query").attr("value").as_deref(),
        Some("is:unresolved environment:staging"),
        "the shortcut wrote into the query"
    );
    browser.find("#query").clear();
    browser.find("#query").send_keys("is:unresolved legacy");
    browser.find("#apply-search").click();
    browser.wait_for("the search result", |b| {
        b.current_url().contains("query=is%3Aunresolved")
            && b.find_all("#issues tr.issue").len() == 1
    });
    assert!(browser.find("#issues").text().contains("KeyErrorLegacy"));

    // Merge the two KeyErrors with the bulk action.
    browser.goto(&format!(
        "{}/projects/{}/issues?q=keyerror",
        server.url, shop.slug
    ));
    browser.wait_for("both KeyErrors", |b| {
        b.find_all("#issues tr.issue").len() == 2
    });
    browser.find("#select-all").click();
    browser.find("#bulk-merge").click();
    browser.wait_for("one KeyError left", |b| {
        b.exists("#issues") && b.find_all("#issues tr.issue").len() == 1
    });
    let survivor = key_a.min(key_b);
    assert!(browser.exists(&format!("tr[data-issue='{survivor}']")));

    // Open the ConfigError: its stack trace, app frames first and library frames folded.
    browser.goto(&format!("{}/projects/{}/issues", server.url, shop.slug));
    browser
        .find(&format!("tr[data-issue='{config}'] a.title"))
        .click();
    browser.wait_for("the issue page", |b| b.exists("#event"));
    assert_eq!(browser.find("#issue-count").text(), "2");
    let types: Vec<String> = browser
        .find_all(".exc-type")
        .iter()
        .map(|e| e.text())
        .collect();
    assert_eq!(types, ["app::ConfigError", "std::io::Error"]);
    let app_frames: Vec<String> = browser
        .find_all(".frame.in-app .fn")
        .iter()
        .map(|e| e.text())
        .collect();
    assert_eq!(
        app_frames,
        ["app::config::load", "app::main"],
        "newest call first"
    );
    assert!(browser
        .find(".frame.in-app tr.current")
        .text()
        .contains("fs::read_to_string(path)?"));
    let library = browser.find("li.library summary");
    assert_eq!(library.text(), "2 library frames");
    assert!(!browser.find("li.library .frame").is_displayed(), "folded");
    library.click();
    assert!(browser.find("li.library .frame").is_displayed(), "unfolded");
    assert_eq!(
        browser.find("#trace-link").attr("href").as_deref(),
        Some("https://tracing.example/trace/4bf92f3577b34da6a3ce929d0e0e4736")
    );
    assert!(browser.find("#breakdowns").text().contains("web-2"));
    browser.execute("window.scrollTo(0, 0);", vec![]);
    shot(&browser, "issue");

    // Resolve it.
    browser.find("#resolve").click();
    browser.wait_for("the resolved badge", |b| {
        b.exists("#issue-status") && b.find("#issue-status").text() == "resolved"
    });
    assert!(browser
        .find("#activity")
        .text()
        .contains("by ada@example.com"));

    // The occurrence permalink.
    browser.find("#permalink").click();
    browser.wait_for("the occurrence page", |b| {
        b.current_url().contains("/occurrences/")
    });
    assert!(browser.find("#older").attr("href").is_some());
    shot(&browser, "occurrence");

    // Settings pages render.
    browser.goto(&format!("{}/projects/{}/settings", server.url, shop.slug));
    assert!(browser.find("#dsn").text().contains(&shop.token));
    shot(&browser, "project-settings");

    // Not a member: bob's issue does not exist for ada.
    browser.goto(&format!("{}/issues/{hidden}", server.url));
    assert!(browser.find("h1").text().starts_with("404"));
    browser.goto(&format!("{}/projects/{}/issues", server.url, secret.slug));
    assert!(browser.find("h1").text().starts_with("404"));
    shot(&browser, "not-found");
}

/// An occurrence that came with files and a user's words, as a person meets it.
#[test]
fn an_occurrence_shows_its_attachments_and_its_users_feedback() {
    let Some(browser) = Browser::start() else {
        return;
    };
    let backend = Backend::sqlite();
    let db = &backend.database_url;
    let project = create_project(db, "Crashy");
    create_user(db, "ada@example.com", true);
    let server = TestServer::start(db);
    let id = "7d1e4b2a3f2a9c1b8d4e4f6a9b2c7e5d";
    let event = json!({"event_id": id, "level": "error", "platform": "python",
        "exception": {"values": [{"type": "KeyError", "value": "'sku'"}]}});
    let report = json!({"event_id": id, "name": "Ada", "email": "ada@example.com",
        "comments": "The cart emptied itself"});
    let mut body = json!({"event_id": id}).to_string().into_bytes();
    for (header, payload) in [
        (json!({"type": "event"}), event.to_string().into_bytes()),
        (
            json!({"type": "attachment", "filename": "cart.json", "content_type": "application/json"}),
            br#"{"items": []}"#.to_vec(),
        ),
        (
            json!({"type": "user_report"}),
            report.to_string().into_bytes(),
        ),
    ] {
        let mut header = header;
        header["length"] = json!(payload.len());
        body.push(b'\n');
        body.extend(header.to_string().as_bytes());
        body.push(b'\n');
        body.extend(payload);
    }
    let reply = bugle_tests::server::request(
        "POST",
        &format!(
            "{}/api/{}/envelope/?sentry_key={}",
            server.url, project.id, project.token
        ),
        &[],
        Some(body),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);

    sign_in(&browser, &server.url, "ada@example.com");
    browser.goto(&format!("{}/occurrences/{id}", server.url));
    browser.wait_for("the occurrence page", |b| b.exists("#attachments"));
    let link = browser.find("#attachments a[download]");
    assert_eq!(link.text(), "cart.json");
    assert!(link.attr("href").unwrap().starts_with("/attachments/"));
    let feedback = browser.find("#occurrence-feedback").text();
    assert!(
        feedback.contains("The cart emptied itself") && feedback.contains("Ada"),
        "{feedback}"
    );
    shot(&browser, "occurrence-attachments-feedback");
    // The issue page gathers its feedback too, and the list counts it.
    browser.goto(&format!("{}/projects/{}/issues", server.url, project.slug));
    browser.wait_for("the issue list", |b| b.exists("a.title"));
    assert!(browser.find(".badge.feedback").text().contains("1 report"));
    browser.find("a.title").click();
    browser.wait_for("the issue page", |b| b.exists("#feedback"));
    assert!(browser
        .find("#feedback")
        .text()
        .contains("The cart emptied itself"));
}
