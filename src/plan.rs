//! Plan stage: the resolved model → the list of files to write, each with its template, its
//! output path and the model item it is rendered for. Pure; the plan owns paths, templates own
//! text.
//!
//! Template layout mirrors the output tree. Templates live under `common/` (every type) or a
//! type folder (`microservices/`, `monolith/`, `serverless/`), whose file of the same relative
//! path replaces the common one. A path segment `__service__`, `__deployable__`, `__database__`,
//! `__env__`, `__function__` or `__grpc__` repeats the file once per item of that collection.
//! Folders starting with `_` hold partials and produce no file.

use crate::resolve::Model;
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Collection {
    Service,
    Deployable,
    Database,
    Env,
    Function,
    Grpc,
    Topic,
}

impl Collection {
    const ALL: [(&'static str, Collection); 7] = [
        ("__service__", Collection::Service),
        ("__deployable__", Collection::Deployable),
        ("__database__", Collection::Database),
        ("__env__", Collection::Env),
        ("__function__", Collection::Function),
        ("__grpc__", Collection::Grpc),
        ("__topic__", Collection::Topic),
    ];

    /// Name of the item in the template context.
    pub fn var(self) -> &'static str {
        match self {
            Collection::Service | Collection::Grpc => "service",
            Collection::Deployable => "deployable",
            Collection::Database => "database",
            Collection::Env => "env",
            Collection::Function => "function",
            Collection::Topic => "topic",
        }
    }

