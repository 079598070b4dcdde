//! A fast path for the plain block YAML that manifests are made of, for `check`.
//!
//! granit-parser is most of `check`'s time on a large tree (about 35 MB/s), and the maintained
//! alternatives measured within a quarter of it (ADR 0010). Manifests, generated or hand-written,
//! mostly use a small part of YAML: block mappings and sequences, one-line plain and quoted
//! scalars, one-line flow sequences of scalars, `|` literals and simple `>` folded text. This reads that part straight
//! from the lines and gives up (`None`) on anything else: tabs, carriage returns, non-ASCII
//! text, anchors, aliases, tags, directives, flow mappings, folded or multi-line scalars,
//! rare escapes, empty values, duplicate keys, a number the scalar rules refuse, odd indentation.
//! The caller then parses the file with granit as before, so a file this accepts must give the
//! very same nodes (values and positions) as [`super::events::documents`]; the tests compare
//! the two on every input they have.

use super::events::Keys;
use super::{Key, Loc, MAX_DEPTH, MAX_NODES, MAX_SOURCE_BYTES, Node, Value, scalar};
use granit_parser::ScalarStyle;

/// The non-empty documents of `source`, as [`super::parse_documents`] gives them, or `None`
/// when the file uses YAML beyond this fast path.
pub fn documents(source: &str) -> Option<Vec<Node>> {
    reader(source, false)?.stream()
}

/// What the syntax-only reading of a file found.
#[derive(Debug, PartialEq, Eq)]
pub enum Syntax {
    /// It parses, and no document has a top-level `apiVersion` or `kind` key.
    Plain,
    /// A document may be a Kubernetes object: read it with [`documents`].
    Object,
}

/// Whether `source` parses, without keeping its tree (OpenAPI documents, Prometheus rules,
/// CI workflows), or `None` when it uses YAML beyond this fast path.
pub fn syntax(source: &str) -> Option<Syntax> {
    let mut reader = reader(source, true)?;
    match reader.stream() {
        Some(_) => Some(Syntax::Plain),
        None if reader.object => Some(Syntax::Object),
        None => None,
    }
}

fn reader(source: &str, light: bool) -> Option<Reader<'_>> {
    if source.len() > MAX_SOURCE_BYTES || !source.split('\n').all(printable) {
        return None;
    }
    let mut body = source;
    if let Some(stripped) = body.strip_suffix('\n') {
        body = stripped;
    } else if !body.is_empty() {
        // The last line's break decides a final `|` literal's text: left to the parser.
        return None;
    }
    let lines: Vec<Line> = if body.is_empty() {
        Vec::new()
    } else {
        body.split('\n').map(Line::new).collect()
    };
    Some(Reader {
        lines,
        at: 0,
        compact: None,
        nodes: 0,
        light,
        object: false,
    })
}

/// Printable ASCII; other characters only in a whole-line comment (columns count bytes here
/// and characters in the parser), and only those YAML calls printable.
fn printable(line: &str) -> bool {
    if line.bytes().all(|b| (b' '..=b'~').contains(&b)) {
        return true;
    }
    line.trim_start_matches(' ').starts_with('#')
        && line.chars().all(|c| {
            (' '..='~').contains(&c)
                || (('\u{a0}'..='\u{fffd}').contains(&c) && c != '\u{feff}')
                || c > '\u{ffff}'
        })
}

struct Line<'a> {
    raw: &'a str,
    indent: usize,
}

impl<'a> Line<'a> {
    fn new(raw: &'a str) -> Self {
        let indent = raw.len() - raw.trim_start_matches(' ').len();
        Line { raw, indent }
    }

    /// Empty, spaces only, or a comment.
    fn blank(&self) -> bool {
        let text = &self.raw[self.indent..];
        text.is_empty() || text.starts_with('#')
    }
}

struct Reader<'a> {
    lines: Vec<Line<'a>>,
    /// The current line.
    at: usize,
    /// A mapping that starts after `- ` on the current line: its column.
    compact: Option<usize>,
    nodes: usize,
    /// Syntax only: build no tree, and stop at a top-level `apiVersion` or `kind` key.
    light: bool,
    /// In the syntax-only mode: a document may be an object.
    object: bool,
}

