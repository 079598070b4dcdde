//! Dependency tracking from the resolved model to each planned file (issue 23): what a file
//! reads, and a key that changes whenever anything it reads changes.
//!
//! The model is serialized once; each top-level field is a *slice* with its own hash, and a
//! field that is a list (services, entities, databases, …) also has a hash per element. A
//! template's *uses* come from its text and that of every template it includes or imports:
//! the model fields it names as `m.<field>`, and whether it only indexes a list
//! (`m.entities[i]`) or reads it whole (loops, `length`). A template that uses `m` any other way
//! reads everything.
//!
//! A file then *reads* (see [`Reads`]): its item (the service, database, … it is rendered for),
//! each field its template uses whole, and of a list it only indexes, the elements its item links
//! to (numbers under `…_id`/`…_ids` keys in the item, followed once through lists nested in the
//! model's objects, such as a topic's entity) and the constant indices the template names.
//!
//! Soundness does not rest on that analysis being right: the render *is given only what the file
//! reads* (the other list elements are undefined, the other fields absent), so the text is a
//! function of the key by construction. A render that touches something it was not given fails
//! and is done again with the whole model, under the whole model's key; a test renders every
//! example both ways and requires the same bytes, so a template whose reads the analysis misses
//! fails loudly there rather than in a user's tree.

use crate::plan::{Collection, PlannedFile};
use crate::resolve::Model;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Range;
use std::sync::Arc;

type Digest = [u8; 32];

/// What one planned file reads of the model.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Reads {
    /// The whole model.
    All,
    /// These top-level fields: whole (`None`), or only these elements of a list.
    Fields(Vec<(String, Option<Arc<BTreeSet<usize>>>)>),
}

/// How a template (with what it includes) uses one model field.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Use {
    /// Read other than by indexing (a loop, a filter, a property): the whole field.
    pub whole: bool,
    /// Constant indices (`m.deployables[0]`).
    pub consts: BTreeSet<usize>,
}

/// How a template uses the model.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Uses {
    /// `m` itself is passed on, indexed by a string or bound to another name.
    pub all: bool,
    pub fields: BTreeMap<String, Use>,
}

#[derive(Debug, PartialEq)]
struct Field {
    hash: Digest,
    /// Where the field's value is in the serialized model.
    range: Range<usize>,
    /// The element ranges (in the serialized model) and hashes, for a list.
    elems: Option<Vec<(Range<usize>, Digest)>>,
}

/// The serialized model, its slices' hashes and the templates' uses.
pub struct Index {
    json: String,
    /// The tool version, state format and every template source.
    common: Digest,
    /// The whole model with `common`: the key of a file that reads everything.
    whole: Digest,
    fields: BTreeMap<String, Field>,
    /// Lists directly inside the model's object fields (`messaging.topics`), by field and key.
    nested: BTreeMap<(String, String), Vec<Range<usize>>>,
    uses: HashMap<String, Uses>,
}

impl Index {
    pub fn new(model: &Model, templates: &[(String, String)]) -> Index {
        let (json, marks) = serialize_marked(model);
        let common = common_digest(templates);
        let mut h = blake3::Hasher::new();
        h.update(&common);
        h.update(json.as_bytes());
        let whole = *h.finalize().as_bytes();
        let (fields, nested) = marks.split(&json);
        let uses = template_uses(templates);
        Index {
            json,
            common,
            whole,
            fields,
            nested,
            uses,
        }
    }

    /// The fingerprint of everything a render reads (the no-op shortcut compares it with the state's).
    pub fn fingerprint(&self) -> String {
        hex(&self.whole)
    }

    /// The length of the serialized model.
    pub fn model_len(&self) -> usize {
        self.json.len()
    }

    /// The serialized model (empty after [`Index::release_text`]).
    pub fn raw_model(&self) -> Option<&str> {
        Some(self.json.as_str()).filter(|t| !t.is_empty())
    }

    /// The serialized text of a top-level field.
    pub fn raw_field(&self, name: &str) -> Option<&str> {
        self.json.get(self.fields.get(name)?.range.clone())
    }

    /// The serialized text of element `i` of a top-level list.
    pub fn raw_elem(&self, name: &str, i: usize) -> Option<&str> {
        let e = self.fields.get(name)?.elems.as_ref()?.get(i)?;
        self.json.get(e.0.clone())
    }

