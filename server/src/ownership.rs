//! Ownership rules: who is responsible for an issue, from where it failed. Pure: parsing and
//! matching; the store applies them when an issue is created.
//!
//! One rule a line, `#` starts a comment:
//! ```text
//! path:src/payments/**      -> ada@example.com
//! module:app.billing*       -> bob@example.com
//! function:charge_*         -> #payments
//! tag:team=checkout         -> #checkout
//! service:payments          -> ops@example.com
//! ```
//! `path`, `module` and `function` match the event's in-app frames (any of them; all frames
//! when none is marked in-app); `tag:key=value` a tag of the event; `service` its `service`
//! tag. Values are globs: `*` is any run of characters (in a path, not `/`), `**` in a path
//! crosses `/`. The owner is a user's email or a channel (`#name`). **The first rule that
//! matches wins**, so put narrow rules above broad ones.

use crate::event::Event;

/// What a rule looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Path(String),
    Module(String),
    Function(String),
    Tag(String, String),
    Service(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    Email(String),
    Channel(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub target: Target,
    pub owner: Owner,
    /// The line as written (trimmed), shown on the issue page.
    pub text: String,
}

/// Most rules a project may have.
pub const MAX_RULES: usize = 500;

/// Parses the rules; an error names the line and what is wrong.
pub fn parse(text: &str) -> Result<Vec<Rule>, String> {
    let mut rules = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (matcher, owner) = line
            .split_once("->")
            .ok_or_else(|| format!("line {n}: expected `matcher -> owner`"))?;
        // The owner is one word; a `#` word after it starts a comment.
        let mut words = owner.split_whitespace();
        let owner = words.next().unwrap_or_default();
        if words.next().is_some_and(|w| !w.starts_with('#')) {
            return Err(format!("line {n}: one owner per rule (then a # comment)"));
        }
        let (kind, value) = matcher.trim().split_once(':').ok_or_else(|| {
            format!("line {n}: expected path:, module:, function:, tag: or service:")
        })?;
        let value = value.trim();
        if value.is_empty() {
            return Err(format!("line {n}: `{kind}:` needs a pattern"));
        }
        let target = match kind.trim() {
            "path" => Target::Path(value.to_owned()),
            "module" => Target::Module(value.to_owned()),
            "function" => Target::Function(value.to_owned()),
            "service" => Target::Service(value.to_owned()),
            "tag" => {
                let (k, v) = value
                    .split_once('=')
                    .ok_or_else(|| format!("line {n}: tag: takes key=value"))?;
                Target::Tag(k.trim().to_owned(), v.trim().to_owned())
            }
            other => {
                return Err(format!(
                    "line {n}: unknown matcher `{other}:` (expected path, module, function, tag or service)"
                ))
            }
        };
        let owner = if let Some(channel) = owner.strip_prefix('#') {
            if channel.is_empty() {
                return Err(format!("line {n}: `#` needs a channel name"));
            }
            Owner::Channel(channel.to_owned())
        } else if owner.contains('@') {
            Owner::Email(owner.to_lowercase())
        } else {
            return Err(format!(
                "line {n}: the owner must be an email or #channel, not {owner:?}"
            ));
        };
        let text = format!("{} -> {}", matcher.trim(), words_owner(&owner));
        rules.push(Rule {
            target,
            owner,
            text,
        });
        if rules.len() > MAX_RULES {
            return Err(format!("more than {MAX_RULES} rules"));
        }
    }
    Ok(rules)
}

fn words_owner(owner: &Owner) -> String {
    match owner {
        Owner::Email(e) => e.clone(),
        Owner::Channel(c) => format!("#{c}"),
    }
}

/// (path, module, function) of a frame.
pub type FrameNames = (Option<String>, Option<String>, Option<String>);

/// What of an event ownership looks at.
#[derive(Debug, Default)]
pub struct Site {
    /// (path, module, function) of each in-app frame (every frame when none is in-app).
    pub frames: Vec<FrameNames>,
    pub tags: Vec<(String, String)>,
}

impl Site {
    pub fn of(event: &Event) -> Site {
        let all: Vec<_> = event.exceptions.iter().flat_map(|e| &e.frames).collect();
        let in_app: Vec<_> = all
            .iter()
            .filter(|f| f.in_app == Some(true))
            .copied()
            .collect();
        let frames = if in_app.is_empty() { all } else { in_app };
        Site {
            frames: frames
                .into_iter()
                .map(|f| {
                    (
                        f.filename.clone().or_else(|| f.abs_path.clone()),
                        f.module.clone(),
                        f.function.clone(),
                    )
                })
                .collect(),
            tags: event
                .tags
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }
    }
}

/// The first rule that matches the site.
pub fn owner_of<'a>(rules: &'a [Rule], site: &Site) -> Option<&'a Rule> {
    rules.iter().find(|r| matches(&r.target, site))
}