fn loc(line: usize, col: usize) -> Loc {
    Loc {
        line: u32::try_from(line + 1).unwrap_or(u32::MAX),
        col: u32::try_from(col + 1).unwrap_or(u32::MAX),
    }
}

impl<'a> Reader<'a> {
    fn stream(&mut self) -> Option<Vec<Node>> {
        let mut docs = Vec::new();
        loop {
            self.skip_blank();
            let Some(line) = self.lines.get(self.at) else {
                return Some(docs);
            };
            if line.raw == "---" {
                self.at += 1;
                continue;
            }
            if line.indent != 0 || line.raw.starts_with("...") || line.raw.starts_with('%') {
                return None;
            }
            docs.push(self.block(0, 0)?);
            self.skip_blank();
            if self.lines.get(self.at).is_some_and(|l| l.raw != "---") {
                return None;
            }
        }
    }

    fn skip_blank(&mut self) {
        while self.lines.get(self.at).is_some_and(Line::blank) {
            self.at += 1;
            self.compact = None;
        }
    }

    fn advance(&mut self) {
        self.at += 1;
        self.compact = None;
    }

    /// The current line's indentation and text from there (after `- ` for a compact mapping).
    fn current(&self) -> Option<(usize, &'a str)> {
        let line = self.lines.get(self.at)?;
        let col = self.compact.unwrap_or(line.indent);
        Some((col, &line.raw[col..]))
    }

    /// `node`, or in the syntax-only mode a null in its place (its tree freed at once).
    fn keep(&self, node: Node) -> Node {
        if self.light {
            Node {
                value: Value::Null,
                loc: node.loc,
            }
        } else {
            node
        }
    }

    fn count(&mut self) -> Option<()> {
        self.nodes += 1;
        (self.nodes <= MAX_NODES).then_some(())
    }

    /// The collection whose first line is the current one, at column `indent`.
    fn block(&mut self, indent: usize, depth: usize) -> Option<Node> {
        if depth >= MAX_DEPTH {
            return None;
        }
        let (_, text) = self.current()?;
        if is_item(text) {
            self.sequence(indent, depth + 1, false)
        } else {
            self.mapping(indent, depth + 1)
        }
    }

    /// A block sequence at column `indent`; `indentless` when it stands at its key's column
    /// (the parser then places it at its first item).
    fn sequence(&mut self, indent: usize, depth: usize, indentless: bool) -> Option<Node> {
        self.count()?;
        let mut start = loc(self.at, indent);
        let mut items = Vec::new();
        loop {
            self.skip_blank();
            let Some((col, text)) = self.current() else {
                break;
            };
            if col < indent || (col == indent && !is_item(text)) {
                break;
            }
            if col > indent {
                return None;
            }
            let rest = &text[1..];
            let gap = rest.len() - rest.trim_start_matches(' ').len();
            let rest = &rest[gap..];
            let item_col = col + 1 + gap;
            if indentless && items.is_empty() {
                start = loc(self.at, item_col);
            }
            if rest.is_empty() || rest.starts_with('#') || is_item(rest) {
                return None;
            }
            if key_split(rest).is_some() {
                self.compact = Some(item_col);
                let item = self.mapping(item_col, depth + 1)?;
                items.push(self.keep(item));
            } else {
                let item = self.inline(rest, item_col, indent, depth)?;
                items.push(self.keep(item));
            }
        }
        Some(Node {
            value: Value::Seq(items),
            loc: start,
        })
    }

    fn mapping(&mut self, indent: usize, depth: usize) -> Option<Node> {
        self.count()?;
        let start = loc(self.at, indent);
        let mut entries: Vec<(Key, Node)> = Vec::new();
        let mut seen = Keys::default();
        loop {
            self.skip_blank();
            let Some((col, text)) = self.current() else {
                break;
            };
            if col < indent || (col == 0 && (text.starts_with("---") || text.starts_with("..."))) {
                break;
            }
            if col > indent {
                return None;
            }
            let (name, after) = key_split(text)?;
            if name == "<<" || name.len() > 256 || !seen.insert(&name, &entries) {
                return None;
            }
            if self.light && depth == 1 && matches!(name.as_str(), "apiVersion" | "kind") {
                self.object = true;
                return None;
            }
            let key = Key {
                name,
                loc: loc(self.at, col),
            };
            self.count()?;
            let value = self.value(text, after, col, depth)?;
            entries.push((key, self.keep(value)));
        }
        Some(Node {
            value: Value::Map(entries),
            loc: start,
        })
    }

