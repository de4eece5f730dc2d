//! Project grouping rules: fingerprint rules and stack-trace rules, as users write them.
//!
//! A project's settings hold a text of rules, one per line. [`parse()`] turns it into [`Rules`]
//! (or a [`RuleError`] naming the line and column, for a 400 on the settings page); the grouping
//! code then asks [`Rules::fingerprint`] which issue an event belongs to, and
//! [`Rules::frame_action`] (or [`Rules::for_event`] then [`EventRules::frame_action`], which
//! evaluates the event-level conditions once per event) what the stack rules say about a frame.
//! Everything here is pure: no I/O, no clock, no state.
//!
//! # The language
//!
//! ```text
//! # A comment. Blank lines are ignored too.
//! error.type:DatabaseUnavailable -> system-down title="Database down"
//! message:"*timed out*" -> timeouts
//! error.type:KeyError stack.function:lookup_flag -> feature-flags
//! tags.region:eu-* -> payments, {{ error.type }}
//!
//! stack.module:vendor.* -app
//! stack.function:log_and_raise -group
//! stack.abs_path:**/generated/** -group -app
//! error.type:Timeout !stack.module:app.* -group
//! ```
//!
//! ```text
//! line        = ws* ( comment | rule ws* comment? )?
//! comment     = "#" anything                 (at the start of a token: `Orders#create` is a value)
//! rule        = matcher (ws+ matcher)* ws+ ( "->" ws* fingerprint | action (ws+ action)* )
//! matcher     = "!"? key ":" value
//! value       = quoted | bare
//! quoted      = '"' ( '\"' | '\\' | any char but '"' )* '"'    (any other backslash is kept)
//! bare        = non-space chars
//! action      = "+app" | "-app" | "+group" | "-group"
//! fingerprint = template (ws* "," ws* template)* (ws+ attribute)*
//! attribute   = "title=" template
//! template    = ( quoted-with-variables | variable | bare char except space, "," and '"' )+
//! variable    = "{{" ws* name ws* "}}"
//! ```
//!
//! Tokens are separated by spaces: `error.type:Foo->x` is one matcher whose value is `Foo->x`.
//!
//! ## Matchers
//!
//! All the matchers of a rule must match (AND); `!` negates one. A field the event or frame
//! does not have never matches (so `tags.region:*` means "has a region tag", and
//! `!tags.region:*` "has none").
//!
//! Event level:
//! - `error.type`: the type of ANY exception of the chain (`!error.type:X`: none is an X);
//! - `error.value`: the value (message) of ANY exception of the chain;
//! - `message`: the event's message, or the outermost exception's value when it has none;
//! - `level`: `critical`, `error`, `warning`, `info` or `debug` (the event's level, `error` when
//!   it has none); a value without wildcards is read as a level, so `level:warn` and
//!   `level:fatal` work, and `level:loud` is a parse error;
//! - `environment`;
//! - `platform` or `language` (the same matcher): matches the event's platform or its language;
//! - `tags.NAME` or `tag.NAME`: the value of tag `NAME`.
//!
//! Frame level:
//! - `stack.function`, `stack.module`, `stack.abs_path`, `stack.filename`;
//! - `stack.path`: the frame's `abs_path` or its `filename`;
//! - `stack.package`: the frame's `module` for now (frames have no package field yet);
//! - `app:yes` / `app:no` (also `true`/`false`): whether the frame is in-app. A frame that does
//!   not say counts as not in-app, as in grouping. The in-app state seen is the one after the
//!   stack rules: in a stack rule, after the rules above it; in a fingerprint rule, after all of
//!   them (so pass [`Rules::fingerprint`] the event as received).
//!
//! In a fingerprint rule the frame-level matchers must all match one same frame, of any
//! exception of the chain. In a stack rule they are tested against each frame, and the
//! event-level matchers restrict the rule to the events that match them.
//!
//! ## Values
//!
//! Values are globs: `?` is one character, `*` any run of characters. For the path keys
//! (`stack.abs_path`, `stack.filename`, `stack.path`) `/` separates directories: `*` and `?`
//! never match a `/`, `**` matches across them, and as in `.gitignore` `**/` also matches no
//! directory at all (`**/generated/**` matches `generated/api.py` and
//! `/srv/app/generated/api.py`). Only `/` is a separator (a Windows `\` is an ordinary
//! character). There is no escape for a literal `*` or `?`: `?` matches them.
//!
//! Matching is case-sensitive, except for `message` and `error.value`, which ignore case
//! (per-character lowercase).
//!
//! ## Fingerprint rules
//!
//! The first fingerprint rule that matches (in the order written) wins. Its values, separated by
//! commas, may be quoted to hold spaces or commas and may use variables, which expand to the
//! event's value (the empty string when it has none):
//! - `{{ error.type }}`, `{{ error.value }}`: of the outermost exception;
//! - `{{ message }}`: as the `message` matcher reads it;
//! - `{{ stack.function }}`, `{{ stack.module }}`: of the innermost frame (the last frame of the
//!   outermost exception that has frames);
//! - `{{ level }}`, `{{ tags.NAME }}` (or `{{ tag.NAME }}`);
//! - `{{ default }}`: kept as the literal marker `{{ default }}` for the grouping code to
//!   expand; it must be a value of its own.
//!
//! `title="..."` after the values sets the issue title; it may use the same variables but
//! `{{ default }}`.
//!
//! ## Stack rules
//!
//! Every stack rule that matches a frame applies to it, in order, so for each kind of action
//! (app, group) the last rule that matches wins. `+app`/`-app` mark a frame in-app or not;
//! `+group`/`-group` count it for grouping or not.
//!
//! ## Limits
//!
//! At most [`MAX_RULES`] rules and [`MAX_TEXT_BYTES`] bytes of text. Globs are compiled when
//! parsing; matching reads `&str` and allocates nothing.