    /// The serialized text of the item `i` of a collection (a topic: in `messaging`).
    pub fn raw_item(&self, coll: Collection, i: usize) -> Option<&str> {
        self.json.get(self.item_range(coll, i)?.clone())
    }

    /// Drop the serialized text, keeping the hashes: once the whole model is converted to
    /// template values, a fresh run's render and keys need nothing else, and the text is
    /// 33 MB at 1 000 services (issue 23: peak memory). Reads of text give `None` after.
    pub fn release_text(&mut self) {
        self.json = String::new();
    }

    /// The hash of each element of a top-level list.
    pub fn elem_hashes(&self, name: &str) -> Option<Vec<&Digest>> {
        Some(
            self.fields
                .get(name)?
                .elems
                .as_ref()?
                .iter()
                .map(|(_, h)| h)
                .collect(),
        )
    }

    /// The length of a top-level list.
    pub fn list_len(&self, name: &str) -> Option<usize> {
        Some(self.fields.get(name)?.elems.as_ref()?.len())
    }

    /// What each planned file reads, in plan order.
    pub fn reads_all(&self, plan: &[PlannedFile]) -> Vec<Reads> {
        let mut links: HashMap<(Collection, usize), BTreeSet<usize>> = HashMap::new();
        let mut shared: HashMap<(String, Vec<usize>), Arc<BTreeSet<usize>>> = HashMap::new();
        plan.iter()
            .map(|f| {
                let Some(uses) = self.uses.get(&f.template) else {
                    return Reads::All;
                };
                if uses.all {
                    return Reads::All;
                }
                let mut fields = Vec::new();
                for (name, u) in &uses.fields {
                    let Some(field) = self.fields.get(name) else {
                        continue;
                    };
                    let Some(elems) = field.elems.as_ref().filter(|_| !u.whole) else {
                        fields.push((name.clone(), None));
                        continue;
                    };
                    let linked = match f.item {
                        Some(item) => links
                            .entry(item)
                            .or_insert_with(|| self.links(item))
                            .clone(),
                        None => BTreeSet::new(),
                    };
                    let set: Vec<usize> = linked
                        .union(&u.consts)
                        .copied()
                        .filter(|i| *i < elems.len())
                        .collect();
                    let arc = shared
                        .entry((name.clone(), set.clone()))
                        .or_insert_with(|| Arc::new(set.into_iter().collect()))
                        .clone();
                    fields.push((name.clone(), Some(arc)));
                }
                Reads::Fields(fields)
            })
            .collect()
    }