    /// The value of the entry at column `indent` whose text is `text`, `after` bytes in.
    fn value(&mut self, text: &'a str, after: usize, indent: usize, depth: usize) -> Option<Node> {
        let rest = &text[after..];
        let trimmed = rest.trim_start_matches(' ');
        if !trimmed.is_empty() && !trimmed.starts_with('#') {
            let col = indent + after + (rest.len() - trimmed.len());
            return self.inline(trimmed, col, indent, depth);
        }
        if trimmed.starts_with('#') && trimmed.len() == rest.len() {
            return None; // `key:#`: not a comment
        }
        // An empty value is null, placed by the parser at the colon.
        let empty = Node {
            value: Value::Null,
            loc: loc(self.at, indent + after - 1),
        };
        self.advance();
        self.skip_blank();
        match self.current() {
            Some((col, _)) if col > indent => self.block(col, depth),
            Some((col, next)) if col == indent && is_item(next) => {
                (depth < MAX_DEPTH).then_some(())?;
                self.sequence(col, depth + 1, true)
            }
            _ => {
                self.count()?;
                Some(empty)
            }
        }
    }

    /// A scalar or flow collection that starts at `col` of the current line, in a collection
    /// `depth` deep; the line is consumed (a `|` literal takes the lines of its text too).
    fn inline(&mut self, text: &'a str, col: usize, parent: usize, depth: usize) -> Option<Node> {
        let at = loc(self.at, col);
        self.count()?;
        let value = match text.as_bytes()[0] {
            b'"' | b'\'' => {
                let (s, style, used) = quoted(text)?;
                rest_is_comment(&text[used..])?;
                scalar::resolve(&s, style, None, at).ok()?
            }
            b'[' | b'{' => {
                let (node, used) = self.flow(text, 0, col, depth + 1)?;
                rest_is_comment(&text[used..])?;
                node.value
            }
            b'|' | b'>' => {
                self.advance();
                // The parser places a literal at its first line of text.
                let at = loc(self.at, self.lines.get(self.at)?.indent);
                return Some(Node {
                    value: Value::Str(self.literal(text, parent)?),
                    loc: at,
                });
            }
            _ => plain_value(text, at)?,
        };
        self.advance();
        Some(Node { value, loc: at })
    }

    /// A one-line flow collection (`[a, b]`, `{ path: /a, to: s }`, nested ones) that starts
    /// at `text[i]`, column `col + i`, `level` collections deep: the node and the byte after it.
    /// Keys must be followed by `: `; anything fancier (empty values, `?` keys, a trailing comma,
    /// an implicit `[a: b]` pair, a comment or a line break inside) is left to the parser.
    fn flow(&mut self, text: &str, i: usize, col: usize, level: usize) -> Option<(Node, usize)> {
        if level >= MAX_DEPTH {
            return None;
        }
        let at = loc(self.at, col + i);
        self.count()?;
        let bytes = text.as_bytes();
        let map = bytes[i] == b'{';
        let close = if map { b'}' } else { b']' };
        let mut items = Vec::new();
        let mut entries: Vec<(Key, Node)> = Vec::new();
        let mut seen = Keys::default();
        let mut i = skip_spaces(bytes, i + 1);
        if bytes.get(i) == Some(&close) {
            let value = if map {
                Value::Map(entries)
            } else {
                Value::Seq(items)
            };
            return Some((Node { value, loc: at }, i + 1));
        }
        loop {
            if map {
                let key_at = loc(self.at, col + i);
                let (name, used) = flow_key(&text[i..])?;
                if name == "<<" || name.len() > 256 || !seen.insert(&name, &entries) {
                    return None;
                }
                self.count()?;
                let (value, next) =
                    self.flow_item(text, skip_spaces(bytes, i + used), col, level)?;
                entries.push((Key { name, loc: key_at }, value));
                i = next;
            } else {
                let (value, next) = self.flow_item(text, i, col, level)?;
                items.push(value);
                i = next;
            }
            i = skip_spaces(bytes, i);
            match *bytes.get(i)? {
                b',' => i = skip_spaces(bytes, i + 1),
                b if b == close => {
                    let value = if map {
                        Value::Map(entries)
                    } else {
                        Value::Seq(items)
                    };
                    return Some((Node { value, loc: at }, i + 1));
                }
                _ => return None,
            }
        }
    }

