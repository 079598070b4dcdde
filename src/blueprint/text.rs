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
    // Printable ASCII, nearly every blueprint string, holds nothing forbidden.
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return None;
    }
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
    w.node(root, &mut Vec::new());
}

struct Walk<'a> {
    diags: &'a mut Diagnostics,
    left: usize,
}

/// One step of the path from the root to a node.
#[derive(Clone, Copy)]
enum Step<'n> {
    Key(&'n str),
    Index(usize),
}

/// The blueprint path (`services.orders.routes[0]`) of a node, written only for a report.
fn path_text(steps: &[Step<'_>]) -> String {
    let mut path = String::new();
    for step in steps {
        match step {
            Step::Key(name) => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(name);
            }
            // Writing to a String cannot fail.
            Step::Index(i) => {
                let _ = write!(path, "[{i}]");
            }
        }
    }
    path
}

impl<'n> Walk<'_> {
    /// `steps` is one stack for the whole walk, and the path text is written only for a
    /// report: a blueprint of 1 000 services has about 100 000 nodes, and writing each one's
    /// path was a tenth of `validate`.
    fn node(&mut self, n: &'n Node, steps: &mut Vec<Step<'n>>) {
        if self.left == 0 {
            return;
        }
        match &n.value {
            Value::Str(s) => {
                let multiline = matches!(steps.last(), Some(Step::Key("description")));
                if let Some((i, c, why)) = first_forbidden(s, multiline) {
                    self.report(&path_text(steps), n.loc, "value", i, c, why);
                }
            }
            Value::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    steps.push(Step::Index(i));
                    self.node(item, steps);
                    steps.pop();
                }
            }
            Value::Map(entries) => {
                for (k, v) in entries {
                    steps.push(Step::Key(&k.name));
                    if let Some((i, c, why)) = first_forbidden(&k.name, false) {
                        self.report(&path_text(steps), k.loc, "key", i, c, why);
                    }
                    self.node(v, steps);
                    steps.pop();
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

    /// Paths are written only for reports, and must still name the place exactly; only a
    /// `description`, at any depth, may span lines.
    #[test]
    fn reports_name_the_path_and_only_descriptions_span_lines() {
        let source = "description: \"two\\nlines\"\nservices:\n  a:\n    description: \"x\\ty\"\n    routes:\n      - { path: /ok }\n      - { path: \"/b\\nad\" }\n    \"k\\tey\": 1\n    name: \"c\\td\"\n";
        let root = crate::blueprint::node::parse(source).expect("parses");
        let mut diags = Diagnostics::default();
        check(&root, &mut diags);
        let paths: Vec<&str> = diags.items.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "services.a.routes[1].path",
                "services.a.k\tey",
                "services.a.name"
            ]
        );
        assert!(
            diags.items[0]
                .message
                .contains("a line break (U+000A) at character 3")
        );
        assert!(diags.items[1].message.starts_with("the key at"));
        assert_eq!((diags.items[2].line, diags.items[2].column), (9, 11));
    }
}