fn matches(target: &Target, site: &Site) -> bool {
    let frame = |pick: &dyn Fn(&FrameNames) -> Option<&str>, pattern: &str, path: bool| {
        site.frames
            .iter()
            .filter_map(pick)
            .any(|v| glob(pattern, v, path))
    };
    match target {
        Target::Path(p) => frame(
            &|f| f.0.as_deref().map(|p| p.trim_start_matches("./")),
            p,
            true,
        ),
        Target::Module(p) => frame(&|f| f.1.as_deref(), p, false),
        Target::Function(p) => frame(&|f| f.2.as_deref(), p, false),
        Target::Tag(key, p) => site.tags.iter().any(|(k, v)| k == key && glob(p, v, false)),
        Target::Service(p) => site
            .tags
            .iter()
            .any(|(k, v)| k == "service" && glob(p, v, false)),
    }
}

/// Glob match: `*` any run (not `/` when `path`), `**` any run at all.
pub fn glob(pattern: &str, text: &str, path: bool) -> bool {
    fn go(p: &[char], t: &[char], path: bool) -> bool {
        match p.first() {
            None => t.is_empty(),
            Some('*') => {
                let deep = p.get(1) == Some(&'*');
                let rest = if deep { &p[2..] } else { &p[1..] };
                // `**/` also matches no folder at all.
                if deep && rest.first() == Some(&'/') && go(&rest[1..], t, path) {
                    return true;
                }
                for i in 0..=t.len() {
                    if go(rest, &t[i..], path) {
                        return true;
                    }
                    if i < t.len() && path && !deep && t[i] == '/' {
                        return false;
                    }
                }
                false
            }
            Some(c) => t.first() == Some(c) && go(&p[1..], &t[1..], path),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    go(&p, &t, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> Site {
        Site {
            frames: vec![
                (
                    Some("src/payments/stripe/charge.py".into()),
                    Some("app.billing.stripe".into()),
                    Some("charge_card".into()),
                ),
                (
                    Some("src/cart.py".into()),
                    Some("app.cart".into()),
                    Some("add".into()),
                ),
            ],
            tags: vec![
                ("team".into(), "checkout".into()),
                ("service".into(), "payments".into()),
            ],
        }
    }

    #[test]
    fn globs_match_paths_by_segment_and_names_freely() {
        assert!(glob(
            "src/payments/**",
            "src/payments/stripe/charge.py",
            true
        ));
        assert!(!glob(
            "src/payments/*",
            "src/payments/stripe/charge.py",
            true
        ));
        assert!(glob(
            "src/payments/*/charge.py",
            "src/payments/stripe/charge.py",
            true
        ));
        assert!(glob("**/charge.py", "charge.py", true));
        assert!(glob("app.billing*", "app.billing.stripe", false));
        assert!(!glob("app.billing", "app.billing.stripe", false));
        assert!(glob("*_card", "charge_card", false));
    }

    #[test]
    fn the_first_matching_rule_wins() {
        let rules = parse(
            "# payments first\n\
             path:src/payments/** -> Ada@Example.com\n\
             module:app.billing* -> bob@example.com   # a comment\n\
             tag:team=checkout -> #checkout\n",
        )
        .unwrap();
        let got = owner_of(&rules, &site()).unwrap();
        assert_eq!(got.owner, Owner::Email("ada@example.com".into()));
        assert_eq!(got.text, "path:src/payments/** -> ada@example.com");
        assert_eq!(
            owner_of(&rules[1..], &site()).unwrap().owner,
            Owner::Email("bob@example.com".into())
        );
        assert_eq!(
            owner_of(&rules[2..], &site()).unwrap().owner,
            Owner::Channel("checkout".into())
        );
        let others = parse("function:refund_* -> a@b.c\nservice:pay* -> #pay").unwrap();
        assert_eq!(
            owner_of(&others, &site()).unwrap().owner,
            Owner::Channel("pay".into())
        );
        assert!(owner_of(&others[..1], &site()).is_none());
    }

    #[test]
    fn bad_lines_say_which_and_why() {
        for (text, want) in [
            ("path:src -> ", "line 1: the owner must be"),
            ("path:src -> a@b.c bob", "one owner per rule"),
            ("\nsrc/** -> a@b.c", "line 2: expected path:"),
            ("path:src/**", "line 1: expected `matcher -> owner`"),
            ("file:x -> a@b.c", "unknown matcher `file:`"),
            ("tag:team -> a@b.c", "tag: takes key=value"),
            ("path: -> a@b.c", "needs a pattern"),
            ("path:x -> #", "needs a channel name"),
        ] {
            let err = parse(text).unwrap_err();
            assert!(err.contains(want), "{text:?}: {err}");
        }
        assert!(parse("# only comments\n\n").unwrap().is_empty());
    }
}
