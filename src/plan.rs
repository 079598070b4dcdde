//! Plan stage: the resolved model → the list of files to write, each with its template, its
//! output path and the model item it is rendered for. Pure; the plan owns paths, templates own
//! text.
//!
//! Which templates become which files is data: `templates/manifest.yaml` ([`manifest`]) names
//! the roots laid out like the output tree (`common/` for every type, a type's folder replacing
//! or adding files), the placeholders that repeat a file per item of a collection, the partial
//! folders, the shared templates rendered into several places, and the rules (by type and by
//! the model's decisions) that keep or drop a file.

pub mod manifest;

use crate::resolve::Model;
pub use manifest::{Condition, Manifest, ManifestError, Naming, Type};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize)]
pub struct PlannedFile {
    /// Output path, relative to the output directory, with `/` separators.
    pub path: String,
    /// Template name (relative to the templates root, including its type folder).
    pub template: String,
    /// The collection and index of the item this file is for, if any.
    #[serde(skip)]
    pub item: Option<(Collection, usize)>,
    /// Another name the template reads the item under (`svc` in the shared service code).
    #[serde(skip)]
    pub bind: Option<String>,
    /// Layer, for summaries and `plan`: the first path segment(s) (`deploy/k8s`, `services`, …).
    pub layer: String,
    /// How regeneration treats the file once it is on disk.
    pub policy: Policy,
}

/// Ownership policy of a generated file on regeneration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    /// Re-rendered each time; the user's edits are three-way merged in.
    #[default]
    Merge,
    /// Written once and never rewritten (migrations: applied history is append-only).
    WriteOnce,
}

impl Policy {
    pub fn for_path(path: &str) -> Policy {
        if path.starts_with("migrations/") {
            Policy::WriteOnce
        } else {
            Policy::Merge
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Collection {
    /// Generated Python services (not the gateway).
    Service,
    /// Generated services with a gRPC API (its contract under `proto/`).
    Grpc,
    /// Generated TypeScript services (ADR 0008).
    TypescriptService,
    /// A monolith's app when its modules are TypeScript (its one deployable).
    TypescriptApp,
    /// The services that are modules of a TypeScript monolith app.
    TypescriptModule,
    /// The first service: the serverless app's shared code reads its database settings.
    FirstService,
    /// Services whose code is generated, in any language (not the gateway): per-service docs.
    DocumentedService,
    Deployable,
    /// SQL databases.
    Database,
    Env,
    Function,
    /// Topics with a publishing entity: those have a payload schema.
    Topic,
}

impl Collection {
    /// Name of the item in the template context.
    pub fn var(self) -> &'static str {
        match self {
            Collection::Service
            | Collection::Grpc
            | Collection::TypescriptService
            | Collection::TypescriptApp
            | Collection::TypescriptModule
            | Collection::FirstService
            | Collection::DocumentedService => "service",
            Collection::Deployable => "deployable",
            Collection::Database => "database",
            Collection::Env => "env",
            Collection::Function => "function",
            Collection::Topic => "topic",
        }
    }

    /// Indices of the model's items in this collection, with the name used in paths.
    fn items(self, m: &Model) -> Vec<(usize, String)> {
        let services = |keep: fn(bool, bool, bool, bool) -> bool| {
            m.services
                .iter()
                .enumerate()
                .filter(|(_, s)| keep(s.generated, s.is_gateway, s.grpc, s.is_typescript))
                .map(|(i, s)| (i, s.name.kebab.clone()))
                .collect()
        };
        match self {
            Collection::Service => {
                services(|generated, gateway, _, ts| generated && !gateway && !ts)
            }
            Collection::Grpc => services(|generated, _, grpc, _| generated && grpc),
            Collection::TypescriptService => services(|_, gateway, _, ts| ts && !gateway),
            Collection::DocumentedService => {
                services(|generated, gateway, _, _| generated && !gateway)
            }
            Collection::TypescriptModule if m.is_monolith => {
                services(|_, gateway, _, ts| ts && !gateway)
            }
            Collection::TypescriptModule => Vec::new(),
            Collection::TypescriptApp => m
                .deployables
                .iter()
                .enumerate()
                .filter(|(_, d)| d.is_typescript)
                .map(|(i, d)| (i, d.name.kebab.clone()))
                .collect(),
            Collection::FirstService => m
                .services
                .first()
                .map(|s| (0, s.name.kebab.clone()))
                .into_iter()
                .collect(),
            Collection::Deployable => m
                .deployables
                .iter()
                .enumerate()
                .map(|(i, s)| (i, s.name.kebab.clone()))
                .collect(),
            // Migrations are SQL: a DynamoDB database has none (its tables are Terraform's).
            Collection::Database => m
                .databases
                .iter()
                .enumerate()
                .filter(|(_, d)| d.engine != "dynamodb")
                .map(|(i, d)| (i, d.name.kebab.clone()))
                .collect(),
            Collection::Env => m
                .environments
                .iter()
                .enumerate()
                .map(|(i, e)| (i, e.name.clone()))
                .collect(),
            // The modules of the Python app (a TypeScript function is its service package's).
            Collection::Function => m
                .functions
                .iter()
                .enumerate()
                .filter(|(_, f)| f.language == crate::resolve::lang::PYTHON)
                .map(|(i, f)| (i, f.name.kebab.clone()))
                .collect(),
            Collection::Topic => m
                .messaging
                .iter()
                .flat_map(|mq| mq.topics.iter().enumerate())
                .filter(|(_, t)| t.entity_id.is_some())
                .map(|(i, t)| (i, t.name.raw.clone()))
                .collect(),
        }
    }
}

/// A placeholder of a template's output path and the collection it repeats over.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Slot {
    name: String,
    each: Collection,
    naming: Naming,
}

/// One template and where it goes, before its placeholders are filled.
struct Source<'a> {
    template: String,
    /// Output path, placeholders unfilled.
    rel: String,
    slots: Vec<Slot>,
    /// Items to repeat over when the path has no placeholder.
    each: Option<Collection>,
    bind: Option<&'a str>,
    when: &'a [Condition],
    unless: &'a [Condition],
}

