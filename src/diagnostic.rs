//! One diagnostic model for everything the tool reports about a blueprint.
//!
//! Stages push [`Diagnostic`]s; the CLI renders them (human text here, JSON with serde). A
//! diagnostic names its place twice: the blueprint path (`services.orders.depends_on[1]`) and, when
//! known, the file position, so both people and editors can find it.

use crate::blueprint::node::Loc;
use serde::Serialize;
use std::fmt::Write as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Stable code, e.g. `E0101`; documented in docs/diagnostics.md.
    pub code: &'static str,
    pub message: String,
    /// Blueprint path of the offending value (empty for the whole document).
    pub path: String,
    pub file: String,
    pub line: u32,
    pub column: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(code: &'static str, path: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            path: path.into(),
            file: String::new(),
            line: 0,
            column: 0,
            help: None,
        }
    }

    pub fn warning(
        code: &'static str,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, path, message)
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn at(mut self, loc: Loc) -> Self {
        self.line = loc.line;
        self.column = loc.col;
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Collected diagnostics of one run.
#[derive(Debug, Default, Clone)]
pub struct Diagnostics {
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    pub fn error_count(&self) -> usize {
        self.items.iter().filter(|d| d.is_error()).count()
    }

    pub fn warning_count(&self) -> usize {
        self.items.len() - self.error_count()
    }

    /// Fill in the file name and sort by position so output reads top to bottom.
    pub fn finish(&mut self, file: &str) {
        for d in &mut self.items {
            if d.file.is_empty() {
                d.file = file.to_owned();
            }
        }
        self.items
            .sort_by(|a, b| (a.line, a.column, a.code).cmp(&(b.line, b.column, b.code)));
    }
}

/// Render for a terminal: message, location, the source line with a caret, and the help line.
pub fn render_human(d: &Diagnostic, source: Option<&str>) -> String {
    let mut out = String::new();
    let word = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let _ = writeln!(out, "{word}[{}]: {}", d.code, d.message);
    if d.line > 0 {
        let _ = write!(out, "  --> {}:{}:{}", d.file, d.line, d.column);
    } else {
        let _ = write!(out, "  --> {}", d.file);
    }
    if d.path.is_empty() {
        out.push('\n');
    } else {
        let _ = writeln!(out, " (at {})", d.path);
    }
    if let Some(text) = source.and_then(|s| s.lines().nth(d.line.saturating_sub(1) as usize))
        && d.line > 0
    {
        let gutter = d.line.to_string();
        let pad = " ".repeat(gutter.len());
        let caret = " ".repeat(d.column.saturating_sub(1) as usize);
        let _ = writeln!(out, "{pad} |\n{gutter} | {text}\n{pad} | {caret}^");
    }
    if let Some(help) = &d.help {
        let _ = writeln!(out, "  = help: {help}");
    }
    out
}

/// Edit distance for did-you-mean hints.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b_chars: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b_chars.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b_chars.len() + 1];
        for (j, cb) in b_chars.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b_chars.len()]
}

/// The closest candidate within a distance that still looks like a typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, c)| (*d, *c))
        .map(|(_, c)| c)
}

/// "did you mean `x`?" or a list of what is accepted.
pub fn suggest(word: &str, candidates: &[&str]) -> String {
    match did_you_mean(word, candidates.iter().copied()) {
        Some(c) => format!("did you mean `{c}`?"),
        None if candidates.is_empty() => "none are declared".to_owned(),
        None => format!("expected one of: {}", candidates.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("orders", "orders"), 0);
        assert_eq!(edit_distance("ordres", "orders"), 2);
        assert_eq!(edit_distance("order", "orders"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn did_you_mean_picks_nearest_and_refuses_far_words() {
        let c = ["users", "orders", "payments"];
        assert_eq!(did_you_mean("user", c), Some("users"));
        assert_eq!(did_you_mean("paymnets", c), Some("payments"));
        assert_eq!(did_you_mean("inventory", c), None);
    }
}