    /// The key of a file's render: it changes when anything the file reads changes (the
    /// templates and tool version included).
    pub fn key(&self, f: &PlannedFile, reads: &Reads) -> String {
        let mut h = blake3::Hasher::new();
        h.update(&self.common);
        for part in [f.path.as_str(), f.template.as_str()] {
            h.update(&(part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        match f.item {
            Some((coll, i)) => {
                h.update(format!("item {coll:?} {i} ").as_bytes());
                h.update(&self.item_hash(coll, i));
            }
            None => {
                h.update(b"no item");
            }
        }
        match reads {
            Reads::All => {
                h.update(b"all");
                h.update(&self.whole);
            }
            Reads::Fields(fields) => {
                for (name, elems) in fields {
                    let Some(field) = self.fields.get(name) else {
                        continue;
                    };
                    h.update(&(name.len() as u64).to_le_bytes());
                    h.update(name.as_bytes());
                    match (elems, &field.elems) {
                        (Some(set), Some(all)) => {
                            h.update(format!("len {} ", all.len()).as_bytes());
                            for i in set.iter() {
                                h.update(&(*i as u64).to_le_bytes());
                                h.update(&all[*i].1);
                            }
                        }
                        _ => {
                            h.update(b"whole");
                            h.update(&field.hash);
                        }
                    }
                }
            }
        }
        hex(h.finalize().as_bytes())
    }

    /// The hash of the item a file is rendered for; the whole model's when the collection's
    /// field is not found (never wrong, only slower: see the test that every collection maps).
    fn item_hash(&self, coll: Collection, i: usize) -> Digest {
        let field = field_of(coll);
        let Some(f) = self.fields.get(field) else {
            return self.whole;
        };
        match &f.elems {
            Some(elems) if coll != Collection::Topic => elems.get(i).map_or(self.whole, |e| e.1),
            _ => f.hash,
        }
    }

    /// The indices an item links to: numbers under `…_id`/`…_ids` keys in its value, and in the
    /// elements at those indices of the lists nested in the model's objects.
    fn links(&self, (coll, i): (Collection, usize)) -> BTreeSet<usize> {
        let mut ids = BTreeSet::new();
        if let Some(text) = self.raw_item(coll, i) {
            ids_in(text, &mut ids);
        }
        let first: Vec<usize> = ids.iter().copied().collect();
        for list in self.nested.values() {
            for i in &first {
                if let Some(text) = list.get(*i).and_then(|r| self.json.get(r.clone())) {
                    ids_in(text, &mut ids);
                }
            }
        }
        ids
    }

    /// Where the item `i` of a collection is in the serialized model.
    fn item_range(&self, coll: Collection, i: usize) -> Option<&Range<usize>> {
        match coll {
            Collection::Topic => self
                .nested
                .get(&(field_of(coll).to_owned(), "topics".to_owned()))
                .and_then(|r| r.get(i)),
            _ => self
                .fields
                .get(field_of(coll))
                .and_then(|f| f.elems.as_ref())
                .and_then(|e| e.get(i))
                .map(|e| &e.0),
        }
    }
}

/// The model field an item of a collection comes from (a topic: from `messaging`).
pub fn field_of(coll: Collection) -> &'static str {
    match coll {
        Collection::Service
        | Collection::Grpc
        | Collection::TypescriptService
        | Collection::TypescriptModule
        | Collection::FirstService
        | Collection::DocumentedService => "services",
        Collection::Deployable | Collection::TypescriptApp => "deployables",
        Collection::Database => "databases",
        Collection::Env => "environments",
        Collection::Function => "functions",
        Collection::Topic => "messaging",
    }
}

fn hex(d: &Digest) -> String {
    blake3::Hash::from(*d).to_hex()[..32].to_owned()
}

/// The digest of what the model and the render start from: this build (`CODEX_BUILD_ID`, a
/// hash of the tool's own sources made by `build.rs`, so a rebuilt tool never trusts an
/// earlier one's model), the template sources and the blueprint text. The model is a function
/// of the blueprint and the build, so equal digests mean an equal [`Index::fingerprint`]: a
/// no-op can tell its inputs are unchanged without serializing the model.
pub fn source_digest(blueprint: &str, templates: &[(String, String)]) -> String {
    let mut h = blake3::Hasher::new();
    h.update(b"source 1 ");
    h.update(env!("CODEX_BUILD_ID").as_bytes());
    h.update(&common_digest(templates));
    h.update(blueprint.as_bytes());
    hex(h.finalize().as_bytes())
}

fn common_digest(templates: &[(String, String)]) -> Digest {
    let mut h = blake3::Hasher::new();
    h.update(b"slices 1 ");
    h.update(crate::resolve::TOOL_VERSION.as_bytes());
    for (name, source) in templates {
        for part in [name.as_bytes(), source.as_bytes()] {
            h.update(&(part.len() as u64).to_le_bytes());
            h.update(part);
        }
    }
    *h.finalize().as_bytes()
}

type Nested = BTreeMap<(String, String), Vec<Range<usize>>>;

/// The model's top-level fields with their hashes (and their elements', for lists), and the
/// lists directly inside its object fields, read back from the text: what [`Marks::split`]
/// must give (a test compares the two on every example).
#[cfg(test)]
fn split(json: &str) -> (BTreeMap<String, Field>, Nested) {
    use serde_json::value::RawValue;
    let offset = |raw: &RawValue| {
        let start = raw.get().as_ptr() as usize - json.as_ptr() as usize;
        start..start + raw.get().len()
    };
    let top: BTreeMap<String, &RawValue> =
        serde_json::from_str(json).expect("the model serializes to an object");
    let mut fields = BTreeMap::new();
    let mut nested = BTreeMap::new();
    for (name, raw) in top {
        let hash = *blake3::hash(raw.get().as_bytes()).as_bytes();
        let elems = serde_json::from_str::<Vec<&RawValue>>(raw.get())
            .ok()
            .map(|list| {
                list.into_iter()
                    .map(|e| (offset(e), *blake3::hash(e.get().as_bytes()).as_bytes()))
                    .collect()
            });
        if let Ok(obj) = serde_json::from_str::<BTreeMap<String, &RawValue>>(raw.get()) {
            for (key, inner) in obj {
                if let Ok(list) = serde_json::from_str::<Vec<&RawValue>>(inner.get()) {
                    nested.insert((name.clone(), key), list.into_iter().map(&offset).collect());
                }
            }
        }
        let range = offset(raw);
        fields.insert(name, Field { hash, range, elems });
    }
    (fields, nested)
}

/// The model serialized as `serde_json::to_string` writes it, with the places [`split`] needs
/// noted while writing: the top-level fields, the elements of those that are lists, and the
/// elements of lists inside those that are objects. Parsing the 33 MB text back for them (four
/// passes) was a sixth of a one-service regeneration at 1 000 services.
fn serialize_marked(model: &Model) -> (String, Marks) {
    let pos = std::rc::Rc::new(std::cell::Cell::new(0));
    let mut out = Counting {
        buf: Vec::with_capacity(1 << 20),
        pos: pos.clone(),
    };
    let mut marks = Marks {
        pos,
        ..Marks::default()
    };
    let mut ser = serde_json::Serializer::with_formatter(&mut out, &mut marks);
    serde::Serialize::serialize(model, &mut ser).expect("the model serializes");
    // serde_json writes only UTF-8.
    let json = String::from_utf8(out.buf).expect("serde_json writes UTF-8");
    (json, marks)
}

/// A writer that keeps count of what it wrote, for [`Marks`] to read.
struct Counting {
    buf: Vec<u8>,
    pos: std::rc::Rc<std::cell::Cell<usize>>,
}

impl std::io::Write for Counting {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(b);
        self.pos.set(self.buf.len());
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A top-level field as written: its key and value, the elements of a list value, and of an
/// object value its keys whose values are lists, with their elements.
#[derive(Default)]
struct TopMark {
    key: Range<usize>,
    value: Range<usize>,
    elems: Vec<Range<usize>>,
    /// Key, elements, and whether the value was a list at all (an empty one has no elements).
    nested: Vec<(Range<usize>, Vec<Range<usize>>, bool)>,
}

/// serde_json's compact formatter (the same bytes) that notes where the parts [`split`] needs
/// begin and end. `open` is the stack of containers being written (true for a list).
#[derive(Default)]
struct Marks {
    pos: std::rc::Rc<std::cell::Cell<usize>>,
    open: Vec<bool>,
    top: Vec<TopMark>,
    key_start: usize,
    inner_key: Range<usize>,
}

impl Marks {
    fn at(&self) -> usize {
        self.pos.get()
    }

    /// The elements noted for the list being written: a top-level list, or a list that is a
    /// value inside a top-level object; `None` for any other list.
    fn list_here(&mut self) -> Option<&mut Vec<Range<usize>>> {
        match self.open.as_slice() {
            [false, true] => self.top.last_mut().map(|t| &mut t.elems),
            [false, false, true] => self
                .top
                .last_mut()
                .and_then(|t| t.nested.last_mut())
                .map(|(_, list, _)| list),
            _ => None,
        }
    }

    /// The same maps [`split`] made from the text, from the marks.
    fn split(&self, json: &str) -> (BTreeMap<String, Field>, Nested) {
        let name = |r: &Range<usize>| -> String {
            serde_json::from_str(&json[r.clone()]).expect("a key is a JSON string")
        };
        let hash = |r: &Range<usize>| *blake3::hash(json[r.clone()].as_bytes()).as_bytes();
        let mut fields = BTreeMap::new();
        let mut nested = BTreeMap::new();
        for t in &self.top {
            let field = name(&t.key);
            let is_list = json.as_bytes().get(t.value.start) == Some(&b'[');
            let elems = is_list.then(|| t.elems.iter().map(|e| (e.clone(), hash(e))).collect());
            for (key, list, _) in t.nested.iter().filter(|n| n.2) {
                nested.insert((field.clone(), name(key)), list.clone());
            }
            let value = Field {
                hash: hash(&t.value),
                range: t.value.clone(),
                elems,
            };
            fields.insert(field, value);
        }
        (fields, nested)
    }
}

/// The comma before every item of a list or object but the first (the compact format).
fn separator<W: ?Sized + std::io::Write>(w: &mut W, first: bool) -> std::io::Result<()> {
    if first { Ok(()) } else { w.write_all(b",") }
}

impl serde_json::ser::Formatter for &mut Marks {
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        // A list that is the value of a key inside a top-level object.
        if self.open.as_slice() == [false, false]
            && let Some((_, _, list)) = self.top.last_mut().and_then(|t| t.nested.last_mut())
        {
            *list = true;
        }
        self.open.push(true);
        w.write_all(b"[")
    }

    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.open.pop();
        w.write_all(b"]")
    }

    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.open.push(false);
        w.write_all(b"{")
    }

    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.open.pop();
        w.write_all(b"}")
    }

    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        separator(w, first)?;
        let at = self.at();
        if let Some(list) = self.list_here() {
            list.push(at..at);
        }
        Ok(())
    }

    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        let at = self.at();
        if let Some(r) = self.list_here().and_then(|list| list.last_mut()) {
            r.end = at;
        }
        Ok(())
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        separator(w, first)?;
        self.key_start = self.at();
        Ok(())
    }

    fn end_object_key<W: ?Sized + std::io::Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        let key = self.key_start..self.at();
        match self.open.len() {
            1 => self.top.push(TopMark {
                key,
                ..TopMark::default()
            }),
            2 => self.inner_key = key,
            _ => {}
        }
        Ok(())
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b":")?;
        let at = self.at();
        match self.open.as_slice() {
            [false] => {
                if let Some(t) = self.top.last_mut() {
                    t.value = at..at;
                }
            }
            [false, false] => {
                let key = self.inner_key.clone();
                if let Some(t) = self.top.last_mut() {
                    t.nested.push((key, Vec::new(), false));
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        let at = self.at();
        if self.open.as_slice() == [false]
            && let Some(t) = self.top.last_mut()
        {
            t.value.end = at;
        }
        Ok(())
    }
}

/// Numbers under keys ending in `_id` or `_ids`, at any depth. Read from the text without
/// building a value (every item of a large model is scanned on each run).
fn ids_in(json: &str, out: &mut BTreeSet<usize>) {
    use serde::de::DeserializeSeed as _;
    let mut d = serde_json::Deserializer::from_str(json);
    let _ = Ids { out, is_id: false }.deserialize(&mut d);
}

/// Walks a JSON value, collecting the unsigned numbers found where `is_id` (under an id key,
/// directly or in a list under one).
struct Ids<'a> {
    out: &'a mut BTreeSet<usize>,
    is_id: bool,
}

