//! The regular expressions a field's `pattern '…'` may use, and the built-in ones behind `email`
//! and `url`.
//!
//! One pattern is enforced in four engines: Pydantic (the Rust `regex` crate), Python `re`,
//! PostgreSQL's POSIX "advanced" regular expressions (the CHECK constraint) and ECMA-262 with the
//! `u` flag (JSON Schema `pattern` in openapi.yaml). Their syntaxes agree only on a subset, so a
//! pattern is parsed with `regex-syntax` and every node outside that subset is refused with the
//! reason and a way to write it instead. The subset (docs/blueprint-constraints.md too):
//!
//! - printable ASCII literals other than `'`, `"`, `` ` ``, `%`, `\`, `]` and `}` (`%` is a
//!   parameter marker to Python database drivers running the migrations); escaped meta
//!   characters `\. \* \+ \? \( \) \[ \] \{ \} \| \^ \$ \\`;
//! - `.`, `^`, `$`, alternation `|`, groups `( )` and `(?: )` (never empty);
//! - greedy `*`, `+`, `?`, `{n}`, `{n,}`, `{n,m}` with bounds up to 255 (PostgreSQL's limit), on
//!   anything but an assertion or another repetition;
//! - bracket classes `[…]` / `[^…]` of literals (`-` only first or last; `\\ \] \[ \- \^` escaped)
//!   and ranges within `a-z`, `A-Z` or `0-9`.
//!
//! Not in it: `\d \w \s` (Unicode in Python and Rust, ASCII in JavaScript, locale-bound in
//! PostgreSQL), flags, lazy quantifiers, backreferences, look-around, named groups, POSIX and
//! Unicode classes, class set operations. Matching is unanchored in every engine (a search), so
//! `^…$` is how a pattern covers the whole value.

use regex_syntax::ast::{
    self, Ast, ClassSet, ClassSetItem, GroupKind, LiteralKind, RepetitionKind, RepetitionRange,
};

/// The longest pattern accepted.
pub const MAX_LEN: usize = 200;

/// PostgreSQL's largest repetition bound (`RE_DUP_MAX`).
const MAX_REPEAT: u32 = 255;

/// `email`: the shape of the WHATWG HTML "valid e-mail address" (ASCII local part and
/// dot-separated DNS labels), less `%`: Python database drivers read `%` in SQL text as a
/// parameter marker, so no generated SQL carries one. Deliverability is not a format question.
pub const EMAIL: &str = r"^[A-Za-z0-9.!#$&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$";

/// `url`: an absolute http or https URL with a host name, an optional port and no spaces.
pub const URL: &str =
    r"^https?://[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?(?::[0-9]{1,5})?(?:[/?#][!-~]*)?$";

/// Why a pattern is refused: a message and what to write instead.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub message: String,
    pub help: String,
}

fn refuse(message: impl Into<String>, help: impl Into<String>) -> Refusal {
    Refusal {
        message: message.into(),
        help: help.into(),
    }
}

const SUBSET_HELP: &str = "patterns use a subset every engine agrees on: literals, `.`, `^`, `$`, `|`, groups, greedy `* + ? {n,m}` (n, m ≤ 255) and classes like `[A-Za-z0-9_-]`; see docs/blueprint-constraints.md";

/// Parse `pattern` and check that it stays in the portable subset.
pub fn check(pattern: &str) -> Result<(), Refusal> {
    parse(pattern).map(|_| ())
}

fn parse(pattern: &str) -> Result<Ast, Refusal> {
    if pattern.is_empty() {
        return Err(refuse(
            "the pattern is empty",
            "write the values it allows, e.g. `pattern '^[A-Z]{3}[0-9]+$'`",
        ));
    }
    if pattern.len() > MAX_LEN {
        return Err(refuse(
            format!(
                "the pattern is {} characters long (at most {MAX_LEN})",
                pattern.len()
            ),
            "split the rule or use a shorter pattern",
        ));
    }
    if let Some(c) = pattern.chars().find(|c| !(' '..='~').contains(c)) {
        return Err(refuse(
            format!("the pattern contains {c:?}: only printable ASCII is allowed"),
            SUBSET_HELP,
        ));
    }
    let ast = syntax(pattern).map_err(|e| {
        refuse(
            format!(
                "the pattern does not parse at character {}: {}",
                e.span().start.offset + 1,
                e.kind()
            ),
            SUBSET_HELP,
        )
    })?;
    Portable.node(&ast)?;
    Ok(ast)
}

