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

/// Parse failure with the position serde-saphyr reported, when it had one.
#[derive(Debug)]
pub struct ParseError {
    pub message: String,
    pub loc: Option<Loc>,
}

/// Largest blueprint accepted; real ones are a few kilobytes.
pub const MAX_SOURCE_BYTES: usize = 8 * 1024 * 1024;

pub fn parse(source: &str) -> Result<Node, ParseError> {
    if source.len() > MAX_SOURCE_BYTES {
        return Err(ParseError {
            message: format!(
                "the blueprint is {} bytes; at most {} are accepted",
                source.len(),
                MAX_SOURCE_BYTES
            ),
            loc: None,
        });
    }
    if source.trim().is_empty() {
        return Err(ParseError {
            message: "the blueprint is empty".to_owned(),
            loc: None,
        });
    }
    match serde_saphyr::from_str::<Spanned<Value>>(source) {
        Ok(v) => Ok(Node::from(v)),
        Err(e) => Err(convert_error(&e)),
    }
}

fn convert_error(e: &serde_saphyr::Error) -> ParseError {
    let loc = e.location().map(|l| Loc {
        line: u32::try_from(l.line()).unwrap_or(0),
        col: u32::try_from(l.column()).unwrap_or(0),
    });
    // The crate's Display includes a rendered snippet; the first line is the message.
    let text = e.to_string();
    let first = text.lines().next().unwrap_or("invalid YAML").to_owned();
    let message = match first.split_once(": ") {
        Some((prefix, rest)) if prefix.starts_with("error") || prefix.contains("line ") => rest
            .split_once(": ")
            .filter(|(p, _)| p.starts_with("line "))
            .map_or(rest.to_owned(), |(_, r)| r.to_owned()),
        _ => first,
    };
    ParseError { message, loc }
}
