//! `--format sarif`: SARIF 2.1.0 (the OASIS static-analysis format GitHub code scanning reads),
//! built with serde_json. One run; the tool's rules are the codes that occur; each result points
//! at the blueprint file with a 1-based line and column, and names the blueprint path as a
//! logical location.

use super::{Diagnostics, Severity, codes};
use serde_json::{Value, json};

pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

pub fn render(d: &Diagnostics) -> String {
    serde_json::to_string_pretty(&to_value(d)).unwrap_or_default()
}

pub fn to_value(d: &Diagnostics) -> Value {
    to_value_with(d, &|id| {
        json!({
            "id": id,
            "shortDescription": { "text": codes::lookup(id).map_or("", |c| c.title) },
            "helpUri": format!("https://github.com/codex-system-design/codex-system-design/blob/main/docs/diagnostics.md#{}", id.to_lowercase()),
        })
    })
}

/// The SARIF document with the rule descriptions of another catalogue (`check`'s codes):
/// `rule` turns a code into its `reportingDescriptor`.
pub fn to_value_with(d: &Diagnostics, rule: &dyn Fn(&str) -> Value) -> Value {
    let mut rule_ids: Vec<&str> = d.items.iter().map(|x| x.code).collect();
    rule_ids.sort_unstable();
    rule_ids.dedup();
    let rules: Vec<Value> = rule_ids.iter().map(|id| rule(id)).collect();
    let results: Vec<Value> = d
        .items
        .iter()
        .map(|x| {
            let mut text = x.message.clone();
            if let Some(h) = &x.help {
                text.push_str("\nhelp: ");
                text.push_str(h);
            }
            let mut physical = json!({ "artifactLocation": { "uri": uri(&x.file) } });
            if x.line > 0 {
                physical["region"] = json!({ "startLine": x.line, "startColumn": x.column.max(1) });
            }
            let mut location = json!({ "physicalLocation": physical });
            if !x.path.is_empty() {
                location["logicalLocations"] =
                    json!([{ "fullyQualifiedName": x.path, "kind": "member" }]);
            }
            json!({
                "ruleId": x.code,
                "ruleIndex": rule_ids.iter().position(|r| *r == x.code).unwrap_or(0),
                "level": level(x.severity),
                "message": { "text": text },
                "locations": [location],
            })
        })
        .collect();
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "codex-system-design",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/codex-system-design/codex-system-design",
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    })
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// A relative URI reference for the file: forward slashes, spaces and `%` escaped.
fn uri(file: &str) -> String {
    let mut out = String::with_capacity(file.len());
    for c in file.replace('\\', "/").chars() {
        match c {
            ' ' => out.push_str("%20"),
            '%' => out.push_str("%25"),
            '#' => out.push_str("%23"),
            '?' => out.push_str("%3F"),
            c => out.push(c),
        }
    }
    out
}
