//! Render stage: planned files → file contents. Pure: no I/O beyond reading the template set it
//! is given. Templates are Tera 2 with autoescape off; case filters come from heck so templates
//! never spell a name by hand; escapers by output language come from [`escape`] and wrap every
//! free-text or user-chosen blueprint value a template prints. Every output is LF-only and ends with exactly one newline.

pub use crate::escape;

use crate::plan::{Collection, Manifest, ManifestError, PlannedFile, header_for};
use crate::resolve::Model;
use crate::slices::Reads;
use heck::{
    ToKebabCase, ToLowerCamelCase, ToPascalCase, ToShoutySnakeCase, ToSnakeCase, ToTitleCase,
};
use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use tera::{Context, Kwargs, State, Tera, Value};

mod shared;

/// A set of template sources by name (embedded ones, possibly overlaid by a user's folder).
pub struct TemplateSet {
    /// Every template by name, and the manifest (`manifest.yaml`, not a template itself).
    pub sources: Vec<(String, String)>,
    /// How the templates become files (`templates/manifest.yaml`).
    pub manifest: Manifest,
}

impl TemplateSet {
    pub fn embedded() -> Self {
        let mut sources = Vec::new();
        collect(&crate::assets::TEMPLATES, &mut sources);
        sources.sort();
        // Checked against the templates by tests/template_manifest.rs.
        let manifest = crate::plan::manifest::of(&sources)
            .expect("the embedded templates/manifest.yaml is valid");
        TemplateSet { sources, manifest }
    }

    /// What in the manifest does not fit these templates (see [`Manifest::check`]).
    pub fn check_manifest(&self) -> Vec<String> {
        let included: Vec<&str> = self
            .sources
            .iter()
            .filter(|(n, _)| n != crate::plan::manifest::NAME)
            .flat_map(|(_, src)| crate::slices::scan(src, &self.sources).1)
            .collect();
        self.manifest.check(&self.sources, &included)
    }

    /// The files of a system with these templates.
    pub fn plan(&self, m: &Model) -> Vec<PlannedFile> {
        crate::plan::plan(m, &self.manifest, self.names())
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.sources.iter().map(|(n, _)| n.as_str())
    }

    /// Templates from a user's folder, named by their path relative to it (`common/README.md`).
    pub fn read_dir(dir: &std::path::Path) -> Result<Vec<(String, String)>, TemplatesError> {
        // A file given by mistake would otherwise become one template named "" and be ignored.
        if !std::fs::metadata(dir).is_ok_and(|m| m.is_dir()) {
            return Err(TemplatesError::NotAFolder(dir.display().to_string()));
        }
        let mut out = Vec::new();
        for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
            let entry = entry.map_err(|source| TemplatesError::Walk {
                dir: dir.display().to_string(),
                source,
            })?;
            if !entry.file_type().is_file() {
                continue;
            }
            let rel = entry.path().strip_prefix(dir).unwrap_or(entry.path());
            let name = rel.to_string_lossy().replace('\\', "/");
            let text =
                std::fs::read_to_string(entry.path()).map_err(|source| TemplatesError::Read {
                    file: entry.path().display().to_string(),
                    source,
                })?;
            out.push((name, text));
        }
        if out.is_empty() {
            return Err(TemplatesError::Empty(dir.display().to_string()));
        }
        Ok(out)
    }

    /// Embedded templates overlaid with a user's folder, when one is given: the manifest
    /// (theirs or ours) must fit the templates.
    pub fn with_overrides(dir: Option<&std::path::Path>) -> Result<Self, TemplatesError> {
        let mut set = Self::embedded();
        if let Some(d) = dir {
            set.overlay(Self::read_dir(d)?)?;
            let problems = set.check_manifest();
            if !problems.is_empty() {
                return Err(TemplatesError::Manifest(ManifestError::Mismatch {
                    file: d.join(crate::plan::manifest::NAME).display().to_string(),
                    problems,
                }));
            }
        }
        Ok(set)
    }

    /// Replace or add templates from a user's folder (same relative path replaces), the
    /// manifest included.
    pub fn overlay(&mut self, extra: Vec<(String, String)>) -> Result<(), TemplatesError> {
        let manifest = extra.iter().any(|(n, _)| n == crate::plan::manifest::NAME);
        for (name, src) in extra {
            match self.sources.iter_mut().find(|(n, _)| *n == name) {
                Some(slot) => slot.1 = src,
                None => self.sources.push((name, src)),
            }
        }
        self.sources.sort();
        if manifest {
            self.manifest = crate::plan::manifest::of(&self.sources)?;
        }
        Ok(())
    }
}

