//! A YAML document as a tree of nodes that remember where they stand in the source.
//!
//! Input: blueprint text. Output: a [`Node`] tree, or a located parse error. serde-saphyr does the
//! YAML work (duplicate keys rejected, alias expansion budgeted); this layer only keeps the
//! line/column of every value so that later stages can point at it. Spans never leave the
//! `blueprint` module: the typed blueprint stores plain values plus a [`super::SourceMap`].

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;
use std::fmt;

/// A position in the blueprint file (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, serde::Serialize)]
pub struct Loc {
    pub line: u32,
    pub col: u32,
}

#[derive(Debug, Clone)]
pub struct Node {
    pub value: Value,
    pub loc: Loc,
}

#[derive(Debug, Clone)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Key, Node)>),
}

#[derive(Debug, Clone)]
pub struct Key {
    pub name: String,
    pub loc: Loc,
}

impl Value {
    /// The word used in "expected X, found Y" messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "nothing",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "a number",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

fn loc_of<T>(s: &Spanned<T>) -> Loc {
    Loc {
        line: u32::try_from(s.referenced.line()).unwrap_or(u32::MAX),
        col: u32::try_from(s.referenced.column()).unwrap_or(u32::MAX),
    }
}

impl From<Spanned<Value>> for Node {
    fn from(s: Spanned<Value>) -> Self {
        let loc = loc_of(&s);
        Node {
            value: s.value,
            loc,
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a YAML value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        i64::try_from(v)
            .map(Value::Int)
            .map_err(|_| E::custom("number too large"))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Value>>()? {
            items.push(Node::from(item));
        }
        Ok(Value::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<KeyText>>()? {
            let loc = loc_of(&key);
            let value: Spanned<Value> = map.next_value()?;
            entries.push((
                Key {
                    name: key.value.0,
                    loc,
                },
                Node::from(value),
            ));
        }
        Ok(Value::Map(entries))
    }
}

/// A mapping key as text: YAML allows `1: x` or `true: x`; the blueprint only has string keys,
/// so numbers and booleans are read as their text and checked by the schema stage.
struct KeyText(String);

impl<'de> Deserialize<'de> for KeyText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = KeyText;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a plain mapping key")
            }
            fn visit_str<E>(self, v: &str) -> Result<KeyText, E> {
                Ok(KeyText(v.to_owned()))
            }
            fn visit_bool<E>(self, v: bool) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_unit<E>(self) -> Result<KeyText, E> {
                Ok(KeyText("null".to_owned()))
            }
        }
        d.deserialize_any(V)
    }
}

/// What kind of parse failure: each has its own diagnostic code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseErrorKind {
    /// Not YAML, or not one document (E0001).
    Syntax,
    /// The same key twice in one mapping (E0007); the position is the second key.
    DuplicateKey,
    /// A resource budget was exceeded: alias expansion, nesting depth, node count (E0008).
    Budget,
    /// The file is larger than [`MAX_SOURCE_BYTES`] (E0009).
    TooLarge,
}

impl ParseErrorKind {
    pub fn code(self) -> &'static str {
        match self {
            ParseErrorKind::Syntax => "E0001",
            ParseErrorKind::DuplicateKey => "E0007",
            ParseErrorKind::Budget => "E0008",
            ParseErrorKind::TooLarge => "E0009",
        }
    }
}

/// Parse failure with the position serde-saphyr reported, when it had one.
#[derive(Debug)]
pub struct ParseError {
    pub kind: ParseErrorKind,
    pub message: String,
    pub help: String,
    pub loc: Option<Loc>,
}

/// Largest blueprint accepted; real ones are a few kilobytes.
pub const MAX_SOURCE_BYTES: usize = 8 * 1024 * 1024;
/// Deepest nesting accepted. A blueprint is at most six levels deep
/// (`services.x.routes[0].path`); the limit keeps recursion over the tree shallow.
pub const MAX_DEPTH: usize = 32;
/// Most YAML nodes accepted: room for far more than 10 000 services.
pub const MAX_NODES: usize = 2_000_000;
/// Most alias uses (`*name`) accepted: blueprints rarely use any; alias bombs use millions.
pub const MAX_ALIASES: usize = 1_000;

fn options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = MAX_DEPTH;
    budget.flow_nesting_limit = MAX_DEPTH;
    budget.max_nodes = MAX_NODES;
    budget.max_events = MAX_NODES * 2;
    budget.max_aliases = MAX_ALIASES;
    budget.max_anchors = MAX_ALIASES;
    budget.max_documents = 1;
    budget.max_total_scalar_bytes = MAX_SOURCE_BYTES;
    budget.max_recorded_anchor_events = 100_000;
    budget.max_recorded_anchor_bytes = MAX_SOURCE_BYTES;
    // Comments are never read; not capturing them saves work on every line.
    // YAML 1.2 booleans only: `y`, `no`, `on` stay strings (a field `y`, a version `on`, the
    // country code `no`), and `tls: yes` is a located type error instead of a silent guess.
    serde_saphyr::options! { budget: Some(budget), emit_comments: false, strict_booleans: true }
}

