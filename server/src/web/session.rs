//! Signing in and out, the first start's setup link, and the two extractors every page uses:
//! [`SignedIn`] for GET pages and [`Posted`] (signed in + CSRF-checked form) for POSTs.

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use askama::Template;

use super::{redirect, render, render_with, WebError};
use crate::routes::Routes;
use crate::secrets;
use crate::state::AppState;
use crate::store::sessions::{LinkPurpose, Session};
use crate::time::now_ms;
use crate::time::HOUR_MS;

pub const SESSION_COOKIE: &str = "bugle_session";
/// Before there is a session, the login form's CSRF token lives in its own cookie.
const LOGIN_COOKIE: &str = "bugle_login";
const SESSION_TTL_MS: i64 = 14 * 24 * HOUR_MS;
/// Failed sign-ins allowed per email, and per client address, in the window.
const MAX_FAILURES_PER_EMAIL: i64 = 10;
const MAX_FAILURES_PER_ADDRESS: i64 = 30;
const FAILURE_WINDOW_MS: i64 = 15 * 60 * 1000;
pub const MIN_PASSWORD: usize = 8;

pub fn routes(r: &mut Routes) {
    r.get("/login", login_page)
        .post("/login", login)
        .post("/logout", logout)
        .get("/setup/{token}", setup_page)
        .post("/setup/{token}", setup);
}

/// What the page layout shows about who is signed in.
pub struct Layout {
    pub email: String,
    pub is_admin: bool,
    pub csrf: String,
}

/// A signed-in user (GET pages). Without a session: redirect to the login page.
pub struct SignedIn {
    pub session: Session,
    pub token: String,
}

impl SignedIn {
    pub fn layout(&self) -> Layout {
        Layout {
            email: self.session.user.email.clone(),
            is_admin: self.session.user.is_admin,
            csrf: self.session.csrf.clone(),
        }
    }
    pub fn user(&self) -> &crate::store::users::User {
        &self.session.user
    }
}

fn session_token(req: &HttpRequest) -> Option<String> {
    req.cookie(SESSION_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Where to go after a form: only paths on this server (`//host` and `/\host` are other
/// servers to a browser).
pub fn local_path(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\") {
        next
    } else {
        "/projects"
    }
}

async fn load_session(req: &HttpRequest) -> Result<SignedIn, WebError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .expect("AppState is registered");
    let next = match req.uri().path_and_query() {
        Some(pq) if req.method() == actix_web::http::Method::GET => pq.as_str().to_owned(),
        _ => "/projects".to_owned(),
    };
    let Some(token) = session_token(req) else {
        return Err(WebError::SignIn { next });
    };
    match state.store.session(&token).await? {
        Some(session) => Ok(SignedIn { session, token }),
        None => Err(WebError::SignIn { next }),
    }
}

impl FromRequest for SignedIn {
    type Error = WebError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, WebError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { load_session(&req).await })
    }
}

/// A submitted form from a signed-in user whose CSRF token matched. Fields keep their order
/// and repeats (bulk actions send `issue=1&issue=2`).
pub struct Posted {
    pub signed_in: SignedIn,
    pub fields: Vec<(String, String)>,
}

impl Posted {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> {
        self.fields
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    pub fn user(&self) -> &crate::store::users::User {
        self.signed_in.user()
    }
}

/// Compares without an early exit, so timing does not reveal how much of a token matched.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

impl FromRequest for Posted {
    type Error = WebError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, WebError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        let body = web::Bytes::from_request(&req, payload);
        Box::pin(async move {
            let signed_in = load_session(&req).await?;
            let body = body
                .await
                .map_err(|e| WebError::BadRequest(format!("unreadable form: {e}")))?;
            let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
                .map_err(|e| WebError::BadRequest(format!("unreadable form: {e}")))?;
            let csrf = fields
                .iter()
                .find(|(k, _)| k == "csrf")
                .map(|(_, v)| v.as_str());
            match csrf {
                Some(given) if same(given, &signed_in.session.csrf) => {
                    Ok(Posted { signed_in, fields })
                }
                _ => Err(WebError::Forbidden(
                    "the form's security token is missing or stale; reload the page and try again"
                        .into(),
                )),
            }
        })
    }
}