impl<'de> serde::de::DeserializeSeed<'de> for Ids<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Ids<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        if self.is_id {
            self.out.insert(v as usize);
        }
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let is_id = self.is_id;
        while seq
            .next_element_seed(Ids {
                out: &mut *self.out,
                is_id,
            })?
            .is_some()
        {}
        Ok(())
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(is_id) = map.next_key_seed(IdKey)? {
            map.next_value_seed(Ids {
                out: &mut *self.out,
                is_id,
            })?;
        }
        Ok(())
    }
}

/// A map key, read as whether it names an id (`…_id`, `…_ids`).
struct IdKey;

impl<'de> serde::de::DeserializeSeed<'de> for IdKey {
    type Value = bool;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> serde::de::Visitor<'de> for IdKey {
    type Value = bool;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E>(self, k: &str) -> Result<bool, E> {
        Ok(k.ends_with("_id") || k.ends_with("_ids"))
    }
}

/// Every template's uses, with those of the templates it includes, imports or extends.
fn template_uses(templates: &[(String, String)]) -> HashMap<String, Uses> {
    let own: HashMap<&str, (Uses, Vec<&str>)> = templates
        .iter()
        .map(|(name, src)| (name.as_str(), scan(src, templates)))
        .collect();
    own.keys()
        .map(|name| {
            let mut uses = Uses::default();
            let mut seen = BTreeSet::new();
            let mut todo = vec![*name];
            while let Some(t) = todo.pop() {
                if !seen.insert(t) {
                    continue;
                }
                let Some((u, refs)) = own.get(t) else {
                    continue;
                };
                uses.all |= u.all;
                for (field, fu) in &u.fields {
                    let e = uses.fields.entry(field.clone()).or_default();
                    e.whole |= fu.whole;
                    e.consts.extend(&fu.consts);
                }
                todo.extend(refs);
            }
            ((*name).to_owned(), uses)
        })
        .collect()
}

