//! Documentation view of the model: the system graph (nodes, groups and edges of the Mermaid
//! flowchart) and one request flow per service (the sequence diagrams), lowered per type.
//! Templates only print these; ids are Mermaid-safe (`svc_orders`, `db_orders_db`).

mod flows;
mod graph;

pub use flows::{Flow, Participant, Step};
pub use graph::{Edge, Group, Node};

use super::data::{Cache, Database, Messaging};
use super::services::{Function, Service};
use super::{Preset, presets};
use crate::blueprint::ArchType;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, Default)]
pub struct Docs {
    /// Subgraphs of the flowchart (the monolith app, the data layer, …), in display order.
    pub groups: Vec<Group>,
    pub edges: Vec<Edge>,
    /// One request/event flow per service with generated code (not the gateway).
    pub flows: Vec<Flow>,
    /// Every scale preset (the blueprint's own with its overrides), for the targets tables.
    pub scales: Vec<ScaleRow>,
    /// Synchronous calls between services (`depends_on`), in blueprint order.
    pub calls: Vec<Call>,
    /// Services that consume at least one topic, deduplicated, in blueprint order.
    pub event_consumers: Vec<String>,
    /// What runs and is observed (alerts, dashboards): the workloads, or for serverless the
    /// services behind the functions. `service` is the value of the metrics' `service` label.
    pub monitored: Vec<Monitored>,
    /// What CI lints, tests and builds into an image: one entry per code folder.
    pub builds: Vec<Build>,
    /// CI runs a MySQL server beside PostgreSQL (some build's database is MySQL), this image.
    pub ci_mysql_image: Option<String>,
    /// Some TypeScript service tests against MySQL (the Node job starts one too).
    pub ci_node_mysql: bool,
    /// The same split by language: CI's Python job and its Node.js job.
    pub python_builds: Vec<Build>,
    pub node_builds: Vec<Build>,
    /// Some service serves gRPC (after lowering).
    pub uses_grpc: bool,
    /// Environment variables that wire the system together (dependencies, database, cache,
    /// broker), for the prose of the architecture document.
    pub wiring_vars: Vec<String>,
    /// Where each environment deploys to (names shared with the Terraform of the tree).
    pub deploy_targets: Vec<DeployTarget>,
    /// Services with dependencies → the services they call (for the build plan table).
    pub depends_on: std::collections::BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Monitored {
    pub service: String,
    pub title: String,
    /// Code generated here (so it exposes the standard metric names).
    pub generated: bool,
    /// Grafana dashboard uid (at most 40 characters).
    pub dashboard_uid: String,
    /// Alert name prefix (`Orders`).
    pub alert_prefix: String,
    /// It relays an outbox or consumes events (event alerts and dashboard panels).
    pub events: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Build {
    pub name: String,
    /// Folder with the code, Dockerfile and requirements (`services/orders`).
    pub path: String,
    pub image_repository: String,
    /// Migrations folder of its database, empty when it has none.
    pub migrations: String,
    /// CI: the URL its tests use (the job's PostgreSQL, or its MySQL for a MySQL database), and
    /// the one dbmate applies its migrations with.
    pub database_url: &'static str,
    pub migrate_url: &'static str,
    /// TypeScript code (npm, tsc, eslint, node --test) rather than Python.
    pub typescript: bool,
    /// Its Node.js major version (TypeScript only).
    pub node_major: &'static str,
}

/// CI's throwaway servers, reachable from the job only, without a password.
const CI_POSTGRES_URL: &str = "postgresql://app@localhost:5432/app";
const CI_MYSQL_URL: &str = "mysql://root@127.0.0.1:3306/app";

#[derive(Debug, Clone, Serialize)]
pub struct DeployTarget {
    pub env: String,
    /// EKS cluster name (`<system>-<env>`, the Terraform prefix).
    pub cluster: String,
    /// Serverless: S3 bucket the function packages are uploaded to.
    pub artifact_bucket: String,
    /// Serverless: every Aurora cluster, which the deploy job migrates as its master user.
    pub database_secrets: Vec<DatabaseSecret>,
}

/// What the serverless deploy job needs to migrate one database in one environment.
#[derive(Debug, Clone, Serialize)]
pub struct DatabaseSecret {
    /// RDS cluster identifier (`<system>-<env>-<database>`, as Terraform names it).
    pub identifier: String,
    pub user: String,
    pub db_name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Call {
    pub from: String,
    pub to: String,
    pub protocol: &'static str,
    pub env_var: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScaleRow {
    pub scale: &'static str,
    pub current: bool,
    pub preset: Preset,
}

/// The parts of the model the documents are drawn from.
pub struct Input<'a> {
    pub arch: ArchType,
    pub system: &'a str,
    pub services: &'a [Service],
    pub deployables: &'a [Service],
    pub functions: &'a [Function],
    pub databases: &'a [Database],
    pub caches: &'a [Cache],
    pub messaging: Option<&'a Messaging>,
    pub mesh: bool,
    pub scale: &'a str,
    pub preset: &'a Preset,
    pub presets_src: &'a str,
    pub environments: &'a [String],
    pub images: &'a super::images::Images,
}

pub fn svc_id(name: &str) -> String {
    format!("svc_{}", ident(name))
}
pub fn db_id(name: &str) -> String {
    format!("db_{}", ident(name))
}
pub fn cache_id(name: &str) -> String {
    format!("cache_{}", ident(name))
}
pub fn fn_id(name: &str) -> String {
    format!("fn_{}", ident(name))
}
const CLIENT: &str = "client";
const EDGE: &str = "edge";
const BROKER: &str = "broker";

fn ident(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

pub fn build(i: &Input) -> Docs {
    let mut docs = Docs::default();
    graph::graph(i, &mut docs);
    docs.flows = i
        .services
        .iter()
        .filter(|s| s.generated && !s.is_gateway)
        .map(|s| flows::flow(i, s))
        .collect();
    docs.calls = i
        .services
        .iter()
        .flat_map(|s| {
            s.depends_on.iter().map(|d| Call {
                from: s.name.raw.clone(),
                to: d.name.raw.clone(),
                protocol: d.protocol,
                env_var: d.env_var.clone(),
            })
        })
        .collect();
    docs.event_consumers = i
        .services
        .iter()
        .filter(|s| !s.consumes.is_empty())
        .map(|s| s.name.raw.clone())
        .collect();
    let monitored: Vec<&Service> = match i.arch {
        ArchType::Serverless => i
            .services
            .iter()
            .filter(|s| s.generated && !s.is_gateway)
            .collect(),
        _ => i.deployables.iter().collect(),
    };
    docs.monitored = monitored
        .iter()
        .map(|s| Monitored {
            service: s.name.kebab.clone(),
            title: format!("{} / {}", i.system, s.name.kebab),
            generated: s.generated,
            dashboard_uid: dashboard_uid(i.system, &s.name.kebab),
            alert_prefix: s.name.pascal.clone(),
            events: i.arch != ArchType::Serverless
                && s.generated
                && (!s.publishes.is_empty() || !s.consumes.is_empty()),
        })
        .collect();
    docs.builds = if i.arch == ArchType::Serverless {
        // The Python functions are one package (`functions/`), tested as a whole; a TypeScript
        // service's functions are its own package, tested on its database.
        let python = i
            .functions
            .iter()
            .any(|f| f.language == crate::resolve::lang::PYTHON);
        let python = python.then(|| Build {
            name: "functions".into(),
            path: "functions".into(),
            image_repository: String::new(),
            migrations: String::new(),
            database_url: CI_POSTGRES_URL,
            migrate_url: "postgresql://app@localhost:5432/app?sslmode=disable",
            typescript: false,
            node_major: "",
        });
        let typescript = i
            .services
            .iter()
            .filter(|s| s.is_typescript)
            .map(|s| Build {
                name: s.name.kebab.clone(),
                path: format!("services/{}", s.name.kebab),
                image_repository: String::new(),
                migrations: s
                    .database
                    .as_ref()
                    .and_then(|d| i.databases.iter().find(|x| x.name.raw == d.name))
                    .map(|d| d.migrations_dir.clone())
                    .unwrap_or_default(),
                database_url: CI_POSTGRES_URL,
                migrate_url: "postgresql://app@localhost:5432/app?sslmode=disable",
                typescript: true,
                node_major: crate::resolve::lang::typescript::NODE_MAJOR,
            });
        python.into_iter().chain(typescript).collect()
    } else {
        monitored
            .iter()
            .filter(|s| s.generated)
            .map(|s| {
                let db = s
                    .database
                    .as_ref()
                    .and_then(|d| i.databases.iter().find(|x| x.name.raw == d.name));
                let mysql = db.is_some_and(|d| d.dialect.is_mysql());
                Build {
                    name: s.name.kebab.clone(),
                    path: format!("services/{}", s.name.kebab),
                    image_repository: s.image_repository.clone(),
                    migrations: db.map(|d| d.migrations_dir.clone()).unwrap_or_default(),
                    database_url: if mysql { CI_MYSQL_URL } else { CI_POSTGRES_URL },
                    migrate_url: if mysql {
                        CI_MYSQL_URL
                    } else {
                        "postgresql://app@localhost:5432/app?sslmode=disable"
                    },
                    typescript: s.is_typescript,
                    node_major: if s.is_typescript {
                        crate::resolve::lang::typescript::NODE_MAJOR
                    } else {
                        ""
                    },
                }
            })
            .collect()
    };
    docs.ci_mysql_image = docs
        .builds
        .iter()
        .any(|b| b.database_url == CI_MYSQL_URL)
        .then(|| i.images.mysql.clone());
    (docs.node_builds, docs.python_builds) =
        docs.builds.iter().cloned().partition(|b| b.typescript);
    docs.ci_node_mysql = docs
        .node_builds
        .iter()
        .any(|b| b.database_url == CI_MYSQL_URL);
    docs.depends_on = i
        .services
        .iter()
        .filter(|s| !s.depends_on.is_empty())
        .map(|s| {
            let deps = s.depends_on.iter().map(|d| d.name.raw.clone()).collect();
            (s.name.raw.clone(), deps)
        })
        .collect();
    if i.arch != ArchType::Monolith {
        docs.wiring_vars = docs.calls.iter().map(|c| c.env_var.clone()).collect();
    }
    let with_db = i.services.iter().find_map(|s| s.database.as_ref());
    let with_cache = i.services.iter().find_map(|s| s.cache.as_ref());
    docs.wiring_vars
        .extend(with_db.map(|d| d.env_var.to_owned()));
    docs.wiring_vars
        .extend(with_cache.map(|c| c.env_var.to_owned()));
    docs.wiring_vars
        .extend(i.messaging.map(|m| m.env_var.to_owned()));
    let mut seen = std::collections::BTreeSet::new();
    docs.wiring_vars.retain(|v| seen.insert(v.clone()));
    docs.deploy_targets = i
        .environments
        .iter()
        .map(|e| DeployTarget {
            env: e.clone(),
            cluster: format!("{}-{e}", i.system),
            artifact_bucket: format!("{}-artifacts-{e}", i.system),
            database_secrets: i
                .databases
                .iter()
                .map(|d| DatabaseSecret {
                    identifier: format!("{}-{e}-{}", i.system, d.name.kebab),
                    user: d.user.clone(),
                    db_name: d.db_name.clone(),
                })
                .collect(),
        })
        .collect();
    docs.uses_grpc = i.arch != ArchType::Monolith && i.services.iter().any(|s| s.grpc);
    docs.scales = ["small", "medium", "large"]
        .into_iter()
        .filter_map(|scale| {
            let preset = if scale == i.scale {
                Some(i.preset.clone())
            } else {
                presets::load(i.presets_src, scale, &serde_json::Map::new()).ok()
            };
            preset.map(|preset| ScaleRow {
                scale,
                current: scale == i.scale,
                preset,
            })
        })
        .collect();
    docs
}

/// `<system>-<service>`, or when that exceeds Grafana's 40 characters a prefix of it plus a
/// short hash of the whole, so uids stay unique and stable.
fn dashboard_uid(system: &str, service: &str) -> String {
    let full = format!("{system}-{service}");
    if full.len() <= 40 {
        return full;
    }
    let hash = blake3::hash(full.as_bytes()).to_hex();
    let prefix: String = full.chars().take(31).collect();
    format!("{}-{}", prefix.trim_end_matches('-'), &hash[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(src: &str) -> crate::resolve::Model {
        let loaded = crate::blueprint::load(src, "test.yaml");
        assert!(
            !loaded.diagnostics.has_errors(),
            "{:?}",
            loaded.diagnostics.items
        );
        crate::resolve::resolve(&loaded.blueprint.unwrap(), crate::assets::presets()).unwrap()
    }

    #[test]
    fn dashboard_uids_fit_grafanas_forty_characters_and_stay_unique() {
        let name = "a-very-long-system-name-of-forty-chars-x";
        assert_eq!(name.len(), 40);
        let m = model(&format!(
            "version: 1\nname: {name}\ntype: microservices\nenvironments: [dev, prod]\nservices:\n  billing:\n    language: python\n  invoicing:\n    language: python\n"
        ));
        let uids: Vec<&str> = m
            .docs
            .monitored
            .iter()
            .map(|u| u.dashboard_uid.as_str())
            .collect();
        assert_eq!(uids.len(), 2);
        assert_ne!(uids[0], uids[1]);
        for uid in uids {
            assert!(uid.len() <= 40, "{uid}");
        }
        assert_eq!(dashboard_uid("shop", "orders"), "shop-orders");
    }

    #[test]
    fn mermaid_ids_are_plain_identifiers() {
        assert_eq!(svc_id("user-service"), "svc_user_service");
        assert_eq!(db_id("orders.db"), "db_orders_db");
    }
}
