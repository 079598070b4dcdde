//! `templates/manifest.yaml`: which templates become which files, as data. Loaded with the
//! template set (a `--templates` folder may bring its own), checked against the templates there
//! ([`Manifest::check`]); the plan stage reads it.

use super::Collection;
use crate::resolve::Model;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The manifest's name in the template set.
pub const NAME: &str = "manifest.yaml";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub roots: Vec<Root>,
    pub placeholders: BTreeMap<String, Placeholder>,
    #[serde(default)]
    pub partials: Vec<String>,
    #[serde(default)]
    pub shared: Vec<Shared>,
    #[serde(default)]
    pub rules: Vec<Rule>,
}

/// A folder of templates laid out like the output tree.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Root {
    pub folder: String,
    #[serde(default)]
    pub types: Vec<Type>,
    /// Placeholders that repeat over another collection inside this root.
    #[serde(default)]
    pub each: BTreeMap<String, Collection>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Placeholder {
    pub each: Collection,
    #[serde(default)]
    pub name: Naming,
}

/// How an item is named in a path.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Naming {
    /// The kebab-case name (`order-items`).
    #[default]
    Kebab,
    /// The Python module (`order_items`).
    Module,
}

/// Templates of one folder rendered into other places.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shared {
    pub from: String,
    /// Another name the item is given under.
    #[serde(rename = "as", default)]
    pub bind: Option<String>,
    /// The items the files repeat over (else: those of the placeholder in `to`).
    #[serde(default)]
    pub each: Option<Collection>,
    /// The output folder, per type.
    pub to: BTreeMap<Type, String>,
    /// Template (under `from`) → output path (under `to`).
    pub files: BTreeMap<String, String>,
    #[serde(default)]
    pub when: Vec<Condition>,
    #[serde(default)]
    pub unless: Vec<Condition>,
}

/// When the files at or below `path` apply.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub path: String,
    #[serde(default)]
    pub types: Vec<Type>,
    #[serde(default)]
    pub when: Vec<Condition>,
    #[serde(default)]
    pub unless: Vec<Condition>,
}

/// An architecture type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Type {
    Microservices,
    Monolith,
    Serverless,
}

impl Type {
    fn is(self, arch: &str) -> bool {
        let name = match self {
            Type::Microservices => "microservices",
            Type::Monolith => "monolith",
            Type::Serverless => "serverless",
        };
        name == arch
    }

    /// Whether a list of types (empty: all) admits `arch`.
    pub fn admits(types: &[Type], arch: &str) -> bool {
        types.is_empty() || types.iter().any(|t| t.is(arch))
    }
}

/// A decision of the model a rule tests. The item ones test the item the file is for and do not
/// hold for a file of another collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// The blueprint's CI is GitHub Actions.
    GithubCi,
    /// A service mesh (Istio).
    Mesh,
    /// An edge (ingress or gateway) in front of the services.
    Edge,
    /// Compose runs its own edge (nginx): the blueprint's gateway is not a deployed image.
    LocalEdge,
    Tracing,
    /// Compose provisions SQS queues on moto.
    SqsProvision,
    /// Some database is SQL (migrations, an RDS or Aurora cluster).
    Sql,
    Messaging,
    Caches,
    /// The services talk over TLS set up outside a mesh.
    Transport,
    /// Kubernetes migration jobs.
    Migrations,
    /// The serverless app stores its tables in DynamoDB.
    Dynamodb,
    /// The deployable exposes ports (it gets a Service).
    Ports,
    /// The deployable has persistent volumes.
    VolumeClaims,
    /// The deployable scales beyond one pod.
    Autoscaled,
    /// The TypeScript service checks references through their owners.
    TsReferences,
    /// The item's code is TypeScript: a TypeScript service, or a monolith's app whose modules are.
    Typescript,
    /// Some serverless function is Python (the `functions/` app is its code).
    PythonFunctions,
    /// The TypeScript service publishes or consumes events.
    TsEvents,
    /// The TypeScript service serves gRPC.
    TsGrpc,
    /// The Python service serves gRPC.
    PyGrpc,
    /// The service serves gRPC from its own code, in either language (its copy of the contract).
    ServesGrpc,
    /// The TypeScript service's functions keep their rows in SQL (Aurora behind the RDS Proxy).
    TsSqlStore,
}