/// One template's own uses of `m`, and the templates it names (string literals in its tags
/// that are template names). A tag that includes, imports or extends by anything but a literal
/// template name reads everything.
pub fn scan<'a>(src: &str, templates: &'a [(String, String)]) -> (Uses, Vec<&'a str>) {
    let mut uses = Uses::default();
    let mut refs = Vec::new();
    for tag in tags(src) {
        let literals = literals(tag);
        let named: Vec<&'a str> = templates
            .iter()
            .map(|(n, _)| n.as_str())
            .filter(|n| literals.contains(n))
            .collect();
        let word = tag.trim_start_matches(['-', '+', ' ', '\n', '\t']);
        let loads = ["include", "import", "extends", "from"]
            .iter()
            .any(|k| word.starts_with(k));
        if loads && named.is_empty() {
            uses.all = true;
        }
        refs.extend(named);
        scan_tag(tag, &mut uses);
    }
    (uses, refs)
}

/// The insides of `{{ … }}` and `{% … %}` tags (comments skipped).
fn tags(src: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = src;
    while let Some(at) = rest.find('{') {
        let after = &rest[at + 1..];
        let close = match after.as_bytes().first() {
            Some(b'{') => "}}",
            Some(b'%') => "%}",
            Some(b'#') => "#}",
            _ => {
                rest = after;
                continue;
            }
        };
        let body = &after[1..];
        let end = body.find(close).unwrap_or(body.len());
        if close != "#}" {
            out.push(&body[..end]);
        }
        rest = body.get(end + close.len()..).unwrap_or("");
    }
    out
}

