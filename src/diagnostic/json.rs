//! `--format json`: a stable array of objects, one per diagnostic, in report order. Every object has
//! the same keys (`severity`, `code`, `message`, `path`, `file`, `line`, `column`, `help`); `help`
//! is `null` when there is none and `line`/`column` are 0 for whole-file problems.

use super::Diagnostics;

pub fn render(d: &Diagnostics) -> String {
    serde_json::to_string_pretty(&value(d)).unwrap_or_else(|_| "[]".to_owned())
}

/// The same array as a JSON value, to embed in a larger document (`generate --format json`).
pub fn value(d: &Diagnostics) -> serde_json::Value {
    serde_json::to_value(&d.items).unwrap_or_else(|_| serde_json::Value::Array(Vec::new()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Diagnostic;

    #[test]
    fn every_object_has_the_same_keys() {
        let mut d = Diagnostics::default();
        d.push(Diagnostic::error("E0001", "", "bad"));
        d.push(Diagnostic::warning("W0202", "caches.x", "unused").with_help("remove it"));
        let v: serde_json::Value = serde_json::from_str(&render(&d)).unwrap();
        let keys: Vec<Vec<&str>> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o.as_object().unwrap().keys().map(String::as_str).collect())
            .collect();
        let expected = vec![
            "severity", "code", "message", "path", "file", "line", "column", "help",
        ];
        assert_eq!(keys, vec![expected.clone(), expected]);
        assert_eq!(v[0]["help"], serde_json::Value::Null);
        assert_eq!(v[1]["severity"], "warning");
    }
}
