//! Grouping applied again to stored occurrences: what a project's rules would change (the
//! preview on the settings page and in the API), and splitting hashes off an issue.
//!
//! Both read retained occurrences only: counts of events retention already removed stay where
//! they are, and the preview looks at the project's newest [`PREVIEW_OCCURRENCES`].

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde::Serialize;

use crate::event::Event;
use crate::grouping::{self, rules::Rules};
use crate::ingest::prepare;
use crate::store::issues::{Issue, Occurrence};
use crate::store::{NewOccurrence, Store, StoreError, StoreResult};

/// How many of a project's newest occurrences a preview regroups.
pub const PREVIEW_OCCURRENCES: i64 = 1_000;

/// What a set of rules would do to recent occurrences.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Preview {
    /// Occurrences looked at (the newest of the project, at most [`PREVIEW_OCCURRENCES`]).
    pub occurrences: usize,
    /// The issues they are in now.
    pub issues_now: usize,
    /// The groups the rules would put them in.
    pub issues_with_rules: usize,
    /// Groups that gather occurrences of several of today's issues: those issues would merge.
    pub merges: Vec<PreviewGroup>,
    /// Issues whose occurrences the rules would part into several groups (new events only:
    /// an existing issue is never split by itself).
    pub splits: Vec<PreviewSplit>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PreviewGroup {
    pub issues: Vec<i64>,
    pub occurrences: usize,
    pub title: String,
    pub components: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PreviewSplit {
    pub issue: i64,
    pub groups: usize,
}

/// Groups `(issue id, event)` pairs with `rules` and compares with the issues they are in.
pub fn preview(occurrences: &[(i64, Event)], rules: &Rules) -> Preview {
    #[derive(Default)]
    struct Group {
        issues: BTreeSet<i64>,
        occurrences: usize,
        title: String,
        components: Vec<String>,
    }
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    let mut issue_groups: BTreeMap<i64, BTreeSet<String>> = BTreeMap::new();
    for (issue, event) in occurrences {
        let g = grouping::group(event, rules);
        let key = g.hashes[0].hash.clone();
        let group = groups.entry(key.clone()).or_insert_with(|| Group {
            title: g.title.clone(),
            components: g.components.clone(),
            ..Group::default()
        });
        group.issues.insert(*issue);
        group.occurrences += 1;
        issue_groups.entry(*issue).or_default().insert(key);
    }
    let mut merges: Vec<PreviewGroup> = groups
        .into_values()
        .filter(|g| g.issues.len() > 1)
        .map(|g| PreviewGroup {
            issues: g.issues.into_iter().collect(),
            occurrences: g.occurrences,
            title: g.title,
            components: g.components,
        })
        .collect();
    merges.sort_by_key(|m| std::cmp::Reverse(m.occurrences));
    let issues_with_rules = issue_groups
        .values()
        .flatten()
        .collect::<BTreeSet<_>>()
        .len();
    Preview {
        occurrences: occurrences.len(),
        issues_now: issue_groups.len(),
        issues_with_rules,
        merges,
        splits: issue_groups
            .iter()
            .filter(|(_, g)| g.len() > 1)
            .map(|(&issue, g)| PreviewSplit {
                issue,
                groups: g.len(),
            })
            .collect(),
    }
}

/// The stored, normalized event of an occurrence.
pub fn stored_event(occ: &Occurrence) -> StoreResult<Event> {
    serde_json::from_value(occ.event.clone()).map_err(|e| {
        StoreError::Invalid(format!("stored event {} does not read back: {e}", occ.id))
    })
}

/// Regroups a project's newest occurrences with `rules`.
pub async fn preview_project(
    store: &Store,
    project_id: i64,
    rules: &Rules,
) -> StoreResult<Preview> {
    let occurrences = store
        .recent_occurrences(project_id, PREVIEW_OCCURRENCES)
        .await?
        .iter()
        .map(|o| Ok((o.issue_id, stored_event(o)?)))
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(preview(&occurrences, rules))
}

/// The project's saved rules (none when they no longer parse).
pub async fn project_rules(store: &Store, project_id: i64) -> StoreResult<Rules> {
    let text = store.project_settings(project_id).await?.grouping_rules;
    Ok(text
        .as_deref()
        .and_then(|t| grouping::rules::parse(t).ok())
        .unwrap_or_default())
}

/// Every retained occurrence of an issue whose hashes (grouped again with the project's
/// rules) include one of `hashes`, prepared as ingest would.
pub fn occurrences_with(
    occurrences: &[Occurrence],
    rules: &Rules,
    hashes: &HashSet<&str>,
) -> StoreResult<Vec<(i64, NewOccurrence)>> {
    let mut moved = Vec::new();
    for occ in occurrences {
        let event = stored_event(occ)?;
        let g = grouping::group(&event, rules);
        if !g.hashes.iter().any(|h| hashes.contains(h.hash.as_str())) {
            continue;
        }
        let received = chrono::DateTime::from_timestamp_millis(occ.received_at).unwrap_or_default();
        let prepared = prepare(occ.project_id, rules, event, "native", None, received)
            .map_err(|e| StoreError::Invalid(format!("occurrence {}: {e}", occ.id)))?;
        moved.push((occ.id, prepared));
    }
    Ok(moved)
}

/// Splits `hashes` off an issue into a new one, moving the occurrences they cover.
pub async fn split_off(
    store: &Store,
    issue: &Issue,
    hashes: &[String],
    actor: &str,
) -> StoreResult<Issue> {
    let rules = project_rules(store, issue.project_id).await?;
    let mut occurrences = Vec::new();
    let mut before = None;
    loop {
        let page = store.occurrences(issue.id, before, 500).await?;
        let Some(last) = page.last() else { break };
        before = Some(last.id);
        occurrences.extend(page);
    }
    let wanted: HashSet<&str> = hashes.iter().map(String::as_str).collect();
    let moved = occurrences_with(&occurrences, &rules, &wanted)?;
    store.split_issue(issue.id, hashes, &moved, actor).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Exception, Frame};

    fn error(function: &str, caller: &str) -> Event {
        let frame = |f: &str| Frame {
            module: Some("app.cart".into()),
            function: Some(f.into()),
            in_app: Some(true),
            ..Frame::default()
        };
        Event {
            exceptions: vec![Exception {
                ty: "KeyError".into(),
                value: Some("'sku'".into()),
                frames: vec![frame(caller), frame(function)],
                ..Exception::default()
            }],
            ..Event::default()
        }
    }

    #[test]
    fn a_preview_counts_groups_and_names_the_issues_that_would_merge() {
        let occurrences = vec![
            (1, error("total", "checkout")),
            (1, error("total", "invoice")),
            (2, error("price", "checkout")),
            (
                3,
                Event {
                    message: Some("disk full".into()),
                    ..Event::default()
                },
            ),
        ];
        let none = preview(&occurrences, &Rules::default());
        assert_eq!((none.issues_now, none.issues_with_rules), (3, 3));
        assert!(none.merges.is_empty() && none.splits.is_empty());

        let rules = grouping::rules::parse("error.type:KeyError -> cart-errors").unwrap();
        let p = preview(&occurrences, &rules);
        assert_eq!(
            (p.occurrences, p.issues_now, p.issues_with_rules),
            (4, 3, 2)
        );
        assert_eq!(p.merges.len(), 1);
        assert_eq!(p.merges[0].issues, [1, 2]);
        assert_eq!(p.merges[0].occurrences, 3);
        assert_eq!(p.merges[0].components, ["fingerprint: cart-errors"]);

        let split = grouping::rules::parse("stack.function:checkout -> via-checkout").unwrap();
        let p = preview(&occurrences, &split);
        assert_eq!(
            p.splits,
            [PreviewSplit {
                issue: 1,
                groups: 2
            }]
        );
    }
}
