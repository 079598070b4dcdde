//! Terraform references for `check`: in every folder of `.tf` files (a module), each `var.X`,
//! `local.X`, `module.X`, `data.T.N` and resource reference `T.N` is declared in that module;
//! each call of a local module (`source = "./…"`) passes only variables the module declares,
//! passes every variable without a default, and reads only outputs it declares. Parsed with
//! hcl-edit, whose spans give each finding its line and column. Registry modules are not looked
//! into (that needs `terraform init`).
//!
//! [`modules`], [`findings`] and [`Module`] are public so that the Terraform test suite checks
//! generated Terraform with this same reading, adding only rules meant for generated code
//! (nothing unused, nothing declared twice, only local module sources).

use super::{Finding, Severity};
use crate::diagnostic::suggest;
use hcl_edit::Span;
use hcl_edit::expr::{Expression, ForExpr, Traversal, TraversalOperator};
use hcl_edit::structure::{Attribute, Block, Body, Structure};
use hcl_edit::visit::{Visit, visit_expr, visit_for_cond, visit_traversal_operator};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const SKIP_DIRS: [&str; 5] = [
    ".git",
    ".terraform",
    "target",
    "node_modules",
    ".codex-system-design",
];
/// Names Terraform binds itself.
const BUILTIN_ROOTS: [&str; 5] = ["count", "each", "self", "path", "terraform"];
/// Arguments of a `module` block that are not the module's variables.
const META_ARGS: [&str; 6] = [
    "source",
    "version",
    "count",
    "for_each",
    "providers",
    "depends_on",
];

/// A place in a file: (file relative to the checked folder, line, column).
pub type At = (String, u32, u32);

/// What one folder of `.tf` files declares and references.
#[derive(Debug, Default)]
pub struct Module {
    /// Variable name → has a default.
    pub variables: BTreeMap<String, bool>,
    pub locals: BTreeSet<String>,
    pub outputs: BTreeSet<String>,
    /// `type.name` of managed resources.
    pub resources: BTreeSet<String>,
    /// `type.name` of data sources.
    pub data: BTreeSet<String>,
    pub calls: BTreeMap<String, Call>,
    /// Each reference: its root and up to two attributes (`["module", "x", "out"]`), and where.
    pub refs: Vec<(Vec<String>, At)>,
    /// Files that do not parse (C028).
    pub broken: Vec<Finding>,
    /// Names declared a second time (Terraform refuses them; `check` leaves that to it):
    /// ("variable `x`", where).
    pub duplicates: Vec<(String, At)>,
    /// Top-level attributes and blocks Terraform does not know: ("block `x`", where).
    pub unknown: Vec<(String, At)>,
}

#[derive(Debug)]
pub struct Call {
    pub source: String,
    /// The arguments that are variables of the called module (no meta-arguments).
    pub args: Vec<(String, At)>,
    pub at: At,
}

fn finding(code: &'static str, at: &At, message: String, help: String) -> Finding {
    Finding {
        code,
        severity: Severity::Error,
        file: at.0.clone(),
        line: at.1,
        col: at.2,
        message,
        help,
    }
}

/// 1-based line and column of a byte offset (the definition [`File::position`] is tested against).
#[cfg(test)]
fn position(text: &str, offset: usize) -> (u32, u32) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line as u32, col as u32)
}

struct File<'a> {
    name: String,
    text: &'a str,
    /// Byte offset of the start of each line: a position is then a binary search, not a
    /// count of every newline before it (a 3 MB root module made that quadratic).
    lines: Vec<usize>,
}

impl<'a> File<'a> {
    fn new(name: String, text: &'a str) -> Self {
        let starts = text.match_indices('\n').map(|(i, _)| i + 1);
        let lines = std::iter::once(0).chain(starts).collect();
        File { name, text, lines }
    }

    fn at(&self, span: Option<std::ops::Range<usize>>) -> At {
        let (l, c) = span.map_or((0, 0), |s| self.position(s.start));
        (self.name.clone(), l, c)
    }