impl Condition {
    pub fn holds(self, m: &Model, item: Option<(Collection, usize)>) -> bool {
        let deployable = match item {
            Some((Collection::Deployable, i)) => m.deployables.get(i),
            _ => None,
        };
        match self {
            Condition::GithubCi => m.ci.github,
            Condition::Mesh => m.mesh.enabled,
            Condition::Edge => m.deploy.edge.is_some(),
            Condition::LocalEdge => m.deploy.edge.as_ref().is_some_and(|e| !e.deployed),
            Condition::Tracing => m.observability.tracing,
            Condition::SqsProvision => m.deploy.sqs_provision.is_some(),
            Condition::Sql => m.databases.iter().any(|d| d.engine != "dynamodb"),
            Condition::Messaging => m.messaging.is_some(),
            Condition::Caches => !m.caches.is_empty(),
            Condition::Transport => m.transport.needed,
            Condition::Migrations => !m.deploy.migrations.is_empty(),
            Condition::Dynamodb => m
                .serverless
                .as_ref()
                .is_some_and(|s| s.data_store == "dynamodb"),
            Condition::PythonFunctions => m
                .functions
                .iter()
                .any(|f| f.language == crate::resolve::lang::PYTHON),
            Condition::Ports => deployable.is_some_and(|d| !d.ports.is_empty()),
            Condition::VolumeClaims => deployable.is_some_and(|d| d.run.has_claims),
            Condition::Autoscaled => deployable.is_some_and(|d| {
                m.deploy
                    .workloads
                    .get(&d.name.kebab)
                    .is_none_or(|w| w.scaled)
            }),
            Condition::Typescript => match item {
                Some((Collection::Deployable | Collection::TypescriptApp, i)) => {
                    m.deployables[i].is_typescript
                }
                Some((
                    Collection::Service
                    | Collection::Grpc
                    | Collection::TypescriptService
                    | Collection::TypescriptModule
                    | Collection::FirstService,
                    i,
                )) => m.services[i].is_typescript,
                _ => false,
            },
            Condition::TsReferences => match item {
                Some((Collection::TypescriptService, i)) => {
                    m.services[i].ts.as_ref().is_some_and(|t| t.has_references)
                }
                _ => false,
            },
            Condition::TsEvents => match item {
                Some((Collection::TypescriptService, i)) => {
                    m.services[i].ts.as_ref().is_some_and(|t| t.has_events)
                }
                Some((Collection::TypescriptApp, i)) => {
                    m.deployables[i].ts.as_ref().is_some_and(|t| t.has_events)
                }
                _ => false,
            },
            Condition::TsSqlStore => match item {
                Some((Collection::TypescriptService, i)) => m.services[i]
                    .ts
                    .as_ref()
                    .and_then(|t| t.functions.as_ref())
                    .is_some_and(|f| f.store == "sql"),
                _ => false,
            },
            Condition::ServesGrpc => match item {
                Some((Collection::Service | Collection::TypescriptService, i)) => {
                    m.services[i].code.grpc.is_some()
                }
                _ => false,
            },
            Condition::PyGrpc => match item {
                Some((Collection::Service, i)) => m.services[i].code.grpc.is_some(),
                _ => false,
            },
            Condition::TsGrpc => match item {
                Some((Collection::TypescriptService, i)) => {
                    m.services[i].ts.as_ref().is_some_and(|t| t.grpc.is_some())
                }
                _ => false,
            },
        }
    }

    /// `when` all hold and no `unless` does.
    pub fn all(
        when: &[Condition],
        unless: &[Condition],
        m: &Model,
        item: Option<(Collection, usize)>,
    ) -> bool {
        when.iter().all(|c| c.holds(m, item)) && !unless.iter().any(|c| c.holds(m, item))
    }
}

/// A manifest that does not load or does not fit its templates.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("{file}: {message}")]
    Syntax { file: String, message: String },
    #[error("{file}: placeholder `{name}` is not of the form `__name__`")]
    BadPlaceholder { file: String, name: String },
    #[error("{file}: root `{root}` repeats `{name}`, which `placeholders` does not declare")]
    UnknownPlaceholder {
        file: String,
        root: String,
        name: String,
    },
    #[error("{file} does not fit the templates:\n  {}", .problems.join("\n  "))]
    Mismatch { file: String, problems: Vec<String> },
}

impl Manifest {
    /// Parse and check the manifest's own consistency (`file` names it in messages).
    pub fn parse(text: &str, file: &str) -> Result<Manifest, ManifestError> {
        let m: Manifest = serde_saphyr::from_str(text).map_err(|e| ManifestError::Syntax {
            file: file.to_owned(),
            message: e.to_string(),
        })?;
        for name in m.placeholders.keys() {
            let inner = name.strip_prefix("__").and_then(|n| n.strip_suffix("__"));
            if inner.is_none_or(|n| n.is_empty() || n.contains('/')) {
                return Err(ManifestError::BadPlaceholder {
                    file: file.to_owned(),
                    name: name.clone(),
                });
            }
        }
        for root in &m.roots {
            if let Some(name) = root.each.keys().find(|k| !m.placeholders.contains_key(*k)) {
                return Err(ManifestError::UnknownPlaceholder {
                    file: file.to_owned(),
                    root: root.folder.clone(),
                    name: name.clone(),
                });
            }
        }
        Ok(m)
    }