    /// An item of a flow collection at `text[i]`: a nested collection, a quoted scalar or a
    /// plain one; the node and the byte after it.
    fn flow_item(
        &mut self,
        text: &str,
        i: usize,
        col: usize,
        level: usize,
    ) -> Option<(Node, usize)> {
        match *text.as_bytes().get(i)? {
            b'[' | b'{' => self.flow(text, i, col, level + 1),
            _ => {
                let at = loc(self.at, col + i);
                self.count()?;
                let (value, used) = flow_scalar(&text[i..], at)?;
                Some((Node { value, loc: at }, i + used))
            }
        }
    }

    /// The text of a `|` or `|-` literal or a `>` or `>-` folded scalar whose header is
    /// `header` (the current line is the first after it), inside a collection at column
    /// `parent`. Folded text is taken only as lines of the same indentation without empty
    /// lines or trailing spaces between them, which fold into one line.
    fn literal(&mut self, header: &str, parent: usize) -> Option<String> {
        let folded = header.starts_with('>');
        let strip = match header.as_bytes().get(1) {
            Some(b'-') => true,
            None | Some(b' ') => false,
            _ => return None,
        };
        rest_is_comment(&header[1 + usize::from(strip)..])?;
        let first = self.lines.get(self.at)?;
        let indent = first.indent;
        if first.raw.len() == indent || indent <= parent {
            return None;
        }
        let mut text = String::new();
        let mut pending = 0; // line breaks not yet written (empty lines)
        while let Some(line) = self.lines.get(self.at) {
            if line.raw.len() == line.indent {
                if line.indent > indent {
                    return None; // spaces beyond the indentation: content, left to the parser
                }
                pending += 1;
            } else if line.indent >= indent {
                if folded && (line.indent > indent || line.raw.ends_with(' ') || pending > 0) {
                    return None;
                }
                if folded && !text.is_empty() {
                    text.push(' ');
                }
                if !text.is_empty() && !folded {
                    pending += 1;
                }
                text.extend(std::iter::repeat_n('\n', pending));
                pending = 0;
                text.push_str(&line.raw[indent..]);
            } else {
                break;
            }
            self.at += 1;
        }
        if !strip {
            text.push('\n');
        }
        self.compact = None;
        Some(text)
    }
}

/// A scalar item of a one-line flow collection: its value and the bytes used. A plain word
/// ends at `,`, `]` or `}`; it may hold a `:` that no space or flow indicator follows
/// (`https://a`), and goes to the parser with any other indicator, a quote or a `#` in it.
fn flow_scalar(text: &str, at: Loc) -> Option<(Value, usize)> {
    let bytes = text.as_bytes();
    if matches!(bytes.first()?, b'"' | b'\'') {
        let (s, style, used) = quoted(text)?;
        return Some((scalar::resolve(&s, style, None, at).ok()?, used));
    }
    let mut len = 0;
    while let Some(&b) = bytes.get(len) {
        match b {
            b',' | b']' | b'}' => break,
            b'[' | b'{' | b'#' | b'"' | b'\'' => return None,
            b':' if bytes
                .get(len + 1)
                .is_none_or(|n| matches!(n, b' ' | b',' | b'[' | b']' | b'{' | b'}')) =>
            {
                return None;
            }
            _ => len += 1,
        }
    }
    let word = text[..len].trim_end_matches(' ');
    (!word.is_empty() && plain_start(word)).then_some(())?;
    Some((plain_value(word, at)?, len))
}

/// A key of a one-line flow mapping, quoted or a plain word, with its `: `: the name and the
/// bytes used up to the space.
fn flow_key(text: &str) -> Option<(String, usize)> {
    let (name, used) = match *text.as_bytes().first()? {
        b'"' | b'\'' => {
            let (name, _, used) = quoted(text)?;
            (name, used)
        }
        _ => {
            let len = text.find(':')?;
            let word = &text[..len];
            let safe = !word.is_empty()
                && !word.contains(['[', ']', '{', '}', '#', ',', '"', '\'', ' '])
                && plain_start(word);
            safe.then_some(())?;
            (word.to_owned(), len)
        }
    };
    text[used..].starts_with(": ").then_some((name, used + 1))
}

