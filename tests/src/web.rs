//! A signed-in dashboard user over plain HTTP: the session cookie and the page's CSRF token
//! handled the way a browser would, without following redirects (tests look at them).

use std::time::Duration;

use crate::server::Reply;

pub const PASSWORD: &str = "correct horse battery";

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

/// One request without redirects; `cookie` is sent as `Cookie:` when given.
pub fn send(method: &str, url: &str, cookie: Option<&str>, form: Option<&[(&str, &str)]>) -> Reply {
    let mut builder = ureq::http::Request::builder().method(method).uri(url);
    if let Some(c) = cookie {
        builder = builder.header("Cookie", c);
    }
    let result = match form {
        Some(fields) => {
            let body = fields
                .iter()
                .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
                .collect::<Vec<_>>()
                .join("&");
            builder = builder.header("Content-Type", "application/x-www-form-urlencoded");
            agent().run(builder.body(body.into_bytes()).expect("a request"))
        }
        None => agent().run(builder.body(()).expect("a request")),
    };
    Reply::from(result.unwrap_or_else(|e| panic!("{method} {url} failed: {e}")))
}

fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A dashboard session: the server's URL and the `bugle_session` cookie.
pub struct WebUser {
    pub base: String,
    pub cookie: String,
}

impl WebUser {
    /// Signs in with the email and password; panics unless the server sets a session.
    pub fn sign_in(base: &str, email: &str, password: &str) -> WebUser {
        let reply = login_attempt(base, email, password);
        assert_eq!(reply.status, 303, "sign-in failed: {}", reply.body);
        let cookie = set_cookie(&reply, "bugle_session").expect("a session cookie");
        WebUser {
            base: base.to_owned(),
            cookie,
        }
    }

    pub fn get(&self, path: &str) -> Reply {
        send(
            "GET",
            &format!("{}{path}", self.base),
            Some(&self.cookie),
            None,
        )
    }

    /// The CSRF token the page at `path` carries in its forms.
    pub fn csrf(&self, path: &str) -> String {
        let page = self.get(path);
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        csrf_in(&page.body).expect("the page has a form with a CSRF token")
    }

    /// Posts a form with the CSRF token of the page at `from`.
    pub fn post(&self, from: &str, path: &str, fields: &[(&str, &str)]) -> Reply {
        let csrf = self.csrf(from);
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        send(
            "POST",
            &format!("{}{path}", self.base),
            Some(&self.cookie),
            Some(&all),
        )
    }
}

/// The value of a `Set-Cookie` of this name, as `name=value`.
pub fn set_cookie(reply: &Reply, name: &str) -> Option<String> {
    reply
        .headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
        .map(|(_, v)| v.split(';').next().unwrap_or_default().to_owned())
        .find(|c| c.starts_with(&format!("{name}=")) && c.len() > name.len() + 1)
}

/// What a browser does to sign in: open the login page (its form token and cookie), post it.
pub fn login_attempt(base: &str, email: &str, password: &str) -> Reply {
    let page = send("GET", &format!("{base}/login"), None, None);
    assert_eq!(page.status, 200, "the login page: {}", page.body);
    let cookie = set_cookie(&page, "bugle_login").expect("the login form's cookie");
    let csrf = csrf_in(&page.body).expect("the login form's token");
    send(
        "POST",
        &format!("{base}/login"),
        Some(&cookie),
        Some(&[
            ("email", email),
            ("password", password),
            ("next", "/projects"),
            ("csrf", &csrf),
        ]),
    )
}

pub fn csrf_in(html: &str) -> Option<String> {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}

/// Creates a user with [`PASSWORD`] through the CLI.
pub fn create_user(database_url: &str, email: &str, admin: bool) {
    let mut args = vec!["user", "create", email, "--password-stdin"];
    if admin {
        args.push("--admin");
    }
    crate::server::cli(database_url, &args, Some(&format!("{PASSWORD}\n")));
}
