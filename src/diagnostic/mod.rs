//! One diagnostic model for everything the tool reports about a blueprint.
//!
//! Stages push [`Diagnostic`]s; the CLI renders them as human text ([`human`]), a JSON array
//! ([`json`]) or SARIF 2.1.0 ([`sarif`]). A diagnostic names its place twice: the blueprint path
//! (`services.orders.depends_on[1]`) and, when known, the file position, so both people and editors
//! can find it. Every code is listed once in [`codes::CODES`] and documented in
//! docs/diagnostics.md.

pub mod codes;
pub mod human;
pub mod json;
pub mod sarif;

use serde::Serialize;

pub use human::render_human;

/// Errors block generation; warnings block only with `--deny-warnings`; notes never block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    /// Information about how the blueprint is lowered (e.g. a logical reference instead of a
    /// foreign key). Shown by `validate`, never counted as a problem.
    Note,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
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

    pub fn note(code: &'static str, path: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Note,
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

/// Most diagnostics kept (and so reported) per run. A hostile file can hold a million problems
/// (an 8 MiB file of unknown keys); past this many only their number is kept, so memory and
/// output stay bounded and the report says how many more there are.
pub const MAX_KEPT: usize = 500;

/// Collected diagnostics of one run.
#[derive(Debug, Default, Clone)]
pub struct Diagnostics {
    /// The first [`MAX_KEPT`] diagnostics pushed (sorted by position once finished).
    pub items: Vec<Diagnostic>,
    /// Diagnostics beyond [`MAX_KEPT`], counted by severity (error, warning, note).
    omitted: [usize; 3],
}

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        if self.items.len() < MAX_KEPT {
            self.items.push(d);
        } else {
            self.omitted[d.severity as usize] += 1;
        }
    }

    /// How many diagnostics were counted but not kept.
    pub fn omitted(&self) -> usize {
        self.omitted.iter().sum()
    }

    pub fn has_errors(&self) -> bool {
        self.error_count() > 0
    }

    pub fn error_count(&self) -> usize {
        self.count(Severity::Error)
    }

    pub fn warning_count(&self) -> usize {
        self.count(Severity::Warning)
    }

    pub fn note_count(&self) -> usize {
        self.count(Severity::Note)
    }

    fn count(&self, s: Severity) -> usize {
        self.items.iter().filter(|d| d.severity == s).count() + self.omitted[s as usize]
    }

    /// Whether these diagnostics stop a run: any error, or any warning under `--deny-warnings`.
    /// Notes never block.
    pub fn blocks(&self, deny_warnings: bool) -> bool {
        self.has_errors() || (deny_warnings && self.warning_count() > 0)
    }

    /// Fill in the file name and sort by position so output reads top to bottom.
    pub fn finish(&mut self, file: &str) {
        for d in &mut self.items {
            if d.file.is_empty() {
                d.file = file.to_owned();
            }
            // Messages quote blueprint text: no control character reaches a terminal.
            for text in [&mut d.message, &mut d.path]
                .into_iter()
                .chain(d.help.as_mut())
            {
                printable(text);
            }
        }
        // Diagnostics without a position (whole-file problems) come first.
        self.items.sort_by(|a, b| {
            (a.line, a.column, a.severity, a.code, &a.path)
                .cmp(&(b.line, b.column, b.severity, b.code, &b.path))
        });
    }
}

/// Edit distance for did-you-mean hints.
pub fn edit_distance(a: &str, b: &str) -> usize {
    // Optimal string alignment: Levenshtein plus the swap of two neighbours as one edit, the
    // commonest typo (`auht` for `auth`).
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut before: Vec<usize> = Vec::new();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
            if i > 0 && j > 0 && *ca == b[j - 1] && a[i - 1] == *cb {
                cur[j + 1] = cur[j + 1].min(before[j - 1] + 1);
            }
        }
        before = std::mem::replace(&mut prev, cur);
    }
    prev[b.len()]
}