    /// Indices of the model's items in this collection, with the name used in paths.
    fn items(self, m: &Model) -> Vec<(usize, String)> {
        match self {
            Collection::Service => m
                .services
                .iter()
                .enumerate()
                .filter(|(_, s)| s.generated && !s.is_gateway)
                .map(|(i, s)| (i, s.name.kebab.clone()))
                .collect(),
            Collection::Grpc => m
                .services
                .iter()
                .enumerate()
                .filter(|(_, s)| s.generated && s.grpc)
                .map(|(i, s)| (i, s.name.kebab.clone()))
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
            Collection::Function => m
                .functions
                .iter()
                .enumerate()
                .map(|(i, f)| (i, f.name.kebab.clone()))
                .collect(),
            // Topics with a publishing entity: those have a payload schema.
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

/// Whether a whole output folder applies to this model.
fn applies(path: &str, m: &Model) -> bool {
    if path == "deploy/k8s/base/ingress.yaml" {
        return !m.is_serverless && !m.mesh.enabled && m.deploy.edge.is_some();
    }
    if path == "deploy/compose/gateway/nginx.conf" {
        return !m.is_serverless && m.deploy.edge.as_ref().is_some_and(|e| !e.deployed);
    }
    if path == "deploy/compose/otel-collector.yaml" {
        return !m.is_serverless && m.observability.tracing;
    }
    if path.starts_with("deploy/compose/sqs-provision/") {
        return !m.is_serverless && m.deploy.sqs_provision.is_some();
    }
    if path.starts_with("deploy/compose/") {
        return !m.is_serverless;
    }
    if path == "docs/adr/0008-migration-runner.md" {
        return has_sql(m);
    }
    if path.starts_with("events/") {
        return !m.is_serverless && m.messaging.is_some();
    }
    if path == "docs/adr/0009-event-delivery.md" {
        return !m.is_serverless && m.messaging.is_some();
    }
    if path.starts_with("deploy/k8s/overlays/") && path.ends_with("/transport.yaml") {
        return !m.is_serverless && m.transport.needed;
    }
    if path.starts_with("deploy/k8s/migrations/") {
        return !m.is_serverless && !m.deploy.migrations.is_empty();
    }
    if path.starts_with("deploy/k8s/") {
        return !m.is_serverless;
    }
    if path.starts_with("deploy/istio/") && path.contains("/ingress-gateway/") {
        return m.mesh.enabled && m.deploy.edge.is_some();
    }
    if path.starts_with("deploy/istio/") {
        return m.mesh.enabled;
    }
    if path.starts_with(".github/") {
        return m.ci.github;
    }
    if let Some(rest) = path.strip_prefix("infra/terraform/modules/") {
        return terraform_module_applies(rest.split('/').next().unwrap_or_default(), m);
    }
    true
}

/// Some database is PostgreSQL (has migrations, an RDS or Aurora cluster).
fn has_sql(m: &Model) -> bool {
    m.databases.iter().any(|d| d.engine != "dynamodb")
}

/// Files of one deployable that only some deployables have: a Service needs a port, volume
/// claims a persistent volume, and autoscaling more than the one pod a claim allows.
fn item_applies(f: &PlannedFile, m: &Model) -> bool {
    let Some((Collection::Deployable, i)) = f.item else {
        return true;
    };
    let d = &m.deployables[i];
    if f.template.ends_with("__deployable__/service.yaml") {
        return !d.ports.is_empty();
    }
    if f.template.ends_with("__deployable__/volume-claims.yaml") {
        return d.run.has_claims;
    }
    if f.template.ends_with("__deployable__/autoscaling.yaml") {
        return m
            .deploy
            .workloads
            .get(&d.name.kebab)
            .is_none_or(|w| w.scaled);
    }
    true
}

/// Terraform modules are written only when the root module calls them.
fn terraform_module_applies(module: &str, m: &Model) -> bool {
    match module {
        "cluster" | "registry" => !m.is_serverless,
        "database" => has_sql(m),
        "messaging" => !m.is_serverless && m.messaging.is_some(),
        // Functions have no cache-aside yet: a cache would be a cluster nothing reads.
        "cache" => !m.is_serverless && !m.caches.is_empty(),
        _ => true,
    }
}

/// Template names of one type: common ones, replaced or extended by the type's own.
pub fn templates_for<'a>(
    all: impl Iterator<Item = &'a str>,
    arch: &str,
) -> BTreeMap<String, String> {
    let mut chosen = BTreeMap::new();
    let mut typed = Vec::new();
    for name in all {
        if let Some(rel) = name.strip_prefix("common/") {
            chosen
                .entry(rel.to_owned())
                .or_insert_with(|| name.to_owned());
        } else if name.strip_prefix(arch).is_some_and(|r| r.starts_with('/')) {
            typed.push((name[arch.len() + 1..].to_owned(), name.to_owned()));
        }
    }
    for (rel, name) in typed {
        chosen.insert(rel, name);
    }
    chosen.retain(|rel, _| !is_partial(rel));
    chosen
}

/// A template under a folder starting with `_` (a partial). Placeholder folders (`__service__`)
/// and file names (`__init__.py`) are not partials.
fn is_partial(rel: &str) -> bool {
    let mut segments: Vec<&str> = rel.split('/').collect();
    segments.pop();
    segments
        .iter()
        .any(|s| s.starts_with('_') && !(s.starts_with("__") && s.ends_with("__")))
}

pub fn plan<'a>(m: &Model, template_names: impl Iterator<Item = &'a str>) -> Vec<PlannedFile> {
    let names: Vec<&str> = template_names.collect();
    let mut files = Vec::new();
    for (rel, template) in templates_for(names.iter().copied(), m.arch) {
        let rel = single_deployable(rel, m);
        if let Some((p, coll)) = MODULE_PLACEHOLDERS.iter().find(|(p, _)| rel.contains(p)) {
            for (i, name) in coll.items(m) {
                let module = heck::ToSnakeCase::to_snake_case(name.as_str());
                files.push(file(
                    rel.replace(p, &module),
                    template.clone(),
                    Some((*coll, i)),
                ));
            }
            continue;
        }
        let placeholder = Collection::ALL.iter().find(|(p, _)| rel.contains(p));
        match placeholder {
            None => files.push(file(rel, template, None)),
            Some((p, coll)) => {
                for (i, name) in coll.items(m) {
                    files.push(file(
                        rel.replace(p, &name),
                        template.clone(),
                        Some((*coll, i)),
                    ));
                }
            }
        }
    }
    files.retain(|f| applies(&f.path, m) && item_applies(f, m));
    files.retain(|f| !languages::replaced(f, m));
    files.extend(languages::files(m, &names));
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files
}

/// Services in a language other than Python: the templates of `lang/<language>/` (paths as
/// in the output, `__service__` repeated over that language's services) replace the Python
/// files of `services/__service__/`. Microservices only (validation refuses the others).
mod languages {
    use super::{Collection, Model, PlannedFile, file};

