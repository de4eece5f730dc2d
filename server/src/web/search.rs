//! The issue list's search: the query box, the shortcuts that write into it, and what a query
//! that does not parse shows.
//!
//! `?query=` is the query as typed (absent: `is:unresolved`, Sentry's default). The shortcut
//! form sends the current query with `status`, `level`, `environment`, `release` and `host`:
//! each given one replaces its key's terms in the query (empty or `all` removes them), so the
//! box always shows what is searched. `q` (older links) adds free text.

use super::session::Posted;
use super::view::url_encode;
use super::WebError;
use crate::query::{
    self, Field, Filter, Key, LevelMatch, Pattern, Query, QueryError, ReleaseValue, Status, Term,
};
use crate::routes::Routes;
use crate::state::AppState;
use crate::store::issues::{IssueFilter, Sort, StatusFilter};

/// Issues per page of the issue list.
const PAGE_SIZE: i64 = 50;

/// What the list is asked for, as sent.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub(super) struct ListQuery {
    pub(super) query: Option<String>,
    pub(super) status: Option<String>,
    pub(super) level: Option<String>,
    pub(super) environment: Option<String>,
    pub(super) release: Option<String>,
    pub(super) host: Option<String>,
    pub(super) q: Option<String>,
    pub(super) sort: Option<String>,
    pub(super) cursor: Option<String>,
    pub(super) spark: Option<String>,
}

pub(super) const DEFAULT_QUERY: &str = "is:unresolved";

/// A query that does not parse, cut around the place it fails for the page to mark.
pub(super) struct BadQuery {
    pub(super) reason: String,
    pub(super) column: usize,
    pub(super) before: String,
    pub(super) marked: String,
    pub(super) after: String,
}

impl BadQuery {
    fn new(text: &str, e: &QueryError) -> Self {
        let chars: Vec<char> = text.chars().collect();
        let start = e.start.min(chars.len());
        let end = e.end.clamp(start, chars.len());
        let marked: String = chars[start..end].iter().collect();
        BadQuery {
            reason: e.reason.clone(),
            column: e.column(),
            before: chars[..start].iter().collect(),
            // Something missing at the end is shown as a marked space.
            marked: if marked.is_empty() {
                " ".into()
            } else {
                marked
            },
            after: chars[end..].iter().collect(),
        }
    }
}

/// The list's search, once read: the text for the box and what it means.
pub(super) struct Search {
    pub(super) text: String,
    pub(super) query: Query,
    pub(super) error: Option<BadQuery>,
}

