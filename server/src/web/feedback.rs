//! A project's user feedback: what users said about its errors, newest first.

use actix_web::{web, HttpResponse};
use askama::Template;

use super::projects::visible_project;
use super::session::{Layout, SignedIn};
use super::{render, WebError};
use crate::routes::Routes;
use crate::state::AppState;
use crate::store::feedback::Feedback;
use crate::store::projects::Project;

pub fn routes(r: &mut Routes) {
    r.get("/projects/{slug}/feedback", feedback_page);
}

#[derive(Template)]
#[template(path = "feedback.html")]
struct FeedbackPage {
    layout: Layout,
    project: Project,
    feedback: Vec<Feedback>,
}

async fn feedback_page(
    me: SignedIn,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let project = visible_project(&state, me.user(), &slug).await?;
    let feedback = state.store.project_feedback(project.id, 200).await?;
    render(&FeedbackPage {
        layout: me.layout(),
        project,
        feedback,
    })
}