fn syntax(pattern: &str) -> Result<Ast, Box<ast::Error>> {
    ast::parse::ParserBuilder::new()
        .nest_limit(32)
        .build()
        .parse(pattern)
        .map_err(Box::new)
}

struct Portable;

impl Portable {
    fn node(&self, ast: &Ast) -> Result<(), Refusal> {
        match ast {
            Ast::Empty(_) => Err(refuse(
                "the pattern has an empty alternative or group",
                "remove the empty branch, or make the part optional with `?`",
            )),
            Ast::Flags(_) => Err(refuse(
                "inline flags like `(?i)` are not portable",
                "spell both cases out, e.g. `[Aa]`",
            )),
            Ast::Literal(l) => literal(l, false),
            Ast::Dot(_) => Ok(()),
            Ast::Assertion(a) => match a.kind {
                ast::AssertionKind::StartLine | ast::AssertionKind::EndLine => Ok(()),
                _ => Err(refuse(
                    "only the anchors `^` and `$` are portable (not `\\A`, `\\z` or `\\b`)",
                    "anchor the pattern with `^…$`",
                )),
            },
            Ast::ClassPerl(_) => Err(refuse(
                "`\\d`, `\\w` and `\\s` mean different things in Python, PostgreSQL and JavaScript",
                "write the class out: `[0-9]`, `[A-Za-z0-9_]`, `[ ]`",
            )),
            Ast::ClassUnicode(_) => Err(refuse(
                "Unicode classes like `\\pL` are not portable",
                "write the class out, e.g. `[A-Za-z]`",
            )),
            Ast::ClassBracketed(c) => class(c),
            Ast::Repetition(r) => {
                if !r.greedy {
                    return Err(refuse(
                        "lazy quantifiers (`*?`, `+?`) behave differently in PostgreSQL",
                        "use the greedy form",
                    ));
                }
                if let RepetitionKind::Range(range) = &r.op.kind {
                    let top = match range {
                        RepetitionRange::Exactly(n) | RepetitionRange::AtLeast(n) => *n,
                        RepetitionRange::Bounded(_, m) => *m,
                    };
                    if top > MAX_REPEAT {
                        return Err(refuse(
                            format!("repetition bound {top} is larger than {MAX_REPEAT}"),
                            "PostgreSQL allows repetition bounds up to 255; use `+` or a length limit (`string(N)`)",
                        ));
                    }
                }
                match &*r.ast {
                    Ast::Assertion(_) | Ast::Repetition(_) => Err(refuse(
                        "a quantifier follows an anchor or another quantifier",
                        "put the repeated part in a group: `(ab+)*`",
                    )),
                    inner => self.node(inner),
                }
            }
            Ast::Group(g) => match &g.kind {
                GroupKind::CaptureIndex(_) => self.node(&g.ast),
                GroupKind::NonCapturing(flags) if flags.items.is_empty() => self.node(&g.ast),
                GroupKind::NonCapturing(_) => Err(refuse(
                    "inline flags like `(?i:…)` are not portable",
                    "spell both cases out, e.g. `[Aa]`",
                )),
                GroupKind::CaptureName { .. } => Err(refuse(
                    "named groups are not portable",
                    "use a plain group `( )`",
                )),
            },
            Ast::Alternation(a) => a.asts.iter().try_for_each(|x| self.node(x)),
            Ast::Concat(c) => c.asts.iter().try_for_each(|x| self.node(x)),
        }
    }
}

/// A literal outside (`in_class == false`) or inside a bracket class.
fn literal(l: &ast::Literal, in_class: bool) -> Result<(), Refusal> {
    let c = l.c;
    let ok = match l.kind {
        LiteralKind::Verbatim => {
            c.is_ascii_alphanumeric()
                || (if in_class {
                    " _.,:/@+*?(){}$#!=<>;^-".contains(c)
                } else {
                    " _-,:/@!#&=<>~;".contains(c)
                })
        }
        LiteralKind::Meta => {
            if in_class {
                "\\][-^".contains(c)
            } else {
                ".*+?()[]{}|^$\\".contains(c)
            }
        }
        _ => false,
    };
    if ok {
        return Ok(());
    }
    let shown = match l.kind {
        LiteralKind::Verbatim => format!("`{c}`"),
        _ => format!("the escape for {c:?}"),
    };
    Err(refuse(
        format!(
            "{shown} is not portable {}",
            if in_class {
                "inside `[…]`"
            } else {
                "in a pattern"
            }
        ),
        match c {
            '\'' | '"' | '`' => {
                "quotes cannot appear in a pattern; leave them out or use a class of other characters"
            }
            '%' => "leave `%` out: Python database drivers read it in SQL as a parameter marker",
            ']' | '}' => "escape it: `\\]`, `\\}`",
            '&' | '~' | '|' => "move it out of the class into an alternative: `([a-z]|&)`",
            '\t' | '\n' | '\r' => "tabs and line breaks cannot be matched portably",
            _ => {
                "escape only meta characters (`\\.` `\\*` `\\+` `\\?` `\\(` `\\)` `\\[` `\\]` `\\{` `\\}` `\\|` `\\^` `\\$` `\\\\`)"
            }
        },
    ))
}