fn collect(dir: &include_dir::Dir<'static>, out: &mut Vec<(String, String)>) {
    for f in dir.files() {
        if let Some(text) = f.contents_utf8() {
            out.push((
                f.path().to_string_lossy().replace('\\', "/"),
                text.to_owned(),
            ));
        }
    }
    for d in dir.dirs() {
        collect(d, out);
    }
}

/// A user's `--templates` folder that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TemplatesError {
    #[error("E0405: --templates {0} is not a folder: pass the folder that `templates copy` wrote")]
    NotAFolder(String),
    #[error("cannot read templates folder {dir}: {source}")]
    Walk { dir: String, source: walkdir::Error },
    #[error("cannot read template {file}: {source}")]
    Read {
        file: String,
        source: std::io::Error,
    },
    #[error("templates folder {0} has no files")]
    Empty(String),
    #[error(transparent)]
    Manifest(#[from] ManifestError),
}

#[derive(Debug)]
pub struct RenderError {
    pub template: String,
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for RenderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.template.is_empty() {
            write!(f, "a template does not load: {}", self.message)
        } else {
            write!(
                f,
                "template `{}` failed while rendering {}: {}",
                self.template, self.path, self.message
            )
        }
    }
}

impl std::error::Error for RenderError {}

pub struct Renderer {
    tera: Tera,
}

impl Renderer {
    pub fn new(set: &TemplateSet) -> Result<Self, RenderError> {
        let mut tera = Tera::new();
        tera.autoescape_on(Vec::<&str>::new());
        register_filters(&mut tera);
        let templates = set
            .sources
            .iter()
            .filter(|(n, _)| n != crate::plan::manifest::NAME);
        tera.add_raw_templates(templates.map(|(n, s)| (n.as_str(), s.as_str())))
            .map_err(|e| RenderError {
                template: String::new(),
                path: String::new(),
                message: error_text(&e),
            })?;
        Ok(Renderer { tera })
    }

    /// Render every planned file; the result is in plan order. Batches are shared out among
    /// the machine's cores; the output does not depend on how.
    pub fn render_all(
        &self,
        m: &Model,
        files: &[PlannedFile],
    ) -> Result<Vec<(String, String)>, RenderError> {
        let model = Value::from_serializable(m);
        let rendered = crate::parallel::batches(files, 64, |batch, items| {
            self.render_batch(m, &model, batch, items)
        });
        let mut out = Vec::with_capacity(files.len());
        for r in rendered {
            out.extend(r?);
        }
        Ok(out)
    }

    /// Render the planned files given each with what it reads (see [`crate::slices`]): the
    /// template is given exactly that part of the model, so the text depends on nothing else.
    /// A render that fails on the part it was given (it reads more than the analysis found) is
    /// done again with the whole model, and reported so: `(path, text, read everything)`.
    /// `whole`: the whole model's template value, from [`whole_values`].
    pub fn render_reads(
        &self,
        index: &crate::slices::Index,
        whole: Option<Value>,
        files: &[(&PlannedFile, &Reads)],
    ) -> Result<Vec<(String, String, bool)>, RenderError> {
        let mut out = Vec::with_capacity(files.len());
        self.render_stream(index, whole, files, files.len(), |_, mut chunk| {
            out.append(&mut chunk);
            Ok::<(), RenderError>(())
        })?;
        Ok(out)
    }

