//! The occurrence as the issue page and its permalink show it: every part an event carries,
//! request secrets masked, and a native crash (30 threads, 100 loaded images) as short to read
//! as any other issue, its rarely needed parts folded.

use bugle_tests::browser::{artifacts_dir, Browser};
use bugle_tests::server::{create_project, Backend, TestServer};
use bugle_tests::web::{create_user, WebUser, PASSWORD};
use serde_json::{json, Value};

/// Secrets the page must never show.
const SECRETS: [&str; 6] = [
    "s3cr3t-cookie",
    "csrf-s3cr3t",
    "bearer-s3cr3t",
    "k3y-s3cr3t",
    "pw-s3cr3t",
    "env-s3cr3t",
];
const HOSTILE: &str = "<script>alert('ctx')</script>";
/// Most bytes a native crash's page may have.
const MAX_PAGE_BYTES: usize = 250_000;

fn image_path(i: usize) -> String {
    if i == 0 {
        "/private/var/containers/Bundle/Application/6A1B2C3D/Shop.app/Shop".to_owned()
    } else {
        format!("/System/Library/Frameworks/Kit{i}.framework/Kit{i}")
    }
}

fn image_base(i: usize) -> u64 {
    0x1_0000_0000 + i as u64 * 0x100_0000
}

/// A frame in image `i`: only an address, or with the binary and its symbol, or with where
/// the binary was loaded.
fn native_frame(i: usize, n: usize) -> Value {
    let addr = format!("{:#018x}", image_base(i) + 0x1000 + n as u64 * 0x14);
    match n % 3 {
        0 => json!({"instruction_addr": addr}),
        1 => {
            json!({"instruction_addr": addr, "package": image_path(i), "symbol": format!("_sym_{i}_{n}")})
        }
        _ => {
            json!({"instruction_addr": addr, "package": image_path(i), "image_addr": format!("{:#x}", image_base(i))})
        }
    }
}

