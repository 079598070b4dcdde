//! A YAML document as a tree of nodes that remember where they stand in the source.
//!
//! Input: blueprint text. Output: a [`Node`] tree, or a located parse error. granit-parser (the
//! YAML 1.2 parser under serde-saphyr) reads the syntax; [`events`] builds the tree from its
//! events with duplicate keys refused and alias expansion budgeted, and [`scalar`] types plain
//! values by the YAML 1.2 core schema. Spans never leave the `blueprint` module: the typed
//! blueprint stores plain values plus a [`super::SourceMap`].

mod events;
pub(crate) mod fast;
mod scalar;

pub use crate::diagnostic::Loc;

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

/// Parse failure with its position, when it has one.
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
/// Most nodes that aliases may copy in all: an alias bomb is a few aliases of aliases, each
/// copying the one before ten times over.
pub const MAX_ALIAS_NODES: usize = 100_000;

impl ParseError {
    fn syntax(message: impl Into<String>, help: &str, loc: impl Into<Option<Loc>>) -> Self {
        ParseError {
            kind: ParseErrorKind::Syntax,
            message: message.into(),
            help: help.to_owned(),
            loc: loc.into(),
        }
    }

    fn budget(message: String, loc: impl Into<Option<Loc>>) -> Self {
        ParseError {
            kind: ParseErrorKind::Budget,
            message,
            help: "blueprints are small and shallow; remove the deep nesting or the aliases that expand the document"
                .to_owned(),
            loc: loc.into(),
        }
    }
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
    if let Some(node) = fast_one(source) {
        return Ok(node);
    }
    let mut docs = events::documents(source, true)?;
    Ok(docs.pop().unwrap_or(Node {
        value: Value::Null,
        loc: Loc { line: 1, col: 1 },
    }))
}

/// The blueprint through [`fast`] when it is one document in the plain block YAML that path
/// reads: parsing is about half of `validate`'s time on a large blueprint, and the fast path
/// reads it several times quicker. A file with a `---` line goes to the parser, which alone
/// tells an empty second document (an error for a blueprint) from none.
fn fast_one(source: &str) -> Option<Node> {
    if source.split('\n').any(|line| line.starts_with("---")) {
        return None;
    }
    let mut docs = fast::documents(source)?;
    (docs.len() == 1).then(|| docs.pop()).flatten()
}

/// Every non-empty document of a multi-document YAML file (Kubernetes manifests), for `check`.
pub fn parse_documents(source: &str) -> Result<Vec<Node>, ParseError> {
    if source.len() > MAX_SOURCE_BYTES {
        return Err(too_large(source.len()));
    }
    let mut docs = events::documents(source, false)?;
    docs.retain(|n| !matches!(n.value, Value::Null));
    Ok(docs)
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