    /// What [`position`] gives, from the line index.
    fn position(&self, offset: usize) -> (u32, u32) {
        let offset = offset.min(self.text.len());
        let line = self.lines.partition_point(|&start| start <= offset);
        let start = self.lines[line - 1];
        let col = self.text[start..offset].chars().count() + 1;
        (line as u32, col as u32)
    }
}

impl Module {
    /// Read one file's text into the module (`name`: the file as findings show it).
    pub fn add_source(&mut self, name: &str, text: &str) {
        self.add_file(&File::new(name.to_owned(), text));
    }

    fn duplicate(&mut self, fresh: bool, what: String, at: At) {
        if !fresh {
            self.duplicates.push((what, at));
        }
    }

    fn add_file(&mut self, f: &File) {
        let body = match f.text.parse::<Body>() {
            Ok(b) => b,
            Err(e) => {
                let at = (
                    f.name.clone(),
                    e.location().line() as u32,
                    e.location().column() as u32,
                );
                let msg = format!("Terraform file does not parse: {}", e.message());
                let help = "fix the syntax (`terraform fmt` shows where)".to_owned();
                self.broken.push(finding("C028", &at, msg, help));
                return;
            }
        };
        for s in body.iter() {
            match s {
                Structure::Block(b) => self.add_block(f, b),
                Structure::Attribute(a) => {
                    let what = format!("top-level attribute `{}`", a.key);
                    self.unknown.push((what, f.at(a.key.span())));
                }
            }
        }
    }

    fn add_block(&mut self, f: &File, b: &Block) {
        let labels: Vec<&str> = b.labels.iter().map(|l| l.as_str()).collect();
        // Only a variable's body is changed; cloning every block's body cost a tenth of `check`.
        let mut without_type = None;
        match (b.ident.as_str(), labels.as_slice()) {
            ("variable", [n]) => {
                let has_default = b.body.get_attribute("default").is_some();
                let fresh = self
                    .variables
                    .insert((*n).to_owned(), has_default)
                    .is_none();
                self.duplicate(fresh, format!("variable `{n}`"), f.at(b.ident.span()));
                let mut body = b.body.clone();
                body.remove_attribute("type"); // a type constraint, not values
                without_type = Some(body);
            }
            ("locals", []) => {
                for a in b.body.attributes() {
                    let fresh = self.locals.insert(a.key.to_string());
                    self.duplicate(fresh, format!("local `{}`", a.key), f.at(a.key.span()));
                }
            }
            ("output", [n]) => {
                let fresh = self.outputs.insert((*n).to_owned());
                self.duplicate(fresh, format!("output `{n}`"), f.at(b.ident.span()));
            }
            ("resource", [t, n]) => {
                let fresh = self.resources.insert(format!("{t}.{n}"));
                self.duplicate(fresh, format!("resource `{t}.{n}`"), f.at(b.ident.span()));
            }
            ("data", [t, n]) => {
                let fresh = self.data.insert(format!("{t}.{n}"));
                self.duplicate(
                    fresh,
                    format!("data source `{t}.{n}`"),
                    f.at(b.ident.span()),
                );
            }
            ("module", [n]) => {
                let call = Call {
                    source: b
                        .body
                        .get_attribute("source")
                        .and_then(|a| a.value.as_str().map(str::to_owned))
                        .unwrap_or_default(),
                    args: b
                        .body
                        .attributes()
                        .filter(|a| !META_ARGS.contains(&a.key.as_str()))
                        .map(|a| (a.key.to_string(), f.at(a.key.span())))
                        .collect(),
                    at: f.at(b.ident.span()),
                };
                let at = call.at.clone();
                let fresh = self.calls.insert((*n).to_owned(), call).is_none();
                self.duplicate(fresh, format!("module `{n}`"), at);
            }
            ("terraform" | "provider" | "moved" | "import" | "check" | "removed", _) => {}
            (kind, _) => {
                let what = format!("block `{kind}` with {} label(s)", labels.len());
                self.unknown.push((what, f.at(b.ident.span())));
            }
        }
        let mut v = RefVisitor {
            scope: Vec::new(),
            found: Vec::new(),
        };
        walk_body(&mut v, without_type.as_ref().unwrap_or(&b.body));
        self.refs
            .extend(v.found.into_iter().map(|(parts, span)| (parts, f.at(span))));
    }

