//! A Terraform reference check of our own, standing in for `terraform validate` (which needs
//! provider binaries from the unreachable registry).
//!
//! For every module folder (a folder with `.tf` files) it parses each file with hcl-edit and
//! checks that:
//! - every `var.X`, `local.X`, `module.X`, `data.T.N` and resource reference `T.N` is declared
//!   in the same module (names bound by `for` expressions, `dynamic` blocks, `count`, `each`,
//!   `self`, `path` and `terraform` are in scope where Terraform puts them);
//! - every argument of a `module` call is a variable of the called module, and every variable of
//!   the called module without a default is given;
//! - every `module.X.OUTPUT` names an output the called module declares;
//! - nothing is declared twice (variables, locals, outputs, modules, resources, data sources);
//! - every key of a `*.tfvars` file is a variable of the root module it belongs to;
//! - every variable and local is used (Terraform allows dead ones; generated code should not
//!   have them).

use hcl_edit::expr::{Expression, ForExpr, Traversal, TraversalOperator};
use hcl_edit::structure::{Attribute, Block, BlockLabel, Body, Structure};
use hcl_edit::visit::{Visit, visit_expr, visit_for_cond, visit_traversal_operator};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// What one module declares and references.
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
    pub calls: BTreeMap<String, ModuleCall>,
    refs: Vec<Ref>,
    pub problems: Vec<String>,
}

#[derive(Debug, Default, Clone)]
pub struct ModuleCall {
    pub source: String,
    pub args: Vec<String>,
    file: String,
}

#[derive(Debug)]
struct Ref {
    file: String,
    /// Path segments of the reference: `["var", "name"]`, `["module", "x", "out"]`, `["aws_vpc", "main"]`.
    parts: Vec<String>,
}

const META_ARGS: [&str; 6] = [
    "source",
    "version",
    "count",
    "for_each",
    "providers",
    "depends_on",
];
const BUILTIN_ROOTS: [&str; 5] = ["count", "each", "self", "path", "terraform"];

fn label(l: &BlockLabel) -> String {
    l.as_str().to_owned()
}

