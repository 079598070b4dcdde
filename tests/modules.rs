//! The top-level modules of `src/` form no import cycle: every `crate::module` path in code
//! (comments aside) is an edge, and the graph must stay acyclic so each stage reads only the
//! ones below it (the graph is drawn in the README's design notes).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

type Graph = BTreeMap<String, BTreeSet<String>>;

/// The top-level module a source file belongs to (`src/write/run.rs` → `write`); `None` for the
/// crate root and the binary.
fn module_of(rel: &Path) -> Option<String> {
    let first = rel.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(name, "lib" | "main")).then(|| name.to_owned())
}

/// The modules a line names through `crate::` (`crate::a::x`, `crate::{a, b::y}`).
fn targets(line: &str) -> Vec<String> {
    let code = line.split("//").next().unwrap_or("");
    let mut found = Vec::new();
    for (i, _) in code.match_indices("crate::") {
        if code[..i].ends_with('$') {
            continue;
        }
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // The group up to its closing brace; each item at depth 0 starts with a module.
            let mut depth = 0;
            let end = group
                .char_indices()
                .find(|&(_, c)| {
                    depth += i32::from(c == '{') - i32::from(c == '}');
                    depth < 0
                })
                .map_or(group.len(), |(i, _)| i);
            let mut depth = 0;
            let mut item = String::new();
            for c in group[..end].chars().chain([',']) {
                depth += i32::from(c == '{') - i32::from(c == '}');
                if c == ',' && depth == 0 {
                    found.push(std::mem::take(&mut item));
                } else {
                    item.push(c);
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            found.push(name);
        }
    }
    found
        .iter()
        .map(|n| {
            n.trim()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect::<String>()
        })
        .filter(|n| !n.is_empty())
        .collect()
}

fn graph(src: &Path) -> Graph {
    let mut g = Graph::new();
    let mut files = Vec::new();
    collect(src, &mut files);
    let modules: BTreeSet<String> = files
        .iter()
        .filter_map(|f| module_of(f.strip_prefix(src).unwrap()))
        .collect();
    for f in &files {
        let Some(from) = module_of(f.strip_prefix(src).unwrap()) else {
            continue;
        };
        let text = std::fs::read_to_string(f).unwrap();
        let edges = g.entry(from.clone()).or_default();
        for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
            for to in targets(line) {
                if to != from && modules.contains(&to) {
                    edges.insert(to);
                }
            }
        }
    }
    g
}

fn collect(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Every edge `a → b` from which `a` can be reached again, as the path `a → b → … → a`.
fn cycles(g: &Graph) -> Vec<String> {
    let mut found = Vec::new();
    for (a, outs) in g {
        for b in outs {
            if let Some(path) = path(g, b, a) {
                found.push(format!("{a} → {}", path.join(" → ")));
            }
        }
    }
    found
}

/// A path from `from` to `to` (breadth first), both included.
fn path(g: &Graph, from: &str, to: &str) -> Option<Vec<String>> {
    let mut prev: BTreeMap<String, String> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([from.to_owned()]);
    let mut seen = BTreeSet::from([from.to_owned()]);
    while let Some(n) = queue.pop_front() {
        if n == to {
            let mut p = vec![n.clone()];
            let mut cur = n;
            while let Some(b) = prev.get(&cur) {
                p.push(b.clone());
                cur = b.clone();
            }
            p.reverse();
            return Some(p);
        }
        for m in g.get(&n).into_iter().flatten() {
            if seen.insert(m.clone()) {
                prev.insert(m.clone(), n.clone());
                queue.push_back(m.clone());
            }
        }
    }
    None
}

#[test]
fn top_level_modules_have_no_import_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let g = graph(&src);
    assert!(g.len() > 10, "the scan found the modules: {g:?}");
    assert!(g["cli"].contains("wizard"), "the scan sees edges: {g:?}");
    let found = cycles(&g);
    assert!(
        found.is_empty(),
        "import cycles between top-level modules (move the shared piece below both):\n  {}",
        found.join("\n  ")
    );
}

#[test]
fn the_scan_reads_grouped_paths_and_skips_comments() {
    assert_eq!(
        targets("use crate::{blueprint::node::Loc, write};"),
        ["blueprint", "write"]
    );
    assert_eq!(
        targets("    crate::escape::hcl(v) // crate::cli"),
        ["escape"]
    );
    assert_eq!(targets("($crate::stdio::stdout)"), Vec::<String>::new());
}

#[test]
fn a_planted_cycle_is_found() {
    let mut g = Graph::new();
    g.entry("wizard".into()).or_default().insert("cli".into());
    g.entry("cli".into()).or_default().insert("report".into());
    g.entry("report".into())
        .or_default()
        .insert("wizard".into());
    g.entry("write".into()).or_default().insert("plan".into());
    let found = cycles(&g);
    assert!(
        found.contains(&"wizard → cli → report → wizard".to_owned()),
        "{found:?}"
    );
    assert_eq!(found.len(), 3, "{found:?}");
}

/// The Python code generation reads the core model and is not woven into it: `resolve::data`
/// and `resolve::services` hold the `code` fields' types (`resolve::lang::python::types`) but
/// never import `resolve::lang::python::code`, which fills them in.
#[test]
fn the_core_model_does_not_import_the_python_code_generation() {
    let resolve = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/resolve");
    for file in ["data.rs", "services.rs", "lang/python/types.rs"] {
        let text = std::fs::read_to_string(resolve.join(file)).unwrap();
        let uses: Vec<&str> = text
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .filter(|l| l.split("//").next().unwrap_or("").contains("python::code"))
            .collect();
        assert!(
            uses.is_empty(),
            "src/resolve/{file} imports lang::python::code: {uses:?}"
        );
    }
}