    /// A reference this module does not declare: (what, the name, names to suggest from).
    fn undeclared(&self, parts: &[String]) -> Option<(String, String, Vec<String>)> {
        let get = |i: usize| parts.get(i).map(String::as_str);
        let keys = |s: &BTreeSet<String>| s.iter().cloned().collect::<Vec<_>>();
        match (get(0)?, get(1), get(2)) {
            ("var", Some(n), _) if !self.variables.contains_key(n) => Some((
                format!("variable `var.{n}`"),
                n.to_owned(),
                self.variables.keys().cloned().collect(),
            )),
            ("local", Some(n), _) if !self.locals.contains(n) => Some((
                format!("local `local.{n}`"),
                n.to_owned(),
                keys(&self.locals),
            )),
            ("module", Some(n), _) if !self.calls.contains_key(n) => Some((
                format!("module `module.{n}`"),
                n.to_owned(),
                self.calls.keys().cloned().collect(),
            )),
            ("data", Some(t), Some(n)) if !self.data.contains(&format!("{t}.{n}")) => Some((
                format!("data source `data.{t}.{n}`"),
                format!("{t}.{n}"),
                keys(&self.data),
            )),
            ("var" | "local" | "module" | "data", _, _) => None,
            (t, Some(n), _) if !self.resources.contains(&format!("{t}.{n}")) => Some((
                format!("resource `{t}.{n}`"),
                format!("{t}.{n}"),
                keys(&self.resources),
            )),
            _ => None,
        }
    }
}

/// The references of a body with their spans, minus names bound by `for` and `dynamic`.
struct RefVisitor {
    scope: Vec<String>,
    found: Vec<(Vec<String>, Option<std::ops::Range<usize>>)>,
}

impl RefVisitor {
    fn root(&mut self, name: &str, ops: Vec<String>, span: Option<std::ops::Range<usize>>) {
        if self.scope.iter().any(|s| s == name) || BUILTIN_ROOTS.contains(&name) {
            return;
        }
        let mut parts = vec![name.to_owned()];
        parts.extend(ops);
        self.found.push((parts, span));
    }
}

impl Visit for RefVisitor {
    fn visit_expr(&mut self, expr: &Expression) {
        match expr {
            Expression::Variable(v) => self.root(v.as_str(), Vec::new(), v.span()),
            _ => visit_expr(self, expr),
        }
    }

    fn visit_traversal(&mut self, t: &Traversal) {
        if let Expression::Variable(v) = &t.expr {
            let names: Vec<String> = t
                .operators
                .iter()
                .map_while(|op| match &**op {
                    TraversalOperator::GetAttr(id) => Some(id.as_str().to_owned()),
                    _ => None,
                })
                .take(2)
                .collect();
            self.root(v.as_str(), names, t.span());
        } else {
            self.visit_expr(&t.expr);
        }
        for op in &t.operators {
            visit_traversal_operator(self, op);
        }
    }

    fn visit_for_expr(&mut self, f: &ForExpr) {
        self.visit_expr(&f.intro.collection_expr);
        let before = self.scope.len();
        if let Some(k) = &f.intro.key_var {
            self.scope.push(k.as_str().to_owned());
        }
        self.scope.push(f.intro.value_var.as_str().to_owned());
        if let Some(k) = &f.key_expr {
            self.visit_expr(k);
        }
        self.visit_expr(&f.value_expr);
        if let Some(c) = &f.cond {
            visit_for_cond(self, c);
        }
        self.scope.truncate(before);
    }
}

fn walk_body(v: &mut RefVisitor, body: &Body) {
    for s in body.iter() {
        match s {
            Structure::Attribute(a) => walk_attr(v, a),
            Structure::Block(b) => walk_block(v, b),
        }
    }
}

/// `provider = aws.east` and `ignore_changes = [tags]` name things; they are not values.
fn walk_attr(v: &mut RefVisitor, a: &Attribute) {
    if !matches!(a.key.as_str(), "provider" | "ignore_changes") {
        v.visit_expr(&a.value);
    }
}