impl Module {
    /// Parse every `*.tf` file of one folder. Parse errors are problems.
    pub fn load(dir: &Path) -> Module {
        let mut m = Module::default();
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.retain(|p| p.extension().is_some_and(|e| e == "tf"));
        files.sort();
        for f in files {
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&f).unwrap_or_default();
            m.add_source(&name, &text);
        }
        m
    }

    /// Add one file's text (used by `load` and by tests).
    pub fn add_source(&mut self, file: &str, text: &str) {
        match text.parse::<Body>() {
            Ok(body) => self.add_body(file, &body),
            Err(e) => self.problems.push(format!("{file}: parse error: {e}")),
        }
    }

    fn declare(&mut self, file: &str, what: &str, set_name: String, fresh: bool) {
        if !fresh {
            self.problems
                .push(format!("{file}: {what} `{set_name}` is declared twice"));
        }
    }

    fn add_body(&mut self, file: &str, body: &Body) {
        for s in body.iter() {
            let Structure::Block(b) = s else {
                self.problems.push(format!(
                    "{file}: unexpected top-level attribute `{}`",
                    s.as_attribute().map(|a| a.key.as_str()).unwrap_or("?")
                ));
                continue;
            };
            let kind = b.ident.as_str();
            let labels: Vec<String> = b.labels.iter().map(label).collect();
            match (kind, labels.as_slice()) {
                ("variable", [n]) => {
                    let has_default = b.body.get_attribute("default").is_some();
                    let fresh = self.variables.insert(n.clone(), has_default).is_none();
                    self.declare(file, "variable", n.clone(), fresh);
                    // `type` is a type constraint (`string`, `list(object({..}))`), not values.
                    let mut body = b.body.clone();
                    body.remove_attribute("type");
                    self.collect_refs(file, &body, &[]);
                }
                ("locals", []) => {
                    for a in b.body.attributes() {
                        let fresh = self.locals.insert(a.key.to_string());
                        self.declare(file, "local", a.key.to_string(), fresh);
                    }
                    self.collect_refs(file, &b.body, &[]);
                }
                ("output", [n]) => {
                    let fresh = self.outputs.insert(n.clone());
                    self.declare(file, "output", n.clone(), fresh);
                    self.collect_refs(file, &b.body, &[]);
                }
                ("resource", [t, n]) => {
                    let key = format!("{t}.{n}");
                    let fresh = self.resources.insert(key.clone());
                    self.declare(file, "resource", key, fresh);
                    self.collect_refs(file, &b.body, &[]);
                }
                ("data", [t, n]) => {
                    let key = format!("{t}.{n}");
                    let fresh = self.data.insert(key.clone());
                    self.declare(file, "data source", key, fresh);
                    self.collect_refs(file, &b.body, &[]);
                }
                ("module", [n]) => {
                    let source = b
                        .body
                        .get_attribute("source")
                        .and_then(|a| a.value.as_str().map(str::to_owned))
                        .unwrap_or_default();
                    let args = b
                        .body
                        .attributes()
                        .map(|a| a.key.to_string())
                        .filter(|k| !META_ARGS.contains(&k.as_str()))
                        .collect();
                    let call = ModuleCall {
                        source,
                        args,
                        file: file.to_owned(),
                    };
                    let fresh = self.calls.insert(n.clone(), call).is_none();
                    self.declare(file, "module", n.clone(), fresh);
                    self.collect_refs(file, &b.body, &[]);
                }
                ("terraform" | "provider" | "moved" | "import" | "check" | "removed", _) => {
                    self.collect_refs(file, &b.body, &[]);
                }
                _ => self.problems.push(format!(
                    "{file}: unexpected block `{kind}` with {} label(s)",
                    labels.len()
                )),
            }
        }
    }

    fn collect_refs(&mut self, file: &str, body: &Body, scope: &[String]) {
        let mut v = RefVisitor {
            scope: scope.to_vec(),
            found: Vec::new(),
        };
        walk_body(&mut v, body);
        for parts in v.found {
            self.refs.push(Ref {
                file: file.to_owned(),
                parts,
            });
        }
    }

    /// Variables and locals nothing refers to: legal Terraform, but dead code in generated output.
    pub fn unused(&self) -> Vec<String> {
        let used = |kind: &str, name: &str| {
            self.refs.iter().any(|r| {
                r.parts.first().map(String::as_str) == Some(kind)
                    && r.parts.get(1).map(String::as_str) == Some(name)
            })
        };
        let mut out: Vec<String> = self
            .variables
            .keys()
            .filter(|v| !used("var", v))
            .map(|v| format!("variable `{v}` is never used"))
            .collect();
        out.extend(
            self.locals
                .iter()
                .filter(|l| !used("local", l))
                .map(|l| format!("local `{l}` is never used")),
        );
        out
    }

    /// Problems inside this module alone (declarations and references).
    pub fn check_local(&self) -> Vec<String> {
        let mut out = self.problems.clone();
        for r in &self.refs {
            let p = &r.parts;
            let get = |i: usize| p.get(i).map(String::as_str);
            let missing = match get(0) {
                Some("var") => match get(1) {
                    Some(n) if self.variables.contains_key(n) => None,
                    Some(n) => Some(format!("undeclared variable `var.{n}`")),
                    None => Some("bare `var`".to_owned()),
                },
                Some("local") => match get(1) {
                    Some(n) if self.locals.contains(n) => None,
                    Some(n) => Some(format!("undeclared local `local.{n}`")),
                    None => Some("bare `local`".to_owned()),
                },
                Some("module") => match get(1) {
                    Some(n) if self.calls.contains_key(n) => None,
                    Some(n) => Some(format!("undeclared module `module.{n}`")),
                    None => Some("bare `module`".to_owned()),
                },
                Some("data") => match (get(1), get(2)) {
                    (Some(t), Some(n)) if self.data.contains(&format!("{t}.{n}")) => None,
                    (Some(t), Some(n)) => Some(format!("undeclared data source `data.{t}.{n}`")),
                    _ => Some("incomplete `data` reference".to_owned()),
                },
                Some(t) => match get(1) {
                    Some(n) if self.resources.contains(&format!("{t}.{n}")) => None,
                    Some(n) => Some(format!("undeclared resource `{t}.{n}`")),
                    None => Some(format!("unknown name `{t}`")),
                },
                None => None,
            };
            if let Some(msg) = missing {
                out.push(format!("{}: {msg}", r.file));
            }
        }
        out
    }
}

/// The references of a body, with the names in scope.
struct RefVisitor {
    scope: Vec<String>,
    found: Vec<Vec<String>>,
}

impl RefVisitor {
    fn root(&mut self, name: &str, ops: &[String]) {
        if self.scope.iter().any(|s| s == name) || BUILTIN_ROOTS.contains(&name) {
            return;
        }
        let mut parts = vec![name.to_owned()];
        parts.extend(ops.iter().cloned());
        self.found.push(parts);
    }
}