fn class(c: &ast::ClassBracketed) -> Result<(), Refusal> {
    let items: Vec<&ClassSetItem> = match &c.kind {
        ClassSet::Item(ClassSetItem::Union(u)) => u.items.iter().collect(),
        ClassSet::Item(item) => vec![item],
        ClassSet::BinaryOp(_) => {
            return Err(refuse(
                "class set operations (`&&`, `--`, `~~`) are not portable",
                "list the characters the class allows",
            ));
        }
    };
    let last = items.len().saturating_sub(1);
    for (i, item) in items.iter().enumerate() {
        match item {
            ClassSetItem::Literal(l) => {
                if l.kind == LiteralKind::Verbatim && l.c == '-' && i != 0 && i != last {
                    return Err(refuse(
                        "a `-` in the middle of a class is read differently by the engines",
                        "put it first or last (`[A-Z-]`) or escape it (`\\-`)",
                    ));
                }
                literal(l, true)?;
            }
            ClassSetItem::Range(r) => {
                let (a, b) = (r.start.c, r.end.c);
                let same = |f: fn(&char) -> bool| f(&a) && f(&b);
                let literal_ends =
                    r.start.kind == LiteralKind::Verbatim && r.end.kind == LiteralKind::Verbatim;
                if !literal_ends
                    || !(same(char::is_ascii_lowercase)
                        || same(char::is_ascii_uppercase)
                        || same(char::is_ascii_digit))
                {
                    return Err(refuse(
                        format!("the range `{a}-{b}` is not portable"),
                        "ranges stay within `a-z`, `A-Z` or `0-9`; list other characters one by one",
                    ));
                }
            }
            ClassSetItem::Perl(_) => {
                return Err(refuse(
                    "`\\d`, `\\w` and `\\s` mean different things in Python, PostgreSQL and JavaScript",
                    "write the class out: `[0-9]`, `[A-Za-z0-9_]`, `[ ]`",
                ));
            }
            ClassSetItem::Ascii(_) | ClassSetItem::Unicode(_) => {
                return Err(refuse(
                    "named classes like `[:alpha:]` or `\\pL` are not portable",
                    "write the class out, e.g. `[A-Za-z]`",
                ));
            }
            ClassSetItem::Bracketed(_) | ClassSetItem::Union(_) | ClassSetItem::Empty(_) => {
                return Err(refuse(
                    "nested classes are not portable",
                    "escape a literal `[` as `\\[`",
                ));
            }
        }
    }
    Ok(())
}

/// Characters a generated sample may use where any character is allowed (`.`, `[^…]`).
const SAMPLE_CHARS: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:@";

/// A value matching `pattern` as a list of positions, each the characters allowed there
/// (generated tests pick one per position at random, so repeated values rarely collide).
/// Open repetitions take `extra` more rounds than their minimum. `None` when the pattern is
/// that does not parse or the sample would be longer than `max_len`.
pub fn sample_slots(pattern: &str, extra: u32, max_len: usize) -> Option<Vec<String>> {
    let ast = syntax(pattern).ok()?;
    let mut out = Vec::new();
    slots(&ast, extra, &mut out)?;
    (out.len() <= max_len).then_some(out)
}

