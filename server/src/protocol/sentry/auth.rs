//! Who sends: the `X-Sentry-Auth` header and the DSN.

/// The parts of an `X-Sentry-Auth` header (or of the `sentry_*` query parameters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentryAuth {
    /// The DSN's public key: identifies the project.
    pub key: String,
    pub version: Option<String>,
    pub client: Option<String>,
    /// Deprecated; never required.
    pub secret: Option<String>,
}

/// Parses `Sentry sentry_version=7, sentry_client=sentry.python/2.0.1, sentry_key=abc`.
/// `None` without a non-empty `sentry_key`.
pub fn parse_sentry_auth(header: &str) -> Option<SentryAuth> {
    let header = header.trim();
    let fields = match header.get(..7) {
        Some(prefix) if prefix.eq_ignore_ascii_case("sentry ") => &header[7..],
        _ => header,
    };
    let mut auth = SentryAuth {
        key: String::new(),
        version: None,
        client: None,
        secret: None,
    };
    for part in fields.split(',') {
        let Some((name, value)) = part.split_once('=') else {
            continue;
        };
        let name = name.trim();
        let value = value.trim().trim_matches('"').to_owned();
        match name.strip_prefix("sentry_").unwrap_or(name) {
            "key" => auth.key = value,
            "version" => auth.version = Some(value),
            "client" => auth.client = Some(value),
            "secret" => auth.secret = Some(value),
            _ => {}
        }
    }
    (!auth.key.is_empty()).then_some(auth)
}

/// `https://PUBLIC[:SECRET]@HOST[:PORT][/PATH]/PROJECT_ID` → `(PUBLIC, PROJECT_ID)`.
pub fn key_from_dsn(dsn: &str) -> Option<(String, String)> {
    let (_scheme, rest) = dsn.trim().split_once("://")?;
    let (authority, path) = rest.split_once('/')?;
    let (userinfo, host) = authority.rsplit_once('@')?;
    let key = userinfo.split(':').next()?;
    let path = path.split(['?', '#']).next()?;
    let project = path.trim_end_matches('/').rsplit('/').next()?;
    if key.is_empty() || host.is_empty() || project.is_empty() {
        return None;
    }
    Some((key.to_owned(), project.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_auth_header_gives_the_key() {
        let auth = parse_sentry_auth(
            "Sentry sentry_version=7, sentry_client=sentry.python/2.1.1, sentry_key=e12d836b15bb49d7bbf99e64295d995b, sentry_secret=s",
        )
        .unwrap();
        assert_eq!(auth.key, "e12d836b15bb49d7bbf99e64295d995b");
        assert_eq!(auth.version.as_deref(), Some("7"));
        assert_eq!(auth.client.as_deref(), Some("sentry.python/2.1.1"));
        assert_eq!(auth.secret.as_deref(), Some("s"));
        assert_eq!(
            parse_sentry_auth("sentry sentry_key=abc,sentry_version=7")
                .unwrap()
                .key,
            "abc"
        );
        assert!(parse_sentry_auth("Sentry sentry_version=7").is_none());
        assert!(parse_sentry_auth("Sentry sentry_key=").is_none());
    }

    #[test]
    fn the_dsn_gives_the_key_and_the_project() {
        let cases = [
            ("https://e12d@o1.ingest.example/42", Some(("e12d", "42"))),
            (
                "https://e12d:secret@bugle.example:8000/sub/path/42",
                Some(("e12d", "42")),
            ),
            ("http://k@localhost/7/", Some(("k", "7"))),
            ("https://k@host/7?timeout=1", Some(("k", "7"))),
            ("https://host/42", None),
            ("https://k@host", None),
            ("not a dsn", None),
        ];
        for (dsn, expected) in cases {
            let got = key_from_dsn(dsn);
            assert_eq!(
                got.as_ref().map(|(k, p)| (k.as_str(), p.as_str())),
                expected,
                "{dsn}"
            );
        }
    }
}
