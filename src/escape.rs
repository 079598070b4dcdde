//! Escapers by output language, registered as Tera filters. Every interpolation of a free-text
//! or user-chosen blueprint value (descriptions, route paths, hosts, the region, instance types,
//! image references, environment values) goes through the filter of the language it lands in;
//! validation already limits most of these values to plain tokens, and the filter makes the
//! file parse whatever the value holds.
//!
//! | filter | output | what it does |
//! |---|---|---|
//! | `py_str` | Python `"…"` literal | quotes; escapes `\`, `"`, control and separator characters |
//! | `py_in` | inside a Python `"…"` literal | the same, without the quotes |
//! | `py_doc` | inside a `"""…"""` docstring | escapes `\` and `"` (so `"""` cannot close it) and controls; keeps line breaks |
//! | `comment` | a `#`, `//` or `--` comment | one line: line breaks and controls become spaces |
//! | `hcl` / `hcl_in` | HCL `"…"` string / its inside | as JSON, plus `${` → `$${` and `%{` → `%%{` (no interpolation or directive) |
//! | `yaml` | YAML double-quoted scalar | JSON string syntax (a subset of YAML 1.2), separators escaped |
//! | `yaml_in` | inside a YAML double-quoted scalar | the same, without the quotes |
//! | `gha` / `gha_in` | a GitHub Actions workflow value / its inside | `yaml`, and `${{` written as `${{ '${{' }}` (no expression) |
//! | `toml` | TOML basic string | quotes; escapes `\`, `"` and every control character, DEL included |
//! | `sql_lit` / `sql_ident` | SQL `'…'` literal / `"…"` identifier | the quote doubled; NUL removed |
//! | `nginx` | nginx quoted argument | quotes; escapes `\` and `"`; `$` written `%24` (nginx has no escape for it) |
//! | `md` | Markdown inline text | one line; CommonMark punctuation backslash-escaped, a leading list or heading marker too |
//! | `sh` | one shell word | single-quoted, `'` written `'\''` |
//!
//! `quote` (a JSON string: valid YAML, JSON and Python) and `json` stay for values the model
//! built itself.

use std::borrow::Cow;
use std::fmt::Write;
use tera::{Kwargs, State, Tera};

/// Characters written as `\uXXXX` in every quoted form: controls, DEL, C1, Unicode separators
/// and bidirectional controls.
fn needs_unicode_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// JSON-style string body: `\\`, `\"`, `\n`, `\r`, `\t`, `\uXXXX` (UTF-16 pairs never needed:
/// escaped characters are all in the BMP).
fn json_body(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_unicode_escape(c) => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
}

fn quoted(body: String) -> String {
    format!("\"{body}\"")
}

pub fn py_in(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    json_body(s, &mut out);
    out
}

pub fn py_str(s: &str) -> String {
    quoted(py_in(s))
}

pub fn py_doc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' | '\t' => out.push(c),
            c if needs_unicode_escape(c) => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

pub fn comment(s: &str) -> String {
    let spaced: String = s
        .chars()
        .map(|c| {
            if c.is_whitespace() || needs_unicode_escape(c) {
                ' '
            } else {
                c
            }
        })
        .collect();
    spaced.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub fn hcl_in(s: &str) -> String {
    let mut body = String::with_capacity(s.len() + 2);
    json_body(s, &mut body);
    body.replace("${", "$${").replace("%{", "%%{")
}

pub fn hcl(s: &str) -> String {
    quoted(hcl_in(s))
}

pub fn yaml(s: &str) -> String {
    let mut body = String::with_capacity(s.len() + 2);
    json_body(s, &mut body);
    quoted(body)
}

pub fn yaml_in(s: &str) -> String {
    let mut body = String::with_capacity(s.len() + 2);
    json_body(s, &mut body);
    body
}

/// docker compose interpolates `$VAR` and `${VAR}` in every value after YAML has been read,
/// so `$` is written `$$`, compose's own escape, inside a YAML string.
pub fn compose(s: &str) -> String {
    yaml(s).replace('$', "$$")
}

/// Kubernetes expands `$(VAR)` in a container's `command` and `args` and reads `$$` as `$`, so a
/// blueprint's word stays literal with every `$` doubled, as for compose.
pub fn kube_arg(s: &str) -> String {
    compose(s)
}

/// GitHub Actions evaluates `${{ … }}` in workflow values after YAML has been read, so YAML
/// escaping alone cannot stop it: `${{` is written as the expression `${{ '${{' }}`.
pub fn gha_in(s: &str) -> String {
    yaml_in(s).replace("${{", "${{ '${{' }}")
}

pub fn gha(s: &str) -> String {
    quoted(gha_in(s))
}

pub fn toml(s: &str) -> String {
    // TOML basic strings take the same escapes; DEL is a control character, escaped above.
    yaml(s)
}

pub fn sql_lit(s: &str) -> String {
    format!("'{}'", s.replace('\0', "").replace('\'', "''"))
}

pub fn sql_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('\0', "").replace('"', "\"\""))
}