/// `dynamic "x"` binds `x` (or its `iterator`) inside its `content`.
fn walk_block(v: &mut RefVisitor, b: &Block) {
    if b.ident.as_str() != "dynamic" {
        return walk_body(v, &b.body);
    }
    let iterator = b
        .body
        .get_attribute("iterator")
        .and_then(|a| match &a.value {
            Expression::Variable(n) => Some(n.as_str().to_owned()),
            _ => None,
        })
        .or_else(|| b.labels.first().map(|l| l.as_str().to_owned()))
        .unwrap_or_default();
    for s in b.body.iter() {
        match s {
            Structure::Attribute(a) if a.key.as_str() == "iterator" => {}
            Structure::Attribute(a) => walk_attr(v, a),
            Structure::Block(inner) => {
                v.scope.push(iterator.clone());
                walk_body(v, &inner.body);
                v.scope.pop();
            }
        }
    }
}

fn module_dirs(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut has_tf = false;
    for e in rd.flatten() {
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        // The entry's own type needs no `stat` (a symbolic link still asks where it points).
        let is_dir = match e.file_type() {
            Ok(t) if !t.is_symlink() => t.is_dir(),
            _ => p.is_dir(),
        };
        if is_dir && !SKIP_DIRS.contains(&name.as_str()) {
            module_dirs(&p, out);
        } else if name.ends_with(".tf") {
            has_tf = true;
        }
    }
    if has_tf {
        out.push(dir.to_path_buf());
    }
}

fn load(root: &Path, dir: &Path) -> Module {
    let mut m = Module::default();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "tf"));
    files.sort();
    for path in files {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let name = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .to_string_lossy()
            .replace('\\', "/");
        m.add_file(&File::new(name, &text));
    }
    m
}

/// Every Terraform finding under `root`, and the number of modules (folders of `.tf` files).
pub fn check(root: &Path) -> (Vec<Finding>, usize) {
    let mods = modules(root);
    (findings(root, &mods), mods.len())
}

/// Every folder of `.tf` files under `root` (normalised path → what it declares and
/// references), read in parallel; files are named relative to `root`.
pub fn modules(root: &Path) -> BTreeMap<PathBuf, Module> {
    let mut dirs = Vec::new();
    module_dirs(root, &mut dirs);
    dirs.sort();
    let loaded = crate::parallel::batches(&dirs, 1, |d, _: &mut ()| {
        (normalize(&d[0]), load(root, &d[0]))
    });
    loaded.into_iter().collect()
}

impl Module {
    /// C026: the references this module does not declare.
    pub fn undeclared_refs(&self) -> Vec<Finding> {
        let mut out = Vec::new();
        for (parts, at) in &self.refs {
            let Some((what, wanted, names)) = self.undeclared(parts) else {
                continue;
            };
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            let help = if names.is_empty() {
                "declare it in this module (a folder of `.tf` files is one module)".to_owned()
            } else {
                suggest(&wanted, &names)
            };
            let msg = format!("{what} is not declared in this module");
            out.push(finding("C026", at, msg, help));
        }
        out
    }
}

/// The findings (C026–C029) of the modules [`modules`] read under `root`.
pub fn findings(root: &Path, mods: &BTreeMap<PathBuf, Module>) -> Vec<Finding> {
    let mut out = Vec::new();
    for (dir, m) in mods {
        out.extend(m.broken.iter().cloned());
        out.extend(m.undeclared_refs());
        let reads = module_reads(m);
        for (name, call) in &m.calls {
            if !call.source.starts_with("./") && !call.source.starts_with("../") {
                continue; // a registry or git module: not in this folder
            }
            match mods.get(&normalize(&dir.join(&call.source))) {
                Some(callee) => {
                    let read = reads.get(name.as_str()).map_or(&[][..], Vec::as_slice);
                    out.extend(check_call(name, call, read, callee));
                }
                None => out.push(finding(
                    "C027",
                    &call.at,
                    format!(
                        "module `{name}`: source `{}` is no folder of `.tf` files",
                        call.source
                    ),
                    "point `source` at the module's folder".into(),
                )),
            }
        }
    }
    for (dir, m) in mods {
        for f in tfvars_files(dir) {
            out.extend(check_tfvars(root, &f, m));
        }
    }
    out
}

