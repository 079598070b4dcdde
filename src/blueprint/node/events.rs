//! The node tree built from granit-parser's event stream.
//!
//! The parser does the YAML syntax; this layer adds what a blueprint needs on top: positions on
//! every value, duplicate keys refused, merge keys (`<<: *base`) applied, aliases expanded within
//! budgets (an alias bomb stops at [`MAX_ALIAS_NODES`] copied nodes, not at the memory limit) and
//! nesting bounded so that the recursion here stays shallow.

use super::{
    Key, Loc, MAX_ALIAS_NODES, MAX_ALIASES, MAX_DEPTH, MAX_NODES, Node, ParseError, ParseErrorKind,
    Value, scalar,
};
use crate::blueprint::FnvBuild;
use granit_parser::{ErrorKind, Event, Marker, Parser, ScalarStyle, ScanError, Span, StrInput};
use std::collections::{HashMap, HashSet};

/// Every document of `source`; with `one`, a second document is an error.
pub fn documents(source: &str, one: bool) -> Result<Vec<Node>, ParseError> {
    let options = granit_parser::options! {
        emit_comments: false,
        // Above our own limit, so that ours reports first with a clearer message.
        flow_nesting_limit: MAX_DEPTH * 2,
        block_nesting_limit: MAX_DEPTH * 2,
    };
    Builder {
        parser: Parser::new_from_str_with_options(source, options),
        anchors: HashMap::default(),
        nodes: 0,
        copied: 0,
        aliases: 0,
    }
    .stream(one)
}

struct Builder<'a> {
    parser: Parser<'a, StrInput<'a>>,
    /// Finished anchored nodes by the parser's anchor id, with their sizes in nodes.
    anchors: HashMap<usize, (Node, usize), FnvBuild>,
    nodes: usize,
    /// Nodes copied by aliases so far.
    copied: usize,
    aliases: usize,
}

fn loc(m: &Marker) -> Loc {
    Loc {
        line: u32::try_from(m.line()).unwrap_or(u32::MAX),
        col: u32::try_from(m.col() + 1).unwrap_or(u32::MAX),
    }
}

impl<'a> Builder<'a> {
    fn next(&mut self) -> Result<(Event<'a>, Span), ParseError> {
        match self.parser.next_event() {
            Some(Ok(e)) => Ok(e),
            Some(Err(e)) => Err(scan_error(&e)),
            None => Err(ParseError::syntax(
                "the YAML ends unexpectedly",
                "the file looks cut short; check its end",
                None,
            )),
        }
    }

    fn stream(&mut self, one: bool) -> Result<Vec<Node>, ParseError> {
        let mut docs = Vec::new();
        loop {
            let (event, span) = self.next()?;
            match event {
                Event::DocumentStart(..) if one && !docs.is_empty() => {
                    return Err(ParseError::syntax(
                        "the file holds more than one YAML document",
                        "a blueprint is one YAML document; remove the `---` separator and merge the parts",
                        loc(&span.start),
                    ));
                }
                Event::DocumentStart(..) => {
                    // Anchors do not carry over from one document to the next.
                    self.anchors.clear();
                    let (event, span) = self.next()?;
                    docs.push(self.node(event, span, 0)?.0);
                }
                Event::StreamEnd if docs.is_empty() && one => {
                    // Only comments: an empty document, located at the end of the file.
                    let loc = loc(&span.start);
                    return Ok(vec![Node {
                        value: Value::Null,
                        loc,
                    }]);
                }
                Event::StreamEnd => return Ok(docs),
                _ => {}
            }
        }
    }

    /// The node that starts with `event`, and its size in nodes (aliases counted expanded).
    fn node(
        &mut self,
        event: Event<'a>,
        span: Span,
        depth: usize,
    ) -> Result<(Node, usize), ParseError> {
        let loc = loc(&span.start);
        let (value, anchor, size) = match event {
            Event::Alias(id) => return self.alias(id, loc),
            Event::Scalar(text, style, anchor, tag) => {
                self.count(1)?;
                (
                    scalar::resolve(&text, style, tag.as_deref(), loc)?,
                    anchor,
                    1,
                )
            }
            Event::SequenceStart(_, anchor, tag) => {
                collection_tag(tag.as_deref(), "seq", loc)?;
                let (items, size) = self.sequence(depth + 1, loc)?;
                (Value::Seq(items), anchor, size)
            }
            Event::MappingStart(_, anchor, tag) => {
                collection_tag(tag.as_deref(), "map", loc)?;
                let (entries, size) = self.mapping(depth + 1, loc)?;
                (Value::Map(entries), anchor, size)
            }
            other => {
                return Err(ParseError::syntax(
                    format!("unexpected YAML event {other:?}"),
                    "fix the YAML syntax at this position",
                    loc,
                ));
            }
        };
        let node = Node { value, loc };
        if anchor != 0 {
            self.anchor(anchor, &node, size, loc)?;
        }
        Ok((node, size))
    }

