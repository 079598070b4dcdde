//! Characters no blueprint string may hold (E0180), checked over the whole node tree before the
//! schema stage: every key and every string value, known keys or not, `overrides` included.
//!
//! Refused everywhere: C0 controls (NUL, ESC, CR, …), DEL, C1 controls, the Unicode line and
//! paragraph separators and the bidirectional overrides and isolates (text that displays
//! differently from what it is). A `description` may hold tab and newline (multi-line prose);
//! nowhere else may a string span lines. Generated files are text in several languages whose
//! comments, strings and documents end at a newline or a control character; refusing them here
//! keeps every later stage working on printable text.

use std::fmt::Write as _;

use super::node::{Node, Value};
use crate::diagnostic::{Diagnostic, Diagnostics};

/// Most E0180 reported per file: a file full of control characters gets a bounded report.
const MAX_REPORTS: usize = 50;

pub use crate::diagnostic::forbidden;

/// The first forbidden character of `s` with its 0-based char index.
pub fn first_forbidden(s: &str, multiline: bool) -> Option<(usize, char, &'static str)> {
    s.chars()
        .enumerate()
        .find_map(|(i, c)| forbidden(c, multiline).map(|why| (i, c, why)))
}

/// Walk the tree and report every string that holds a forbidden character.
pub fn check(root: &Node, diags: &mut Diagnostics) {
    let mut w = Walk {
        diags,
        left: MAX_REPORTS,
    };
    w.node(root, &mut String::new());
}

struct Walk<'a> {
    diags: &'a mut Diagnostics,
    left: usize,
}

impl Walk<'_> {
    /// `path` is one buffer for the whole walk (each level appends its step and cuts it off
    /// again): a blueprint of 1 000 services has about 100 000 nodes, and a new string per node
    /// was a tenth of `validate`.
    fn node(&mut self, n: &Node, path: &mut String) {
        if self.left == 0 {
            return;
        }
        match &n.value {
            Value::Str(s) => {
                let multiline = path == "description" || path.ends_with(".description");
                if let Some((i, c, why)) = first_forbidden(s, multiline) {
                    self.report(path, n.loc, "value", i, c, why);
                }
            }
            Value::Seq(items) => {
                let len = path.len();
                for (i, item) in items.iter().enumerate() {
                    // Writing to a String cannot fail.
                    let _ = write!(path, "[{i}]");
                    self.node(item, path);
                    path.truncate(len);
                }
            }
            Value::Map(entries) => {
                let len = path.len();
                for (k, v) in entries {
                    if len > 0 {
                        path.push('.');
                    }
                    path.push_str(&k.name);
                    if let Some((i, c, why)) = first_forbidden(&k.name, false) {
                        self.report(path, k.loc, "key", i, c, why);
                    }
                    self.node(v, path);
                    path.truncate(len);
                }
            }
            _ => {}
        }
    }

    fn report(
        &mut self,
        path: &str,
        loc: super::node::Loc,
        what: &str,
        index: usize,
        c: char,
        why: &str,
    ) {
        if self.left == 0 {
            return;
        }
        self.left -= 1;
        let shown = if path.is_empty() {
            "the blueprint"
        } else {
            path
        };
        self.diags.push(
            Diagnostic::error(
                "E0180",
                path,
                format!(
                    "the {what} at `{shown}` holds {why} (U+{:04X}) at character {}",
                    c as u32,
                    index + 1
                ),
            )
            .with_help(
                "remove it: blueprint strings are printable text (only a `description` may hold tabs and line breaks)",
            )
            .at(loc),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_text_passes_and_controls_do_not() {
        assert_eq!(first_forbidden("Orders, payments — and €", false), None);
        assert_eq!(first_forbidden("two\nlines\tok", true), None);
        for bad in [
            "a\0b",
            "a\u{7f}",
            "a\rb",
            "a\u{1b}[31m",
            "a\u{85}",
            "x\u{202e}y",
            "a\u{2028}",
        ] {
            assert!(first_forbidden(bad, true).is_some(), "{bad:?}");
        }
        assert_eq!(first_forbidden("a\nb", false).map(|f| f.0), Some(1));
    }
}
