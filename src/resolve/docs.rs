//! Documentation view of the model: the system graph (nodes, groups and edges of the Mermaid
//! flowchart) and one request flow per service (the sequence diagrams), lowered per type.
//! Templates only print these; ids are Mermaid-safe (`svc_orders`, `db_orders_db`).

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
    /// Some service serves gRPC (after lowering).
    pub uses_grpc: bool,
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
}

#[derive(Debug, Clone, Serialize)]
pub struct Build {
    pub name: String,
    /// Folder with the code, Dockerfile and requirements (`services/orders`).
    pub path: String,
    pub image_repository: String,
    /// Migrations folder of its database, empty when it has none.
    pub migrations: String,
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

#[derive(Debug, Clone, Serialize)]
pub struct Group {
    /// Empty for top-level nodes.
    pub id: String,
    pub label: String,
    pub nodes: Vec<Node>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Node {
    pub id: String,
    pub label: String,
    /// `client`, `edge`, `service`, `worker`, `external`, `function`, `database`, `cache`, `broker`.
    pub kind: &'static str,
    /// Mermaid shape delimiters around the quoted label (`[`/`]`, `[(`/`)]`, …).
    pub open: &'static str,
    pub close: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Edge {
    pub from: String,
    pub to: String,
    /// `route`, `sync`, `data`, `cache`, `publish`, `consume`.
    pub kind: &'static str,
    /// Mermaid arrow: `-->` for calls, `-.->` for events.
    pub arrow: &'static str,
    pub label: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Flow {
    pub service: String,
    pub title: String,
    pub participants: Vec<Participant>,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Participant {
    pub id: String,
    pub label: String,
    /// `actor` or `participant`.
    pub keyword: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub from: String,
    pub to: String,
    /// `->>` request, `-->>` reply, `-)` asynchronous message.
    pub arrow: &'static str,
    pub text: String,
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

fn node(id: String, label: String, kind: &'static str) -> Node {
    let (open, close) = match kind {
        "client" => ("([", "])"),
        "edge" => ("{{", "}}"),
        "database" | "cache" => ("[(", ")]"),
        "broker" => ("[/", "/]"),
        "function" => ("[[", "]]"),
        _ => ("[", "]"),
    };
    Node {
        id,
        label,
        kind,
        open,
        close,
    }
}

fn edge(from: &str, to: &str, kind: &'static str, label: impl Into<String>) -> Edge {
    Edge {
        from: from.to_owned(),
        to: to.to_owned(),
        kind,
        arrow: if matches!(kind, "publish" | "consume") {
            "-.->"
        } else {
            "-->"
        },
        label: label.into(),
    }
}

fn protocol_label(s: &Service) -> String {
    match (s.http, s.grpc) {
        (true, true) => format!(
            "HTTP :{} + gRPC :{}",
            s.http_port.unwrap_or(0),
            s.grpc_port.unwrap_or(0)
        ),
        (false, true) => format!("gRPC :{}", s.port),
        _ => format!("HTTP :{}", s.port),
    }
}

fn edge_label(i: &Input) -> String {
    match i.arch {
        ArchType::Serverless => "API Gateway (HTTP API)".into(),
        _ if i.mesh => "Istio ingress gateway".into(),
        _ => "Ingress".into(),
    }
}

fn broker_label(m: &Messaging, arch: ArchType) -> String {
    match arch {
        ArchType::Serverless => "EventBridge bus + SQS queues".into(),
        _ => match m.broker {
            "kafka" => "Kafka".into(),
            "rabbitmq" => "RabbitMQ".into(),
            _ => "SQS".into(),
        },
    }
}

fn db_label(d: &Database, arch: ArchType) -> String {
    let engine = if d.engine == "postgres" {
        "PostgreSQL"
    } else {
        d.engine.as_str()
    };
    match arch {
        ArchType::Serverless => format!("{}<br/>{engine} (Aurora Serverless v2)", d.name.raw),
        _ => format!("{}<br/>{engine}", d.name.raw),
    }
}

/// Whether a service receives requests from outside (through a gateway route).
fn routed(s: &Service, all: &[Service]) -> Option<String> {
    all.iter()
        .filter(|g| g.is_gateway)
        .flat_map(|g| g.routes.iter())
        .find(|r| r.service == s.name.kebab)
        .map(|r| r.path.clone())
}

pub fn build(i: &Input) -> Docs {
    let mut docs = Docs::default();
    graph(i, &mut docs);
    docs.flows = i
        .services
        .iter()
        .filter(|s| s.generated && !s.is_gateway)
        .map(|s| flow(i, s))
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
        })
        .collect();
    docs.builds = if i.arch == ArchType::Serverless {
        // Serverless code is one package of functions (`functions/`), tested as a whole.
        vec![Build {
            name: "functions".into(),
            path: "functions".into(),
            image_repository: String::new(),
            migrations: String::new(),
        }]
    } else {
        monitored
            .iter()
            .filter(|s| s.generated)
            .map(|s| Build {
                name: s.name.kebab.clone(),
                path: format!("services/{}", s.name.kebab),
                image_repository: s.image_repository.clone(),
                migrations: s
                    .database
                    .as_ref()
                    .and_then(|d| i.databases.iter().find(|x| x.name.raw == d.name))
                    .map(|d| d.migrations_dir.clone())
                    .unwrap_or_default(),
            })
            .collect()
    };
    docs.depends_on = i
        .services
        .iter()
        .filter(|s| !s.depends_on.is_empty())
        .map(|s| {
            let deps = s.depends_on.iter().map(|d| d.name.raw.clone()).collect();
            (s.name.raw.clone(), deps)
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

fn graph(i: &Input, docs: &mut Docs) {
    let top = vec![
        node(CLIENT.into(), "Clients".into(), "client"),
        node(EDGE.into(), edge_label(i), "edge"),
    ];
    let gateways: Vec<&Service> = i.services.iter().filter(|s| s.is_gateway).collect();
    let mut edges = vec![edge(CLIENT, EDGE, "route", "HTTPS")];
    // Where external requests for a service enter: a gateway that runs as a workload, else
    // the edge itself.
    let deployed_gateway = gateways.iter().find(|g| {
        i.arch == ArchType::Microservices && i.deployables.iter().any(|d| d.name.raw == g.name.raw)
    });
    let entry = deployed_gateway.map_or_else(|| EDGE.to_owned(), |g| svc_id(&g.name.raw));
    if entry != EDGE {
        edges.push(edge(EDGE, &entry, "route", "/"));
    }
    match i.arch {
        ArchType::Monolith => {
            let app = format!("{}-app", i.system);
            let nodes = i
                .services
                .iter()
                .filter(|s| !s.is_gateway)
                .map(|s| {
                    node(
                        svc_id(&s.name.raw),
                        format!("{} module", s.name.raw),
                        if s.generated { "service" } else { "external" },
                    )
                })
                .collect();
            docs.groups.push(Group {
                id: ident(&app),
                label: format!("{app} (one deployable)"),
                nodes,
            });
        }
        ArchType::Serverless => {
            let nodes = i
                .functions
                .iter()
                .map(|f| {
                    let what = match &f.topic {
                        Some(t) => format!("consumes {}", t.raw),
                        None => f.routes.join(" "),
                    };
                    node(
                        fn_id(&f.name.raw),
                        format!("{}<br/>Lambda · {what}", f.name.raw),
                        "function",
                    )
                })
                .collect();
            docs.groups.push(Group {
                id: "functions".into(),
                label: "Lambda functions".into(),
                nodes,
            });
        }
        ArchType::Microservices => {
            let nodes = i
                .services
                .iter()
                .filter(|s| !s.is_gateway || svc_id(&s.name.raw) == entry)
                .map(|s| {
                    let (kind, what) = if s.is_gateway {
                        ("service", format!("gateway {}", protocol_label(s)))
                    } else if !s.generated {
                        ("external", format!("image {}", s.image))
                    } else if s.is_worker {
                        ("worker", "worker".to_owned())
                    } else {
                        ("service", protocol_label(s))
                    };
                    node(
                        svc_id(&s.name.raw),
                        format!("{}<br/>{what}", s.name.raw),
                        kind,
                    )
                })
                .collect();
            docs.groups.push(Group {
                id: "services".into(),
                label: if i.mesh {
                    "Kubernetes + Istio mesh (mTLS)".into()
                } else {
                    "Kubernetes".into()
                },
                nodes,
            });
        }
    }
    // Requests: routes from the edge.
    for g in &gateways {
        for r in &g.routes {
            let target = match i.arch {
                ArchType::Serverless => i
                    .functions
                    .iter()
                    .find(|f| f.service == r.service_raw(i.services) && f.trigger == "http")
                    .map(|f| fn_id(&f.name.raw)),
                _ => Some(svc_id(&r.service_raw(i.services))),
            };
            if let Some(t) = target {
                edges.push(edge(&entry, &t, "route", r.path.clone()));
            }
        }
    }
    // Synchronous calls.
    for s in i.services.iter().filter(|s| !s.is_gateway) {
        for d in &s.depends_on {
            let label = match i.arch {
                ArchType::Monolith => "in-process call".to_owned(),
                _ => format!("{} {}", d.protocol.to_uppercase(), s.resilience.timeout),
            };
            match i.arch {
                ArchType::Serverless => {
                    for f in i.functions.iter().filter(|f| f.service == s.name.raw) {
                        if let Some(t) = i
                            .functions
                            .iter()
                            .find(|t| t.service == d.name.raw && t.trigger == "http")
                        {
                            edges.push(edge(
                                &fn_id(&f.name.raw),
                                &fn_id(&t.name.raw),
                                "sync",
                                label.clone(),
                            ));
                        }
                    }
                }
                _ => edges.push(edge(
                    &svc_id(&s.name.raw),
                    &svc_id(&d.name.raw),
                    "sync",
                    label,
                )),
            }
        }
    }
    // Data stores.
    let mut data_nodes: Vec<Node> = i
        .databases
        .iter()
        .map(|d| node(db_id(&d.name.raw), db_label(d, i.arch), "database"))
        .collect();
    data_nodes.extend(i.caches.iter().map(|c| {
        node(
            cache_id(&c.name.raw),
            format!("{}<br/>Redis", c.name.raw),
            "cache",
        )
    }));
    if let Some(m) = i.messaging {
        data_nodes.push(node(BROKER.into(), broker_label(m, i.arch), "broker"));
    }
    let owners = |svc: &str| -> Vec<String> {
        match i.arch {
            ArchType::Serverless => i
                .functions
                .iter()
                .filter(|f| f.service == svc)
                .map(|f| fn_id(&f.name.raw))
                .collect(),
            _ => vec![svc_id(svc)],
        }
    };
    for s in i.services.iter().filter(|s| !s.is_gateway) {
        for o in owners(&s.name.raw) {
            if let Some(db) = &s.database {
                edges.push(edge(&o, &db_id(&db.name), "data", "SQL"));
            }
            if let Some(c) = &s.cache {
                edges.push(edge(&o, &cache_id(&c.name), "cache", "cache-aside"));
            }
        }
        if i.messaging.is_some() {
            let publisher = match i.arch {
                ArchType::Serverless => i
                    .functions
                    .iter()
                    .find(|f| f.service == s.name.raw)
                    .map(|f| fn_id(&f.name.raw)),
                _ => Some(svc_id(&s.name.raw)),
            };
            if let Some(p) = publisher {
                for t in &s.publishes {
                    edges.push(edge(&p, BROKER, "publish", t.raw.clone()));
                }
            }
            for t in &s.consumes {
                let consumer = match i.arch {
                    ArchType::Serverless => i
                        .functions
                        .iter()
                        .find(|f| {
                            f.topic.as_ref().is_some_and(|x| x.raw == t.raw)
                                && f.service == s.name.raw
                        })
                        .map(|f| fn_id(&f.name.raw)),
                    _ => Some(svc_id(&s.name.raw)),
                };
                if let Some(c) = consumer {
                    edges.push(edge(BROKER, &c, "consume", t.raw.clone()));
                }
            }
        }
    }
    if !data_nodes.is_empty() {
        docs.groups.push(Group {
            id: "data".into(),
            label: "Data and messaging".into(),
            nodes: data_nodes,
        });
    }
    docs.groups.insert(
        0,
        Group {
            id: String::new(),
            label: String::new(),
            nodes: top,
        },
    );
    docs.edges = edges;
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

trait RouteTarget {
    fn service_raw(&self, all: &[Service]) -> String;
}

impl RouteTarget for super::services::Route {
    /// Routes carry the kebab name; map back to the blueprint name used by ids.
    fn service_raw(&self, all: &[Service]) -> String {
        all.iter()
            .find(|s| s.name.kebab == self.service)
            .map_or_else(|| self.service.clone(), |s| s.name.raw.clone())
    }
}

fn flow(i: &Input, s: &Service) -> Flow {
    let mut parts: Vec<Participant> = Vec::new();
    let mut steps: Vec<Step> = Vec::new();
    let p = |id: &str, label: String, keyword| Participant {
        id: id.to_owned(),
        label,
        keyword,
    };
    let step = |from: &str, to: &str, arrow, text: String| Step {
        from: from.to_owned(),
        to: to.to_owned(),
        arrow,
        text,
    };
    let me = svc_id(&s.name.raw);
    let me_label = match i.arch {
        ArchType::Monolith => format!("{}-app ({} module)", i.system, s.name.raw),
        ArchType::Serverless => format!("{}-api function", s.name.kebab),
        ArchType::Microservices => format!("{} service", s.name.raw),
    };
    let route = routed(s, i.services);
    // The broker participates only when this service publishes or consumes.
    let broker = i
        .messaging
        .filter(|_| !s.publishes.is_empty() || !s.consumes.is_empty())
        .map(|m| broker_label(m, i.arch));
    let has_broker = broker.is_some();
    let title;
    if let Some(path) = &route {
        title = format!("Request to {} ({path})", s.name.raw);
        parts.push(p(CLIENT, "Client".into(), "actor"));
        parts.push(p(EDGE, edge_label(i), "participant"));
        parts.push(p(&me, me_label.clone(), "participant"));
        steps.push(step(
            CLIENT,
            EDGE,
            "->>",
            format!("HTTPS request {path}/..."),
        ));
        let hop = match i.arch {
            ArchType::Serverless => format!("invoke {}-api", s.name.kebab),
            _ if i.mesh => format!("forward over mTLS to {} :{}", s.name.kebab, s.port),
            _ => format!("forward to {} :{}", s.name.kebab, s.port),
        };
        steps.push(step(EDGE, &me, "->>", hop));
    } else if let Some(t) = s.consumes.first().filter(|_| has_broker) {
        title = format!("{} handles {}", s.name.raw, t.raw);
        parts.push(p(BROKER, broker.clone().unwrap_or_default(), "participant"));
        parts.push(p(&me, me_label.clone(), "participant"));
    } else {
        title = format!("Request to {}", s.name.raw);
        parts.push(p(CLIENT, "Internal caller".into(), "actor"));
        parts.push(p(&me, me_label.clone(), "participant"));
        let how = match i.arch {
            ArchType::Serverless => format!("invoke {}-api", s.name.kebab),
            _ => format!("request :{}", s.port),
        };
        steps.push(step(CLIENT, &me, "->>", how));
    }
    if route.is_none() && has_broker {
        for t in &s.consumes {
            steps.push(step(BROKER, &me, "-)", format!("deliver {}", t.raw)));
        }
    }
    for d in &s.depends_on {
        let id = svc_id(&d.name.raw);
        let label = match i.arch {
            ArchType::Monolith => format!("{} module", d.name.raw),
            ArchType::Serverless => format!("{}-api function", d.name.kebab),
            ArchType::Microservices => format!("{} service", d.name.raw),
        };
        parts.push(p(&id, label, "participant"));
        let how = match i.arch {
            ArchType::Monolith => "in-process call".to_owned(),
            _ => format!(
                "{} call (timeout {}, {} retries)",
                d.protocol.to_uppercase(),
                s.resilience.timeout,
                s.resilience.retries
            ),
        };
        steps.push(step(&me, &id, "->>", how));
        steps.push(step(&id, &me, "-->>", "response".into()));
    }
    if let Some(c) = &s.cache {
        let id = cache_id(&c.name);
        parts.push(p(&id, format!("{} (Redis)", c.name), "participant"));
        steps.push(step(&me, &id, "->>", "read-through lookup".into()));
        steps.push(step(&id, &me, "-->>", "hit or miss".into()));
    }
    if let Some(db) = &s.database {
        let id = db_id(&db.name);
        parts.push(p(&id, format!("{} (PostgreSQL)", db.name), "participant"));
        let tables: Vec<String> = s
            .entities
            .iter()
            .map(|e| super::data::table_name(e))
            .collect();
        let what = if tables.is_empty() {
            "query".to_owned()
        } else {
            format!("transaction on {}", tables.join(", "))
        };
        steps.push(step(&me, &id, "->>", what));
        steps.push(step(&id, &me, "-->>", "rows".into()));
    }
    if has_broker && !s.publishes.is_empty() {
        if !parts.iter().any(|x| x.id == BROKER) {
            parts.push(p(BROKER, broker.clone().unwrap_or_default(), "participant"));
        }
        for t in &s.publishes {
            steps.push(step(&me, BROKER, "-)", format!("publish {}", t.raw)));
        }
    }
    if route.is_some() {
        steps.push(step(&me, EDGE, "-->>", "JSON response".into()));
        steps.push(step(EDGE, CLIENT, "-->>", "HTTPS response".into()));
        if has_broker {
            for t in &s.consumes {
                steps.push(step(
                    BROKER,
                    &me,
                    "-)",
                    format!("deliver {} (asynchronous)", t.raw),
                ));
            }
        }
    } else if !parts.iter().any(|x| x.id == BROKER) {
        steps.push(step(&me, CLIENT, "-->>", "response".into()));
    }
    Flow {
        service: s.name.raw.clone(),
        title,
        participants: parts,
        steps,
    }
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
            "version: 1\nname: {name}\ntype: microservices\nservices:\n  billing:\n    language: python\n  invoicing:\n    language: python\n"
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