/// The files of a system: every template of the manifest's roots and `shared` entries for its
/// type, repeated over the items of its placeholders, kept where the manifest's rules hold.
pub fn plan<'a>(
    m: &Model,
    manifest: &Manifest,
    template_names: impl Iterator<Item = &'a str>,
) -> Vec<PlannedFile> {
    let names: Vec<&str> = template_names.collect();
    let mut files = Vec::new();
    for src in sources(m, manifest, &names) {
        let rules: Vec<&manifest::Rule> = manifest
            .rules
            .iter()
            .filter(|r| under(&src.rel, &r.path))
            .collect();
        if !rules.iter().all(|r| Type::admits(&r.types, m.arch)) {
            continue;
        }
        for (path, item) in expand(&src, m) {
            let holds = Condition::all(src.when, src.unless, m, item)
                && rules
                    .iter()
                    .all(|r| Condition::all(&r.when, &r.unless, m, item));
            if holds {
                let mut f = file(path, src.template.clone(), item);
                f.bind = src.bind.map(str::to_owned);
                files.push(f);
            }
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files
}

/// The templates of this type: a later root's file replaces an earlier one's of the same output
/// path and collections; `shared` entries add theirs (each its own, conditions and all).
fn sources<'a>(m: &Model, manifest: &'a Manifest, names: &[&str]) -> Vec<Source<'a>> {
    let mut chosen = BTreeMap::new();
    for root in manifest
        .roots
        .iter()
        .filter(|r| Type::admits(&r.types, m.arch))
    {
        let prefix = format!("{}/", root.folder);
        for name in names.iter().filter(|n| !manifest.is_partial(n)) {
            let Some(rel) = name.strip_prefix(&prefix) else {
                continue;
            };
            let slots = slots(manifest, rel, &root.each, None);
            let src = Source {
                template: (*name).to_owned(),
                rel: rel.to_owned(),
                slots: slots.clone(),
                each: None,
                bind: None,
                when: &[],
                unless: &[],
            };
            chosen.insert((rel.to_owned(), slots), src);
        }
    }
    let mut out: Vec<Source> = chosen.into_values().collect();
    for s in &manifest.shared {
        let Some((_, to)) = s.to.iter().find(|(t, _)| Type::admits(&[**t], m.arch)) else {
            continue;
        };
        for (template, file) in &s.files {
            let rel = format!("{to}/{file}");
            let slots = slots(manifest, &rel, &BTreeMap::new(), s.each);
            let src = Source {
                template: format!("{}/{template}", s.from),
                rel,
                each: s.each.filter(|_| slots.is_empty()),
                slots,
                bind: s.bind.as_deref(),
                when: &s.when,
                unless: &s.unless,
            };
            out.push(src);
        }
    }
    out
}

