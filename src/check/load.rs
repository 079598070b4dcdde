//! Reading a tree for `check`: every YAML file, parsed with positions, sorted into Kubernetes /
//! Istio objects, kustomizations and compose files. Each object gets the namespaces it is
//! deployed into: the namespace set by the outermost kustomization that includes it (one per
//! kustomize root, e.g. one per overlay), else its own `metadata.namespace`.

use crate::blueprint::node::{Key, Loc, Node, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

const SKIP_DIRS: [&str; 6] = [
    ".git",
    "target",
    "node_modules",
    ".codex-system-design",
    ".terraform",
    "__pycache__",
];

/// A Kubernetes or Istio object.
#[derive(Debug)]
pub struct Obj {
    pub file: String,
    pub kind: String,
    pub name: String,
    pub node: Node,
    /// Namespaces it ends up in (empty: no namespace known, matches any).
    pub namespaces: BTreeSet<String>,
}

#[derive(Debug)]
pub struct Compose {
    pub file: String,
    pub node: Node,
}

#[derive(Debug, Default)]
pub struct Tree {
    pub objects: Vec<Obj>,
    pub composes: Vec<Compose>,
    /// Files that are not valid YAML: (file, message, location).
    pub broken: Vec<(String, String, Option<Loc>)>,
    /// Files that are not UTF-8: (file, message, location of the first bad byte).
    pub not_utf8: Vec<(String, String, Loc)>,
    /// ConfigMaps and Secrets made by kustomize generators: (kind, name).
    pub generated: Vec<(String, String)>,
    /// Kustomization resources that do not exist: (kustomization file, entry, location).
    pub missing_resources: Vec<(String, String, Loc)>,
    pub files: usize,
}

struct Kustomization {
    namespace: Option<String>,
    /// Resolved resource paths: files, or folders holding a kustomization.
    resources: Vec<PathBuf>,
}

/// One file as read and parsed (in parallel, before the files are sorted into the tree).
enum Read {
    NotUtf8(String, Loc),
    Broken(String, Option<Loc>),
    Docs(Vec<Node>),
}

fn read(path: &Path) -> std::io::Result<Read> {
    let text = match String::from_utf8(std::fs::read(path)?) {
        Ok(t) => t,
        Err(e) => {
            // Reported, not skipped: its references would otherwise go unchecked while
            // the summary says every reference resolves.
            let loc = position(e.as_bytes(), e.utf8_error().valid_up_to());
            return Ok(Read::NotUtf8(
                "not UTF-8 (YAML files are UTF-8)".to_owned(),
                loc,
            ));
        }
    };
    if let Some(docs) = fast(path, &text) {
        return Ok(Read::Docs(docs));
    }
    if !needs_nodes(path) && super::syntax::pass(&text) == super::syntax::Pass::Plain {
        return Ok(Read::Docs(Vec::new()));
    }
    Ok(match parse_docs(&text) {
        Ok(d) => Read::Docs(kept(path, d)),
        Err((msg, loc)) => Read::Broken(msg, loc),
    })
}

/// The documents [`load`] keeps, read by the fast path for plain block YAML (most manifests,
/// in a fraction of the parser's time), or `None` when it gives up and the parser must read
/// the file as before.
fn fast(path: &Path, text: &str) -> Option<Vec<Node>> {
    use crate::blueprint::node::fast;
    if !needs_nodes(path) && fast::syntax(text)? == fast::Syntax::Plain {
        return Some(Vec::new());
    }
    fast::documents(text).map(|docs| kept(path, docs))
}

/// Files whose documents [`load`] uses whatever keys they have: kustomizations and compose
/// files. Any other file is kept only for documents with `apiVersion` and `kind`, which the
/// syntax-only pass hands to the node builder.
fn needs_nodes(path: &Path) -> bool {
    let name = file_name(path);
    name == "kustomization.yaml" || name == "kustomization.yml" || is_compose_name(&name)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map_or(String::new(), |n| n.to_string_lossy().to_lowercase())
}

/// The documents of a file that [`load`] uses, the others dropped while still on the worker
/// thread: an OpenAPI document, a Prometheus rules file or a CI workflow is parsed (a file
/// that does not parse is reported) but its tree is not kept, which halves peak memory.
fn kept(path: &Path, mut docs: Vec<Node>) -> Vec<Node> {
    let name = file_name(path);
    if name == "kustomization.yaml" || name == "kustomization.yml" {
        docs.truncate(1);
    } else if is_compose_name(&name) {
        let services = docs.into_iter().find(|d| get(d, &["services"]).is_some());
        docs = services.into_iter().collect();
    } else {
        docs.retain(
            |d| match (str_at(d, &["apiVersion"]), str_at(d, &["kind"])) {
                (Some(api), Some(_)) => !api.contains("kustomize.config.k8s.io"),
                _ => false,
            },
        );
    }
    docs
}

pub fn load(root: &Path) -> std::io::Result<Tree> {
    let mut paths = Vec::new();
    let mut dirs = HashSet::new();
    walk(root, &mut paths, &mut dirs)?;
    paths.sort();
    // What the walk saw needs no stat to know it exists (a kustomization per service names
    // every file of its folder).
    let walked: HashSet<&Path> = paths.iter().map(PathBuf::as_path).collect();
    let exists = |p: &Path| {
        let plain = p.components().all(|c| c != std::path::Component::ParentDir);
        (plain && (walked.contains(p) || dirs.contains(p))) || p.exists()
    };
    // Parsing is most of `check`'s time and each file parses on its own.
    let batches = crate::parallel::batches(&paths, 32, |batch, _: &mut ()| {
        batch.iter().map(|p| read(p)).collect::<Vec<_>>()
    });
    let reads: Vec<Read> = batches
        .into_iter()
        .flatten()
        .collect::<std::io::Result<_>>()?;
    let mut tree = Tree::default();
    // Hash maps: they are only looked up, and a path compares component by component, which
    // made ordered maps of 9 000 paths a noticeable part of `check`.
    let mut kustomizations: HashMap<PathBuf, Kustomization> = HashMap::new();
    let mut file_objs: Vec<(PathBuf, Obj)> = Vec::new();
    for (path, read) in paths.iter().zip(reads) {
        let rel = path
            .strip_prefix(root)
            .unwrap_or(path)
            .to_string_lossy()
            .replace('\\', "/");
        tree.files += 1;
        let docs = match read {
            Read::Docs(d) => d,
            Read::NotUtf8(msg, loc) => {
                tree.not_utf8.push((rel, msg, loc));
                continue;
            }
            Read::Broken(msg, loc) => {
                tree.broken.push((rel, msg, loc));
                continue;
            }
        };
        let name = path
            .file_name()
            .map_or(String::new(), |n| n.to_string_lossy().to_lowercase());
        if name == "kustomization.yaml" || name == "kustomization.yml" {
            if let Some(doc) = docs.first() {
                let dir = path.parent().unwrap_or(root);
                for r in seq_at(doc, &["resources"]) {
                    if let Some(entry) = as_str(r)
                        && !entry.contains("://")
                        && !exists(&dir.join(entry))
                    {
                        tree.missing_resources
                            .push((rel.clone(), entry.to_owned(), r.loc));
                    }
                }
                for (kind, key) in [
                    ("ConfigMap", "configMapGenerator"),
                    ("Secret", "secretGenerator"),
                ] {
                    let names = seq_at(doc, &[key])
                        .iter()
                        .filter_map(|g| str_at(g, &["name"]));
                    tree.generated
                        .extend(names.map(|n| (kind.to_owned(), n.to_owned())));
                }
                // Keys normalised like the resource paths they are looked up by (`check .`
                // walks `./deploy/...`, which resources name as `deploy/...`).
                kustomizations.insert(normalize(dir), kustomization(doc, dir));
            }
            continue;
        }
        if is_compose_name(&name) {
            if let Some(doc) = docs.into_iter().find(|d| get(d, &["services"]).is_some()) {
                tree.composes.push(Compose {
                    file: rel,
                    node: doc,
                });
            }
            continue;
        }
        for doc in docs {
            let (Some(api), Some(kind)) = (str_at(&doc, &["apiVersion"]), str_at(&doc, &["kind"]))
            else {
                continue;
            };
            if api.contains("kustomize.config.k8s.io") {
                continue;
            }
            let obj = Obj {
                file: rel.clone(),
                kind: kind.to_owned(),
                name: str_at(&doc, &["metadata", "name"])
                    .unwrap_or_default()
                    .to_owned(),
                namespaces: BTreeSet::new(),
                node: doc,
            };
            file_objs.push((path.clone(), obj));
        }
    }
    let placed = namespaces_by_file(&kustomizations);
    for (path, mut obj) in file_objs {
        let path = normalize(&path);
        obj.namespaces = match placed.get(&path) {
            Some(ns) if !ns.is_empty() => ns.clone(),
            _ => str_at(&obj.node, &["metadata", "namespace"])
                .map(|n| BTreeSet::from([n.to_owned()]))
                .unwrap_or_default(),
        };
        if obj.kind == "Namespace" {
            obj.namespaces = match placed.get(&path) {
                Some(ns) if !ns.is_empty() => ns.clone(),
                _ => BTreeSet::from([obj.name.clone()]),
            };
        }
        tree.objects.push(obj);
    }
    Ok(tree)
}

fn is_compose_name(name: &str) -> bool {
    (name.starts_with("docker-compose") || name.starts_with("compose"))
        && (name.ends_with(".yml") || name.ends_with(".yaml"))
}

/// The YAML files under `dir` in path order (each folder's entries by name, so that sorting
/// the result finds it sorted already), and the folders walked.
fn walk(dir: &Path, out: &mut Vec<PathBuf>, dirs: &mut HashSet<PathBuf>) -> std::io::Result<()> {
    let mut entries = std::fs::read_dir(dir)?.collect::<std::io::Result<Vec<_>>>()?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        let ft = entry.file_type()?;
        if ft.is_dir() {
            // A Helm chart's templates are Go templates, not YAML until rendered.
            let helm = name == "templates" && dir.join("Chart.yaml").is_file();
            if !SKIP_DIRS.contains(&name.as_str()) && !name.starts_with(".venv") && !helm {
                let path = entry.path();
                walk(&path, out, dirs)?;
                dirs.insert(path);
            }
        } else if ft.is_file() && (name.ends_with(".yaml") || name.ends_with(".yml")) {
            out.push(entry.path());
        }
    }
    Ok(())
}

