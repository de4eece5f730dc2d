//! The order of a project's releases: which is older, which newer.
//!
//! Versions that parse as semantic versions (`pkg@1.2.3+build`, `1.2.3`, `v1.2`,
//! `2.0.0-rc.1`, `42`) are ordered by version, whenever they were created: a backport 8.0.1
//! made after 8.1.0 is still older than 8.1.0. Other names (commit hashes, dates, anything)
//! take their place in the order they were created, after every release that existed then.
//! Never the time an event happened to arrive: a late event from an old build must not make
//! its release the newest.
//!
//! Built by inserting releases in creation order into one list: a semantic version newer
//! than every other goes at the end, one that is not right after the greatest smaller
//! semantic version (before the smallest, if none is smaller), anything else at the end. Semantic versions thus keep their order among
//! themselves, and the result is one total order, stable as releases are added.

use std::cmp::Ordering;
use std::collections::HashMap;

/// A parsed semantic version: numeric parts (missing ones are 0), then pre-release
/// identifiers. Build metadata (`+...`) and a package prefix (`pkg@`) do not count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Semver {
    parts: [u64; 4],
    pre: Vec<Ident>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Ident {
    Num(u64),
    Text(String),
}

impl Ord for Ident {
    // Numeric identifiers sort below alphanumeric ones (semver 2.0 §11).
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Ident::Num(a), Ident::Num(b)) => a.cmp(b),
            (Ident::Num(_), Ident::Text(_)) => Ordering::Less,
            (Ident::Text(_), Ident::Num(_)) => Ordering::Greater,
            (Ident::Text(a), Ident::Text(b)) => a.cmp(b),
        }
    }
}

impl PartialOrd for Ident {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Semver {
    fn cmp(&self, other: &Self) -> Ordering {
        self.parts.cmp(&other.parts).then_with(|| {
            // A pre-release is older than its release.
            match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => self.pre.cmp(&other.pre),
            }
        })
    }
}

impl PartialOrd for Semver {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Semver {
    /// `None` for names that are not versions (a hash, a date with words, `latest`).
    pub fn parse(version: &str) -> Option<Semver> {
        let v = version.rsplit_once('@').map_or(version, |(_, v)| v);
        let v = v.split_once('+').map_or(v, |(v, _)| v);
        let v = v.strip_prefix(['v', 'V']).unwrap_or(v);
        let (core, pre) = match v.split_once('-') {
            Some((core, pre)) => (core, Some(pre)),
            None => (v, None),
        };
        let mut parts = [0u64; 4];
        let mut n = 0;
        for part in core.split('.') {
            if n == 4 || part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            parts[n] = part.parse().ok()?;
            n += 1;
        }
        // A long run of digits alone is more likely a build number or a timestamp than a
        // major version, but it still orders correctly as one; only refuse absurd lengths.
        if n == 1 && core.len() > 18 {
            return None;
        }
        let pre = match pre {
            None => Vec::new(),
            Some(pre) => {
                let mut out = Vec::new();
                for id in pre.split('.') {
                    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    {
                        return None;
                    }
                    out.push(match id.parse::<u64>() {
                        Ok(n) if id.bytes().all(|b| b.is_ascii_digit()) => Ident::Num(n),
                        _ => Ident::Text(id.to_owned()),
                    });
                }
                out
            }
        };
        Some(Semver { parts, pre })
    }
}

/// A project's releases in order, oldest first.
#[derive(Debug, Clone, Default)]
pub struct ReleaseOrder {
    /// Oldest first.
    sorted: Vec<String>,
    rank: HashMap<String, usize>,
}

impl ReleaseOrder {
    /// Orders versions given in the order they were created (oldest first).
    pub fn new<'a>(created: impl IntoIterator<Item = &'a str>) -> Self {
        let mut list: Vec<(&'a str, Option<Semver>)> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for version in created {
            if !seen.insert(version) {
                continue;
            }
            let semver = Semver::parse(version);
            let at = match &semver {
                None => list.len(),
                Some(s) => {
                    let mut after_smaller = None;
                    let mut first_semver = None;
                    let mut newest = true;
                    for (i, (_, other)) in list.iter().enumerate() {
                        if let Some(o) = other {
                            first_semver.get_or_insert(i);
                            // Equal versions (1.2 and 1.2.0, builds of one version) keep
                            // their creation order.
                            if o <= s {
                                after_smaller = Some(i + 1);
                            } else {
                                newest = false;
                            }
                        }
                    }
                    if newest {
                        list.len()
                    } else {
                        after_smaller.or(first_semver).unwrap_or(list.len())
                    }
                }
            };
            list.insert(at, (version, semver));
        }
        let sorted: Vec<String> = list.into_iter().map(|(v, _)| v.to_owned()).collect();
        let rank = sorted
            .iter()
            .enumerate()
            .map(|(i, v)| (v.clone(), i))
            .collect();
        ReleaseOrder { sorted, rank }
    }

    /// Position from the oldest (0), for known versions.
    pub fn rank(&self, version: &str) -> Option<usize> {
        self.rank.get(version).copied()
    }