fn slots(ast: &Ast, extra: u32, out: &mut Vec<String>) -> Option<()> {
    match ast {
        Ast::Literal(l) => out.push(l.c.to_string()),
        Ast::Dot(_) => out.push("abcdefghijklmnopqrstuvwxyz".into()),
        Ast::Assertion(_) => {}
        Ast::ClassBracketed(c) => out.push(class_chars(c)?),
        Ast::Repetition(r) => {
            let n = match &r.op.kind {
                RepetitionKind::ZeroOrOne => extra.min(1),
                RepetitionKind::ZeroOrMore => extra,
                RepetitionKind::OneOrMore => 1 + extra,
                RepetitionKind::Range(RepetitionRange::Exactly(n)) => *n,
                RepetitionKind::Range(RepetitionRange::AtLeast(n)) => n + extra,
                RepetitionKind::Range(RepetitionRange::Bounded(n, m)) => (n + extra).min(*m),
            };
            for _ in 0..n {
                slots(&r.ast, extra, out)?;
            }
        }
        Ast::Group(g) => slots(&g.ast, extra, out)?,
        Ast::Alternation(a) => slots(a.asts.first()?, extra, out)?,
        Ast::Concat(c) => {
            for x in &c.asts {
                slots(x, extra, out)?;
            }
        }
        Ast::Empty(_) | Ast::Flags(_) | Ast::ClassPerl(_) | Ast::ClassUnicode(_) => return None,
    }
    Some(())
}

fn class_chars(c: &ast::ClassBracketed) -> Option<String> {
    let items: Vec<&ClassSetItem> = match &c.kind {
        ClassSet::Item(ClassSetItem::Union(u)) => u.items.iter().collect(),
        ClassSet::Item(item) => vec![item],
        ClassSet::BinaryOp(_) => return None,
    };
    let mut set = std::collections::BTreeSet::new();
    for item in items {
        match item {
            ClassSetItem::Literal(l) => {
                set.insert(l.c);
            }
            ClassSetItem::Range(r) => set.extend(r.start.c..=r.end.c),
            _ => return None,
        }
    }
    let chars: String = if c.negated {
        SAMPLE_CHARS.chars().filter(|x| !set.contains(x)).collect()
    } else {
        set.into_iter().collect()
    };
    (!chars.is_empty()).then_some(chars)
}

/// Whether `value` matches `pattern` by the same engine Pydantic uses (unanchored search).
pub fn matches(pattern: &str, value: &str) -> bool {
    regex::Regex::new(pattern).is_ok_and(|r| r.is_match(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn portable_patterns_are_accepted() {
        for p in [
            "^[A-Z]{3}[0-9]+$",
            "^[a-z0-9_-]+$",
            "^(eu|us)-[0-9]{2}$",
            r"^\+?[0-9 ]{6,20}$",
            r"^[^@]+@example\.com$",
            "^(?:ab)+c?$",
            r"^[\]\[\-\\]$",
            "x",
        ] {
            assert_eq!(check(p), Ok(()), "{p}");
        }
    }

    #[test]
    fn engine_specific_syntax_is_refused_with_a_reason() {
        let why = |p: &str| check(p).unwrap_err().message;
        assert!(why(r"^\d+$").contains("`\\d`"));
        assert!(why("^a+?$").contains("lazy"));
        assert!(why("(?i)abc").contains("flags"));
        assert!(why("^(?P<x>a)$").contains("named groups"));
        assert!(why("^a{300}$").contains("255"));
        assert!(why("^[[:alpha:]]$").contains("named classes"));
        assert!(why("^[a-z&&[^m]]$").contains("set operations"));
        assert!(why("^[a-c-e]$").contains("`-`"));
        assert!(why("^[!-~]$").contains("range"));
        assert!(why(r"^a\/b$").contains("escape"));
        assert!(why("^a]$").contains("`]`"));
        assert!(why("^it's$").contains("`'`"));
        assert!(why("a|").contains("empty"));
        assert!(why("^*").contains("does not parse") || why("^*").contains("anchor"));
        assert!(why("^(a").contains("does not parse"));
        assert!(why("é").contains("ASCII"));
        assert!(why("^100%$").contains("`%`"));
        assert!(why("").contains("empty"));
        assert!(why(&"a".repeat(201)).contains("at most"));
    }

    #[test]
    fn samples_match_their_pattern() {
        for p in [
            "^[A-Z]{3}[0-9]+$",
            "^(eu|us)-[0-9]{2}$",
            r"^[^@]+@example\.com$",
            "^a.c$",
            EMAIL,
            URL,
        ] {
            for extra in [0, 2] {
                let slots = sample_slots(p, extra, 255).unwrap();
                let first: String = slots.iter().map(|s| s.chars().next().unwrap()).collect();
                let last: String = slots.iter().map(|s| s.chars().last().unwrap()).collect();
                assert!(matches(p, &first), "{p}: {first}");
                assert!(matches(p, &last), "{p}: {last}");
            }
        }
        assert_eq!(sample_slots("^[A-Z]{3}[0-9]+$", 2, 4), None);
        assert_eq!(
            sample_slots("^[A-Z]{3}[0-9]+$", 0, 4).map(|s| s.len()),
            Some(4)
        );
    }
}
