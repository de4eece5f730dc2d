//! Releases: what a version name may be, and how a project's releases are ordered
//! (`order`), and release health from sessions (`health`). Pure: the store keeps them, the APIs and ingest use these rules.

pub mod health;
pub mod order;
pub mod suspects;

/// Longest release or environment name accepted, as Sentry allows.
pub const MAX_NAME: usize = 200;

/// Checks a release version as Sentry does: not empty, at most 200 characters, no `/`, `\`,
/// newline or tab, not `.`, `..` or blank. Versions appear in URL paths, hence the slashes.
pub fn validate_version(version: &str) -> Result<&str, String> {
    if version.trim().is_empty() {
        return Err("a release version must not be empty".into());
    }
    if version.chars().count() > MAX_NAME {
        return Err(format!(
            "a release version is at most {MAX_NAME} characters"
        ));
    }
    if version == "." || version == ".." {
        return Err(format!("{version:?} is not a valid release version"));
    }
    if let Some(c) = version
        .chars()
        .find(|c| matches!(c, '/' | '\\' | '\n' | '\r' | '\t'))
    {
        return Err(format!(
            "a release version must not contain {:?}",
            c.to_string()
        ));
    }
    Ok(version)
}

/// Checks an environment name: not empty, at most 200 characters, no control characters or
/// slashes.
pub fn validate_environment(env: &str) -> Result<&str, String> {
    if env.trim().is_empty() {
        return Err("an environment must not be empty".into());
    }
    if env.chars().count() > MAX_NAME {
        return Err(format!("an environment is at most {MAX_NAME} characters"));
    }
    if env.chars().any(|c| c.is_control() || c == '/') {
        return Err("an environment must not contain `/` or control characters".into());
    }
    Ok(env)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_sentry_refuses_are_refused_with_a_reason() {
        for bad in ["", " ", ".", "..", "a/b", "a\\b", "a\nb", "a\tb"] {
            assert!(validate_version(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(validate_version(&"x".repeat(201)).is_err());
        for good in [
            "1.2.3",
            "pkg@1.2.3+build.7",
            "3f2a9c1",
            "v1.2",
            &"x".repeat(200),
        ] {
            assert_eq!(validate_version(good), Ok(good));
        }
    }

    #[test]
    fn environments_are_names_without_slashes_or_control_characters() {
        assert!(validate_environment("production").is_ok());
        assert!(validate_environment("").is_err());
        assert!(validate_environment("a/b").is_err());
        assert!(validate_environment("a\nb").is_err());
    }
}