mod matching;
mod parse;
#[cfg(test)]
mod tests;

use std::cell::OnceCell;
use std::fmt;

use crate::event::{Event, Frame};

use matching::{Bits, EventMatcher, FrameMatcher, Template};

/// Most rules a project may have.
pub const MAX_RULES: usize = 200;
/// Longest rules text, in bytes.
pub const MAX_TEXT_BYTES: usize = 64 * 1024;

/// A project's parsed grouping rules. `Default` has none.
///
/// Two `Rules` are equal when their source texts are (the rules follow from the text).
#[derive(Clone, Debug, Default)]
pub struct Rules {
    source: String,
    fingerprint_rules: Vec<FingerprintRule>,
    stack_rules: Vec<StackRule>,
}

impl PartialEq for Rules {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for Rules {}

/// Why a rules text was refused: where (1-based line, and column in characters) and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

impl std::error::Error for RuleError {}

/// What the first matching fingerprint rule says about an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleFingerprint {
    /// The rule's values, variables expanded; `{{ default }}` stays as that literal marker.
    pub values: Vec<String>,
    /// Its `title=`, variables expanded.
    pub title: Option<String>,
    /// The 1-based line of the rule in [`Rules::source`].
    pub rule_line: usize,
}

/// What the stack rules say about one frame: `None` where no rule decided.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FrameAction {
    /// `Some(true)` for `+app`, `Some(false)` for `-app`.
    pub in_app: Option<bool>,
    /// `Some(true)` for `+group`, `Some(false)` for `-group`.
    pub group: Option<bool>,
}

/// Parses a rules text; the first error found is returned.
pub fn parse(text: &str) -> Result<Rules, RuleError> {
    parse::parse(text)
}

#[derive(Clone, Debug)]
struct Conditions {
    event: Vec<EventMatcher>,
    frame: Vec<FrameMatcher>,
}

impl Conditions {
    fn match_event(&self, event: &Event) -> bool {
        self.event.iter().all(|m| m.matches(event))
    }

    fn match_frame(&self, frame: &Frame, in_app: &impl Fn() -> bool) -> bool {
        self.frame.iter().all(|m| m.matches(frame, in_app))
    }