    /// [`Renderer::render_reads`] handing the texts to `sink` in plan order, `chunk` files at a
    /// time (with the offset of the chunk's first file in `files`): a fresh tree is written
    /// while it is rendered, so only one chunk of text is held at once. `whole` is the whole
    /// model's template value when the caller built it (see [`whole_values`]); every file
    /// then takes its parts from it, else they are built from the index's text on first use.
    pub fn render_stream<E: From<RenderError>>(
        &self,
        index: &crate::slices::Index,
        whole: Option<Value>,
        files: &[(&PlannedFile, &Reads)],
        chunk: usize,
        mut sink: impl FnMut(usize, Vec<(String, String, bool)>) -> Result<(), E>,
    ) -> Result<(), E> {
        let values = Values::new(index, whole);
        for (n, part) in files.chunks(chunk.max(1)).enumerate() {
            let rendered = crate::parallel::batches(part, 64, |batch, cache: &mut Cache| {
                batch
                    .iter()
                    .map(|(f, reads)| self.render_one(&values, f, reads, cache))
                    .collect::<Result<Vec<_>, _>>()
            });
            let mut out = Vec::with_capacity(part.len());
            for r in rendered {
                out.extend(r?);
            }
            sink(n * chunk.max(1), out)?;
        }
        Ok(())
    }

    fn render_one(
        &self,
        values: &Values,
        f: &PlannedFile,
        reads: &Reads,
        cache: &mut Cache,
    ) -> Result<(String, String, bool), RenderError> {
        let item = f.item.map(|(coll, i)| {
            let v = cache
                .items
                .entry((coll, i))
                .or_insert_with(|| values.item(coll, i))
                .clone();
            (coll.var(), v)
        });
        if let Reads::Fields(fields) = reads {
            let view = cache.view(values, fields);
            if let Ok(text) = self.render_with(f, view, item.clone()) {
                return Ok((f.path.clone(), text, false));
            }
        }
        let text = self.render_with(f, values.whole(), item)?;
        Ok((f.path.clone(), text, true))
    }

