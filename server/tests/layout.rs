//! The layout stays readable: no module of `server/src` reaches back into a module that
//! reaches it (an import circle), and only `main.rs` uses `startup`, which wires everything.
//!
//! Edges are read from the source text: every `crate::a::b` and `super::b` path outside test
//! modules, resolved to the deepest module file that exists. Declaring a child (`mod x;`) is
//! not an edge; using it is.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src");

/// Module path (`["store", "writer"]`) of a file under `src/`.
fn module_of(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .with_extension("")
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if parts
        .last()
        .is_some_and(|p| p == "mod" || p == "lib" || p == "main")
    {
        parts.pop();
    }
    parts
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The source without comments and without `#[cfg(test)]` modules (tests may reach anywhere).
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    };
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Paths that follow `crate::`, `bugle_server::` or `super::`, expanding one level of `{a, b::c}` groups.
fn referenced_paths(code: &str, me: &[String]) -> Vec<Vec<String>> {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = Vec::new();
    // `super` of `a/b.rs` and of `a/b/mod.rs` is `a`; `main.rs` names the library by its crate.
    let parent = me[..me.len().saturating_sub(1)].to_vec();
    for (head, base) in [
        ("crate::", Vec::new()),
        ("bugle_server::", Vec::new()),
        ("super::", parent),
    ] {
        let mut rest = code;
        while let Some(i) = rest.find(head) {
            let before = rest[..i].chars().next_back();
            rest = &rest[i + head.len()..];
            if before.is_some_and(ident) {
                continue;
            }
            let mut path = base.clone();
            let mut tail = rest;
            loop {
                let end = tail.find(|c: char| !ident(c)).unwrap_or(tail.len());
                if end == 0 {
                    break;
                }
                path.push(tail[..end].to_owned());
                tail = &tail[end..];
                if let Some(t) = tail.strip_prefix("::") {
                    tail = t;
                } else {
                    break;
                }
            }
            if let Some(group) = tail.strip_prefix('{') {
                let inner = &group[..group.find('}').unwrap_or(group.len())];
                for item in inner.split(',') {
                    let mut p = path.clone();
                    p.extend(
                        item.split("::")
                            .map(|s| s.trim().to_owned())
                            .filter(|s| !s.is_empty() && s != "self"),
                    );
                    out.push(p);
                }
            } else {
                out.push(path);
            }
        }
    }
    out
}

fn import_graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(Path::new(SRC), &mut files);
    let modules: BTreeMap<Vec<String>, String> = files
        .iter()
        .map(|f| {
            let rel = f.strip_prefix(SRC).unwrap();
            (module_of(rel), rel.to_string_lossy().into_owned())
        })
        .filter(|(m, rel)| !(m.is_empty() && rel == "main.rs"))
        .collect();
    let mut graph = BTreeMap::new();
    for file in &files {
        let rel = file.strip_prefix(SRC).unwrap();
        let name = rel.to_string_lossy().into_owned();
        let me = module_of(rel);
        let code = code_of(&std::fs::read_to_string(file).unwrap());
        let mut edges = BTreeSet::new();
        for path in referenced_paths(&code, &me) {
            let target = (1..=path.len()).rev().find_map(|n| modules.get(&path[..n]));
            if let Some(target) = target.filter(|t| **t != name) {
                edges.insert(target.clone());
            }
        }
        graph.insert(name, edges);
    }
    graph
}

/// Every circle, as the files on it (Tarjan's strongly connected components).
fn circles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct State<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        found: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        for w in s.graph.get(v).into_iter().flatten() {
            if !s.index.contains_key(w.as_str()) {
                visit(s, w);
                let lw = s.low[w.as_str()];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if s.stack.contains(&w.as_str()) {
                let iw = s.index[w.as_str()];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                component.push(w.to_owned());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.found.push(component);
            }
        }
    }
    let mut s = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.found
}

#[test]
fn no_module_of_the_server_imports_one_that_imports_it() {
    let graph = import_graph();
    assert!(graph["ingest/native.rs"].contains("state.rs"), "{graph:#?}");
    let found = circles(&graph);
    assert!(found.is_empty(), "import circles in server/src: {found:#?}");
}

#[test]
fn only_main_uses_startup() {
    let users: Vec<_> = import_graph()
        .into_iter()
        .filter(|(file, edges)| file != "lib.rs" && edges.contains("startup.rs"))
        .map(|(file, _)| file)
        .collect();
    assert_eq!(users, ["main.rs"]);
}

#[test]
fn the_circle_finder_finds_a_circle() {
    let mut g = BTreeMap::new();
    g.insert("a.rs".to_owned(), BTreeSet::from(["b.rs".to_owned()]));
    g.insert("b.rs".to_owned(), BTreeSet::from(["a.rs".to_owned()]));
    g.insert("c.rs".to_owned(), BTreeSet::from(["a.rs".to_owned()]));
    assert_eq!(circles(&g), [vec!["a.rs".to_owned(), "b.rs".to_owned()]]);
}
