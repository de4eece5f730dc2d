//! Where each key's values are indexed: the facet names that `store::search` looks up in
//! `issue_facets` and [`super::matches`] looks up in an alert's subject, so both read a key
//! the same way.

use super::ast::Field;

/// The facet a tag is indexed under; built-in facets have no `:`, so they cannot collide.
pub fn tag_facet(key: &str) -> String {
    format!("tag:{key}")
}

/// Where a built-in field's values are indexed.
pub fn field_facet(field: Field) -> String {
    match field {
        Field::Environment => "environment".into(),
        Field::Host => "host".into(),
        Field::Service => tag_facet("service"),
        Field::Trace => "trace".into(),
        Field::UserId => "user.id".into(),
        Field::UserEmail => "user.email".into(),
        Field::Url => "url".into(),
        Field::Message => "message".into(),
    }
}

/// A tag key's facets: the tag, and for `os` and `browser` (Sentry's tags from contexts) the
/// built-in breakdown of that name.
pub fn tag_facets(key: &str) -> Vec<String> {
    let mut facets = vec![tag_facet(key)];
    if matches!(key, "os" | "browser") {
        facets.push(key.to_owned());
    }
    facets
}

/// The facets `has:user` accepts.
pub const USER_FACETS: [&str; 2] = ["user.id", "user.email"];
