//! One sequence diagram per service: the request (or event) that reaches it, its calls,
//! cache and database access, and the events it publishes, lowered per type.

use super::graph::{broker_label, edge_label, engine_name};
use super::{BROKER, CLIENT, EDGE, Input, cache_id, db_id, svc_id};
use crate::blueprint::ArchType;
use crate::resolve::services::Service;
use serde::Serialize;

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

/// Whether a service receives requests from outside (through a gateway route).
fn routed(s: &Service, all: &[Service]) -> Option<String> {
    all.iter()
        .filter(|g| g.is_gateway)
        .flat_map(|g| g.routes.iter())
        .find(|r| r.service == s.name.kebab)
        .map(|r| r.path.clone())
}

pub(super) fn flow(i: &Input, s: &Service) -> Flow {
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
        let engine = engine_name(&db.engine);
        parts.push(p(&id, format!("{} ({engine})", db.name), "participant"));
        let tables: Vec<String> = s
            .entities
            .iter()
            .map(|e| crate::resolve::data::table_name(e))
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
