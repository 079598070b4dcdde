//! The system flowchart: nodes (clients, edge, services or modules or functions, datastores,
//! broker) grouped in subgraphs, and edges for routes, calls, data access and events.

use super::{BROKER, CLIENT, Docs, EDGE, Input, cache_id, db_id, fn_id, ident, svc_id};
use crate::blueprint::ArchType;
use crate::resolve::data::{Database, Messaging};
use crate::resolve::services::Service;
use serde::Serialize;

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

pub(super) fn edge_label(i: &Input) -> String {
    match i.arch {
        ArchType::Serverless => "API Gateway (HTTP API)".into(),
        _ if i.mesh => "Istio ingress gateway".into(),
        _ => "Ingress".into(),
    }
}

pub(super) fn broker_label(m: &Messaging, arch: ArchType) -> String {
    match arch {
        ArchType::Serverless => "EventBridge bus + SQS queues".into(),
        _ => match m.broker {
            "kafka" => "Kafka".into(),
            "rabbitmq" => "RabbitMQ".into(),
            _ => "SQS".into(),
        },
    }
}

/// The product a database engine names, as the docs print it.
pub(super) fn engine_name(engine: &str) -> &'static str {
    match engine {
        "dynamodb" => "DynamoDB",
        "mysql" => "MySQL",
        _ => "PostgreSQL",
    }
}

pub(super) fn db_label(d: &Database, arch: ArchType) -> String {
    match (d.engine.as_str(), arch) {
        ("postgres", ArchType::Serverless) => {
            format!("{}<br/>PostgreSQL (Aurora Serverless v2)", d.name.raw)
        }
        (engine, _) => format!("{}<br/>{}", d.name.raw, engine_name(engine)),
    }
}

pub(super) fn graph(i: &Input, docs: &mut Docs) {
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

trait RouteTarget {
    fn service_raw(&self, all: &[Service]) -> String;
}

impl RouteTarget for crate::resolve::services::Route {
    /// Routes carry the kebab name; map back to the blueprint name used by ids.
    fn service_raw(&self, all: &[Service]) -> String {
        all.iter()
            .find(|s| s.name.kebab == self.service)
            .map_or_else(|| self.service.clone(), |s| s.name.raw.clone())
    }
}