    fn render_with(
        &self,
        f: &PlannedFile,
        model: Value,
        item: Option<(&'static str, Value)>,
    ) -> Result<String, RenderError> {
        let mut ctx = Context::new();
        ctx.insert_value("m", model);
        ctx.insert("header", &header_for(&f.path));
        ctx.insert("path", &f.path);
        if let Some((var, value)) = item {
            if let Some(name) = &f.bind {
                ctx.insert_value(name.clone(), value.clone());
            }
            ctx.insert_value(var, value);
        }
        let text = self
            .tera
            .render(&f.template, &ctx)
            .map_err(|e| RenderError {
                template: f.template.clone(),
                path: f.path.clone(),
                message: error_text(&e),
            })?;
        Ok(normalize(text))
    }

    /// Render `files` in order. A service has some thirty files: `items` keeps each item's
    /// value, built once and shared (values are reference-counted), not serialized per file.
    fn render_batch(
        &self,
        m: &Model,
        model: &Value,
        files: &[PlannedFile],
        items: &mut HashMap<(Collection, usize), Value>,
    ) -> Result<Vec<(String, String)>, RenderError> {
        let mut out = Vec::with_capacity(files.len());
        for f in files {
            let item = f.item.map(|(coll, i)| {
                let value = items
                    .entry((coll, i))
                    .or_insert_with(|| item_value(m, coll, i));
                (coll.var(), value.clone())
            });
            let text = self.render_with(f, model.clone(), item)?;
            out.push((f.path.clone(), text));
        }
        Ok(out)
    }
}

/// Whether to convert the whole model to template values at once: many files, one that reads
/// everything, or fields read whole that make up a good part of the model
/// (`docs/ARCHITECTURE.md` reads most lists). Converting the whole model from its structs once
/// is then cheaper than converting those parts from text (at 1 000 services about 0.35 s for
/// all of it, against 0.5 s for the lists that file reads).
fn converts_whole(index: &crate::slices::Index, files: &[(&PlannedFile, &Reads)]) -> bool {
    let whole_bytes: usize = files
        .iter()
        .filter_map(|(_, r)| match r {
            Reads::Fields(fields) => Some(fields),
            Reads::All => None,
        })
        .flatten()
        .filter(|(_, only)| only.is_none())
        .map(|(name, _)| name.as_str())
        .collect::<BTreeSet<&str>>()
        .into_iter()
        .map(|name| index.raw_field(name).map_or(0, str::len))
        .sum();
    files.len() > 256
        || files.iter().any(|(_, r)| **r == Reads::All)
        || whole_bytes * 4 > index.model_len()
}

/// The whole model's template value, when rendering `files` should start from it (see
/// [`converts_whole`]). The index's text is dropped first: the render and the keys need
/// nothing of it once the whole model is a value, and freed before the conversion it never
/// adds to the peak (issue 23).
pub fn whole_values(
    model: ModelFor<'_>,
    index: &mut crate::slices::Index,
    files: &[(&PlannedFile, &Reads)],
) -> Option<Value> {
    if !converts_whole(index, files) {
        return None;
    }
    index.release_text();
    Some(match model {
        ModelFor::Kept(m) => shared::whole_value(m, index),
        ModelFor::Done(m) => shared::whole_value_releasing(*m, index),
    })
}

/// The model [`whole_values`] converts, and whether the caller keeps it.
pub enum ModelFor<'m> {
    /// Borrowed: the caller needs it after.
    Kept(&'m Model),
    /// Given up: its large lists are dropped as they are converted (issue 23: the peak of a
    /// 1 000-service run), and all of it when the whole model is not converted.
    Done(Box<Model>),
}

/// Values a rendering thread builds once and shares among its files.
#[derive(Default)]
struct Cache {
    items: HashMap<(Collection, usize), Value>,
    /// A list with only some elements defined, by field and elements.
    lists: HashMap<(String, Arc<BTreeSet<usize>>), Value>,
}

impl Cache {
    /// The part of the model a file reads: the fields it reads, lists cut to their elements
    /// (the others undefined, so indices stay those of the model).
    fn view(
        &mut self,
        values: &Values,
        fields: &[(String, Option<Arc<BTreeSet<usize>>>)],
    ) -> Value {
        let mut map = tera::value::Map::default();
        for (name, only) in fields {
            let value = match only {
                None => values.field(name),
                Some(set) => self
                    .lists
                    .entry((name.clone(), set.clone()))
                    .or_insert_with(|| values.cut(name, set))
                    .clone(),
            };
            map.insert(tera::value::Key::from(name.clone()), value);
        }
        Value::from(map)
    }
}

/// The model as template values, shared by the rendering threads: the whole model when the
/// caller converted it, else each part built from the index's text on first use (a run that
/// renders a few files converts only the parts they read).
struct Values<'a> {
    index: &'a crate::slices::Index,
    whole: Option<Value>,
    fields: Mutex<HashMap<String, Value>>,
    elems: Mutex<HashMap<(String, usize), Value>>,
}

impl<'a> Values<'a> {
    fn new(index: &'a crate::slices::Index, whole: Option<Value>) -> Self {
        Values {
            index,
            whole,
            fields: Mutex::default(),
            elems: Mutex::default(),
        }
    }

    /// The whole model: converted by the caller, else now from the index's text (for a render
    /// that read more than its slices: rare, so not kept).
    fn whole(&self) -> Value {
        self.whole
            .clone()
            .unwrap_or_else(|| parse(self.index.raw_model()))
    }

    /// The whole model's value of a field, when the whole model was converted.
    fn in_whole(&self, name: &str) -> Option<&Value> {
        member(self.whole.as_ref()?, name)
    }