fn native_crash() -> Value {
    let images: Vec<Value> = (0..100)
        .map(|i| {
            json!({"type": "macho", "code_file": image_path(i),
                   "debug_id": format!("{i:08x}-aaaa-4bbb-8ccc-{i:012x}"),
                   "image_addr": format!("{:#x}", image_base(i)), "image_size": 0x80_0000 + i * 0x1000,
                   "arch": "arm64e", "uuid": format!("{i:08x}-aaaa-4bbb-8ccc-{i:012x}")})
        })
        .collect();
    let threads: Vec<Value> = (0..30)
        .map(|t| {
            let count = if t == 4 { 45 } else { 6 + t % 12 };
            let frames: Vec<Value> = (0..count).map(|n| native_frame((t * 7 + n * 3) % 100, n)).collect();
            json!({"id": t.to_string(), "name": if t == 0 { "com.apple.main-thread".to_owned() } else { format!("worker-{t}") },
                   "main": t == 0, "crashed": t == 4, "current": t == 4,
                   "state": if t == 4 { "Runnable" } else { "Waiting" }, "frames": frames})
        })
        .collect();
    let crumbs: Vec<Value> = (0..20)
        .map(|i| {
            json!({"timestamp": format!("2026-11-23T20:59:{i:02}Z"), "type": if i % 2 == 0 { "navigation" } else { "http" },
                   "category": if i % 2 == 0 { "ui.lifecycle" } else { "network" }, "level": "info",
                   "message": format!("step {i}"), "data": {"screen": format!("Screen{i}")}})
        })
        .collect();
    let modules: serde_json::Map<String, Value> = (0..60)
        .map(|i| (format!("Pod{i}"), json!(format!("{}.{i}.0", i % 5))))
        .collect();
    json!({
        "level": "critical", "platform": "cocoa", "language": "swift", "release": "shop-ios@4.2.0",
        "environment": "production",
        "exceptions": [{"type": "EXC_BAD_ACCESS", "value": "KERN_INVALID_ADDRESS at 0x10",
            "mechanism": {"type": "mach", "handled": false,
                "meta": {"signal": {"number": 11, "name": "SIGSEGV"}, "mach_exception": {"exception": 1, "name": "EXC_BAD_ACCESS"}}}}],
        "threads": threads,
        "debug_images": images,
        "contexts": {
            "zz_custom": {"flag": HOSTILE},
            "trace": {"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "op": "ui.load"},
            "culture": {"locale": "de_DE", "timezone": "Europe/Berlin"},
            "gpu": {"name": "Apple A16 GPU", "memory_size": 6144},
            "browser": {"name": "WebKit", "version": "617.1"},
            "runtime": {"name": "Swift", "version": "5.10"},
            "app": {"app_name": "Shop", "app_version": "4.2.0", "app_build": "812"},
            "os": {"type": "os", "name": "iOS", "version": "17.4.1", "build": "21E236"},
            "device": {"model": "iPhone15,2", "arch": "arm64e", "memory": {"free": 123456, "total": 6_442_450_944_u64}}
        },
        "modules": modules,
        "request": {"url": "https://shop.example/api/checkout", "method": "POST",
            "headers": {"Cookie": "sessionid=s3cr3t-cookie", "Authorization": "Bearer bearer-s3cr3t", "User-Agent": "Shop/4.2.0 CFNetwork"},
            "cookies": "sessionid=s3cr3t-cookie; theme=dark; csrftoken=csrf-s3cr3t",
            "query": {"step": "pay", "api_key": "k3y-s3cr3t"},
            "data": {"card_last4": "4242", "password": "pw-s3cr3t"},
            "env": {"REMOTE_ADDR": "203.0.113.9", "SECRET_KEY": "env-s3cr3t"}},
        "person": {"id": "42", "username": "ada", "email": "ada@example.com", "name": "Ada Lovelace",
            "ip_address": "198.51.100.7", "geo": {"country_code": "DE", "city": "Berlin", "region": "Land Berlin"},
            "data": {"plan": "pro"}},
        "breadcrumbs": crumbs,
        "processing_notes": [{"path": "contexts.device.screen", "reason": "dropped: expected an object, got a number"}],
        "fingerprint": ["{{ default }}", "ios-crash"],
        "tags": {"device.family": "iOS"},
        "custom": {"checkout_step": 3},
        "trace": {"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"},
        "sdk": {"name": "sentry.cocoa", "version": "8.21.0"}
    })
}

fn python_error() -> Value {
    json!({
        "level": "error", "language": "python", "platform": "python", "framework": "django",
        "exceptions": [{"type": "KeyError", "value": "'cart'", "module": "builtins",
            "mechanism": {"type": "django", "handled": false},
            "frames": [
                {"filename": "django/core/handlers/base.py", "function": "_get_response", "lineno": 197, "in_app": false},
                {"filename": "django/views/generic/base.py", "function": "view", "lineno": 104, "in_app": false},
                {"filename": "shop/views.py", "function": "checkout", "lineno": 42, "in_app": true,
                 "pre_context": ["def checkout(request):"], "context_line": "    cart = request.session['cart']",
                 "post_context": ["    return render(request, 'checkout.html')"], "vars": {"request": "<WSGIRequest>"}}]}],
        "request": {"url": "https://shop.example/checkout", "method": "GET", "query": "page=2",
            "cookies": {"sessionid": "s3cr3t-cookie", "lang": "en"},
            "env": {"SERVER_NAME": "web-1", "SERVER_PORT": "443"}},
        "contexts": {"runtime": {"name": "CPython", "version": "3.12.2"}, "os": {"name": "Linux"}},
        "modules": {"django": "5.0.4", "requests": "2.31.0"},
        "custom": {"tenant": "eu-1"},
        "something_new": {"kept": true},
        "breadcrumbs": [{"timestamp": "2026-11-23T20:59:59Z", "category": "query", "message": "SELECT 1",
            "data": {"sql": format!("SELECT {} FROM cart", "col, ".repeat(40))}}],
        "server": {"host": "web-1"}
    })
}

/// Where `needle` first is; panics naming it.
fn at(page: &str, needle: &str) -> usize {
    page.find(needle)
        .unwrap_or_else(|| panic!("the page lacks {needle:?}"))
}

/// Every position of `needle`.
fn all(page: &str, needle: &str) -> Vec<usize> {
    page.match_indices(needle).map(|(i, _)| i).collect()
}

fn check_native(page: &str, what: &str) {
    eprintln!("{what}: {} bytes", page.len());
    assert!(
        page.len() < MAX_PAGE_BYTES,
        "{what} is {} bytes",
        page.len()
    );
    for secret in SECRETS {
        assert!(!page.contains(secret), "{what} shows {secret}");
    }
    assert!(!page.contains(HOSTILE), "{what}: unescaped context value");
    assert!(
        page.contains("&#60;script&#62;alert("),
        "{what}: the value, escaped"
    );

    // What Bugle changed, first.
    let notes = at(page, "id=\"processing-notes\"");
    assert!(notes < at(page, "class=\"exception\""));
    assert!(page.contains("Bugle changed this event while storing it:"));
    assert!(page.contains(
        "<code>contexts.device.screen</code>: dropped: expected an object, got a number"
    ));

    // The exception, its mechanism, and the crashed thread's stack for it.
    assert!(page.contains("<span class=\"exc-type\">EXC_BAD_ACCESS</span>"));
    assert!(page.contains(
        "<span class=\"badge\">mach</span> <span class=\"badge danger\">unhandled</span>"
    ));
    assert!(page.contains("SIGSEGV"), "mechanism data");
    assert!(page.contains("Frames are not symbolicated: addresses are shown as sent"));
    let stack = at(page, "id=\"stack\"");
    assert!(page[stack..stack + 200].contains("stack of</span> worker-4 (crashed, current)</h3>"));
    // Its newest frame (45th of thread 4, an address in image (28 + 132) % 100 = 60).
    let newest = format!(
        "{:#018x}",
        0x1_0000_0000u64 + 60 * 0x100_0000 + 0x1000 + 44 * 0x14
    );
    let row = &page[at(page, &newest)..];
    assert!(row.starts_with(&format!("{newest}</span> <span class=\"pkg\" title=\"/System/Library/Frameworks/Kit60.framework/Kit60\">Kit60</span>")), "{}", &row[..300]);
    assert!(row.contains("image 0x13c000000 +0x1370"));
    assert!(page.contains(">_sym_"), "symbols");
    // A frame sent as an address alone: a row, its image found among the debug images.
    let bare = "<span class=\"addr\">0x0000000136001348</span> <span class=\"pkg\" title=\"/System/Library/Frameworks/Kit54.framework/Kit54\">Kit54</span>  <span class=\"img\">image 0x136000000 +0x1348</span></div></li>";
    assert!(page.contains(bare), "{what}: the address-only frame");

    // Sections in order: where, user, request, contexts, crumbs, custom, then the folds.
    let order = [
        "id=\"about\"",
        "id=\"user\"",
        "id=\"request\"",
        "id=\"contexts\"",
        "id=\"breadcrumbs\"",
        "id=\"custom\"",
        "<details class=\"fold\" id=\"threads\"><summary>Threads <span class=\"muted\">(30)</span></summary>",
        "<details class=\"fold\" id=\"images\"><summary>Images <span class=\"muted\">(100 loaded binaries)</span></summary>",
        "<details class=\"fold\" id=\"modules\"><summary>Packages <span class=\"muted\">(60)</span></summary>",
        "<details class=\"fold\" id=\"raw\">",
    ];
    let places: Vec<usize> = order.iter().map(|s| at(page, s)).collect();
    assert!(
        places.windows(2).all(|w| w[0] < w[1]),
        "{what}: sections out of order: {places:?}"
    );
    let [threads, images, modules, raw] = [places[6], places[7], places[8], places[9]];

    // Where: fingerprint as sent, the trace id.
    let about = &page[places[0]..places[1]];
    assert!(about
        .contains("<th>fingerprint</th><td>[&#34;{{ default }}&#34;,&#34;ios-crash&#34;]</td>"));
    assert!(about.contains("4bf92f3577b34da6a3ce929d0e0e4736"));
    assert!(about.contains("<th>sdk</th><td>sentry.cocoa 8.21.0</td>"));
    // User, with where they are.
    let user = &page[places[1]..places[2]];
    for shown in [
        "<td>ada</td>",
        "<td>Ada Lovelace</td>",
        "<td>198.51.100.7</td>",
        "<td>Berlin, Land Berlin, DE</td>",
        "<th>plan</th><td>pro</td>",
    ] {
        assert!(user.contains(shown), "{what}: user lacks {shown}");
    }
    // Request: secrets filtered, the rest as sent, the environment folded.
    let request = &page[places[2]..places[3]];
    for shown in [
        "POST https://shop.example/api/checkout",
        "<th>Cookie</th><td>[Filtered]</td>",
        "<th>Authorization</th><td>[Filtered]</td>",
        "<th>User-Agent</th><td>Shop/4.2.0 CFNetwork</td>",
        "<th>sessionid</th><td>[Filtered]</td>",
        "<th>theme</th><td>dark</td>",
        "<th>csrftoken</th><td>[Filtered]</td>",
        "<th>step</th><td>pay</td>",
        "<th>api_key</th><td>[Filtered]</td>",
        "&#34;card_last4&#34;: &#34;4242&#34;",
        "<details class=\"fold\" id=\"request-env\"><summary>Environment",
        "<th>REMOTE_ADDR</th><td>203.0.113.9</td>",
    ] {
        assert!(request.contains(shown), "{what}: request lacks {shown}");
    }
    // Contexts: one table per kind, known kinds first.
    let contexts = &page[places[3]..places[4]];
    let kinds: Vec<usize> = [
        "device",
        "os",
        "app",
        "runtime",
        "browser",
        "gpu",
        "culture",
        "trace",
        "zz_custom",
    ]
    .iter()
    .map(|k| at(contexts, &format!("<h4>{k}</h4>")))
    .collect();
    assert!(
        kinds.windows(2).all(|w| w[0] < w[1]),
        "{what}: contexts out of order"
    );
    assert!(contexts
        .contains("<th>memory</th><td>{&#34;free&#34;:123456,&#34;total&#34;:6442450944}</td>"));
    assert!(contexts.contains("<th>version</th><td>17.4.1</td>"));
    // Breadcrumbs: the newest open, older ones folded, each with its time, type and data.
    assert!(page.contains(
        "<details class=\"fold\" id=\"older-breadcrumbs\"><summary>5 older breadcrumbs</summary>"
    ));
    let crumbs = &page[places[4]..places[5]];
    assert!(crumbs.contains("<td class=\"mono\" title=\"2026-11-23T20:59:19+00:00\">20:59:19.000</td><td>network <span class=\"badge\">http</span></td><td>info</td><td>step 19</td><td><code>{&#34;screen&#34;:&#34;Screen19&#34;}</code></td>"));
    // Custom data: what the event said, not the parts with sections of their own.
    let custom = &page[places[5]..threads];
    assert!(custom.contains("<th>checkout_step</th><td>3</td>"));
    for own in [
        "debug_images",
        "code_file",
        "debug_id",
        "threads",
        "modules",
        "Pod1",
    ] {
        assert!(!custom.contains(own), "{what}: custom data dumps {own}");
    }
    assert!(
        !page[..threads].contains("code_file"),
        "no image JSON before the folds"
    );

    // Threads: folded, one fold each, the crashed one pointing at the stack above.
    let thread_folds = all(page, "<details class=\"thread\"");
    assert_eq!(thread_folds.len(), 30, "{what}");
    assert!(thread_folds.iter().all(|&i| threads < i && i < images));
    let main = &page[at(page, "id=\"thread-0\"")..];
    assert!(main.starts_with("id=\"thread-0\"><summary><span class=\"strong\">com.apple.main-thread</span> <span class=\"mono muted\">#0</span> <span class=\"muted\">Waiting</span> <span class=\"badge\">main</span> <span class=\"muted small\">6 frames</span></summary>"), "{}", &main[..300]);
    let crashed = &page[at(page, "id=\"thread-4\"")..];
    assert!(crashed.contains("<span class=\"badge danger\">crashed</span> <span class=\"badge\">current</span> <span class=\"muted small\">45 frames</span>"));
    assert!(crashed[..600].contains("shown above"), "not repeated");
    assert!(
        !page[threads..images].contains(" open"),
        "{what}: threads start folded"
    );

    // Images: one row each, folded, basenames with the full path in a title.
    let rows = all(page, "<td class=\"mono\">00000");
    assert_eq!(rows.len(), 100, "{what}: image rows");
    assert!(rows.iter().all(|&i| images < i && i < modules));
    assert!(page[images..modules].contains("<td title=\"/private/var/containers/Bundle/Application/6A1B2C3D/Shop.app/Shop\">Shop <span class=\"muted small\">macho</span></td><td class=\"mono\">00000000-aaaa-4bbb-8ccc-000000000000</td><td class=\"mono\">0x100000000</td><td class=\"num\" title=\"8388608 bytes\">8.0 MiB</td><td>arm64e</td>"));
    // Packages, folded.
    assert!(page[modules..raw].contains("<th>Pod7</th><td>2.7.0</td>"));
    assert!(
        page[raw..].contains("cut for the page"),
        "{what}: the raw JSON is cut"
    );
}

fn check_python(page: &str, what: &str) {
    eprintln!("{what}: {} bytes", page.len());
    assert!(!page.contains("s3cr3t-cookie"), "{what}");
    assert!(!page.contains("not symbolicated"), "{what}");
    assert!(!page.contains("id=\"threads\"") && !page.contains("id=\"images\""));
    assert!(!page.contains("id=\"stack\""));
    assert!(page.contains("<span class=\"exc-type\">KeyError</span>: <span class=\"exc-value\">&#39;cart&#39;</span> <span class=\"muted small\">in builtins</span>"));
    assert!(page.contains(
        "<span class=\"badge\">django</span> <span class=\"badge danger\">unhandled</span>"
    ));
    let app = at(page, "<li class=\"frame in-app\">");
    assert!(page[app..].starts_with("<li class=\"frame in-app\"><div class=\"frame-head\"><span class=\"fn\">checkout</span> <span class=\"loc\">shop/views.py:42</span></div>"));
    assert!(page.contains("<summary>2 library frames</summary>"));
    assert!(page.contains("<summary>locals</summary>"));
    assert!(
        page.contains("<th>sessionid</th><td>[Filtered]</td>")
            && page.contains("<th>lang</th><td>en</td>")
    );
    assert!(page.contains("<th>page</th><td>2</td>"));
    assert!(page.contains("<th>SERVER_PORT</th><td>443</td>"));
    assert!(page.contains("<th>tenant</th><td>eu-1</td>"));
    assert!(
        page.contains("<h4>Other fields</h4>")
            && page.contains("<th>something_new</th><td>{&#34;kept&#34;:true}</td>")
    );
    assert!(page.contains("<details class=\"fold\" id=\"modules\"><summary>Packages <span class=\"muted\">(2)</span></summary>"));
    assert!(page.contains("<th>django</th><td>5.0.4</td>"));
    assert!(page.contains("<details><summary>data</summary><pre class=\"code\">{\n  &#34;sql&#34;: &#34;SELECT col, "), "large breadcrumb data folded");
    assert!(page.contains("<h4>runtime</h4>") && page.contains("<td>CPython</td>"));
    assert!(page[at(page, "id=\"raw\"")..].contains("&#34;something_new&#34;"));
    assert!(!page.contains("cut for the page"));
}

#[test]
fn the_page_shows_every_part_of_an_event_and_a_native_crash_stays_small() {
    for backend in Backend::all() {
        let db = &backend.database_url;
        let name = backend.name;
        let project = create_project(db, "Shop");
        create_user(db, "ada@example.com", true);
        let server = TestServer::start(db);
        let ada = WebUser::sign_in(&server.url, "ada@example.com", PASSWORD);
        for (event, check) in [
            (native_crash(), check_native as fn(&str, &str)),
            (python_error(), check_python),
        ] {
            let sent = server.send_event(&project.token, &event);
            assert_eq!(sent.status, 200, "{name}: {}", sent.body);
            let issue = sent.json()["issue_id"].as_i64().unwrap();
            let uuid = sent.json()["uuid"].as_str().unwrap().to_owned();
            for path in [format!("/issues/{issue}"), format!("/occurrences/{uuid}")] {
                let page = ada.get(&path);
                assert_eq!(page.status, 200, "{name} {path}: {}", page.body);
                check(&page.body, &format!("{name} {path}"));
            }
        }
    }
}

/// The native crash in Chromium: with the folds closed the page is a few screens tall, and
/// opening the threads shows them.
#[test]
fn a_native_crash_page_is_a_few_screens_tall_in_the_browser() {
    let Some(browser) = Browser::start() else {
        return;
    };
    let backend = Backend::sqlite();
    let db = &backend.database_url;
    let project = create_project(db, "Shop");
    create_user(db, "ada@example.com", true);
    let server = TestServer::start(db);
    let sent = server.send_event(&project.token, &native_crash());
    assert_eq!(sent.status, 200, "{}", sent.body);
    let issue = sent.json()["issue_id"].as_i64().unwrap();

    browser.goto(&format!("{}/issues/{issue}", server.url));
    browser
        .find("input[name=email]")
        .send_keys("ada@example.com");
    browser.find("input[name=password]").send_keys(PASSWORD);
    browser.find("#sign-in").click();
    browser.wait_for("the issue page", |b| b.exists("#event"));
    let height = browser
        .execute("return document.body.scrollHeight;", vec![])
        .as_i64()
        .unwrap();
    eprintln!("native crash issue page: {height} px tall with folds closed");
    assert!(height < 6_000, "{height} px");
    assert!(!browser.find("#thread-1").is_displayed(), "threads folded");
    assert!(
        !browser.find("#images table").is_displayed(),
        "images folded"
    );
    browser.execute("document.getElementById('event').scrollIntoView();", vec![]);
    browser.screenshot(&artifacts_dir().join("event-native-crash.png"));

    // A link to a thread opens the folds around it (app.js); without script, a click does.
    browser.find("#threads > summary").click();
    assert!(browser.find("#thread-1").is_displayed());
    browser.find("#thread-1 > summary").click();
    assert!(browser.find("#thread-1 .frame").is_displayed());
    browser.goto(&format!("{}/issues/{issue}#thread-7", server.url));
    browser.wait_for("thread 7 unfolded", |b| {
        b.find("#thread-7 .frame").is_displayed()
    });
    browser.screenshot(&artifacts_dir().join("event-native-crash-thread.png"));
}