    fn anchor(&mut self, id: usize, node: &Node, size: usize, loc: Loc) -> Result<(), ParseError> {
        if self.anchors.len() >= MAX_ALIASES {
            return Err(ParseError::budget(
                format!("the blueprint defines more than {MAX_ALIASES} anchors"),
                loc,
            ));
        }
        self.anchors.insert(id, (node.clone(), size));
        Ok(())
    }

    fn alias(&mut self, id: usize, loc: Loc) -> Result<(Node, usize), ParseError> {
        self.aliases += 1;
        if self.aliases > MAX_ALIASES {
            return Err(ParseError::budget(
                format!(
                    "the blueprint uses more than {MAX_ALIASES} aliases; alias expansion is refused"
                ),
                loc,
            ));
        }
        // The parser has matched the name to an anchor already; one that is not finished yet
        // is the node this alias stands in.
        let Some((node, size)) = self.anchors.get(&id) else {
            return Err(ParseError::budget(
                "this alias refers to a node that contains it (a recursive alias)".to_owned(),
                loc,
            ));
        };
        let size = *size;
        self.copied += size;
        if self.copied > MAX_ALIAS_NODES {
            return Err(ParseError::budget(
                "aliases expand the blueprint beyond the accepted size (an alias bomb?)".to_owned(),
                loc,
            ));
        }
        let mut node = node.clone();
        node.loc = loc;
        self.count(size)?;
        Ok((node, size))
    }

    fn count(&mut self, n: usize) -> Result<(), ParseError> {
        self.nodes += n;
        if self.nodes > MAX_NODES {
            return Err(ParseError::budget(
                format!("the blueprint has more than {MAX_NODES} YAML nodes"),
                None,
            ));
        }
        Ok(())
    }

    fn enter(&mut self, depth: usize, loc: Loc) -> Result<(), ParseError> {
        if depth > MAX_DEPTH {
            return Err(ParseError::budget(
                format!(
                    "the blueprint is nested {depth} levels deep; at most {MAX_DEPTH} are accepted"
                ),
                loc,
            ));
        }
        self.count(1)
    }

    fn sequence(&mut self, depth: usize, loc: Loc) -> Result<(Vec<Node>, usize), ParseError> {
        self.enter(depth, loc)?;
        let mut items = Vec::new();
        let mut size = 1;
        loop {
            let (event, span) = self.next()?;
            if matches!(event, Event::SequenceEnd) {
                return Ok((items, size));
            }
            let (item, n) = self.node(event, span, depth)?;
            size += n;
            items.push(item);
        }
    }

    fn mapping(&mut self, depth: usize, loc: Loc) -> Result<(Vec<(Key, Node)>, usize), ParseError> {
        self.enter(depth, loc)?;
        let mut entries: Vec<(Key, Node)> = Vec::new();
        let mut keys = Keys::default();
        // Whether the merge key `<<` was seen: it is a key of its own, kept out of `entries`.
        let mut merges = false;
        let mut merged: Vec<(Key, Node)> = Vec::new();
        let mut merged_keys = Keys::default();
        let mut size = 1;
        loop {
            let (event, span) = self.next()?;
            if matches!(event, Event::MappingEnd) {
                break;
            }
            let (key, is_merge) = self.key(event, span, depth)?;
            let fresh = !(merges && key.name == "<<") && keys.insert(&key.name, &entries);
            if !fresh {
                return Err(ParseError {
                    kind: ParseErrorKind::DuplicateKey,
                    message: format!("duplicate key `{}`", key.name),
                    help: "a key may appear once per mapping; merge the two entries or delete one"
                        .to_owned(),
                    loc: Some(key.loc),
                });
            }
            let (event, span) = self.next()?;
            let (value, n) = self.node(event, span, depth)?;
            size += n;
            if is_merge {
                merges = true;
                merge_into(&mut merged, &mut merged_keys, value)?;
            } else {
                entries.push((key, value));
            }
        }
        // Merged keys come after the mapping's own and never replace them.
        for (key, value) in merged {
            if key.name != "<<" && keys.insert(&key.name, &entries) {
                entries.push((key, value));
            }
        }
        Ok((entries, size))
    }

