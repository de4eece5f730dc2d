//! Sentry's list pagination as its clients read it: `?per_page=` and `?cursor=` in, a `Link`
//! header out with `rel="previous"` and `rel="next"`, each saying `results="true|false"` and
//! the `cursor` to send back. Sentry's cursor is `value:offset:is_prev`; ours carries the row
//! offset in its middle field.

use actix_web::HttpRequest;

use crate::error::ApiError;

/// One page of a list.
pub struct Page {
    pub offset: usize,
    pub per_page: usize,
}

/// The largest page, as Sentry's endpoints allow.
const MAX_PER_PAGE: usize = 100;

impl Page {
    /// Reads `per_page` (1-100, default 100) and `cursor` from the query string.
    pub fn from_request(req: &HttpRequest) -> Result<Page, ApiError> {
        let mut page = Page {
            offset: 0,
            per_page: MAX_PER_PAGE,
        };
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
        for (key, value) in pairs {
            match key.as_str() {
                "per_page" => {
                    page.per_page = value
                        .parse()
                        .ok()
                        .filter(|n| (1..=MAX_PER_PAGE).contains(n))
                        .ok_or_else(|| {
                            ApiError::BadRequest(format!("per_page must be 1-100, not {value:?}"))
                        })?
                }
                "cursor" if !value.is_empty() => {
                    page.offset = value
                        .split(':')
                        .nth(1)
                        .and_then(|o| o.parse().ok())
                        .filter(|&o: &usize| o <= 10_000_000)
                        .ok_or_else(|| ApiError::BadRequest(format!("invalid cursor {value:?}")))?
                }
                _ => {}
            }
        }
        Ok(page)
    }

    /// The `Link` header for this page, given whether more rows follow it.
    pub fn link(&self, req: &HttpRequest, more: bool) -> String {
        let path = req.path();
        let previous = self.offset.saturating_sub(self.per_page);
        let next = self.offset + self.per_page;
        format!(
            "<{path}?cursor=0:{previous}:1>; rel=\"previous\"; results=\"{}\"; cursor=\"0:{previous}:1\", \
             <{path}?cursor=0:{next}:0>; rel=\"next\"; results=\"{more}\"; cursor=\"0:{next}:0\"",
            self.offset > 0
        )
    }
}