fn nonempty(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

impl ListQuery {
    /// The query the box shows, with the shortcuts written into it.
    /// `default` is what an absent `query` means (the user's default search, or
    /// [`DEFAULT_QUERY`]).
    pub(super) fn search(&self, default: &str) -> Result<Search, WebError> {
        let typed = self.query.clone().unwrap_or_else(|| default.into());
        let mut q = match query::parse(&typed) {
            Ok(q) => q,
            Err(e) => {
                return Ok(Search {
                    error: Some(BadQuery::new(&typed, &e)),
                    text: typed,
                    query: Query::default(),
                })
            }
        };
        let mut changed = false;
        if let Some(status) = &self.status {
            changed = true;
            match status.trim() {
                "" | "all" => q.remove(&Key::Status),
                s => q.set(Filter::Status(status_of(s)?).into()),
            }
        }
        if let Some(level) = &self.level {
            changed = true;
            match level.trim() {
                "" => q.remove(&Key::Level),
                l => {
                    let level = l
                        .parse::<crate::event::Level>()
                        .map_err(|e| WebError::BadRequest(e.to_string()))?;
                    q.set(Filter::level(level).into());
                }
            }
        }
        for (field, value) in [
            (Field::Environment, &self.environment),
            (Field::Host, &self.host),
        ] {
            if let Some(v) = value {
                changed = true;
                match v.trim() {
                    "" => q.remove(&field.into()),
                    v => q.set(Filter::Field(field, vec![Pattern::wildcard(v)]).into()),
                }
            }
        }
        if let Some(v) = &self.release {
            changed = true;
            match v.trim() {
                "" => q.remove(&Key::Release),
                "latest" => q.set(Filter::Release(vec![ReleaseValue::Latest]).into()),
                v => {
                    q.set(Filter::Release(vec![ReleaseValue::Pattern(Pattern::wildcard(v))]).into())
                }
            }
        }
        if let Some(text) = nonempty(&self.q) {
            changed = true;
            q.terms.push(Filter::Text(Pattern::literal(&text)).into());
        }
        // Kept as typed unless a shortcut changed it.
        let text = if changed { q.to_string() } else { typed };
        Ok(Search {
            text,
            query: q,
            error: None,
        })
    }

    pub(super) fn sort(&self) -> Result<Sort, WebError> {
        match nonempty(&self.sort) {
            Some(s) => s.parse::<Sort>().map_err(WebError::BadRequest),
            None => Ok(Sort::LastSeen),
        }
    }

    /// The store's filter for this search (every status unless the query names some).
    pub(super) fn filter(&self, search: &Search, user_id: i64) -> Result<IssueFilter, WebError> {
        Ok(IssueFilter {
            status: StatusFilter::All,
            query: search.query.clone(),
            user_id: Some(user_id),
            sort: self.sort()?,
            cursor: nonempty(&self.cursor),
            limit: PAGE_SIZE,
            ..IssueFilter::default()
        })
    }

    /// This list (its search as the box shows it) with the cursor replaced or dropped.
    pub(super) fn link(&self, search: &Search, cursor: Option<&str>) -> String {
        let mut parts = vec![format!("query={}", url_encode(&search.text))];
        for (name, value) in [("sort", &self.sort), ("spark", &self.spark)] {
            if let Some(v) = nonempty(value) {
                parts.push(format!("{name}={}", url_encode(&v)));
            }
        }
        if let Some(c) = cursor {
            parts.push(format!("cursor={}", url_encode(c)));
        }
        format!("?{}", parts.join("&"))
    }
}

fn status_of(s: &str) -> Result<Status, WebError> {
    Ok(match s {
        "unresolved" => Status::Unresolved,
        "regressed" => Status::Regressed,
        "resolved" => Status::Resolved,
        "ignored" => Status::Ignored,
        "new" => Status::New,
        "assigned" => Status::Assigned,
        "unassigned" => Status::Unassigned,
        _ => return Err(WebError::BadRequest(format!("unknown status {s:?}"))),
    })
}

/// What the shortcut form shows preselected: a key's value when the query has exactly one
/// plain, positive term on it; otherwise empty (submitting it then removes the key's terms).
pub(super) struct Shortcuts {
    pub(super) status: String,
    pub(super) level: String,
    pub(super) environment: String,
    pub(super) release: String,
    pub(super) host: String,
}

impl Shortcuts {
    pub(super) fn of(q: &Query) -> Self {
        let one = |key: Key| -> Option<&Term> {
            let mut terms = q.terms.iter().filter(|t| t.key() == key);
            let first = terms.next()?;
            (terms.next().is_none() && !first.negated).then_some(first)
        };
        let status = match one(Key::Status).map(|t| &t.filter) {
            Some(Filter::Status(s)) => s.as_str().to_owned(),
            _ if q.get(&Key::Status).next().is_none() => "all".into(),
            _ => String::new(),
        };
        let level = match one(Key::Level).map(|t| &t.filter) {
            Some(Filter::Level(LevelMatch::AnyOf(l))) if l.len() == 1 => l[0].as_str().to_owned(),
            _ => String::new(),
        };
        let field = |f: Field| match one(f.into()).map(|t| &t.filter) {
            Some(Filter::Field(_, p)) if p.len() == 1 => p[0].to_plain(),
            _ => String::new(),
        };
        let release = match one(Key::Release).map(|t| &t.filter) {
            Some(Filter::Release(v)) if v.len() == 1 => match &v[0] {
                ReleaseValue::Latest => "latest".into(),
                ReleaseValue::Pattern(p) => p.to_plain(),
            },
            _ => String::new(),
        };
        Shortcuts {
            status,
            level,
            environment: field(Field::Environment),
            release,
            host: field(Field::Host),
        }
    }
}

pub fn routes(r: &mut Routes) {
    r.post("/searches", save)
        .post("/searches/{id}/delete", delete);
}

/// Where a saved search's list is: a project's, or the one across projects.
async fn list_of(state: &AppState, form: &Posted) -> Result<(Option<i64>, String), WebError> {
    match form.get("project") {
        Some(slug) => {
            let p = super::projects::visible_project(state, form.signed_in.user(), slug).await?;
            Ok((Some(p.id), format!("/projects/{}/issues", p.slug)))
        }
        None => Ok((None, "/issues".to_owned())),
    }
}

/// `POST /searches`: name, query, project (slug; none: across projects), shared, default.
async fn save(
    form: Posted,
    state: actix_web::web::Data<AppState>,
) -> Result<actix_web::HttpResponse, WebError> {
    let (project_id, path) = list_of(&state, &form).await?;
    let query = form.get("query").unwrap_or_default();
    let name = form.get("name").unwrap_or(query);
    state
        .store
        .save_search(
            form.signed_in.user().id,
            project_id,
            name,
            query,
            form.get("shared").is_some(),
            form.get("default").is_some(),
        )
        .await?;
    Ok(super::redirect(&format!(
        "{path}?query={}",
        url_encode(query)
    )))
}

/// `POST /searches/{id}/delete`: one of the user's own.
async fn delete(
    form: Posted,
    state: actix_web::web::Data<AppState>,
    id: actix_web::web::Path<i64>,
) -> Result<actix_web::HttpResponse, WebError> {
    let (_, path) = list_of(&state, &form).await?;
    state
        .store
        .delete_saved_search(form.signed_in.user().id, *id)
        .await?;
    Ok(super::redirect(&path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(query: Option<&str>) -> ListQuery {
        ListQuery {
            query: query.map(str::to_owned),
            ..ListQuery::default()
        }
    }

    #[test]
    fn no_query_is_unresolved_and_shortcuts_write_into_the_query() {
        assert_eq!(
            list(None).search(DEFAULT_QUERY).unwrap().text,
            "is:unresolved"
        );
        let l = ListQuery {
            level: Some("error".into()),
            status: Some("all".into()),
            environment: Some("prod".into()),
            ..list(Some("is:resolved \"time out\""))
        };
        let s = l.search(DEFAULT_QUERY).unwrap();
        assert_eq!(s.text, "\"time out\" level:error environment:prod");
        let shown = Shortcuts::of(&s.query);
        assert_eq!(
            (shown.status.as_str(), shown.level.as_str()),
            ("all", "error")
        );
        assert_eq!(shown.environment, "prod");
    }

    #[test]
    fn a_bad_query_is_cut_where_it_fails() {
        let s = list(Some("level:loud x")).search(DEFAULT_QUERY).unwrap();
        let e = s.error.unwrap();
        assert_eq!((e.before.as_str(), e.marked.as_str()), ("level:", "loud"));
        assert_eq!(e.after, " x");
        assert_eq!(e.column, 7);
        let s = list(Some("level:")).search(DEFAULT_QUERY).unwrap();
        assert_eq!(s.error.unwrap().marked, " ");
    }
}