pub fn nginx(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '$' => out.push_str("%24"),
            c if needs_unicode_escape(c) => {
                let _ = write!(out, "%{:02X}", c as u32 & 0xff);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// ASCII punctuation CommonMark gives a meaning inline.
const MD_SPECIAL: &[char] = &[
    '\\', '`', '*', '_', '[', ']', '<', '>', '|', '~', '&', '#', '!', '{', '}', '$',
];

pub fn md(s: &str) -> String {
    let line = comment(s);
    let mut out = String::with_capacity(line.len() + 8);
    for (i, c) in line.chars().enumerate() {
        let leading = i == 0 && matches!(c, '-' | '+' | '=' | '>' | ':');
        if MD_SPECIAL.contains(&c) || leading {
            out.push('\\');
        }
        out.push(c);
    }
    // `1. text` or `1) text` would start an ordered list.
    let digits = out.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 && matches!(out[digits..].chars().next(), Some('.' | ')')) {
        out.insert(digits, '\\');
    }
    out
}

pub fn sh(s: &str) -> String {
    format!("'{}'", s.replace('\0', "").replace('\'', "'\\''"))
}

type Escaper = fn(&str) -> String;

/// Every escaper by filter name.
pub const ESCAPERS: &[(&str, Escaper)] = &[
    ("py_str", py_str),
    ("py_in", py_in),
    ("py_doc", py_doc),
    ("comment", comment),
    ("hcl", hcl),
    ("hcl_in", hcl_in),
    ("yaml", yaml),
    ("yaml_in", yaml_in),
    ("compose", compose),
    ("kube_arg", kube_arg),
    ("gha", gha),
    ("gha_in", gha_in),
    ("toml", toml),
    ("sql_lit", sql_lit),
    ("sql_ident", sql_ident),
    ("nginx", nginx),
    ("md", md),
    ("sh", sh),
];

pub fn register(tera: &mut Tera) {
    for (name, f) in ESCAPERS {
        let f = *f;
        tera.register_filter(*name, move |s: Cow<'_, str>, _: Kwargs, _: &State| f(&s));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str =
        "a\"\"\"b' ${file(\"/etc/hostname\")} %{ if x } `id` $(id) #c {{ d }}\\ \n-- ;DROP";

    #[test]
    fn compose_values_are_not_interpolated() {
        assert_eq!(compose("a ${HOME} $x"), "\"a $${HOME} $$x\"");
    }

    #[test]
    fn python_forms_cannot_close_their_string() {
        let s = py_str(HOSTILE);
        assert!(s.starts_with('"') && s.ends_with('"'));
        // Every `"` inside is escaped.
        let inner = &s[1..s.len() - 1];
        assert!(
            inner
                .match_indices('"')
                .all(|(i, _)| inner[..i].ends_with('\\'))
        );
        assert!(!inner.contains('\n'));
        let d = py_doc(HOSTILE);
        assert!(!d.contains("\"\"\"") && !d.ends_with('\\'));
        assert!(!comment(HOSTILE).contains('\n'));
    }

    #[test]
    fn hcl_neither_interpolates_nor_runs_directives() {
        let h = hcl(HOSTILE);
        assert!(h.contains("$${file") && h.contains("%%{ if"));
        assert!(!h.replace("$${", "").contains("${"));
        assert_eq!(hcl("eu-west-1"), "\"eu-west-1\"");
    }

    #[test]
    fn sql_shell_nginx_and_markdown() {
        assert_eq!(sql_lit("a';DROP"), "'a'';DROP'");
        assert_eq!(sql_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(sh("it's $(id)"), "'it'\\''s $(id)'");
        assert_eq!(nginx("/a\"$x"), "\"/a\\\"%24x\"");
        assert_eq!(md("# Title [x](y) <b>"), "\\# Title \\[x\\](y) \\<b\\>");
        assert_eq!(md("- item\nnext"), "\\- item next");
        assert_eq!(md("1. first"), "1\\. first");
        assert_eq!(gha("${{ secrets.X }}"), "\"${{ '${{' }} secrets.X }}\"");
        assert_eq!(toml("a\u{7f}\"b"), "\"a\\u007F\\\"b\"");
    }
}