impl Visit for RefVisitor {
    fn visit_expr(&mut self, expr: &Expression) {
        match expr {
            Expression::Variable(v) => self.root(v.as_str(), &[]),
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
            self.root(v.as_str(), &names);
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

/// Walk a body, handling the scoping of nested blocks: `dynamic "x"` binds `x` (or its
/// `iterator`) in its `content`; `lifecycle` and `provider` name things, they do not refer to
/// values.
fn walk_body(v: &mut RefVisitor, body: &Body) {
    for s in body.iter() {
        match s {
            Structure::Attribute(a) => walk_attr(v, a),
            Structure::Block(b) => walk_block(v, b),
        }
    }
}

fn walk_attr(v: &mut RefVisitor, a: &Attribute) {
    if matches!(a.key.as_str(), "provider" | "ignore_changes") {
        return;
    }
    v.visit_expr(&a.value);
}

fn walk_block(v: &mut RefVisitor, b: &Block) {
    if b.ident.as_str() == "dynamic" {
        let iterator = b
            .body
            .get_attribute("iterator")
            .and_then(|a| match &a.value {
                Expression::Variable(n) => Some(n.as_str().to_owned()),
                _ => None,
            })
            .or_else(|| b.labels.first().map(label))
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
        return;
    }
    walk_body(v, &b.body);
}

/// Every folder under `root` that holds `.tf` files.
pub fn module_dirs(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        let mut has_tf = false;
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "tf") {
                has_tf = true;
            }
        }
        if has_tf {
            out.push(d);
        }
    }
    out.sort();
    out
}

/// Check every module under `root`, module calls across folders, and `*.tfvars` files against
/// the root module of their `envs/` folder's parent. Returns the problems, each prefixed with
/// its folder relative to `root`.
pub fn check_tree(root: &Path) -> Vec<String> {
    let dirs = module_dirs(root);
    let mods: BTreeMap<PathBuf, Module> =
        dirs.iter().map(|d| (d.clone(), Module::load(d))).collect();
    let rel = |p: &Path| {
        p.strip_prefix(root)
            .unwrap_or(p)
            .to_string_lossy()
            .into_owned()
    };
    let mut out = Vec::new();
    for (dir, m) in &mods {
        for p in m.check_local() {
            out.push(format!("{}/{p}", rel(dir)));
        }
        for p in m.unused() {
            out.push(format!("{}: {p}", rel(dir)));
        }
        for (name, call) in &m.calls {
            if !call.source.starts_with("./") && !call.source.starts_with("../") {
                out.push(format!(
                    "{}/{}: module `{name}` has a non-local source `{}`",
                    rel(dir),
                    call.file,
                    call.source
                ));
                continue;
            }
            let target = normalize(&dir.join(&call.source));
            let Some(callee) = mods.get(&target) else {
                out.push(format!(
                    "{}/{}: module `{name}` source `{}` is not a module folder",
                    rel(dir),
                    call.file,
                    call.source
                ));
                continue;
            };
            out.extend(check_call(&rel(dir), name, call, m, callee));
        }
    }
    for dir in &dirs {
        let envs = dir.join("envs");
        let Ok(rd) = std::fs::read_dir(&envs) else {
            continue;
        };
        let mut files: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
        files.sort();
        for f in files
            .iter()
            .filter(|f| f.extension().is_some_and(|e| e == "tfvars"))
        {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            out.extend(
                check_tfvars(&text, &mods[dir])
                    .into_iter()
                    .map(|p| format!("{}: {p}", rel(f))),
            );
        }
    }
    out
}

/// Problems of one module call: its arguments against the callee's variables, its outputs
/// against what the caller reads.
pub fn check_call(
    dir: &str,
    name: &str,
    call: &ModuleCall,
    caller: &Module,
    callee: &Module,
) -> Vec<String> {
    let mut out = Vec::new();
    for a in &call.args {
        if !callee.variables.contains_key(a) {
            out.push(format!(
                "{dir}/{}: module `{name}` has no variable `{a}`",
                call.file
            ));
        }
    }
    for (v, has_default) in &callee.variables {
        if !has_default && !call.args.contains(v) {
            out.push(format!(
                "{dir}/{}: module `{name}` needs variable `{v}`",
                call.file
            ));
        }
    }
    for r in &caller.refs {
        if r.parts.first().map(String::as_str) == Some("module")
            && r.parts.get(1).map(String::as_str) == Some(name)
            && let Some(o) = r.parts.get(2)
            && !callee.outputs.contains(o)
        {
            out.push(format!(
                "{dir}/{}: module `{name}` has no output `{o}`",
                r.file
            ));
        }
    }
    out
}

/// Keys of a tfvars file that the module does not declare, and parse errors.
pub fn check_tfvars(text: &str, root: &Module) -> Vec<String> {
    match text.parse::<Body>() {
        Err(e) => vec![format!("parse error: {e}")],
        Ok(body) => body
            .iter()
            .filter_map(|s| match s {
                Structure::Attribute(a) if !root.variables.contains_key(a.key.as_str()) => Some(
                    format!("`{}` is not a variable of the module", a.key.as_str()),
                ),
                Structure::Attribute(_) => None,
                Structure::Block(b) => Some(format!("unexpected block `{}`", b.ident.as_str())),
            })
            .collect(),
    }
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