pub fn parse(source: &str) -> Result<Node, ParseError> {
    if source.len() > MAX_SOURCE_BYTES {
        return Err(too_large(source.len()));
    }
    if source.trim().is_empty() {
        return Err(ParseError {
            kind: ParseErrorKind::Syntax,
            message: "the blueprint is empty".to_owned(),
            help: "start from `codex-system-design examples show ecommerce`".to_owned(),
            loc: None,
        });
    }
    match serde_saphyr::from_str_with_options::<Spanned<Value>>(source, options()) {
        Ok(v) => Ok(Node::from(v)),
        Err(e) => Err(convert_error(&e)),
    }
}

/// The error for a file over [`MAX_SOURCE_BYTES`]; `len` may be a lower bound.
pub fn too_large(len: usize) -> ParseError {
    ParseError {
        kind: ParseErrorKind::TooLarge,
        message: format!(
            "the blueprint is {len} bytes or more; at most {MAX_SOURCE_BYTES} bytes are accepted"
        ),
        help:
            "a blueprint describes a system in a few kilobytes; check that this is the right file"
                .to_owned(),
        loc: None,
    }
}

fn to_loc(l: serde_saphyr::Location) -> Option<Loc> {
    let line = u32::try_from(l.line()).ok()?;
    let col = u32::try_from(l.column()).ok()?;
    (line > 0).then_some(Loc { line, col })
}

fn convert_error(e: &serde_saphyr::Error) -> ParseError {
    use serde_saphyr::Error as E;
    let loc = e.location().and_then(to_loc);
    let mut inner = e.without_snippet();
    while let E::AliasError { error, .. } | E::WithSnippet { error, .. } = inner {
        inner = error;
    }
    match inner {
        E::DuplicateMappingKey { key, .. } => {
            let message = match key {
                Some(k) => format!("duplicate key `{k}`"),
                None => "duplicate key".to_owned(),
            };
            return ParseError {
                kind: ParseErrorKind::DuplicateKey,
                message,
                help: "a key may appear once per mapping; merge the two entries or delete one"
                    .to_owned(),
                loc,
            };
        }
        E::Budget {
            breach: serde_saphyr::budget::BudgetBreach::Documents { .. },
            ..
        } => {
            return ParseError {
                kind: ParseErrorKind::Syntax,
                message: "the file holds more than one YAML document".to_owned(),
                help: "a blueprint is one YAML document; remove the `---` separator and merge the parts".to_owned(),
                loc,
            };
        }
        E::Budget { breach, .. } => {
            return ParseError {
                kind: ParseErrorKind::Budget,
                message: budget_message(breach),
                help: "blueprints are small and shallow; remove the deep nesting or the aliases that expand the document"
                    .to_owned(),
                loc,
            };
        }
        _ => {}
    }
    // The crate's Display includes a rendered snippet; the first line is the message.
    let text = inner.to_string();
    let first = text.lines().next().unwrap_or("invalid YAML").to_owned();
    let message = match first.split_once(": ") {
        Some((prefix, rest)) if prefix.starts_with("error") || prefix.contains("line ") => rest
            .split_once(": ")
            .filter(|(p, _)| p.starts_with("line "))
            .map_or(rest.to_owned(), |(_, r)| r.to_owned()),
        _ => first,
    };
    // The position is reported separately; drop the crate's " at line N, column M" tail.
    let message = match message.find(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message,
    };
    let lower = message.to_lowercase();
    // Deep flow nesting is reported by the scanner before the budget sees it.
    let kind = if lower.contains("nesting") || lower.contains("recursion") {
        ParseErrorKind::Budget
    } else {
        ParseErrorKind::Syntax
    };
    ParseError {
        kind,
        message,
        help: match kind {
            ParseErrorKind::Budget => format!(
                "nesting deeper than {MAX_DEPTH} levels is refused; a blueprint is at most a few levels deep"
            ),
            _ => "fix the YAML syntax at this position; the blueprint must be one YAML mapping"
                .to_owned(),
        },
        loc,
    }
}

fn budget_message(b: &serde_saphyr::budget::BudgetBreach) -> String {
    use serde_saphyr::budget::BudgetBreach as B;
    match b {
        B::Aliases { aliases } => format!(
            "the blueprint uses more than {MAX_ALIASES} aliases ({aliases} seen); alias expansion is refused"
        ),
        B::Anchors { anchors } => {
            format!("the blueprint defines more than {MAX_ALIASES} anchors ({anchors} seen)")
        }
        B::Depth { depth } => {
            format!("the blueprint is nested {depth} levels deep; at most {MAX_DEPTH} are accepted")
        }
        B::Nodes { nodes } => {
            format!("the blueprint has more than {MAX_NODES} YAML nodes ({nodes} seen)")
        }

        B::RecordedAnchorEvents { .. } | B::RecordedAnchorBytes { .. } => {
            "aliases expand the blueprint beyond the accepted size (an alias bomb?)".to_owned()
        }
        other => format!("the YAML exceeds a resource limit ({other:?})"),
    }
}