fn session_cookie(req: &HttpRequest, state: &AppState, value: String) -> Cookie<'static> {
    let secure = req.connection_info().scheme() == "https"
        || state.config.base_url().starts_with("https://");
    Cookie::build(SESSION_COOKIE, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .max_age(actix_web::cookie::time::Duration::milliseconds(
            SESSION_TTL_MS,
        ))
        .finish()
}

pub async fn home(req: HttpRequest) -> HttpResponse {
    match session_token(&req) {
        Some(_) => redirect("/projects"),
        None => redirect("/login"),
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    next: String,
    email: String,
    error: Option<String>,
    csrf: String,
}

#[derive(serde::Deserialize)]
struct NextQuery {
    next: Option<String>,
}

/// The login form's token: the one in the browser's login cookie, or a new one.
fn login_token(req: &HttpRequest) -> String {
    req.cookie(LOGIN_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| v.len() == 64)
        .unwrap_or_else(secrets::new_session_token)
}

fn login_response(
    req: &HttpRequest,
    state: &AppState,
    status: StatusCode,
    page: &LoginPage,
) -> Result<HttpResponse, WebError> {
    let mut resp = render_with(status, page)?;
    let mut cookie = session_cookie(req, state, page.csrf.clone());
    cookie.set_name(LOGIN_COOKIE);
    cookie.set_path("/login");
    cookie.set_max_age(actix_web::cookie::time::Duration::hours(12));
    resp.add_cookie(&cookie)
        .map_err(|e| WebError::Internal(e.into()))?;
    Ok(resp)
}

async fn login_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<NextQuery>,
) -> Result<HttpResponse, WebError> {
    let page = LoginPage {
        next: local_path(query.next.as_deref().unwrap_or("/projects")).to_owned(),
        email: String::new(),
        error: None,
        csrf: login_token(&req),
    };
    login_response(&req, &state, StatusCode::OK, &page)
}

#[derive(serde::Deserialize)]
struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
    csrf: Option<String>,
}

