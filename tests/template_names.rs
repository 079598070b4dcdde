//! Templates print names; they never build one (issue 22, "resolve owns every name"). A case
//! filter, a `replace` or a `~` concatenation in a template is how a template builds a name
//! that another file (or the code reading an environment variable) must spell the same way, so
//! none may appear outside the allow-list below. Each allowed use names a name that no other
//! file has to match, and says why; a stale entry fails too, so the list only shrinks.

use std::path::Path;

/// Filters that change a value's spelling: Tera's own and the case filters of `src/render.rs`.
const NAME_FILTERS: [&str; 11] = [
    "lower",
    "upper",
    "title",
    "capitalize",
    "kebab",
    "snake",
    "pascal",
    "camel",
    "shouty",
    "titlecase",
    "replace",
];

/// (template, the expression as written, why no other file must match what it prints).
const ALLOWED: [(&str, &str, &str); 10] = [
    (
        "common/README.md",
        "m.cloud.provider | upper",
        "prose: the cloud's name in a sentence",
    ),
    (
        "common/docs/ARCHITECTURE.md",
        "m.cloud.provider | upper",
        "prose: the cloud's name in a table cell",
    ),
    (
        "common/docs/adr/0006-deployment-platform.md",
        "m.cloud.provider | upper",
        "prose: the cloud's name in a sentence",
    ),
    (
        "common/docs/_partials/events.tera",
        "p | snake",
        "a Mermaid node id, used inside the one diagram that declares it",
    ),
    (
        "common/docs/_partials/events.tera",
        "c | snake",
        "a Mermaid node id, used inside the one diagram that declares it",
    ),
    (
        "common/events/asyncapi.yaml",
        "p | camel",
        "an AsyncAPI operation id: a key of this document that nothing references",
    ),
    (
        "common/events/asyncapi.yaml",
        "c | camel",
        "an AsyncAPI operation id: a key of this document that nothing references",
    ),
    (
        "common/infra/terraform/tests/plan.tftest.hcl",
        "env.name | snake",
        "a `run` block's label: Terraform prints it, nothing references it",
    ),
    (
        "common/_service/tests/test_references.py",
        "r.service | replace",
        "part of a pytest function's name: collected by pytest, never called by name",
    ),
    (
        "common/_service/clients.py",
        "o.path | replace",
        "turns the OpenAPI path's `{id}` into the client's format field: a URL, not a name",
    ),
];

/// Concatenations allowed (`~`): (template, the expression, why).
const ALLOWED_CONCAT: [(&str, &str, &str); 1] = [(
    "common/observability/_partials/dashboard.tera",
    r#""service=\\\"" ~ svc ~ "\\\"""#,
    "a PromQL label matcher inside the panel's query, not a name",
)];

/// Every tag (`{{ … }}`, `{% … %}`) of a template, with the text inside.
fn tags(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(['{']) {
        let after = &rest[start + 1..];
        let close = match after.chars().next() {
            Some('{') => "}}",
            Some('%') => "%}",
            _ => {
                rest = after;
                continue;
            }
        };
        let Some(end) = after[1..].find(close) else {
            break;
        };
        out.push(&after[1..1 + end]);
        rest = &after[1 + end + close.len()..];
    }
    out
}

/// The name-building uses in one tag: `value | filter` and `a ~ b`, as (expression, is_concat).
fn uses(tag: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let parts: Vec<&str> = tag.split('|').collect();
    for (i, part) in parts.iter().enumerate().skip(1) {
        let filter: String = part
            .trim_start()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if NAME_FILTERS.contains(&filter.as_str()) {
            let value = parts[i - 1]
                .rsplit(['{', '(', ',', '='])
                .next()
                .unwrap_or("")
                .trim();
            out.push((format!("{value} | {filter}"), false));
        }
    }
    let code = tag.trim_start_matches(['-', ' ']);
    if code.contains(" ~ ") {
        let expr = code.split_once('=').map_or(code, |(_, e)| e);
        out.push((expr.trim().trim_end_matches(['-', ' ']).to_owned(), true));
    }
    out
}

fn templates() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(&root).sort_by_file_name() {
        let entry = entry.unwrap();
        if !entry.file_type().is_file() {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(entry.path()) else {
            continue;
        };
        let rel = entry.path().strip_prefix(&root).unwrap();
        out.push((rel.to_string_lossy().replace('\\', "/"), text));
    }
    out
}

#[test]
fn no_template_builds_a_name_outside_the_allow_list() {
    let mut found = Vec::new();
    for (path, text) in templates() {
        for tag in tags(&text) {
            for (expr, concat) in uses(tag) {
                found.push((path.clone(), expr, concat));
            }
        }
    }
    let allowed = |path: &str, expr: &str, concat: bool| {
        let list: &[(&str, &str, &str)] = if concat { &ALLOWED_CONCAT } else { &ALLOWED };
        list.iter().any(|(p, e, _)| *p == path && *e == expr)
    };
    let unlisted: Vec<String> = found
        .iter()
        .filter(|(p, e, c)| !allowed(p, e, *c))
        .map(|(p, e, _)| format!("{p}: `{e}`"))
        .collect();
    assert!(
        unlisted.is_empty(),
        "templates build names; put each in the model (src/resolve/) and print it:\n{}",
        unlisted.join("\n")
    );
    let stale: Vec<String> = ALLOWED
        .iter()
        .map(|(p, e, _)| (*p, *e, false))
        .chain(ALLOWED_CONCAT.iter().map(|(p, e, _)| (*p, *e, true)))
        .filter(|(p, e, c)| {
            !found
                .iter()
                .any(|(fp, fe, fc)| fp == p && fe == e && fc == c)
        })
        .map(|(p, e, _)| format!("{p}: `{e}`"))
        .collect();
    assert!(
        stale.is_empty(),
        "allowed but no longer used; remove from the list:\n{}",
        stale.join("\n")
    );
}

#[test]
fn the_scanner_sees_filters_and_concatenations() {
    let t = "a {{ e.name | lower }} b {% set x = \"k\" ~ y %} {{ n.setting }} {{ v | py_str }}";
    let got: Vec<(String, bool)> = tags(t).into_iter().flat_map(uses).collect();
    assert_eq!(
        got,
        [
            ("e.name | lower".to_owned(), false),
            ("\"k\" ~ y".to_owned(), true)
        ]
    );
    let chained = uses(" r.service | replace(from=\"-\", to=\"_\") | upper ");
    assert_eq!(chained[0].0, "r.service | replace");
    assert_eq!(chained.len(), 2);
}
