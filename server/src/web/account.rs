//! A user's own settings (API tokens, password, mail) and the administrators' user list.

use actix_web::{web, HttpResponse};
use askama::Template;

use super::session::{Layout, Posted, SignedIn, MIN_PASSWORD};
use super::{redirect, render, WebError};
use crate::routes::Routes;
use crate::secrets;
use crate::state::AppState;
use crate::store::sessions::LinkPurpose;
use crate::store::users::User;
use crate::store::users::{ApiTokenInfo, TokenScope};
use crate::time::now_ms;
use crate::time::HOUR_MS;
use crate::time::{when, When};

/// The kinds of mail a person can choose, with what they mean.
const MAIL_KINDS: &[(&str, &str)] = &[
    ("new_issue", "a new issue"),
    ("regression", "a resolved issue happens again"),
    ("seen_again", "an ignored issue wakes up"),
    ("spike", "an issue spikes"),
    ("milestone", "an issue reaches 10, 100, 1,000… events"),
];

pub fn routes(r: &mut Routes) {
    r.get("/settings", settings_page)
        .post("/settings/tokens", create_token)
        .post("/settings/tokens/{id}/revoke", revoke_token)
        .post("/settings/password", change_password)
        .post("/settings/mail", save_mail)
        .get("/admin/users", users_page)
        .post("/admin/users", create_user);
}

struct TokenRow {
    token: ApiTokenInfo,
    created: When,
    used: Option<When>,
    /// "read only" or "read and write".
    access: &'static str,
    /// The projects it is limited to, by name; None: all the user's.
    limited_to: Option<String>,
}

struct MailKind {
    name: &'static str,
    label: &'static str,
    on: bool,
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    layout: Layout,
    tokens: Vec<TokenRow>,
    /// (slug, name) of the projects a new token may be limited to.
    projects: Vec<(String, String)>,
    /// A token just created: shown this once.
    new_token: Option<String>,
    mail: Vec<MailKind>,
    unsubscribed: bool,
    message: Option<String>,
}

async fn settings(
    me: &SignedIn,
    state: &AppState,
    new_token: Option<String>,
    message: Option<String>,
) -> Result<HttpResponse, WebError> {
    let now = now_ms();
    let mine = state.store.projects_for_user(me.user()).await?;
    let tokens = state
        .store
        .api_tokens(me.user().id)
        .await?
        .into_iter()
        .map(|token| TokenRow {
            created: when(token.created_at, now),
            used: token.last_used_at.map(|t| when(t, now)),
            access: if token.scope.write {
                "read and write"
            } else {
                "read only"
            },
            limited_to: token.scope.projects.as_ref().map(|ids| {
                let names: Vec<&str> = mine
                    .iter()
                    .filter(|p| ids.contains(&p.id))
                    .map(|p| p.name.as_str())
                    .collect();
                names.join(", ")
            }),
            token,
        })
        .collect();
    let projects = mine.into_iter().map(|p| (p.slug, p.name)).collect();
    let (kinds, unsubscribed) = state.store.mail_preferences(&me.user().email).await?;
    let mail = MAIL_KINDS
        .iter()
        .map(|&(name, label)| MailKind {
            name,
            label,
            on: kinds
                .as_deref()
                .is_none_or(|k| k.split(',').any(|k| k.trim() == name)),
        })
        .collect();
    render(&SettingsPage {
        layout: me.layout(),
        tokens,
        projects,
        new_token,
        mail,
        unsubscribed,
        message,
    })
}

#[derive(serde::Deserialize)]
struct Saved {
    saved: Option<String>,
}

async fn settings_page(
    me: SignedIn,
    state: web::Data<AppState>,
    query: web::Query<Saved>,
) -> Result<HttpResponse, WebError> {
    let message = query.saved.as_deref().map(|what| match what {
        "password" => "Your password is changed; your other sessions are signed out.".to_owned(),
        _ => "Saved.".to_owned(),
    });
    settings(&me, &state, None, message).await
}