    /// The item a file is rendered for: element `i` of its collection's list.
    fn item(&self, coll: Collection, i: usize) -> Value {
        let field = crate::slices::field_of(coll);
        let from_whole = self.in_whole(field).and_then(|v| match coll {
            Collection::Topic => member(v, "topics"),
            _ => Some(v),
        });
        let item = match from_whole {
            Some(list) => list.as_array().and_then(|a| a.get(i)).cloned(),
            None => self.index.raw_item(coll, i).map(|raw| parse(Some(raw))),
        };
        item.unwrap_or_else(Value::none)
    }

    fn field(&self, name: &str) -> Value {
        if let Some(v) = self.in_whole(name) {
            return v.clone();
        }
        if let Some(v) = self.fields.lock().expect("not poisoned").get(name) {
            return v.clone();
        }
        let v = parse(self.index.raw_field(name));
        self.fields
            .lock()
            .expect("not poisoned")
            .insert(name.to_owned(), v.clone());
        v
    }

    /// A list with only the elements in `set` defined.
    fn cut(&self, name: &str, set: &BTreeSet<usize>) -> Value {
        let len = self.index.list_len(name).unwrap_or(0);
        let mut items = vec![Value::undefined(); len];
        if let Some(all) = self.in_whole(name).and_then(Value::as_array) {
            for i in set.iter().filter(|i| **i < len.min(all.len())) {
                items[*i] = all[*i].clone();
            }
            return Value::from(items);
        }
        for i in set.iter().filter(|i| **i < len) {
            let key = (name.to_owned(), *i);
            let known = self.elems.lock().expect("not poisoned").get(&key).cloned();
            items[*i] = known.unwrap_or_else(|| {
                let v = parse(self.index.raw_elem(name, *i));
                self.elems
                    .lock()
                    .expect("not poisoned")
                    .insert(key, v.clone());
                v
            });
        }
        Value::from(items)
    }
}

/// The value of a map's member `name`.
fn member<'v>(map: &'v Value, name: &str) -> Option<&'v Value> {
    map.as_map()?
        .iter()
        .find(|(k, _)| k.as_str() == Some(name))
        .map(|(_, v)| v)
}

/// A template value from serialized model text (undefined when absent).
fn parse(raw: Option<&str>) -> Value {
    use serde::de::DeserializeSeed;
    let Some(raw) = raw else {
        return Value::undefined();
    };
    let keys = std::cell::RefCell::new(HashMap::default());
    let mut de = serde_json::Deserializer::from_str(raw);
    Json(&keys)
        .deserialize(&mut de)
        .ok()
        .filter(|_| de.end().is_ok())
        .unwrap_or_else(Value::undefined)
}

/// Reads a template value straight from JSON text, in one pass: going through a
/// `serde_json::Value` first built and dropped the large fields twice, a third of a
/// one-service change at 1 000 services (issue 23). The values are those
/// `Value::from_serializable` makes of the same `serde_json::Value` (a test holds it). Map
/// keys are shared, as the static field names `from_serializable` gives a struct's are: the
/// model has some 1 500 distinct keys in 1.4 million places at 1 000 services, and a key of
/// its own each made the values a quarter larger (46 MB of the whole model's 186).
#[derive(Clone, Copy)]
struct Json<'k>(&'k std::cell::RefCell<Keys>);

type Keys = HashMap<String, tera::value::Key<'static>, crate::blueprint::FnvBuild>;

impl Json<'_> {
    fn key(&self, name: &str) -> tera::value::Key<'static> {
        let mut keys = self.0.borrow_mut();
        if let Some(k) = keys.get(name) {
            return k.clone();
        }
        let k = tera::value::Key::String(Arc::from(name));
        keys.insert(name.to_owned(), k.clone());
        k
    }
}

/// A map key, looked up without a `String` of its own.
struct KeySeed<'k>(Json<'k>);

