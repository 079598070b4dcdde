//! Human rendering, in the shape of rustc's and just's messages: the headline with severity and
//! code, the location, the source line with the offending token underlined, and the help line.
//! Colour only when asked for (the CLI asks when stderr is a terminal and `NO_COLOR` is unset).

use super::{Diagnostic, Diagnostics, Severity};
use std::fmt::Write as _;
use std::io::IsTerminal;

/// Whether stderr should get ANSI colours: a terminal, and `NO_COLOR` unset or empty
/// (<https://no-color.org>).
pub fn color_for_stderr() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
}

struct Paint {
    on: bool,
}

impl Paint {
    fn wrap(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
    fn severity(&self, s: Severity, text: &str) -> String {
        let code = match s {
            Severity::Error => "1;31",
            Severity::Warning => "1;33",
            Severity::Note => "1;36",
        };
        self.wrap(code, text)
    }
    fn frame(&self, text: &str) -> String {
        self.wrap("1;34", text)
    }
    fn bold(&self, text: &str) -> String {
        self.wrap("1", text)
    }
}

/// Plain text (no colour) of one diagnostic.
pub fn render_human(d: &Diagnostic, source: Option<&str>) -> String {
    render(d, source, false)
}

/// One diagnostic, optionally with ANSI colour.
pub fn render(d: &Diagnostic, source: Option<&str>, color: bool) -> String {
    let line = source
        .filter(|_| d.line > 0)
        .and_then(|s| s.lines().nth(d.line as usize - 1));
    render_at(d, line, color)
}

/// One diagnostic with its source line already found.
fn render_at(d: &Diagnostic, line_text: Option<&str>, color: bool) -> String {
    let p = Paint { on: color };
    let mut out = String::new();
    let head = format!("{}[{}]", d.severity.as_str(), d.code);
    let _ = writeln!(
        out,
        "{}: {}",
        p.severity(d.severity, &head),
        p.bold(&d.message)
    );
    let place = if d.line > 0 {
        format!("{}:{}:{}", d.file, d.line, d.column)
    } else {
        d.file.clone()
    };
    let _ = write!(out, "  {} {place}", p.frame("-->"));
    if d.path.is_empty() {
        out.push('\n');
    } else {
        let _ = writeln!(out, " (at {})", d.path);
    }
    if let Some(full) = line_text {
        let gutter = d.line.to_string();
        let pad = " ".repeat(gutter.len());
        let (text, col) = window(full, (d.column.max(1) - 1) as usize);
        // A control character in the file is shown as U+FFFD, one column like the original.
        let text: String = text
            .chars()
            .map(|c| match super::forbidden(c, true) {
                Some(_) => '\u{fffd}',
                None => c,
            })
            .collect();
        // Tabs keep their width in the caret line so the caret lands under the token.
        let lead: String = text
            .chars()
            .take(col)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        let width = token_width(&text, col);
        let bar = p.frame("|");
        let _ = writeln!(out, "{pad} {bar}");
        let _ = writeln!(out, "{} {bar} {text}", p.frame(&gutter));
        let carets = p.severity(d.severity, &"^".repeat(width));
        let _ = writeln!(out, "{pad} {bar} {lead}{carets}");
    }
    if let Some(help) = &d.help {
        let _ = writeln!(out, "  {} {help}", p.frame("= help:"));
    }
    out
}

/// Longest source line shown whole; longer ones are cut to a window around the column.
const MAX_SHOWN: usize = 120;

/// The part of `line` to show and the column within it: the whole line when short, otherwise
/// [`MAX_SHOWN`] characters around `col`, marked with `…` where cut.
fn window(line: &str, col: usize) -> (String, usize) {
    let n = line.chars().count();
    if n <= MAX_SHOWN {
        return (line.to_owned(), col);
    }
    let start = col
        .saturating_sub(MAX_SHOWN / 2)
        .min(n.saturating_sub(MAX_SHOWN));
    let mut text: String = line.chars().skip(start).take(MAX_SHOWN).collect();
    let mut col = col - start.min(col);
    if start > 0 {
        text.insert(0, '…');
        col += 1;
    }
    if start + MAX_SHOWN < n {
        text.push('…');
    }
    (text, col)
}

/// Width in characters of the YAML token starting at `col` (0-based): a quoted scalar up to its
/// closing quote, otherwise up to the next flow delimiter, `: ` or comment. At least 1.
fn token_width(line: &str, col: usize) -> usize {
    let rest: Vec<char> = line.chars().skip(col).collect();
    let Some(&first) = rest.first() else { return 1 };
    if first == '"' || first == '\'' {
        let close = rest.iter().skip(1).position(|c| *c == first);
        return close.map_or(rest.len(), |i| i + 2);
    }
    if first == '[' || first == '{' {
        return 1;
    }
    let mut width = 0;
    for (i, c) in rest.iter().enumerate() {
        let next = rest.get(i + 1).copied().unwrap_or(' ');
        if matches!(c, ',' | ']' | '}') || (*c == ':' && next.is_whitespace()) {
            break;
        }
        if *c == '#' && i > 0 && rest[i - 1].is_whitespace() {
            break;
        }
        width = i + 1;
    }
    let trimmed = rest[..width]
        .iter()
        .rposition(|c| !c.is_whitespace())
        .map_or(1, |i| i + 1);
    trimmed.max(1)
}

/// Every diagnostic kept followed by a closing count line. The source is split into lines
/// once: looking each diagnostic's line up from the start made a report of many diagnostics
/// quadratic in the file.
pub fn report(d: &Diagnostics, source: Option<&str>, color: bool) -> String {
    let lines: Vec<&str> = source.map(|s| s.lines().collect()).unwrap_or_default();
    let mut out = String::new();
    for item in &d.items {
        let line = (item.line as usize)
            .checked_sub(1)
            .and_then(|i| lines.get(i).copied());
        out.push_str(&render_at(item, line, color));
        out.push('\n');
    }
    if d.omitted() > 0 {
        let _ = writeln!(
            out,
            "… and {} more diagnostic(s) not shown (the first {} are listed)\n",
            d.omitted(),
            d.items.len()
        );
    }
    let (e, w, n) = (d.error_count(), d.warning_count(), d.note_count());
    if e + w + n > 0 {
        let _ = write!(out, "{e} error(s), {w} warning(s)");
        if n > 0 {
            let _ = write!(out, ", {n} note(s)");
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Loc;

    fn diag(line: u32, col: u32) -> Diagnostic {
        let mut d = Diagnostic::error("E0110", "services.orders.depends_on[1]", "unknown")
            .with_help("did you mean `payments`?")
            .at(Loc { line, col });
        d.file = "bp.yaml".into();
        d
    }

    #[test]
    fn caret_underlines_the_whole_token() {
        let src = "services:\n  orders:\n    depends_on: [users, paymnts]\n";
        let text = render_human(&diag(3, 25), Some(src));
        assert!(text.contains("  --> bp.yaml:3:25 (at services.orders.depends_on[1])"));
        assert!(text.contains("3 |     depends_on: [users, paymnts]\n"));
        assert!(
            text.contains("  |                         ^^^^^^^\n"),
            "{text}"
        );
        assert!(text.ends_with("  = help: did you mean `payments`?\n"));
        assert!(!text.contains('\x1b'));
    }

    #[test]
    fn token_width_stops_at_delimiters_and_quotes() {
        assert_eq!(token_width("a: \"x y\" # c", 3), 5);
        assert_eq!(token_width("  orders: {}", 2), 6);
        assert_eq!(token_width("port: 8080 # http", 6), 4);
        assert_eq!(token_width("x", 5), 1);
    }

    #[test]
    fn long_lines_are_cut_around_the_column() {
        let line = "[".repeat(100_000);
        let (text, col) = window(&line, 50_000);
        assert_eq!(text.chars().count(), MAX_SHOWN + 2);
        assert_eq!(col, MAX_SHOWN / 2 + 1);
        assert_eq!(window("short", 2), ("short".to_owned(), 2));
    }

    #[test]
    fn colour_only_when_asked() {
        let src = "services:\n  orders:\n    depends_on: [users, paymnts]\n";
        let text = render(&diag(3, 25), Some(src), true);
        assert!(text.starts_with("\x1b[1;31merror[E0110]\x1b[0m"));
    }

    #[test]
    fn report_counts_notes_separately() {
        let mut d = Diagnostics::default();
        d.push(Diagnostic::note("N0301", "", "logical reference"));
        assert!(report(&d, None, false).ends_with("0 error(s), 0 warning(s), 1 note(s)\n"));
    }
}
