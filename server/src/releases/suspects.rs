//! Suspect commits: of the release an issue appeared in and the few before it, the commits
//! whose changed files (sentry-cli's `patch_set`) are files of the in-app frames.
//! Pure: the store hands in the releases and the event.
//!
//! A commit path and a frame path match when one ends with the other, whole path components
//! compared (`src/shop/cart.py` matches the frame `/srv/app/src/shop/cart.py` and the frame
//! `shop/cart.py`, not `oldcart.py`): frames carry paths from where the code ran, commits from
//! the repository root, and either may be the longer.

use serde::Serialize;
use serde_json::Value;

/// Releases looked at: the one the issue appeared in and this many before it.
pub const RELEASES_BEFORE: usize = 3;

/// A commit suspected of causing an issue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SuspectCommit {
    pub release: String,
    pub id: String,
    pub repository: Option<String>,
    pub author_name: Option<String>,
    pub author_email: Option<String>,
    /// The first line of its message.
    pub message: Option<String>,
    /// Its changed files that are frames of the issue.
    pub files: Vec<String>,
}

/// The files of an event's in-app frames (frames without `in_app` count: many senders leave
/// it out), each once, as sent (`filename`, else `abs_path`).
pub fn in_app_files(event: &Value) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let exceptions = event["exceptions"].as_array().into_iter().flatten();
    let threads = event["threads"].as_array().into_iter().flatten();
    for holder in exceptions.chain(threads) {
        for frame in holder["frames"].as_array().into_iter().flatten() {
            if frame["in_app"] == false {
                continue;
            }
            for key in ["filename", "abs_path"] {
                if let Some(path) = frame[key].as_str().filter(|p| !p.is_empty()) {
                    if !out.iter().any(|p| p == path) {
                        out.push(path.to_owned());
                    }
                }
            }
        }
    }
    out
}

fn components(path: &str) -> Vec<&str> {
    path.split(['/', '\\'])
        .filter(|c| !c.is_empty() && *c != ".")
        .collect()
}

/// Whether a changed file and a frame's file are the same file (see the module docs).
pub fn path_matches(changed: &str, frame: &str) -> bool {
    let (a, b) = (components(changed), components(frame));
    if a.is_empty() || b.is_empty() {
        return false;
    }
    let n = a.len().min(b.len());
    a[a.len() - n..] == b[b.len() - n..]
}

/// The suspect commits of `releases` (newest first: the release the issue appeared in, then
/// older ones), for an issue whose in-app frames are in `files`.
pub fn suspect_commits(releases: &[(&str, &Value)], files: &[String]) -> Vec<SuspectCommit> {
    let text = |v: &Value| v.as_str().filter(|s| !s.is_empty()).map(str::to_owned);
    let mut out = Vec::new();
    for (release, commits) in releases.iter().take(RELEASES_BEFORE + 1) {
        for commit in commits.as_array().into_iter().flatten() {
            let mut touched: Vec<String> = Vec::new();
            for change in commit["patch_set"].as_array().into_iter().flatten() {
                let Some(path) = change["path"].as_str() else {
                    continue;
                };
                if files.iter().any(|f| path_matches(path, f)) && !touched.iter().any(|t| t == path)
                {
                    touched.push(path.to_owned());
                }
            }
            if touched.is_empty() {
                continue;
            }
            out.push(SuspectCommit {
                release: (*release).to_owned(),
                id: text(&commit["id"]).unwrap_or_default(),
                repository: text(&commit["repository"]),
                author_name: text(&commit["author_name"]),
                author_email: text(&commit["author_email"]),
                message: text(&commit["message"]).and_then(|m| m.lines().next().map(str::to_owned)),
                files: touched,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_match_by_whole_trailing_components() {
        assert!(path_matches(
            "src/shop/cart.py",
            "/srv/app/src/shop/cart.py"
        ));
        assert!(path_matches("src/shop/cart.py", "shop/cart.py"));
        assert!(path_matches("app\\cart.py", "/srv/app/cart.py"));
        assert!(path_matches("./cart.py", "cart.py"));
        assert!(!path_matches("src/shop/oldcart.py", "shop/cart.py"));
        assert!(!path_matches("src/billing/cart.py", "src/shop/cart.py"));
        assert!(!path_matches("", "cart.py"));
    }

    #[test]
    fn in_app_files_skip_library_frames() {
        let event = json!({"exceptions": [{"frames": [
            {"filename": "shop/cart.py", "abs_path": "/srv/shop/cart.py", "in_app": true},
            {"filename": "site-packages/flask/app.py", "in_app": false},
            {"filename": "shop/cart.py", "in_app": true},
            {"filename": "main.py"}
        ]}]});
        assert_eq!(
            in_app_files(&event),
            ["shop/cart.py", "/srv/shop/cart.py", "main.py"]
        );
    }

    #[test]
    fn commits_touching_the_frames_files_are_suspects_within_the_last_releases() {
        let commit = |id: &str, path: &str| {
            json!({"id": id, "repository": "acme/shop", "author_name": "Ada", "author_email": "ada@example.com",
                   "message": format!("change {path}\n\nbody"), "patch_set": [{"path": path, "type": "M"}, {"path": "README.md", "type": "M"}]})
        };
        let newest = json!([commit("c3", "src/shop/cart.py"), commit("c2", "docs/x.md")]);
        let older = json!([commit("c1", "src/shop/cart.py")]);
        let ancient = json!([commit("c0", "src/shop/cart.py")]);
        let none = json!(null);
        let releases: Vec<(&str, &Value)> = vec![
            ("1.4", &newest),
            ("1.3", &older),
            ("1.2", &none),
            ("1.1", &none),
            ("1.0", &ancient),
        ];
        let files = vec!["/srv/app/src/shop/cart.py".to_owned()];
        let suspects = suspect_commits(&releases, &files);
        let ids: Vec<&str> = suspects.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["c3", "c1"], "1.0 is more than 3 releases back");
        assert_eq!(suspects[0].files, ["src/shop/cart.py"]);
        assert_eq!(suspects[0].author_name.as_deref(), Some("Ada"));
        assert_eq!(
            suspects[0].message.as_deref(),
            Some("change src/shop/cart.py")
        );
        assert_eq!(suspects[1].release, "1.3");
        assert!(suspect_commits(&releases, &[]).is_empty());
    }
}