/// The `*.tfvars` files that feed a module: beside its `.tf` files or in its `envs/` folder.
fn tfvars_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = [dir.to_path_buf(), dir.join("envs")]
        .iter()
        .filter_map(|d| std::fs::read_dir(d).ok())
        .flat_map(|rd| rd.flatten().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "tfvars"))
        .collect();
    files.sort();
    files
}

/// Keys of a tfvars file that are no variable of the module (Terraform only warns, and the
/// value is lost).
fn check_tfvars(root: &Path, path: &Path, m: &Module) -> Vec<Finding> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    let name = path
        .strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/");
    let file = File::new(name, &text);
    let Ok(body) = text.parse::<Body>() else {
        return Vec::new(); // `terraform` reports it; not a cross-reference
    };
    let vars: Vec<&str> = m.variables.keys().map(String::as_str).collect();
    body.attributes()
        .filter(|a| !m.variables.contains_key(a.key.as_str()))
        .map(|a| {
            let key = a.key.as_str();
            Finding {
                severity: Severity::Warning,
                ..finding(
                    "C029",
                    &file.at(a.key.span()),
                    format!("`{key}` in {} is no variable of the module", file.name),
                    suggest(key, &vars),
                )
            }
        })
        .collect()
}

/// What a module reads of each module it calls: call name → (output, where), looked up once
/// per call instead of scanning every reference per call.
fn module_reads(m: &Module) -> BTreeMap<&str, Vec<(&str, &At)>> {
    let mut out: BTreeMap<&str, Vec<(&str, &At)>> = BTreeMap::new();
    for (parts, at) in &m.refs {
        if let [kind, n, o, ..] = parts.as_slice()
            && kind == "module"
        {
            out.entry(n.as_str()).or_default().push((o.as_str(), at));
        }
    }
    out
}

/// A module call's arguments against the callee's variables, and what the caller reads of it
/// (`read`: output, where) against the callee's outputs.
fn check_call(name: &str, call: &Call, read: &[(&str, &At)], callee: &Module) -> Vec<Finding> {
    let mut out = Vec::new();
    let vars: Vec<&str> = callee.variables.keys().map(String::as_str).collect();
    for (a, at) in &call.args {
        if !callee.variables.contains_key(a) {
            let msg = format!("module `{name}` has no variable `{a}`");
            out.push(finding("C027", at, msg, suggest(a, &vars)));
        }
    }
    let given: Vec<&str> = call.args.iter().map(|(a, _)| a.as_str()).collect();
    for (v, has_default) in &callee.variables {
        if !has_default && !given.contains(&v.as_str()) {
            let msg = format!("module `{name}` needs variable `{v}`, which the call does not pass");
            out.push(finding(
                "C027",
                &call.at,
                msg,
                format!("add `{v} = …` to the module block"),
            ));
        }
    }
    let outputs: Vec<&str> = callee.outputs.iter().map(String::as_str).collect();
    for &(o, at) in read {
        if !callee.outputs.contains(o) {
            let msg = format!("module `{name}` has no output `{o}`");
            out.push(finding("C027", at, msg, suggest(o, &outputs)));
        }
    }
    out
}

fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{File, position};

    #[test]
    fn byte_offsets_become_lines_and_columns() {
        assert_eq!(position("a\nbc = x", 7), (2, 6));
        assert_eq!(position("x", 0), (1, 1));
    }

    #[test]
    fn the_line_index_gives_what_counting_gives() {
        let text = "a\n\nbé = x\n\n";
        let f = File::new(String::new(), text);
        for offset in (0..=text.len()).filter(|&o| text.is_char_boundary(o)) {
            assert_eq!(
                f.position(offset),
                position(text, offset),
                "offset {offset}"
            );
        }
    }
}