impl<'de> serde::de::DeserializeSeed<'de> for KeySeed<'_> {
    type Value = tera::value::Key<'static>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> serde::de::Visitor<'de> for KeySeed<'_> {
    type Value = tera::value::Key<'static>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a map key")
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(self.0.key(v))
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for Json<'_> {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Json<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::none())
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::none())
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(v) = seq.next_element_seed(self)? {
            items.push(v);
        }
        // Sized exactly, as `Value::from_serializable` sizes them.
        items.shrink_to_fit();
        Ok(Value::from(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut pairs = Vec::new();
        while let Some(key) = map.next_key_seed(KeySeed(self))? {
            pairs.push((key, map.next_value_seed(self)?));
        }
        let mut out = tera::value::Map::with_capacity(pairs.len());
        out.extend(pairs);
        Ok(Value::from(out))
    }
}

fn item_value(m: &Model, coll: Collection, i: usize) -> Value {
    match coll {
        Collection::Service
        | Collection::Grpc
        | Collection::TypescriptService
        | Collection::TypescriptModule
        | Collection::FirstService
        | Collection::DocumentedService => Value::from_serializable(&m.services[i]),
        Collection::Deployable | Collection::TypescriptApp => {
            Value::from_serializable(&m.deployables[i])
        }
        Collection::Database => Value::from_serializable(&m.databases[i]),
        Collection::Env => Value::from_serializable(&m.environments[i]),
        Collection::Function => Value::from_serializable(&m.functions[i]),
        Collection::Topic => match &m.messaging {
            Some(mq) => Value::from_serializable(&mq.topics[i]),
            None => Value::none(),
        },
    }
}

fn error_text(e: &tera::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(&format!("\n  caused by: {s}"));
        source = s.source();
    }
    text
}

/// LF line endings, no trailing spaces, exactly one final newline. Most rendered files are
/// already so; they are checked in one pass and returned as they are, without a copy.
pub fn normalize(text: String) -> String {
    if is_normal(&text) {
        return text;
    }
    // `lines` also drops the `\r` of a `\r\n`.
    let mut out = String::with_capacity(text.len() + 1);
    for line in text.lines() {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    let trimmed = out.trim_end_matches('\n').len();
    out.truncate(trimmed);
    out.push('\n');
    out
}

/// What [`normalize`] would return unchanged: ends in one newline, and no line ends in white
/// space (a `\r` before a newline included).
fn is_normal(text: &str) -> bool {
    if text == "\n" {
        return true;
    }
    if !text.ends_with('\n') || text.ends_with("\n\n") {
        return false;
    }
    text.match_indices('\n').all(|(i, _)| {
        let before = text[..i].chars().next_back();
        before.is_none_or(|c| c == '\n' || !c.is_whitespace())
    })
}

fn case_filter(f: fn(&str) -> String) -> impl Fn(Cow<'_, str>, Kwargs, &State) -> String {
    move |s: Cow<'_, str>, _: Kwargs, _: &State| f(&s)
}

fn register_filters(tera: &mut Tera) {
    escape::register(tera);
    tera.register_filter("kebab", case_filter(|s| s.to_kebab_case()));
    tera.register_filter("snake", case_filter(|s| s.to_snake_case()));
    tera.register_filter("pascal", case_filter(|s| s.to_pascal_case()));
    tera.register_filter("camel", case_filter(|s| s.to_lower_camel_case()));
    tera.register_filter("shouty", case_filter(|s| s.to_shouty_snake_case()));
    tera.register_filter("titlecase", case_filter(|s| s.to_title_case()));
    // A double-quoted string that is valid YAML, JSON and HCL.
    tera.register_filter("quote", |s: Cow<'_, str>, _: Kwargs, _: &State| {
        serde_json::to_string(&*s).unwrap_or_default()
    });
    tera.register_filter("json", |v: &Value, _: Kwargs, _: &State| {
        serde_json::to_string(v).unwrap_or_default()
    });
    tera.register_filter("json_pretty", |v: &Value, _: Kwargs, _: &State| {
        serde_json::to_string_pretty(v).unwrap_or_default()
    });
}

