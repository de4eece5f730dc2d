//! Version 1 of the algorithm, kept as it was: after an upgrade, an event whose version-2
//! hashes are unknown still finds the issue its version-1 hashes point to.
//!
//! Per exception its type and every frame's label (in-app frames only, then all frames: two
//! hashes), a run of one frame counted once; a frameless exception adds its parameterized
//! message; an event without exceptions is its parameterized message.

use super::frames;
use super::parameterize::parameterize;
use super::Version;
use crate::event::{Event, Exception};

/// The component lists to hash, best first; never empty.
pub fn variants(event: &Event, root: Option<&str>) -> Vec<Vec<String>> {
    if event.exceptions.is_empty() {
        let message = event.message.as_deref().unwrap_or_default();
        return vec![vec![format!(
            "message: {}",
            parameterize(message, Version::V1)
        )]];
    }
    let chain: Vec<(&Exception, Vec<(String, bool)>)> = event
        .exceptions
        .iter()
        .map(|exc| {
            let frames = exc
                .frames
                .iter()
                .filter_map(|f| {
                    Some((frames::label(f, root, Version::V1)?, f.in_app == Some(true)))
                })
                .collect();
            (exc, frames)
        })
        .collect();
    let all = chain_components(&chain, false);
    let any_in_app = chain.iter().flat_map(|(_, f)| f).any(|(_, in_app)| *in_app);
    if any_in_app {
        vec![chain_components(&chain, true), all]
    } else {
        vec![all]
    }
}

fn chain_components(chain: &[(&Exception, Vec<(String, bool)>)], in_app_only: bool) -> Vec<String> {
    let mut components = Vec::new();
    for (exc, frames) in chain {
        components.push(format!("type: {}", exc.ty.trim()));
        if frames.is_empty() {
            if let Some(value) = exc.value.as_deref().filter(|v| !v.trim().is_empty()) {
                components.push(format!(
                    "message: {}",
                    parameterize(value.trim(), Version::V1)
                ));
            }
            continue;
        }
        let mut previous: Option<&str> = None;
        for (label, _) in frames.iter().filter(|(_, in_app)| *in_app || !in_app_only) {
            if previous != Some(label.as_str()) {
                components.push(format!("frame: {label}"));
            }
            previous = Some(label);
        }
    }
    components
}
