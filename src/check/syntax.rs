//! A syntax-only pass for the YAML files `check` reads only to know that they parse (OpenAPI
//! documents, Prometheus rules, CI workflows: 16 of the 37 MB of a 1 000-service tree).
//!
//! It walks the parser's events without building nodes. It never decides a file is broken: on
//! anything it does not follow exactly (an error, anchors, aliases, tags, merge keys, complex
//! keys, a number spelling that may be refused, a budget reached) it answers [`Pass::Full`] and
//! the file is parsed by the node builder, which then reports the same error as always. It also
//! answers `Full` as soon as a document's top-level mapping has an `apiVersion` or `kind` key,
//! since such a document may be a Kubernetes object that `check` keeps.

use crate::blueprint::node::{MAX_DEPTH, MAX_NODES, MAX_SOURCE_BYTES};
use granit_parser::{Event, Parser, ScalarStyle};
use std::borrow::Cow;
use std::collections::HashSet;

/// The answer of [`pass`].
#[derive(Debug, PartialEq, Eq)]
pub enum Pass {
    /// The file parses and the node builder would accept it; no document is an object.
    Plain,
    /// Parse it with the node builder (it may be broken, use a feature the pass does not
    /// follow, or hold a Kubernetes object).
    Full,
}

/// Keys of one mapping, for duplicate detection: a scan while few, a set once many.
#[derive(Default)]
struct Frame<'a> {
    map: bool,
    /// In a mapping: the next scalar is a key.
    key_next: bool,
    keys: Vec<Cow<'a, str>>,
    large: Option<HashSet<Cow<'a, str>>>,
}

impl<'a> Frame<'a> {
    fn reset(&mut self, map: bool) {
        self.map = map;
        self.key_next = map;
        self.keys.clear();
        self.large = None;
    }

    /// `false` when `name` was a key of this mapping already.
    fn insert(&mut self, name: Cow<'a, str>) -> bool {
        if let Some(set) = &mut self.large {
            return set.insert(name);
        }
        if self.keys.contains(&name) {
            return false;
        }
        self.keys.push(name);
        if self.keys.len() > 16 {
            self.large = Some(self.keys.drain(..).collect());
        }
        true
    }
}

/// Whether `text` can be taken as syntax-checked without building its nodes.
pub fn pass(text: &str) -> Pass {
    if text.len() > MAX_SOURCE_BYTES {
        return Pass::Full;
    }
    let options = granit_parser::options! {
        emit_comments: false,
        flow_nesting_limit: MAX_DEPTH * 2,
        block_nesting_limit: MAX_DEPTH * 2,
    };
    let mut parser = Parser::new_from_str_with_options(text, options);
    // Frames are reused (`depth` of them are live) so that a file costs few allocations.
    let mut frames: Vec<Frame> = Vec::new();
    let mut depth = 0usize;
    let mut nodes = 0usize;
    // After a document start the builder takes the next event as the document's node.
    let mut root_next = false;
    loop {
        let Some(Ok((event, _))) = parser.next_event() else {
            return Pass::Full;
        };
        let is_node = matches!(
            event,
            Event::Scalar(..) | Event::SequenceStart(..) | Event::MappingStart(..)
        );
        if std::mem::replace(&mut root_next, false) && !is_node {
            return Pass::Full;
        }
        match event {
            Event::StreamStart | Event::DocumentEnd => {}
            Event::DocumentStart(..) if depth == 0 => root_next = true,
            Event::StreamEnd if depth == 0 => return Pass::Plain,
            Event::Scalar(text, style, 0, None) => {
                nodes += 1;
                let Some(frame) = depth.checked_sub(1).map(|d| &mut frames[d]) else {
                    // A document that is one scalar.
                    if !plain_value_ok(&text, style) {
                        return Pass::Full;
                    }
                    continue;
                };
                if frame.key_next {
                    let plain = style == ScalarStyle::Plain;
                    if plain && text == "<<" {
                        return Pass::Full;
                    }
                    if depth == 1 && matches!(text.as_ref(), "apiVersion" | "kind") {
                        return Pass::Full;
                    }
                    let name = if plain && text.is_empty() {
                        Cow::Borrowed("null")
                    } else {
                        text
                    };
                    if !frame.insert(name) {
                        return Pass::Full;
                    }
                    frame.key_next = false;
                } else {
                    if !plain_value_ok(&text, style) {
                        return Pass::Full;
                    }
                    frame.key_next = frame.map;
                }
            }
            Event::SequenceStart(_, 0, None) | Event::MappingStart(_, 0, None) => {
                let map = matches!(event, Event::MappingStart(..));
                if depth > 0 && frames[depth - 1].key_next {
                    return Pass::Full; // a complex key
                }
                nodes += 1;
                depth += 1;
                if depth > MAX_DEPTH {
                    return Pass::Full;
                }
                if frames.len() < depth {
                    frames.push(Frame::default());
                }
                frames[depth - 1].reset(map);
            }
            Event::SequenceEnd | Event::MappingEnd if depth > 0 => {
                depth -= 1;
                if let Some(parent) = depth.checked_sub(1).map(|d| &mut frames[d]) {
                    parent.key_next = parent.map;
                }
            }
            _ => return Pass::Full,
        }
        if nodes > MAX_NODES {
            return Pass::Full;
        }
    }
}