/// The placeholders of a path; `each` overrides the collection of the last one.
fn slots(
    manifest: &Manifest,
    rel: &str,
    renamed: &BTreeMap<String, Collection>,
    each: Option<Collection>,
) -> Vec<Slot> {
    let mut slots: Vec<Slot> = manifest
        .placeholders_in(rel)
        .into_iter()
        .map(|(name, p)| Slot {
            name: name.to_owned(),
            each: renamed.get(name).copied().unwrap_or(p.each),
            naming: p.name,
        })
        .collect();
    if let (Some(last), Some(c)) = (slots.last_mut(), each) {
        last.each = c;
    }
    slots
}

/// Output paths and items of one template. A path with two placeholders (the monolith's module
/// per service inside its one deployable) fills the outer ones with their collection's only
/// item, and repeats over the last.
fn expand(src: &Source, m: &Model) -> Vec<(String, Option<(Collection, usize)>)> {
    let mut path = src.rel.clone();
    let Some((last, outer)) = src.slots.split_last() else {
        return match src.each {
            Some(c) => c
                .items(m)
                .into_iter()
                .map(|(i, _)| (path.clone(), Some((c, i))))
                .collect(),
            None => vec![(path, None)],
        };
    };
    // Placeholders of the item's own collection name that item (a service's folder and its
    // module name inside it); the others must have one item.
    for slot in outer.iter().filter(|s| s.each != last.each) {
        match slot.each.items(m).as_slice() {
            [(_, name)] => path = path.replace(&slot.name, &named(name, slot.naming)),
            _ => return Vec::new(),
        }
    }
    last.each
        .items(m)
        .into_iter()
        .map(|(i, name)| {
            let p = src
                .slots
                .iter()
                .filter(|s| s.each == last.each)
                .fold(path.clone(), |p, s| {
                    p.replace(&s.name, &named(&name, s.naming))
                });
            (p, Some((last.each, i)))
        })
        .collect()
}

fn named(name: &str, naming: Naming) -> String {
    match naming {
        Naming::Kebab => name.to_owned(),
        Naming::Module => heck::ToSnakeCase::to_snake_case(name),
    }
}

/// `path` is `folder` or inside it.
fn under(path: &str, folder: &str) -> bool {
    path == folder
        || path
            .strip_prefix(folder)
            .is_some_and(|rest| rest.starts_with('/'))
}

fn file(path: String, template: String, item: Option<(Collection, usize)>) -> PlannedFile {
    let layer = layer_of(&path);
    PlannedFile {
        policy: Policy::for_path(&path),
        path,
        template,
        item,
        bind: None,
        layer,
    }
}

fn layer_of(path: &str) -> String {
    let mut parts = path.split('/');
    let first = parts.next().unwrap_or_default();
    match first {
        "deploy" | "infra" | ".github" | "tests" => match parts.next() {
            Some(second) if path.matches('/').count() > 1 => format!("{first}/{second}"),
            _ => first.to_owned(),
        },
        _ if !path.contains('/') => "root".to_owned(),
        _ => first.to_owned(),
    }
}

/// The one-line header for a generated file, in the file's comment syntax; empty for formats
/// without comments (JSON).
pub fn header_for(path: &str) -> String {
    const TEXT: &str = "Generated by codex-system-design from blueprint.yaml. Hand edits are kept on regeneration (three-way merge).";
    let name = path.rsplit('/').next().unwrap_or(path);
    let ext = name.rsplit_once('.').map_or("", |(_, e)| e);
    match ext {
        _ if name.starts_with("Dockerfile") => format!("# {TEXT}"),
        "yaml" | "yml" | "py" | "tf" | "tfvars" | "toml" | "sh" | "txt" | "ini" | "cfg"
        | "conf" | "env" | "hcl" | "gitignore" | "dockerignore" => format!("# {TEXT}"),
        "sql" => format!("-- {TEXT}"),
        "proto" | "js" | "mjs" | "ts" => format!("// {TEXT}"),
        "md" => format!("<!-- {TEXT} -->"),
        "mmd" => format!("%% {TEXT}"),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_group_by_first_folders() {
        assert_eq!(layer_of("deploy/k8s/base/x.yaml"), "deploy/k8s");
        assert_eq!(layer_of("services/orders/app/main.py"), "services");
        assert_eq!(layer_of("README.md"), "root");
    }

    #[test]
    fn headers_use_each_format_comment_syntax() {
        assert!(header_for("a/b.sql").starts_with("-- "));
        assert!(header_for("services/x/Dockerfile").starts_with("# "));
        assert_eq!(header_for("x/dashboard.json"), "");
    }
}