async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, WebError> {
    // Login CSRF: another site must not sign a browser into an account of its choosing. Its
    // form cannot read or send our SameSite login cookie, so the two tokens cannot match.
    let expected = req.cookie(LOGIN_COOKIE).map(|c| c.value().to_owned());
    match (&expected, &form.csrf) {
        (Some(a), Some(b)) if !a.is_empty() && same(a, b) => {}
        _ => {
            return Err(WebError::Forbidden(
                "the sign-in form expired; reload the page and try again".into(),
            ))
        }
    }
    let email = form.email.trim().to_lowercase();
    let next = local_path(form.next.as_deref().unwrap_or("/projects")).to_owned();
    let address = req
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    let (email_key, address_key) = (format!("email:{email}"), format!("ip:{address}"));
    let since = now_ms() - FAILURE_WINDOW_MS;
    if state.store.login_failures_since(&email_key, since).await? >= MAX_FAILURES_PER_EMAIL
        || state
            .store
            .login_failures_since(&address_key, since)
            .await?
            >= MAX_FAILURES_PER_ADDRESS
    {
        return Err(WebError::TooManyAttempts(
            "too many failed sign-ins; wait 15 minutes and try again".into(),
        ));
    }
    let user = match state.store.user_by_email(&email).await {
        Ok(user) => Some(user),
        Err(crate::store::StoreError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    // Verified off the async workers: argon2 takes tens of milliseconds on purpose.
    let password = form.password.clone();
    let hash = user.as_ref().and_then(|u| u.password_hash.clone());
    // An unknown email costs the same hash as a known one, so timing does not tell them apart.
    let ok = web::block(move || match hash {
        Some(hash) => secrets::verify_password(&password, &hash),
        None => {
            static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
            let dummy = DUMMY.get_or_init(|| {
                secrets::hash_password("not a password of anyone").unwrap_or_default()
            });
            secrets::verify_password(&password, dummy);
            false
        }
    })
    .await
    .map_err(|e| WebError::Internal(e.into()))?;
    let Some(user) = user.filter(|_| ok) else {
        state
            .store
            .record_login_failure(&[&email_key, &address_key])
            .await?;
        let page = LoginPage {
            next,
            email,
            error: Some("wrong email or password".into()),
            csrf: login_token(&req),
        };
        return login_response(&req, &state, StatusCode::UNAUTHORIZED, &page);
    };
    state.store.clear_login_failures(&email_key).await?;
    let token = state.store.create_session(user.id, SESSION_TTL_MS).await?;
    let mut resp = redirect(&next);
    resp.add_cookie(&session_cookie(&req, &state, token))
        .map_err(|e| WebError::Internal(e.into()))?;
    Ok(resp)
}

async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    posted: Posted,
) -> Result<HttpResponse, WebError> {
    state.store.delete_session(&posted.signed_in.token).await?;
    let mut resp = redirect("/login");
    let mut gone = session_cookie(&req, &state, String::new());
    gone.make_removal();
    resp.add_cookie(&gone)
        .map_err(|e| WebError::Internal(e.into()))?;
    Ok(resp)
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    first_admin: bool,
    email: String,
    error: Option<String>,
}

async fn setup_page(
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    match state.store.password_link(&token).await? {
        None => Err(WebError::NotFound),
        Some((purpose, user)) => render(&SetupPage {
            first_admin: purpose == LinkPurpose::FirstAdmin,
            email: user.map(|u| u.email).unwrap_or_default(),
            error: None,
        }),
    }
}

#[derive(serde::Deserialize)]
struct SetupForm {
    email: Option<String>,
    password: String,
    confirm: String,
}

async fn setup(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    form: web::Form<SetupForm>,
) -> Result<HttpResponse, WebError> {
    let Some((purpose, user)) = state.store.password_link(&token).await? else {
        return Err(WebError::NotFound);
    };
    let problem = if form.password.chars().count() < MIN_PASSWORD {
        Some(format!(
            "the password needs at least {MIN_PASSWORD} characters"
        ))
    } else if form.password != form.confirm {
        Some("the two passwords differ".to_owned())
    } else {
        None
    };
    if let Some(problem) = problem {
        let page = SetupPage {
            first_admin: purpose == LinkPurpose::FirstAdmin,
            email: form
                .email
                .clone()
                .or(user.map(|u| u.email))
                .unwrap_or_default(),
            error: Some(problem),
        };
        return render_with(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    let password = form.password.clone();
    let hash = web::block(move || secrets::hash_password(&password))
        .await
        .map_err(|e| WebError::Internal(e.into()))?
        .map_err(WebError::Internal)?;
    let user = state
        .store
        .redeem_password_link(&token, form.email.as_deref(), &hash)
        .await?;
    let session = state.store.create_session(user.id, SESSION_TTL_MS).await?;
    let mut resp = redirect("/projects");
    resp.add_cookie(&session_cookie(&req, &state, session))
        .map_err(|e| WebError::Internal(e.into()))?;
    Ok(resp)
}

/// On a start with no users at all, logs a one-time link that creates the first admin.
pub async fn announce_setup_link(
    store: &crate::store::Store,
    base_url: &str,
) -> anyhow::Result<()> {
    if store.user_count().await? > 0 {
        return Ok(());
    }
    let token = store
        .create_password_link(LinkPurpose::FirstAdmin, 24 * HOUR_MS)
        .await?;
    tracing::warn!(
        url = %format!("{base_url}/setup/{token}"),
        "no users yet: open this one-time link (valid 24 h) to create the first admin, \
         or run `bugle-server user create --admin EMAIL --password-stdin`"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(local_path("/issues/3?x=1"), "/issues/3?x=1");
        for elsewhere in [
            "//evil.example",
            "/\\evil.example",
            "https://evil.example",
            "",
        ] {
            assert_eq!(local_path(elsewhere), "/projects", "{elsewhere:?}");
        }
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "ab"));
    }
}