/// The closest candidate within a distance that still looks like a typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let len = word.chars().count();
    let limit = (len / 3).max(2);
    candidates
        .into_iter()
        // The length difference bounds the distance from below: skip the hopeless ones cheaply.
        .filter(|c| {
            c.len().abs_diff(word.len()) <= limit * 4 && c.chars().count().abs_diff(len) <= limit
        })
        .map(|c| (edit_distance(word, c), c))
        // Beyond one edit, at least half of the longer word must stay: `auth` is two edits from
        // `path` but shares nothing with it that a typo would explain.
        .filter(|(d, c)| *d <= limit && (*d == 1 || 2 * d < len.max(c.chars().count())))
        .min_by_key(|(d, c)| (*d, *c))
        .map(|(_, c)| c)
}

/// Most candidates listed in a help line when none is close.
const LISTED: usize = 8;

/// "did you mean `x`?" or a (bounded) list of what is accepted.
pub fn suggest(word: &str, candidates: &[&str]) -> String {
    match did_you_mean(word, candidates.iter().copied()) {
        Some(c) => format!("did you mean `{c}`?"),
        None if candidates.is_empty() => "none are declared".to_owned(),
        None if candidates.len() > LISTED => format!(
            "expected one of: {}, … ({} more)",
            candidates[..LISTED].join(", "),
            candidates.len() - LISTED
        ),
        None => format!("expected one of: {}", candidates.join(", ")),
    }
}

/// Control and bidirectional characters written as `\u{..}` escapes, in place; text that has
/// none is left as it is.
pub fn printable(text: &mut String) {
    if !text.chars().any(|c| forbidden(c, true).is_some()) {
        return;
    }
    *text = text
        .chars()
        .map(|c| match forbidden(c, true) {
            Some(_) => c.escape_unicode().to_string(),
            None => c.to_string(),
        })
        .collect();
}

/// A position in a source file (1-based). Diagnostics carry it; the blueprint's node tree
/// records one for every node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, serde::Serialize)]
pub struct Loc {
    pub line: u32,
    pub col: u32,
}

/// Why `c` cannot stand in a blueprint string, and so is escaped when a diagnostic shows it (`multiline`: tab and newline are allowed).
pub fn forbidden(c: char, multiline: bool) -> Option<&'static str> {
    match c {
        '\t' | '\n' if multiline => None,
        '\n' => Some("a line break"),
        '\t' => Some("a tab"),
        '\r' => Some("a carriage return"),
        '\0' => Some("a NUL character"),
        '\u{7f}' => Some("a DEL character"),
        c if c.is_control() => Some("a control character"),
        '\u{2028}' | '\u{2029}' => Some("a Unicode line or paragraph separator"),
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' => {
            Some("a bidirectional-text control")
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("orders", "orders"), 0);
        assert_eq!(edit_distance("ordres", "orders"), 1);
        assert_eq!(edit_distance("auth", "path"), 2);
        assert_eq!(edit_distance("order", "orders"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn did_you_mean_picks_nearest_and_refuses_far_words() {
        let c = ["users", "orders", "payments"];
        assert_eq!(did_you_mean("user", c), Some("users"));
        assert_eq!(did_you_mean("paymnets", c), Some("payments"));
        assert_eq!(did_you_mean("inventory", c), None);
        // Two edits in a four-letter word is a different word, not a typo.
        assert_eq!(did_you_mean("auth", ["path", "to"]), None);
        assert_eq!(did_you_mean("pth", ["path", "to"]), Some("path"));
        assert_eq!(did_you_mean("tp", ["path", "to"]), Some("to"));
        assert_eq!(did_you_mean("ordres", ["orders"]), Some("orders"));
    }

    #[test]
    fn suggest_lists_at_most_a_few_candidates() {
        let many: Vec<String> = (0..20).map(|i| format!("service-{i:02}")).collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        let help = suggest("zzz", &refs);
        assert!(help.ends_with("(12 more)"), "{help}");
        assert_eq!(suggest("zzz", &[]), "none are declared");
    }

    #[test]
    fn notes_never_block_and_warnings_block_only_when_denied() {
        let mut d = Diagnostics::default();
        d.push(Diagnostic::note("N0301", "x", "m"));
        assert!(!d.blocks(true));
        d.push(Diagnostic::warning("W0201", "x", "m"));
        assert!(!d.blocks(false));
        assert!(d.blocks(true));
        assert_eq!(
            (d.warning_count(), d.note_count(), d.error_count()),
            (1, 1, 0)
        );
    }
}
