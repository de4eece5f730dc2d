//! Project grouping rules: fingerprint rules and stack-trace rules, as users write them.
//! (Placeholder with the interface grouping uses; the parser lands separately.)

use crate::event::{Event, Frame};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rules {}

#[derive(Debug, Clone, PartialEq)]
pub struct RuleFingerprint {
    pub values: Vec<String>,
    pub title: Option<String>,
    pub rule_line: usize,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FrameAction {
    pub in_app: Option<bool>,
    pub group: Option<bool>,
}

impl Rules {
    pub fn is_empty(&self) -> bool {
        true
    }
    pub fn fingerprint(&self, _event: &Event) -> Option<RuleFingerprint> {
        None
    }
    pub fn frame_action(&self, _event: &Event, _frame: &Frame) -> FrameAction {
        FrameAction::default()
    }
    pub fn has_stack_rules(&self) -> bool {
        false
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

pub fn parse(_text: &str) -> Result<Rules, RuleError> {
    Ok(Rules::default())
}