    /// A mapping key as text, and whether it is the merge key `<<`. Numbers, booleans and null
    /// keep the text they were written with; the schema stage checks that keys are names.
    fn key(
        &mut self,
        event: Event<'a>,
        span: Span,
        depth: usize,
    ) -> Result<(Key, bool), ParseError> {
        let loc = loc(&span.start);
        let name = match event {
            Event::Scalar(text, style, anchor, tag) => {
                let is_merge = style == ScalarStyle::Plain && tag.is_none() && text == "<<";
                if anchor != 0 {
                    let (node, _) =
                        self.node(Event::Scalar(text.clone(), style, 0, tag), span, depth)?;
                    self.anchor(anchor, &node, 1, loc)?;
                }
                if is_merge {
                    return Ok((
                        Key {
                            name: text.into_owned(),
                            loc,
                        },
                        true,
                    ));
                }
                if text.is_empty() && style == ScalarStyle::Plain {
                    "null".to_owned()
                } else {
                    text.into_owned()
                }
            }
            Event::Alias(id) => match self.alias(id, loc)?.0.value {
                Value::Str(s) => s,
                Value::Int(i) => i.to_string(),
                Value::Float(f) => f.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Null => "null".to_owned(),
                Value::Seq(_) | Value::Map(_) => return Err(complex_key(loc)),
            },
            _ => return Err(complex_key(loc)),
        };
        Ok((Key { name, loc }, false))
    }
}

/// Duplicate detection over the entries of one mapping: a scan of the entries while they are
/// few (no copy of the key made, which mattered for `check` over thousands of manifests), a
/// hash set once they are many (`services` of a large system), so it stays linear overall.
#[derive(Default)]
pub(super) struct Keys {
    large: Option<HashSet<String, FnvBuild>>,
}

impl Keys {
    /// `false` when `name` is among the keys of `entries` (every entry so far, in order).
    pub(super) fn insert(&mut self, name: &str, entries: &[(Key, Node)]) -> bool {
        if let Some(set) = &mut self.large {
            return set.insert(name.to_owned());
        }
        if entries.iter().any(|(k, _)| k.name == name) {
            return false;
        }
        if entries.len() >= 16 {
            let seen = entries.iter().map(|(k, _)| k.name.clone());
            self.large = Some(seen.chain([name.to_owned()]).collect());
        }
        true
    }
}

/// `<<: *base` or `<<: [*a, *b]`: the entries to merge, the earlier source winning a key.
fn merge_into(
    merged: &mut Vec<(Key, Node)>,
    keys: &mut Keys,
    value: Node,
) -> Result<(), ParseError> {
    let sources = match value.value {
        Value::Map(_) => vec![value],
        Value::Seq(items) => items,
        _ => return Err(bad_merge(value.loc)),
    };
    for source in sources {
        let Value::Map(entries) = source.value else {
            return Err(bad_merge(source.loc));
        };
        for (mut key, node) in entries {
            if keys.insert(&key.name, merged) {
                // The merged key is reported where the alias that brought it stands.
                key.loc = source.loc;
                merged.push((key, node));
            }
        }
    }
    Ok(())
}

fn bad_merge(loc: Loc) -> ParseError {
    ParseError::syntax(
        "a merge key `<<` takes a mapping or a list of mappings",
        "write `<<: *name` where `&name` marks a mapping",
        loc,
    )
}

fn complex_key(loc: Loc) -> ParseError {
    ParseError::syntax(
        "a mapping key must be plain text, not a list or a mapping",
        "write the key as a word, such as `orders:`",
        loc,
    )
}

fn collection_tag(
    tag: Option<&granit_parser::Tag>,
    expected: &str,
    loc: Loc,
) -> Result<(), ParseError> {
    match tag {
        None => Ok(()),
        // `!!map` on a mapping, `!!seq` on a list, or the non-specific `!`.
        Some(t) if t.core_suffix() == Some(expected) || t.parts() == ("", "!") => Ok(()),
        Some(t) => {
            let (handle, suffix) = t.original_parts();
            Err(ParseError::syntax(
                format!("the tag `{handle}{suffix}` is not supported here"),
                "remove the tag; a blueprint uses plain YAML values",
                loc,
            ))
        }
    }
}

fn scan_error(e: &ScanError) -> ParseError {
    let at = loc(e.marker());
    match e.kind() {
        ErrorKind::RecursionLimitExceeded => ParseError::budget(
            format!("the blueprint is nested more than {MAX_DEPTH} levels deep"),
            at,
        ),
        ErrorKind::UnknownAnchor => ParseError::syntax(
            "this alias refers to an anchor that is not defined before it",
            "define `&name` on a value before using `*name`",
            at,
        ),
        _ => ParseError::syntax(
            e.info(),
            "fix the YAML syntax at this position; the blueprint must be one YAML mapping",
            at,
        ),
    }
}