/// Whether the builder's scalar resolution surely accepts this untagged value: plain scalars
/// spelled like a hexadecimal or octal number (which may overflow) or like infinity or NaN
/// (refused) go to the builder.
fn plain_value_ok(text: &str, style: ScalarStyle) -> bool {
    if style != ScalarStyle::Plain {
        return true;
    }
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let lower = unsigned.to_ascii_lowercase();
    !(text.starts_with("0x") || text.starts_with("0o") || lower == ".inf" || lower == ".nan")
}

#[cfg(test)]
mod tests {
    use super::{Pass, pass};

    /// Every input the pass takes must parse with the node builder into no object.
    fn agrees(text: &str) -> Pass {
        let verdict = pass(text);
        if verdict == Pass::Plain {
            let docs = crate::blueprint::node::parse_documents(text);
            assert!(docs.is_ok(), "passed but the builder refuses: {text:?}");
        }
        verdict
    }

    #[test]
    fn plain_documents_pass() {
        for text in [
            "a: 1\nb: [x, y]\nc: {d: e}\n",
            "openapi: 3.1.0\npaths:\n  /x:\n    get: {}\n",
            "- 1\n- two\n---\nthree\n",
            "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n",
        ] {
            assert_eq!(agrees(text), Pass::Plain, "{text}");
        }
    }

    #[test]
    fn what_the_builder_must_see_goes_to_it() {
        for text in [
            "a: 1\na: 2\n",                      // duplicate key
            "~: 1\n~: 2\n",                      // duplicate key spelled as null
            "a: &x 1\nb: *x\n",                  // anchors and aliases
            "base: {a: 1}\nm:\n  <<: {b: 2}\n",  // merge key
            "a: !!int x\n",                      // tag
            "? [a, b]\n: c\n",                   // complex key
            "a: 0xFFFFFFFFFFFFFFFFFF\n",         // overflow
            "a: .inf\n",                         // refused float
            "a: 0x1F\n",                         // fits, but that spelling goes to the builder
            "a: [1, 2\n",                        // syntax error
            "apiVersion: v1\nkind: ConfigMap\n", // an object
            "x: 1\n---\nkind: Service\n",        // an object in a later document
        ] {
            assert_eq!(agrees(text), Pass::Full, "{text}");
        }
    }

    #[test]
    fn duplicates_are_found_in_large_mappings_too() {
        let mut text: String = (0..40).map(|i| format!("k{i}: {i}\n")).collect();
        assert_eq!(agrees(&text), Pass::Plain);
        text.push_str("k3: again\n");
        assert_eq!(agrees(&text), Pass::Full);
    }

    /// Through `check`: what only the builder refuses is still reported in a file read only for
    /// its syntax, and an object after a plain document is still kept.
    #[test]
    fn check_reports_what_the_pass_hands_on() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        write("openapi.yaml", "paths:\n  /a: {}\n  /a: {}\n");
        write("alerts.yaml", "groups:\n  - limit: .inf\n");
        write("fine.yaml", "a: [1, {b: c}]\n");
        write(
            "mixed.yaml",
            "x: 1\n---\napiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  selector: {app: none}\n",
        );
        let r = crate::check::check(dir.path(), crate::check::Options::default()).unwrap();
        let seen: Vec<(&str, &str)> = r
            .findings
            .iter()
            .map(|f| (f.file.as_str(), f.code))
            .collect();
        assert!(seen.contains(&("openapi.yaml", "C001")), "{seen:?}");
        assert!(seen.contains(&("alerts.yaml", "C001")), "{seen:?}");
        assert!(seen.iter().any(|(f, _)| *f == "mixed.yaml"), "{seen:?}");
        assert!(!seen.iter().any(|(f, _)| *f == "fine.yaml"), "{seen:?}");
        assert_eq!(r.objects, 1);
    }

    #[test]
    fn nesting_beyond_the_limit_goes_to_the_builder() {
        let deep = "[".repeat(40) + &"]".repeat(40);
        assert_eq!(agrees(&deep), Pass::Full);
    }
}