    /// A Python file planned for a service written in another language.
    pub fn replaced(f: &PlannedFile, m: &Model) -> bool {
        matches!(f.item, Some((Collection::Service | Collection::Grpc, i)) if m.services[i].is_typescript)
    }

    pub fn files(m: &Model, names: &[&str]) -> Vec<PlannedFile> {
        let mut out = Vec::new();
        if !m.is_microservices {
            return out;
        }
        for name in names {
            let Some(rel) = name.strip_prefix("lang/typescript/") else {
                continue;
            };
            if super::is_partial(rel) {
                continue;
            }
            for (i, s) in m.services.iter().enumerate() {
                let tested = s.ts.as_ref().is_some_and(|t| t.has_references);
                if rel.ends_with("test/references.test.ts") && !tested {
                    continue;
                }
                if s.is_typescript && !s.is_gateway {
                    let path = rel.replace("__service__", &s.name.kebab);
                    out.push(file(
                        path,
                        (*name).to_owned(),
                        Some((Collection::Service, i)),
                    ));
                }
            }
        }
        out
    }
}

/// Placeholders naming a Python module: the item's name in snake case (`order_items.py`).
const MODULE_PLACEHOLDERS: [(&str, Collection); 3] = [
    ("__service_module__", Collection::Service),
    ("__function_module__", Collection::Function),
    ("__grpc_module__", Collection::Grpc),
];

/// A path under `__deployable__` that repeats over another collection (the monolith's module
/// per service): with exactly one deployable, its name is filled in first.
fn single_deployable(rel: String, m: &Model) -> String {
    let other = MODULE_PLACEHOLDERS
        .iter()
        .chain(Collection::ALL.iter())
        .any(|(p, _)| *p != "__deployable__" && rel.contains(p));
    match m.deployables.as_slice() {
        [only] if other && rel.contains("__deployable__") => {
            rel.replace("__deployable__", &only.name.kebab)
        }
        _ => rel,
    }
}

fn file(path: String, template: String, item: Option<(Collection, usize)>) -> PlannedFile {
    let layer = layer_of(&path);
    PlannedFile {
        policy: Policy::for_path(&path),
        path,
        template,
        item,
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
        "proto" | "js" | "ts" => format!("// {TEXT}"),
        "md" => format!("<!-- {TEXT} -->"),
        "mmd" => format!("%% {TEXT}"),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_folder_replaces_common_and_partials_are_dropped() {
        let names = [
            "common/a.yaml",
            "common/b.yaml",
            "monolith/b.yaml",
            "serverless/c.yaml",
            "common/_macros/x.tera",
        ];
        let t = templates_for(names.into_iter(), "monolith");
        assert_eq!(t.get("a.yaml").map(String::as_str), Some("common/a.yaml"));
        assert_eq!(t.get("b.yaml").map(String::as_str), Some("monolith/b.yaml"));
        assert!(!t.contains_key("c.yaml"));
        assert!(!t.keys().any(|k| k.contains("_macros")));
        let placeholders = ["common/services/__service__/app/__init__.py"];
        let t = templates_for(placeholders.into_iter(), "monolith");
        assert!(t.contains_key("services/__service__/app/__init__.py"));
    }

    #[test]
    fn placeholder_file_names_are_not_partials() {
        let names = ["common/envs/__env__.tfvars", "common/_partials/__env__.tf"];
        let t = templates_for(names.into_iter(), "monolith");
        assert!(t.contains_key("envs/__env__.tfvars"));
        assert!(!t.keys().any(|k| k.contains("_partials")));
    }

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