fn literals(tag: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = tag;
    while let Some(at) = rest.find(['"', '\'', '`']) {
        let q = rest.as_bytes()[at] as char;
        let body = &rest[at + 1..];
        let end = body.find(q).unwrap_or(body.len());
        out.push(&body[..end]);
        rest = body.get(end + 1..).unwrap_or("");
    }
    out
}

/// Record every use of the identifier `m` in one tag (outside string literals).
fn scan_tag(tag: &str, uses: &mut Uses) {
    let code = strip_literals(tag);
    let b = code.as_bytes();
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let skip_ws = |mut i: usize| {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        i
    };
    for i in 0..b.len() {
        if b[i] != b'm' || (i > 0 && (ident(b[i - 1]) || b[i - 1] == b'.')) {
            continue;
        }
        if b.get(i + 1).is_some_and(|c| ident(*c)) {
            continue;
        }
        // Preceded by `.` across white space (`x. m`) is a property, not the variable.
        let before = code[..i].trim_end();
        if before.ends_with('.') {
            continue;
        }
        let j = skip_ws(i + 1);
        if b.get(j) != Some(&b'.') {
            uses.all = true;
            continue;
        }
        let start = skip_ws(j + 1);
        let mut end = start;
        while end < b.len() && ident(b[end]) {
            end += 1;
        }
        if end == start {
            uses.all = true;
            continue;
        }
        let u = uses.fields.entry(code[start..end].to_owned()).or_default();
        let k = skip_ws(end);
        if b.get(k) != Some(&b'[') {
            u.whole = true;
            continue;
        }
        let close = code[k..].find(']').map_or(b.len(), |e| k + e);
        if let Ok(n) = code[k + 1..close].trim().parse::<usize>() {
            u.consts.insert(n);
        }
    }
}