/// The first byte at or after `i` that is not a space.
fn skip_spaces(bytes: &[u8], mut i: usize) -> usize {
    while bytes.get(i) == Some(&b' ') {
        i += 1;
    }
    i
}

/// `- x` or a lone `-`.
fn is_item(text: &str) -> bool {
    text == "-" || text.starts_with("- ")
}

/// A mapping key at the start of `text`: its name and the byte after its `:`.
fn key_split(text: &str) -> Option<(String, usize)> {
    let first = *text.as_bytes().first()?;
    if first == b'"' || first == b'\'' {
        let (name, _, used) = quoted(text)?;
        let after = text[used..].strip_prefix(':')?;
        return (after.is_empty() || after.starts_with(' ')).then_some((name, used + 1));
    }
    if !plain_start(text) {
        return None;
    }
    let bytes = text.as_bytes();
    for i in 0..bytes.len() {
        match bytes[i] {
            b'#' if bytes[i - 1] == b' ' => return None,
            b':' if bytes.get(i + 1).is_none_or(|b| *b == b' ') => {
                if bytes[i - 1] == b' ' {
                    return None;
                }
                return Some((text[..i].to_owned(), i + 1));
            }
            _ => {}
        }
    }
    None
}

/// Whether a plain scalar may start this way (the YAML indicators and their look-alikes are
/// left to the parser).
fn plain_start(text: &str) -> bool {
    let bytes = text.as_bytes();
    match bytes.first() {
        None => false,
        Some(b'-' | b'?' | b':') => bytes.get(1).is_some_and(|b| *b != b' ' && *b != b'-'),
        Some(b) => !b"[]{},#&*!|>'\"%@`".contains(b),
    }
}

/// A plain scalar value: the text before a comment, resolved like the parser's.
fn plain_value(text: &str, at: Loc) -> Option<Value> {
    if !plain_start(text) {
        return None;
    }
    let end = text.find(" #").unwrap_or(text.len());
    let word = text[..end].trim_end_matches(' ');
    if word.contains(": ") || word.ends_with(':') {
        return None;
    }
    scalar::resolve(word, ScalarStyle::Plain, None, at).ok()
}

/// A one-line quoted scalar at the start of `text`: its value, style and the bytes used.
fn quoted(text: &str) -> Option<(String, ScalarStyle, usize)> {
    let quote = text.as_bytes()[0];
    if quote == b'"' {
        return double_quoted(text);
    }
    let mut out = String::new();
    let mut rest = &text[1..];
    let mut used = 1;
    loop {
        let at = rest.find('\'')?;
        out.push_str(&rest[..at]);
        used += at + 1;
        if rest[at + 1..].starts_with('\'') {
            out.push('\'');
            used += 1;
            rest = &rest[at + 2..];
        } else {
            return Some((out, ScalarStyle::SingleQuoted, used));
        }
    }
}

/// A one-line double-quoted scalar with at most the common escapes (`\"`, `\\`, `\/`, `\n`,
/// `\t`); others are left to the parser.
fn double_quoted(text: &str) -> Option<(String, ScalarStyle, usize)> {
    let mut out = String::new();
    let mut start = 1;
    let mut bytes = text.bytes().enumerate().skip(1);
    while let Some((i, b)) = bytes.next() {
        match b {
            b'"' => {
                out.push_str(&text[start..i]);
                return Some((out, ScalarStyle::DoubleQuoted, i + 1));
            }
            b'\\' => {
                out.push_str(&text[start..i]);
                let (_, e) = bytes.next()?;
                out.push(match e {
                    b'"' | b'\\' | b'/' => char::from(e),
                    b'n' => '\n',
                    b't' => '\t',
                    _ => return None,
                });
                start = i + 2;
            }
            _ => {}
        }
    }
    None
}

/// What may follow a value on its line: spaces, then a comment after at least one space.
fn rest_is_comment(rest: &str) -> Option<()> {
    let trimmed = rest.trim_start_matches(' ');
    let ok = trimmed.is_empty() || (trimmed.starts_with('#') && trimmed.len() < rest.len());
    ok.then_some(())
}

#[cfg(test)]
mod tests;
