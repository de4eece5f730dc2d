//! The search language over HTTP: the JSON API per project and across projects, a query that
//! does not parse (400 with its position, never a 500), and the dashboard's search box with
//! its shortcuts, on both backends.

use bugle_tests::server::{cli, create_project, create_user_token, Backend, TestServer};
use bugle_tests::web::{WebUser, PASSWORD};
use serde_json::{json, Value};

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn titles(reply: &bugle_tests::server::Reply) -> Vec<String> {
    assert_eq!(reply.status, 200, "{}", reply.body);
    let mut t: Vec<String> = reply.json()["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap().to_owned())
        .collect();
    t.sort();
    t
}

#[test]
fn queries_filter_the_api_and_the_dashboard_and_bad_ones_say_where() {
    for backend in Backend::all() {
        let db = &backend.database_url;
        let name = backend.name;
        let shop = create_project(db, "Shop");
        let blog = create_project(db, "Blog");
        let api = create_user_token(db, "ada@example.com", false);
        for p in [&shop.slug, &blog.slug] {
            cli(db, &["project", "add-member", p, "ada@example.com"], None);
        }
        let server = TestServer::start(db);
        let send = |token: &str, event: Value| {
            let reply = server.send_event(token, &event);
            assert_eq!(reply.status, 200, "{}", reply.body);
        };
        for _ in 0..3 {
            send(
                &shop.token,
                json!({"exceptions": [{"type": "TimeoutError", "value": "upstream timed out"}],
                       "level": "error", "environment": "production", "release": "1.0",
                       "tags": {"browser": "Firefox 121", "region": "eu-west"},
                       "person": {"id": "42", "email": "ada@example.com"},
                       "request": {"url": "https://shop.example/checkout"},
                       "trace": {"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"}}),
            );
        }
        send(
            &shop.token,
            json!({"message": "cache miss", "level": "warning", "environment": "staging",
                   "release": "2.0", "tags": {"region": "us-east"}}),
        );
        send(
            &blog.token,
            json!({"message": "comment spam", "level": "error", "environment": "production"}),
        );
        let list = |query: &str| {
            server.get(
                &api,
                &format!(
                    "/api/v1/projects/{}/issues?query={}",
                    shop.slug,
                    encode(query)
                ),
            )
        };
        let timeout = "TimeoutError: upstream timed out";
        let cases: &[(&str, &[&str])] = &[
            (
                "is:unresolved level:error release:1.0 browser:Firefox* !environment:staging \"timed out\"",
                &[timeout],
            ),
            ("level:>=warning", &[timeout, "cache miss"]),
            ("release:latest", &["cache miss"]),
            ("region:us-east", &["cache miss"]),
            ("user.email:ada@example.com url:*/checkout", &[timeout]),
            ("trace:4bf92f3577b34da6a3ce929d0e0e4736", &[timeout]),
            ("timesSeen:>2", &[timeout]),
            ("!has:region", &[]),
            ("is:resolved", &[]),
            ("", &[timeout, "cache miss"]),
        ];
        for (query, want) in cases {
            assert_eq!(titles(&list(query)), *want, "{name}: {query}");
        }
        // Sorted by count, as the benchmark's typical query.
        let by_count = server.get(
            &api,
            &format!(
                "/api/v1/projects/{}/issues?sort=count&query={}",
                shop.slug,
                encode("timesSeen:>0")
            ),
        );
        assert_eq!(by_count.json()["issues"][0]["title"], timeout, "{name}");

        // Across projects.
        let all = server.get(
            &api,
            &format!(
                "/api/v1/issues?query={}",
                encode("level:error environment:production")
            ),
        );
        assert_eq!(
            titles(&all),
            ["TimeoutError: upstream timed out", "comment spam"],
            "{name}"
        );

        // A query that does not parse: 400 saying what and where, on both endpoints.
        for path in [
            format!("/api/v1/projects/{}/issues", shop.slug),
            "/api/v1/issues".to_owned(),
        ] {
            for (query, position, reason) in [
                ("level:loud", 6, "unknown level"),
                ("is:unresolved \"open", 14, "unterminated quote"),
                ("timesSeen:lots", 10, "needs a number"),
                ("level:", 6, "expected a value"),
            ] {
                let reply = server.get(&api, &format!("{path}?query={}", encode(query)));
                assert_eq!(reply.status, 400, "{name}: {query}: {}", reply.body);
                let body = reply.json();
                assert_eq!(body["position"], position, "{name}: {query}: {body}");
                assert!(
                    body["error"].as_str().unwrap().contains(reason),
                    "{name}: {query}: {body}"
                );
            }
        }

        // The dashboard: the box shows and applies the query; a bad one is shown back.
        let web = WebUser::sign_in(&server.url, "ada@example.com", PASSWORD);
        let page = web.get(&format!(
            "/projects/{}/issues?query={}",
            shop.slug,
            encode("region:us-east")
        ));
        assert_eq!(page.status, 200, "{name}");
        assert!(page.body.contains("cache miss") && !page.body.contains(timeout));
        assert!(
            page.body.contains("value=\"region:us-east\""),
            "{name}: the box shows it"
        );
        let default = web.get(&format!("/projects/{}/issues", shop.slug));
        assert!(default.body.contains("value=\"is:unresolved\""), "{name}");
        let bad = web.get(&format!(
            "/projects/{}/issues?query={}",
            shop.slug,
            encode("level:loud")
        ));
        assert_eq!(bad.status, 400, "{name}");
        assert!(bad.body.contains("id=\"query-error\""), "{name}");
        assert!(
            bad.body.contains("Column 7: unknown level"),
            "{name}: {}",
            bad.body
        );
        assert!(bad.body.contains("<mark>loud</mark>"), "{name}");
        let all_page = web.get(&format!("/issues?query={}", encode("level:loud")));
        assert_eq!(all_page.status, 400, "{name}");

        // The shortcuts write into the query the box shows.
        let shortcut = web.get(&format!(
            "/projects/{}/issues?query={}&level=warning&environment=staging&status=all",
            shop.slug,
            encode("region:*")
        ));
        assert_eq!(shortcut.status, 200, "{name}");
        assert!(
            shortcut
                .body
                .contains("value=\"region:* level:warning environment:staging\""),
            "{name}: {}",
            shortcut.body
        );
        assert!(shortcut.body.contains("cache miss") && !shortcut.body.contains(timeout));

        // The issue page breaks down every key, tags too.
        let id = list("region:eu-west").json()["issues"][0]["id"]
            .as_i64()
            .unwrap();
        let issue = web.get(&format!("/issues/{id}"));
        assert!(issue.body.contains("eu-west"), "{name}");
        let detail = server.get(&api, &format!("/api/v1/issues/{id}")).json();
        assert_eq!(detail["tags"]["region"]["total"], 3, "{name}: {detail}");
        assert_eq!(detail["tags"]["region"]["values"][0]["value"], "eu-west");
    }
}

/// Saved searches through the API: saved with a query that must parse, own ones and those
/// shared in the project listed, the default marked, deleted only by their owner; read-only
/// tokens may list but not save.
#[test]
fn saved_searches_are_kept_shared_and_deleted_through_the_api() {
    for backend in Backend::all() {
        let db = &backend.database_url;
        let name = backend.name;
        let shop = create_project(db, "Shop");
        let ada = create_user_token(db, "ada@example.com", false);
        let bob = create_user_token(db, "bob@example.com", false);
        for who in ["ada@example.com", "bob@example.com"] {
            cli(db, &["project", "add-member", &shop.slug, who], None);
        }
        let server = TestServer::start(db);
        let path = format!("/api/v1/projects/{}/searches", shop.slug);

        let bad = server.send_json(
            "POST",
            &ada,
            &path,
            &json!({"name": "x", "query": "level:loud"}),
        );
        assert_eq!(bad.status, 400, "{name}: {}", bad.body);
        assert!(
            bad.json()["detail"]
                .as_str()
                .unwrap()
                .contains("unknown level"),
            "{name}: {}",
            bad.body
        );
        let unnamed = server.send_json(
            "POST",
            &ada,
            &path,
            &json!({"name": " ", "query": "is:new"}),
        );
        assert_eq!(unnamed.status, 400, "{name}");

        let mine = server.send_json("POST", &ada, &path,
            &json!({"name": "Prod errors", "query": "level:error environment:production", "default": true}));
        assert_eq!(mine.status, 201, "{name}: {}", mine.body);
        let mine = mine.json();
        assert_eq!(mine["default"], true);
        let shared = server.send_json(
            "POST",
            &ada,
            &path,
            &json!({"name": "Checkout", "query": "url:*checkout*", "shared": true}),
        );
        assert_eq!(shared.status, 201, "{name}");
        let global = server.send_json(
            "POST",
            &ada,
            "/api/v1/searches",
            &json!({"name": "Everywhere", "query": "is:unresolved", "shared": true}),
        );
        assert_eq!(
            global.status, 400,
            "{name}: only a project's searches are shared"
        );

        let names = |token: &str, path: &str| -> Vec<String> {
            let reply = server.get(token, path);
            assert_eq!(reply.status, 200, "{}", reply.body);
            reply.json()["searches"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["name"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(names(&ada, &path), ["Checkout", "Prod errors"], "{name}");
        assert_eq!(
            names(&bob, &path),
            ["Checkout"],
            "{name}: bob sees the shared one only"
        );
        assert!(names(&ada, "/api/v1/searches").is_empty(), "{name}");

        let id = mine["id"].as_i64().unwrap();
        let by_bob = server.send_json(
            "DELETE",
            &bob,
            &format!("/api/v1/searches/{id}"),
            &json!({}),
        );
        assert_eq!(by_bob.status, 404, "{name}: not his");
        let by_ada = server.send_json(
            "DELETE",
            &ada,
            &format!("/api/v1/searches/{id}"),
            &json!({}),
        );
        assert_eq!(by_ada.status, 204, "{name}: {}", by_ada.body);
        assert_eq!(names(&ada, &path), ["Checkout"], "{name}");

        let outsider = create_user_token(db, "eve@example.com", false);
        assert_eq!(server.get(&outsider, &path).status, 404, "{name}");
        let read = cli(
            db,
            &[
                "token",
                "create",
                "bob@example.com",
                "--scope",
                "read",
                "--json",
            ],
            None,
        );
        let read: Value = serde_json::from_str(&read).unwrap();
        let read = read["token"].as_str().unwrap();
        assert_eq!(names(read, &path), ["Checkout"], "{name}");
        let refused = server.send_json(
            "POST",
            read,
            &path,
            &json!({"name": "n", "query": "is:new"}),
        );
        assert_eq!(refused.status, 403, "{name}");
    }
}

/// Chromium: a person types a query, sees its issues, saves the search, and finds it again
/// beside the list (as their default, it opens the list next time).
#[test]
fn a_search_is_typed_saved_and_found_again_in_the_browser() {
    use bugle_tests::browser::{artifacts_dir, Browser};
    let Some(browser) = Browser::start() else {
        return;
    };
    let backend = Backend::sqlite();
    let db = &backend.database_url;
    let shop = create_project(db, "Shop");
    bugle_tests::web::create_user(db, "ada@example.com", true);
    let server = TestServer::start(db);
    for (ty, region) in [("TimeoutError", "eu-west"), ("KeyError", "us-east")] {
        let reply = server.send_event(
            &shop.token,
            &json!({"exceptions": [{"type": ty, "value": "x"}], "tags": {"region": region}}),
        );
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
    browser.goto(&format!("{}/projects/{}/issues", server.url, shop.slug));
    browser.wait_for("the login page", |b| b.current_url().contains("/login"));
    browser
        .find("input[name=email]")
        .send_keys("ada@example.com");
    browser.find("input[name=password]").send_keys(PASSWORD);
    browser.find("#sign-in").click();
    browser.wait_for("the issue list", |b| b.exists("#issues"));
    assert_eq!(browser.find_all("#issues tr.issue").len(), 2);

    // Type a query.
    browser.find("#query").clear();
    browser
        .find("#query")
        .send_keys("is:unresolved region:eu-west");
    browser.find("#apply-search").click();
    browser.wait_for("the query's issues", |b| {
        b.current_url().contains("query=") && b.find_all("#issues tr.issue").len() == 1
    });
    assert!(browser.find("#issues").text().contains("TimeoutError"));

    // A typo is shown back where it is.
    browser.find("#query").clear();
    browser.find("#query").send_keys("level:loud");
    browser.find("#apply-search").click();
    browser.wait_for("the error", |b| b.exists("#query-error"));
    assert!(browser.find("#query-error").text().contains("Column 7"));
    assert_eq!(browser.find("#query-error mark").text(), "loud");
    browser.back();
    browser.wait_for("the query's issues again", |b| {
        b.exists("#issues") && b.find_all("#issues tr.issue").len() == 1
    });

    // Save it as the default, shared with the project.
    browser.find("#search-name").send_keys("EU timeouts");
    browser.find("#save-search input[name=default]").click();
    browser.find("#save-search input[name=shared]").click();
    browser.find("#save-search-button").click();
    browser.wait_for("the saved search", |b| {
        b.exists("#saved-searches a.saved-search")
            && b.find("#saved-searches").text().contains("EU timeouts")
    });
    browser.screenshot(&artifacts_dir().join("saved-search.png"));

    // Elsewhere and back: the list opens on the default, and the saved link finds it again.
    browser.goto(&format!("{}/projects", server.url));
    browser.goto(&format!("{}/projects/{}/issues", server.url, shop.slug));
    browser.wait_for("the default search", |b| {
        b.exists("#issues") && b.find_all("#issues tr.issue").len() == 1
    });
    assert_eq!(
        browser.find("#query").attr("value").as_deref(),
        Some("is:unresolved region:eu-west")
    );
    browser.goto(&format!(
        "{}/projects/{}/issues?query=",
        server.url, shop.slug
    ));
    browser.wait_for("everything", |b| b.find_all("#issues tr.issue").len() == 2);
    browser.find("#saved-searches a.saved-search").click();
    browser.wait_for("the saved search's issues", |b| {
        b.current_url().contains("region%3Aeu-west") && b.find_all("#issues tr.issue").len() == 1
    });
}
