//! INTERIM: replaced by the full grouping module before landing.
use crate::event::Event;
use sha2::{Digest, Sha256};

pub const GROUPING_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq)]
pub struct Grouping {
    pub hashes: Vec<String>,
    pub components: Vec<String>,
    pub title: String,
    pub culprit: Option<String>,
}

pub fn group(event: &Event) -> Grouping {
    let mut components = Vec::new();
    for e in &event.exceptions {
        components.push(format!("type: {}", e.ty));
        for f in &e.frames {
            components.push(format!("frame: {}", f.function.clone().unwrap_or_default()));
        }
    }
    if components.is_empty() {
        components.push(format!("message: {}", parameterize(event.message.as_deref().unwrap_or(""))));
    }
    let mut h = Sha256::new();
    h.update(GROUPING_VERSION.to_string());
    for c in &components {
        h.update(c);
    }
    let title = match event.exceptions.first() {
        Some(e) => format!("{}: {}", e.ty, e.value.clone().unwrap_or_default()),
        None => event.message.clone().unwrap_or_default(),
    };
    Grouping { hashes: vec![hex::encode(h.finalize())], components, title, culprit: None }
}

pub fn parameterize(message: &str) -> String {
    message.chars().map(|c| if c.is_ascii_digit() { '#' } else { c }).collect()
}