    /// The template folders that produce no file of their own: `name` is in one.
    pub fn is_partial(&self, name: &str) -> bool {
        self.partials.iter().any(|p| under(name, p))
    }

    /// The placeholders in a path, in the order they appear.
    pub fn placeholders_in<'a>(&'a self, path: &str) -> Vec<(&'a str, Placeholder)> {
        let mut found: Vec<(usize, &str, Placeholder)> = self
            .placeholders
            .iter()
            .filter_map(|(name, p)| path.find(name.as_str()).map(|at| (at, name.as_str(), *p)))
            .collect();
        found.sort_by_key(|(at, _, _)| *at);
        found.into_iter().map(|(_, n, p)| (n, p)).collect()
    }

    /// What does not fit the templates named: every entry must name templates or folders that
    /// exist, and every template must be claimed (a root's file, a `shared` entry's, or a
    /// partial some template or entry uses). `included`: the templates other templates include
    /// or import (`TemplateSet::check_manifest` finds them).
    pub fn check(&self, templates: &[(String, String)], included: &[&str]) -> Vec<String> {
        let names: Vec<&str> = templates
            .iter()
            .map(|(n, _)| n.as_str())
            .filter(|n| *n != NAME)
            .collect();
        let mut problems = Vec::new();
        self.check_entries(&names, &mut problems);
        self.check_claims(&names, included, &mut problems);
        problems
    }

    fn check_entries(&self, names: &[&str], problems: &mut Vec<String>) {
        let folder = |f: &str| names.iter().any(|n| under(n, f));
        for r in self.roots.iter().filter(|r| !folder(&r.folder)) {
            problems.push(format!("root `{}` has no templates", r.folder));
        }
        for p in self.partials.iter().filter(|p| !folder(p)) {
            problems.push(format!("partial folder `{p}` has no templates"));
        }
        for s in &self.shared {
            for t in s.files.keys() {
                let name = format!("{}/{t}", s.from);
                if !names.contains(&name.as_str()) {
                    problems.push(format!(
                        "shared (from `{}`): `{name}` is not a template",
                        s.from
                    ));
                }
            }
        }
        let outputs = self.outputs(names);
        for r in &self.rules {
            if !outputs.iter().any(|o| under(o, &r.path)) {
                problems.push(format!(
                    "rule `{}` names no template's output path (placeholders unfilled)",
                    r.path
                ));
            }
        }
        for p in self.placeholders.keys() {
            if !outputs.iter().any(|o| o.contains(p.as_str())) {
                problems.push(format!("placeholder `{p}` is in no template's path"));
            }
        }
    }

    /// Every output path a template may give, placeholders unfilled.
    fn outputs(&self, names: &[&str]) -> Vec<String> {
        let mut out = Vec::new();
        for r in &self.roots {
            let prefix = format!("{}/", r.folder);
            out.extend(
                names
                    .iter()
                    .filter(|n| !self.is_partial(n))
                    .filter_map(|n| n.strip_prefix(&prefix))
                    .map(str::to_owned),
            );
        }
        for s in &self.shared {
            for to in s.to.values() {
                out.extend(s.files.values().map(|f| format!("{to}/{f}")));
            }
        }
        out
    }

    fn check_claims(&self, names: &[&str], included: &[&str], out: &mut Vec<String>) {
        let shared: Vec<String> = self
            .shared
            .iter()
            .flat_map(|s| s.files.keys().map(move |t| format!("{}/{t}", s.from)))
            .collect();
        for n in names {
            if self.is_partial(n) {
                if !shared.iter().any(|s| s == n) && !included.contains(n) {
                    out.push(format!(
                        "`{n}` is in a partial folder but no template includes it and no `shared` entry renders it"
                    ));
                }
            } else if !self.roots.iter().any(|r| under(n, &r.folder)) {
                out.push(format!(
                    "`{n}` is claimed by no entry: put it under a root, or in a partial folder that a template or a `shared` entry uses"
                ));
            }
        }
    }
}

/// `path` is `folder` or inside it.
fn under(path: &str, folder: &str) -> bool {
    path == folder
        || path
            .strip_prefix(folder)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// The manifest of a template set: that of `sources` (the embedded one unless a user folder
/// replaced it).
pub fn of(sources: &[(String, String)]) -> Result<Manifest, ManifestError> {
    let text = sources
        .iter()
        .find(|(n, _)| n == NAME)
        .map_or("", |(_, t)| t.as_str());
    Manifest::parse(text, &format!("templates/{NAME}"))
}