/// A rendered tree and what it came from: the render stage's result, which the write stage
/// compares with the disk.
pub struct Generated {
    /// None when `reused` without resolving (the state's `overview` stood in for it), once a
    /// fresh tree's writer took what it needs of it (`write::run::stream_fresh`), and after a
    /// regeneration's render, which keeps only `schema` of it (issue 23: peak memory).
    pub model: Option<Model>,
    /// The model's database schema, when the model itself was dropped after the render.
    pub schema: Option<crate::migrate::Schema>,
    /// What the run's summary prints about the system.
    pub overview: crate::resolve::Overview,
    pub plan: Vec<PlannedFile>,
    /// The rendered files, in plan order; empty when `reused`. Files `trusted` are left out.
    pub files: Vec<(String, String)>,
    /// Every planned file's render key (`slices::Index::key`); empty when not computed.
    pub keys: Vec<String>,
    /// Per planned file: not rendered, as the last generation's render of it is still exact
    /// and the file on disk is as recorded (see `write::Output::trusted`); empty: none.
    pub trusted: Vec<bool>,
    pub diagnostics: crate::diagnostic::Diagnostics,
    /// `pipeline::fingerprint` of this generation's inputs.
    pub inputs: String,
    /// `slices::source_digest` of this generation's blueprint, build and templates.
    pub source: String,
    /// Rendering was skipped: the inputs are those of the last generation and the tree is
    /// exactly as it left it, so every file is unchanged.
    pub reused: bool,
    /// Not rendered yet (`files` is empty): every planned file is rendered when the writer
    /// asks, all at once ([`Generated::render_deferred`]) or chunk by chunk while a fresh tree
    /// is written ([`Generated::stream`]).
    pub deferred: Option<Deferred>,
}

/// What rendering every planned file later needs besides the model and the plan.
pub struct Deferred {
    pub renderer: Renderer,
    pub index: crate::slices::Index,
    /// Per planned file, what it reads.
    pub reads: Vec<Reads>,
}

impl Generated {
    /// The resolved model; every generation that renders or writes has it.
    pub fn model(&self) -> &Model {
        self.model
            .as_ref()
            .expect("only a reused generation goes without its model")
    }

    /// Render what was deferred into `files` (nothing when nothing was).
    pub fn render_deferred(&mut self) -> Result<(), RenderError> {
        if self.deferred.is_none() {
            return Ok(());
        }
        let mut files = Vec::with_capacity(self.plan.len());
        self.stream(usize::MAX, false, |_, chunk, _| {
            files.extend(chunk);
            Ok::<(), RenderError>(())
        })?;
        if !files.is_empty() {
            self.files = files;
        }
        Ok(())
    }