/// Line and column (1-based, in characters) of byte `at` of a file valid UTF-8 up to there.
fn position(bytes: &[u8], at: usize) -> Loc {
    let before = std::str::from_utf8(&bytes[..at]).unwrap_or_default();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    Loc {
        line: u32::try_from(before.matches('\n').count() + 1).unwrap_or(u32::MAX),
        col: u32::try_from(before[line_start..].chars().count() + 1).unwrap_or(u32::MAX),
    }
}

fn parse_docs(text: &str) -> Result<Vec<Node>, (String, Option<Loc>)> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    crate::blueprint::node::parse_documents(text).map_err(|e| (e.message, e.loc))
}

fn kustomization(doc: &Node, dir: &Path) -> Kustomization {
    let resources = seq_at(doc, &["resources"])
        .iter()
        .filter_map(|n| as_str(n))
        .filter(|r| !r.contains("://"))
        .map(|r| normalize(&dir.join(r)))
        .collect();
    Kustomization {
        namespace: str_at(doc, &["namespace"]).map(str::to_owned),
        resources,
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

/// For each resource file reached from a kustomize root, the namespaces it is deployed into.
fn namespaces_by_file(ks: &HashMap<PathBuf, Kustomization>) -> HashMap<PathBuf, BTreeSet<String>> {
    // Each root's walk only adds to sets, so the order of the roots does not matter.
    let included: HashSet<&PathBuf> = ks
        .values()
        .flat_map(|k| k.resources.iter())
        .filter(|r| ks.contains_key(*r))
        .collect();
    let mut out: HashMap<PathBuf, BTreeSet<String>> = HashMap::new();
    for root in ks.keys().filter(|k| !included.contains(k)) {
        let mut stack = vec![(root.clone(), None::<String>, 0usize)];
        while let Some((dir, outer, depth)) = stack.pop() {
            let Some(k) = ks.get(&dir) else { continue };
            if depth > 32 {
                continue;
            }
            let ns = outer.or_else(|| k.namespace.clone());
            for r in &k.resources {
                if ks.contains_key(r) {
                    stack.push((r.clone(), ns.clone(), depth + 1));
                } else {
                    let set = out.entry(normalize(r)).or_default();
                    if let Some(n) = &ns {
                        set.insert(n.clone());
                    }
                }
            }
        }
    }
    out
}

// ------------------------------------------------------------------ node helpers

pub fn get<'a>(n: &'a Node, path: &[&str]) -> Option<&'a Node> {
    let mut cur = n;
    for seg in path {
        match &cur.value {
            Value::Map(entries) => {
                cur = entries
                    .iter()
                    .find(|(k, _)| k.name == *seg)
                    .map(|(_, v)| v)?;
            }
            _ => return None,
        }
    }
    Some(cur)
}