    fn reads_app(&self) -> bool {
        self.frame.iter().any(FrameMatcher::reads_app)
    }
}

#[derive(Clone, Debug)]
struct FingerprintRule {
    line: usize,
    conditions: Conditions,
    values: Vec<Template>,
    title: Option<Template>,
}

#[derive(Clone, Debug)]
struct StackRule {
    conditions: Conditions,
    action: FrameAction,
}

impl Rules {
    /// No rules at all (the text may still hold comments).
    pub fn is_empty(&self) -> bool {
        self.fingerprint_rules.is_empty() && self.stack_rules.is_empty()
    }

    /// How many rules there are (comments and blank lines aside).
    pub fn len(&self) -> usize {
        self.fingerprint_rules.len() + self.stack_rules.len()
    }

    /// The text as given, for the settings page.
    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn has_stack_rules(&self) -> bool {
        !self.stack_rules.is_empty()
    }

    pub fn has_fingerprint_rules(&self) -> bool {
        !self.fingerprint_rules.is_empty()
    }

    /// The first fingerprint rule that matches: its expanded fingerprint and optional title.
    pub fn fingerprint(&self, event: &Event) -> Option<RuleFingerprint> {
        // Built at most once, and only when an `app:` matcher needs the stack rules' verdict.
        let stack = OnceCell::new();
        let rule = self.fingerprint_rules.iter().find(|rule| {
            let c = &rule.conditions;
            if !c.match_event(event) {
                return false;
            }
            if c.frame.is_empty() {
                return true;
            }
            let reads_app = c.reads_app() && self.has_stack_rules();
            event
                .exceptions
                .iter()
                .flat_map(|e| &e.frames)
                .any(|frame| {
                    let in_app = || {
                        let sent = frame.in_app == Some(true);
                        if !reads_app {
                            return sent;
                        }
                        let stack = stack.get_or_init(|| self.for_event(event));
                        stack.frame_action(frame).in_app.unwrap_or(sent)
                    };
                    c.match_frame(frame, &in_app)
                })
        })?;
        Some(RuleFingerprint {
            values: rule.values.iter().map(|t| t.expand(event)).collect(),
            title: rule.title.as_ref().map(|t| t.expand(event)),
            rule_line: rule.line,
        })
    }

    /// What the stack rules say about one frame of an event (`None`s: no rule touched it).
    ///
    /// For many frames of one event, [`Rules::for_event`] evaluates the event-level
    /// conditions once.
    pub fn frame_action(&self, event: &Event, frame: &Frame) -> FrameAction {
        self.for_event(event).frame_action(frame)
    }

    /// The stack rules that apply to this event, for asking about each of its frames.
    pub fn for_event(&self, event: &Event) -> EventRules<'_> {
        let mut applies = Bits::default();
        for (i, rule) in self.stack_rules.iter().enumerate() {
            if rule.conditions.match_event(event) {
                applies.set(i);
            }
        }
        EventRules {
            rules: &self.stack_rules,
            applies,
        }
    }
}

/// The stack rules of a [`Rules`] whose event-level matchers matched one event.
#[derive(Clone, Debug)]
pub struct EventRules<'a> {
    rules: &'a [StackRule],
    applies: Bits,
}

impl EventRules<'_> {
    /// What the stack rules say about `frame`, a frame of the event this was made for.
    pub fn frame_action(&self, frame: &Frame) -> FrameAction {
        let mut action = FrameAction::default();
        if self.applies.is_empty() {
            return action;
        }
        let mut in_app = frame.in_app == Some(true);
        for (i, rule) in self.rules.iter().enumerate() {
            if !self.applies.get(i) || !rule.conditions.match_frame(frame, &|| in_app) {
                continue;
            }
            if let Some(a) = rule.action.in_app {
                action.in_app = Some(a);
                in_app = a;
            }
            if let Some(g) = rule.action.group {
                action.group = Some(g);
            }
        }
        action
    }
}