    /// Render what was deferred `chunk` files at a time, in plan order, handing each chunk to
    /// `sink` with the plan index of its first file and the chunk's keys. A file that read more
    /// than its slices gets the key of a render from the whole model, before `sink` sees it.
    /// `release_model`: drop the model once its template values are built (a caller that needs
    /// no more of it).
    pub fn stream<E: From<RenderError>>(
        &mut self,
        chunk: usize,
        release_model: bool,
        mut sink: impl FnMut(usize, Vec<(String, String)>, &[String]) -> Result<(), E>,
    ) -> Result<(), E> {
        let Some(d) = self.deferred.take() else {
            return Ok(());
        };
        let Deferred {
            renderer,
            mut index,
            reads,
        } = d;
        let todo: Vec<(&PlannedFile, &Reads)> = self.plan.iter().zip(&reads).collect();
        let model = self.model.take().expect("a deferred render has its model");
        let whole = if release_model {
            whole_values(ModelFor::Done(Box::new(model)), &mut index, &todo)
        } else {
            let whole = whole_values(ModelFor::Kept(&model), &mut index, &todo);
            self.model = Some(model);
            whole
        };
        let keys = &mut self.keys;
        let chunk = chunk.min(todo.len()).max(1);
        renderer.render_stream(&index, whole, &todo, chunk, |at, rendered| {
            let mut texts = Vec::with_capacity(rendered.len());
            for (i, (path, text, whole)) in rendered.into_iter().enumerate() {
                if whole {
                    keys[at + i] = index.key(&self.plan[at + i], &Reads::All);
                }
                texts.push((path, text));
            }
            let n = texts.len();
            sink(at, texts, &keys[at..at + n])
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_text_becomes_the_value_the_serde_json_route_makes() {
        let two_step = |t: &str| {
            Value::from_serializable(&serde_json::from_str::<serde_json::Value>(t).unwrap())
        };
        let sample = r#"{"a": [1, -2, 3.5, null, true, "x\u00e9\n"], "b": {"c": {}, "d": []}, "e": 18446744073709551615}"#;
        assert_eq!(parse(Some(sample)), two_step(sample));
        let text = crate::assets::example("ecommerce").unwrap();
        let bp = crate::blueprint::load(text, "x").blueprint.unwrap();
        let model = crate::resolve::resolve(&bp, crate::assets::presets()).unwrap();
        let json = serde_json::to_string(&model).unwrap();
        assert_eq!(parse(Some(&json)), two_step(&json));
        assert!(parse(None).is_undefined());
    }

    #[test]
    fn parsed_maps_share_one_allocation_per_key() {
        let v = parse(Some(r#"[{"name": 1, "port": 2}, {"port": 3, "name": 4}]"#));
        let key_of = |i: usize, name: &str| -> Arc<str> {
            let map = v.as_array().unwrap()[i].as_map().unwrap();
            match map.keys().find(|k| k.as_str() == Some(name)).unwrap() {
                tera::value::Key::String(s) => s.clone(),
                other => panic!("{other:?} is not a shared string key"),
            }
        };
        for name in ["name", "port"] {
            assert!(Arc::ptr_eq(&key_of(0, name), &key_of(1, name)), "{name}");
        }
        // Order is the text's, as `Value::from_serializable` keeps a struct's.
        let second: Vec<_> = v.as_array().unwrap()[1]
            .as_map()
            .unwrap()
            .keys()
            .map(|k| k.as_str().unwrap().to_owned())
            .collect();
        assert_eq!(second, ["port", "name"]);
        assert!(parse(Some("[1] x")).is_undefined(), "trailing text");
    }

    #[test]
    fn normalize_strips_trailing_space_and_blank_tail() {
        let n = |t: &str| normalize(t.to_owned());
        assert_eq!(n("a  \r\nb\n\n\n"), "a\nb\n");
        assert_eq!(n(""), "\n");
        assert_eq!(n("\n\n"), "\n");
        assert_eq!(n("a"), "a\n");
        assert_eq!(n("a\t\nb\n"), "a\nb\n");
        assert_eq!(n("a\u{a0}\nb\n"), "a\nb\n");
        assert_eq!(n("a\r\n"), "a\n");
        // Already normal: returned as is.
        for t in ["\n", "a\n", "\na\n\nb\n", "é\n", "a\rb\n"] {
            assert_eq!(n(t), t);
        }
    }

    proptest::proptest! {
        /// The one-pass check never keeps a text the line-by-line rewrite would change.
        #[test]
        fn normalize_agrees_with_the_line_by_line_rewrite(t in "[a \t\r\n\u{a0}é]{0,24}") {
            let mut slow = String::new();
            for line in t.replace("\r\n", "\n").lines() {
                slow.push_str(line.trim_end());
                slow.push('\n');
            }
            let kept = slow.trim_end_matches('\n').len();
            slow.truncate(kept);
            slow.push('\n');
            proptest::prop_assert_eq!(normalize(t.clone()), slow);
        }
    }

    #[test]
    fn case_filters_and_quote_render() {
        let mut tera = Tera::new();
        tera.autoescape_on(Vec::<&str>::new());
        register_filters(&mut tera);
        tera.add_raw_template(
            "t",
            "{{ n | snake }} {{ n | kebab }} {{ n | pascal }} {{ q | quote }}",
        )
        .unwrap();
        let mut ctx = Context::new();
        ctx.insert("n", "order-item");
        ctx.insert("q", "a\"b");
        assert_eq!(
            tera.render("t", &ctx).unwrap(),
            "order_item order-item OrderItem \"a\\\"b\""
        );
    }
}