pub fn as_str(n: &Node) -> Option<&str> {
    match &n.value {
        Value::Str(s) => Some(s),
        _ => None,
    }
}

pub fn str_at<'a>(n: &'a Node, path: &[&str]) -> Option<&'a str> {
    get(n, path).and_then(as_str)
}

pub fn seq_at<'a>(n: &'a Node, path: &[&str]) -> &'a [Node] {
    match get(n, path).map(|v| &v.value) {
        Some(Value::Seq(items)) => items,
        _ => &[],
    }
}

pub fn map_at<'a>(n: &'a Node, path: &[&str]) -> &'a [(Key, Node)] {
    match get(n, path).map(|v| &v.value) {
        Some(Value::Map(entries)) => entries,
        _ => &[],
    }
}

/// A scalar as text (labels and ports may be written as numbers or strings).
pub fn scalar(n: &Node) -> Option<String> {
    match &n.value {
        Value::Str(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Float(f) => Some(f.to_string()),
        _ => None,
    }
}

/// A `matchLabels`-style mapping as key → value.
pub fn labels(n: Option<&Node>) -> BTreeMap<String, String> {
    match n.map(|v| &v.value) {
        Some(Value::Map(entries)) => entries
            .iter()
            .filter_map(|(k, v)| scalar(v).map(|s| (k.name.clone(), s)))
            .collect(),
        _ => BTreeMap::new(),
    }
}