/// The tag with every string literal blanked (an `m` inside quotes is text).
fn strip_literals(tag: &str) -> String {
    let mut out = String::with_capacity(tag.len());
    let mut quote = None;
    for c in tag.chars() {
        match quote {
            Some(q) if c == q => {
                quote = None;
                out.push(' ');
            }
            Some(_) => out.push(' '),
            None if matches!(c, '"' | '\'' | '`') => {
                quote = Some(c);
                out.push(' ');
            }
            None => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uses(src: &str) -> Uses {
        let set = vec![("t".to_owned(), src.to_owned())];
        scan(src, &set).0
    }

    /// The marks taken while serializing give the same text, fields, elements and nested lists
    /// as parsing the text back, on every example in every type it supports.
    #[test]
    fn marks_taken_while_serializing_match_the_parsed_text() {
        let mut compared = 0;
        for (name, _) in crate::assets::examples() {
            for arch in ["microservices", "monolith", "serverless"] {
                let src = crate::assets::example(name)
                    .unwrap()
                    .replace("type: microservices", &format!("type: {arch}"));
                let Some(bp) = crate::blueprint::load(&src, "t.yaml").blueprint else {
                    continue;
                };
                let Ok(model) = crate::resolve::resolve(&bp, crate::assets::presets()) else {
                    continue;
                };
                let (json, marks) = serialize_marked(&model);
                assert_eq!(
                    json,
                    serde_json::to_string(&model).unwrap(),
                    "{name} {arch}"
                );
                let (fields, nested) = marks.split(&json);
                let (want_fields, want_nested) = split(&json);
                assert_eq!(fields, want_fields, "{name} {arch}");
                assert!(
                    !want_nested.is_empty(),
                    "{name} {arch}: no nested lists to compare"
                );
                assert_eq!(nested, want_nested, "{name} {arch}");
                compared += 1;
            }
        }
        assert!(compared >= 10, "only {compared} models compared");
    }

    #[test]
    fn released_text_keeps_every_key_and_reads_nothing() {
        let text = crate::assets::example("ecommerce").unwrap();
        let bp = crate::blueprint::load(text, "x").blueprint.unwrap();
        let model = crate::resolve::resolve(&bp, crate::assets::presets()).unwrap();
        let mut index = Index::new(&model, &[]);
        let file = |item| PlannedFile {
            path: "p".into(),
            template: "t".into(),
            item,
            bind: None,
            layer: "l".into(),
            policy: crate::plan::Policy::Merge,
        };
        let files = [
            file(None),
            file(Some((Collection::Service, 1))),
            file(Some((Collection::Topic, 0))),
        ];
        let reads = [
            Reads::All,
            Reads::Fields(vec![
                ("services".into(), None),
                ("entities".into(), Some(Arc::new(BTreeSet::from([0, 2])))),
            ]),
        ];
        let keys = |index: &Index| -> Vec<String> {
            files
                .iter()
                .flat_map(|f| reads.iter().map(|r| index.key(f, r)))
                .collect()
        };
        let before = keys(&index);
        assert!(index.raw_field("services").is_some() && index.raw_model().is_some());
        index.release_text();
        assert_eq!(keys(&index), before);
        assert_eq!(index.raw_model(), None);
        assert_eq!(index.raw_field("services"), None);
        assert_eq!(index.raw_elem("services", 0), None);
        assert_eq!(index.raw_item(Collection::Service, 0), None);
        assert_eq!(index.list_len("services"), Some(model.services.len()));
    }

    #[test]
    fn indexing_loops_and_bare_uses_are_told_apart() {
        let u = uses(
            "{% for i in s.ids %}{{ m.entities[i].name }}{% endfor %}{{ m.deployables[0].x }}",
        );
        assert!(!u.all);
        assert!(!u.fields["entities"].whole);
        assert_eq!(u.fields["deployables"].consts, BTreeSet::from([0]));
        let u = uses("{% for e in m.entities %}{{ e }}{% endfor %}{{ m.name.raw }} m.other");
        assert!(u.fields["entities"].whole && u.fields["name"].whole);
        assert!(
            !u.fields.contains_key("other"),
            "text outside tags is not code"
        );
        assert!(uses("{{ m | json }}").all);
        assert!(uses("{{ m[\"x\"] }}").all);
        assert!(!uses("{{ item.m.x }}{{ \"m\" }}{{ mm }}").all);
    }

    #[test]
    fn ids_are_the_numbers_under_id_keys_at_any_depth() {
        let mut ids = BTreeSet::new();
        ids_in(
            r#"{"entity_id": 3, "x": 4, "a": [{"b_ids": [5, 6], "c": [7]}], "d_id": -1, "e_id": null, "f_ids": [[8]], "g": {"h_id": 9.5, "i_id": 10}}"#,
            &mut ids,
        );
        assert_eq!(ids, BTreeSet::from([3, 5, 6, 8, 10]));
    }

    #[test]
    fn included_templates_add_their_uses_and_a_computed_include_reads_everything() {
        let set: Vec<(String, String)> = vec![
            ("a".into(), "{% include \"b\" %}".into()),
            ("b".into(), "{{ m.security.x }}".into()),
            ("c".into(), "{% include name %}".into()),
        ];
        let all = template_uses(&set);
        assert!(all["a"].fields["security"].whole);
        assert!(all["c"].all);
    }
}