    /// How `a` compares with `b` (`Less`: older), when both are known.
    pub fn cmp(&self, a: &str, b: &str) -> Option<Ordering> {
        Some(self.rank(a)?.cmp(&self.rank(b)?))
    }

    /// Whether `version` is `reference` or newer. Unknown versions count as newer: a release
    /// only ever becomes known to the order once it is stored, and it is stored before any
    /// event of it is judged.
    pub fn at_least(&self, version: &str, reference: &str) -> bool {
        self.cmp(version, reference) != Some(Ordering::Less)
    }

    /// The newest release.
    pub fn latest(&self) -> Option<&str> {
        self.sorted.last().map(String::as_str)
    }

    /// Newest first, as lists show them.
    pub fn newest_first(&self) -> impl DoubleEndedIterator<Item = &str> {
        self.sorted.iter().rev().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(created: &[&str]) -> Vec<String> {
        let o = ReleaseOrder::new(created.iter().copied());
        o.newest_first().rev().map(str::to_owned).collect()
    }

    #[test]
    fn a_backport_created_after_a_newer_release_sorts_below_it() {
        assert_eq!(
            order(&["8.0.0", "8.1.0", "8.0.1"]),
            ["8.0.0", "8.0.1", "8.1.0"]
        );
        let o = ReleaseOrder::new(["8.0.0", "8.1.0", "8.0.1"]);
        assert!(!o.at_least("8.0.1", "8.1.0"));
        assert!(o.at_least("8.1.0", "8.0.1"));
        assert_eq!(o.latest(), Some("8.1.0"));
    }

    #[test]
    fn numbers_compare_as_numbers_not_text() {
        // sentry#74448: 388.0.6 vs 388.0.8 and friends.
        assert_eq!(
            order(&["388.0.8", "388.0.10", "388.0.6", "2.0", "10.0"]),
            ["2.0", "10.0", "388.0.6", "388.0.8", "388.0.10"]
        );
    }

    #[test]
    fn package_prefixes_v_prefixes_and_build_metadata_do_not_count() {
        let a = Semver::parse("frontend@1.2.3+build.77").unwrap();
        let b = Semver::parse("v1.2.3").unwrap();
        assert_eq!(a.cmp(&b), Ordering::Equal);
        assert_eq!(Semver::parse("v1.2"), Semver::parse("1.2.0"));
        assert!(Semver::parse("@scope/pkg@2.0.0").unwrap() > Semver::parse("1.9.9").unwrap());
        // Builds of one version keep their creation order.
        assert_eq!(
            order(&["app@1.2.3+b2", "app@1.2.3+b1", "app@1.2.4"]),
            ["app@1.2.3+b2", "app@1.2.3+b1", "app@1.2.4"]
        );
    }

    #[test]
    fn pre_releases_come_before_their_release_in_semver_order() {
        assert_eq!(
            order(&[
                "1.0.0",
                "1.0.0-rc.1",
                "1.0.0-alpha",
                "1.0.0-alpha.1",
                "1.0.0-beta.11",
                "1.0.0-beta.2",
                "0.9.0"
            ]),
            [
                "0.9.0",
                "1.0.0-alpha",
                "1.0.0-alpha.1",
                "1.0.0-beta.2",
                "1.0.0-beta.11",
                "1.0.0-rc.1",
                "1.0.0"
            ]
        );
    }

    #[test]
    fn hashes_and_other_names_are_ordered_by_creation() {
        assert_eq!(Semver::parse("3f2a9c1"), None);
        assert_eq!(Semver::parse("e4d909c290d0fb1ca068ffaddf22cbd0"), None);
        assert_eq!(Semver::parse("latest"), None);
        assert_eq!(Semver::parse("1.2.3.4.5"), None);
        assert_eq!(order(&["f00d", "beef", "0abc"]), ["f00d", "beef", "0abc"]);
    }

    #[test]
    fn mixed_schemes_keep_semver_order_and_place_names_by_creation() {
        // A project that switched from hashes to versions: the versions are newer.
        assert_eq!(
            order(&["abc123", "def456", "1.0.0", "0.9.0"]),
            ["abc123", "def456", "0.9.0", "1.0.0"]
        );
        // A stray name among versions sits where it was made; a later backport still goes
        // below the release it backports from.
        assert_eq!(
            order(&["1.0", "1.1", "nightly-x", "1.2", "1.0.1"]),
            ["1.0", "1.0.1", "1.1", "nightly-x", "1.2"]
        );
        // From versions to hashes: the hashes are newer.
        assert_eq!(order(&["1.0", "2.0", "cafe01"]), ["1.0", "2.0", "cafe01"]);
    }

    #[test]
    fn unknown_versions_count_as_newer_and_repeats_are_ignored() {
        let o = ReleaseOrder::new(["1.0", "1.0", "2.0"]);
        assert_eq!(o.newest_first().collect::<Vec<_>>(), ["2.0", "1.0"]);
        assert!(o.at_least("9.9", "2.0"));
        assert_eq!(o.cmp("1.0", "nope"), None);
    }
}
