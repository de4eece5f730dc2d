//! Hashing components, and the fingerprints clients and rules set.

use sha2::{Digest, Sha256};

use crate::event::Event;

/// Length-prefixed, so no two component lists share an input; the version is part of it.
pub fn hash_components(version: u32, components: &[String]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(format!("bugle-grouping v{version}").as_bytes());
    for component in components {
        hasher.update((component.len() as u64).to_le_bytes());
        hasher.update(component.as_bytes());
    }
    hex::encode(hasher.finalize())
}

pub fn client_fingerprint(event: &Event) -> Option<&[String]> {
    event.fingerprint.as_deref().filter(|fp| !fp.is_empty())
}

/// A fingerprint's parts as components; `{{ default }}` stands for the default ones.
pub fn expand_fingerprint(fingerprint: &[String], defaults: &[String]) -> Vec<String> {
    let mut components = Vec::new();
    for part in fingerprint {
        if is_default_marker(part) {
            components.extend_from_slice(defaults);
        } else {
            components.push(format!("fingerprint: {part}"));
        }
    }
    components
}

/// `{{ default }}` and `{{default}}`, as Sentry SDKs send it.
fn is_default_marker(part: &str) -> bool {
    part.trim()
        .strip_prefix("{{")
        .and_then(|p| p.strip_suffix("}}"))
        .is_some_and(|inner| inner.trim() == "default")
}