async fn create_token(form: Posted, state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    let projects = match form.get("project") {
        Some(slug) => {
            let project = super::projects::visible_project(&state, form.user(), slug).await?;
            Some(vec![project.id])
        }
        None => None,
    };
    let scope = TokenScope {
        write: form.get("scope") != Some("read"),
        projects,
    };
    let token = state
        .store
        .create_scoped_api_token(form.user().id, form.get("name"), &scope)
        .await?;
    // Rendered directly (not redirected): the token exists nowhere else to show later.
    settings(&form.signed_in, &state, Some(token), None).await
}

async fn revoke_token(
    form: Posted,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, WebError> {
    state.store.delete_api_token(form.user().id, *id).await?;
    Ok(redirect("/settings#tokens"))
}

async fn change_password(
    form: Posted,
    state: web::Data<AppState>,
) -> Result<HttpResponse, WebError> {
    let current = form.get("current").unwrap_or_default().to_owned();
    let new = form.get("password").unwrap_or_default().to_owned();
    if new.chars().count() < MIN_PASSWORD {
        return Err(WebError::BadRequest(format!(
            "the new password needs at least {MIN_PASSWORD} characters"
        )));
    }
    if form.get("confirm") != Some(new.as_str()) {
        return Err(WebError::BadRequest("the two new passwords differ".into()));
    }
    let hash = form.user().password_hash.clone();
    let hashed = web::block(move || {
        let ok = hash.is_some_and(|h| secrets::verify_password(&current, &h));
        ok.then(|| secrets::hash_password(&new)).transpose()
    })
    .await
    .map_err(|e| WebError::Internal(e.into()))?
    .map_err(WebError::Internal)?;
    let Some(hashed) = hashed else {
        return Err(WebError::Forbidden("the current password is wrong".into()));
    };
    state
        .store
        .set_password(form.user().id, &hashed, &form.signed_in.token)
        .await?;
    Ok(redirect("/settings?saved=password"))
}

async fn save_mail(form: Posted, state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    let chosen: Vec<&str> = MAIL_KINDS
        .iter()
        .map(|&(name, _)| name)
        .filter(|name| form.all("kind").any(|k| k == *name))
        .collect();
    state
        .store
        .save_mail_preferences(&form.user().email, &chosen)
        .await?;
    Ok(redirect("/settings?saved=mail#mail"))
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    layout: Layout,
    users: Vec<User>,
    /// A link just made for a new user: shown this once.
    link: Option<(String, String)>,
}

fn admin_only(user: &User) -> Result<(), WebError> {
    if user.is_admin {
        Ok(())
    } else {
        Err(WebError::Forbidden(
            "only administrators manage users".into(),
        ))
    }
}

async fn users_page(me: SignedIn, state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    admin_only(me.user())?;
    render(&UsersPage {
        layout: me.layout(),
        users: state.store.list_users().await?,
        link: None,
    })
}

/// Creates a user without a password and shows a one-time link (valid 7 days) where they
/// choose one, so no password travels through the admin.
async fn create_user(form: Posted, state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    admin_only(form.user())?;
    let email = form
        .get("email")
        .ok_or_else(|| WebError::BadRequest("the user needs an email address".into()))?;
    let admin = form.get("admin").is_some();
    let user = state.store.create_user(email, None, admin).await?;
    if let Some(slug) = form.get("project") {
        let project = state.store.project_by_slug(slug).await?;
        state.store.add_member(project.id, user.id).await?;
    }
    let token = state
        .store
        .create_password_link(LinkPurpose::SetPassword(user.id), 7 * 24 * HOUR_MS)
        .await?;
    let link = format!("{}/setup/{token}", state.config.base_url());
    render(&UsersPage {
        layout: form.signed_in.layout(),
        users: state.store.list_users().await?,
        link: Some((user.email, link)),
    })
}
