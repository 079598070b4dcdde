//! Resolve stage: a validated [`Blueprint`] → the one [`Model`] every template reads.
//!
//! Everything a template needs is computed here, once: names in each case style, ports, the
//! environment variables that wire services together (the same names in code, compose and
//! Kubernetes), the scale preset with the blueprint's overrides, callers of each service, tables
//! and columns of each database, and the lowering for the blueprint's type (deployables for
//! microservices and monolith, functions for serverless). Templates never derive names.

pub mod auth;
pub mod container;
mod data;
pub mod ddl;
pub mod deploy;
pub mod docs;
pub mod events;
mod images;
pub mod lang;
mod presets;
pub mod serverless;
mod services;
pub mod terraform;
pub mod transport;

pub use data::{constraint, table_name};
pub use presets::Preset;

use crate::blueprint::{ArchType, Blueprint};
use heck::{
    ToKebabCase, ToLowerCamelCase, ToPascalCase, ToShoutySnakeCase, ToSnakeCase, ToTitleCase,
};
use serde::Serialize;
use std::collections::HashMap;

pub const TOOL_NAME: &str = env!("CARGO_PKG_NAME");
pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The service's settings attribute filled from the environment variable `env_var`:
/// pydantic-settings matches names case-insensitively, and the code spells attributes in lower
/// case. Every template printing a setting reads this (`setting` beside `env_var` or `name`).
pub fn setting_name(env_var: &str) -> String {
    env_var.to_lowercase()
}

/// One name in every spelling the outputs need.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Names {
    /// As written in the blueprint (`user-service`, `order.created`, `OrderItem`).
    pub raw: String,
    pub kebab: String,
    pub snake: String,
    pub pascal: String,
    pub camel: String,
    pub upper: String,
    pub title: String,
}

impl Names {
    pub fn new(raw: &str) -> Self {
        Names {
            raw: raw.to_owned(),
            kebab: raw.to_kebab_case(),
            snake: raw.to_snake_case(),
            pascal: raw.to_pascal_case(),
            camel: raw.to_lower_camel_case(),
            upper: raw.to_shouty_snake_case(),
            title: raw.to_title_case(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Model {
    pub tool: Tool,
    pub name: Names,
    pub description: String,
    /// `microservices`, `serverless` or `monolith`.
    pub arch: &'static str,
    pub is_microservices: bool,
    pub is_monolith: bool,
    pub is_serverless: bool,
    pub scale: &'static str,
    pub namespace: String,
    pub cloud: Cloud,
    pub environments: Vec<Environment>,
    pub ingress: Option<Ingress>,
    pub preset: Preset,
    /// Every service of the blueprint, in blueprint order.
    pub services: Vec<services::Service>,
    /// What is deployed as a workload (microservices: one per service; monolith: one app).
    pub deployables: Vec<services::Service>,
    /// Serverless lowering: one function per HTTP service and per consumed topic.
    pub functions: Vec<services::Function>,
    /// Serverless only: the data store and event bus, decided once (see [`serverless`]).
    pub serverless: Option<serverless::Serverless>,
    pub entities: Vec<data::Entity>,
    pub databases: Vec<data::Database>,
    pub caches: Vec<data::Cache>,
    pub messaging: Option<data::Messaging>,
    pub mesh: Mesh,
    pub observability: Observability,
    /// Diagram graph and request flows for `docs/` (see [`docs`]).
    pub docs: docs::Docs,
    pub ci: Ci,
    /// Build phases from the dependency graph.
    pub phases: Vec<Phase>,
    /// The load test's plain GETs: the gateway's route prefixes when no entity has a public API
    /// to exercise (a system of existing images), else none.
    pub load_paths: Vec<String>,
    /// Kubernetes / Istio / compose wiring (deployments per version, callers, backing services).
    pub deploy: deploy::Deploy,
    /// Terraform defaults and the offline plan tests' expectations and fixtures.
    pub terraform: terraform::Terraform,
    /// Client transport (TLS, auth, ports) locally and in the cloud environments.
    pub transport: transport::Transport,
    /// Tokens, access rules, CORS and rate limits (see [`auth`]).
    pub security: auth::Security,
}

/// What a run's summary prints about the system (`Generated ... into ...`, the services, the
/// next steps). Kept in the state beside the fingerprint: a no-op whose inputs are unchanged
/// reports from it without resolving the blueprint again (issue 23).
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct Overview {
    pub name: String,
    pub arch: String,
    pub scale: String,
    pub is_serverless: bool,
    /// Every service's name, in model order.
    pub services: Vec<String>,
}

impl Model {
    pub fn overview(&self) -> Overview {
        Overview {
            name: self.name.raw.clone(),
            arch: self.arch.to_owned(),
            scale: self.scale.to_owned(),
            is_serverless: self.is_serverless,
            services: self.services.iter().map(|s| s.name.raw.clone()).collect(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Cloud {
    pub provider: String,
    pub region: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Environment {
    pub name: String,
    /// The namespace the environment's overlay deploys into.
    pub namespace: String,
    pub is_prod: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Ingress {
    pub host: String,
    pub tls: bool,
    /// Kubernetes Secret holding the TLS certificate for the gateway.
    pub tls_secret: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Mesh {
    pub enabled: bool,
    pub mtls: String,
    pub mtls_mode: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Observability {
    pub tracing: bool,
    pub metrics: bool,
    pub dashboards: bool,
    /// OTLP endpoint services export traces to.
    pub otlp_endpoint: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Ci {
    pub provider: String,
    pub github: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Phase {
    pub number: usize,
    pub name: String,
    pub description: String,
    pub items: Vec<String>,
}

/// Build the model. The blueprint must have passed validation (no errors).
/// Each service's entries in the docs model, by name, so templates index instead of scanning.
fn link_docs(services: &mut [services::Service], docs: &docs::Docs) {
    fn index<'a>(keys: impl Iterator<Item = &'a str>) -> HashMap<&'a str, Vec<usize>> {
        let mut map: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, k) in keys.enumerate() {
            map.entry(k).or_default().push(i);
        }
        map
    }
    let monitored = index(docs.monitored.iter().map(|u| u.service.as_str()));
    let flows = index(docs.flows.iter().map(|f| f.service.as_str()));
    for s in services {
        s.monitored_ids = monitored
            .get(s.name.kebab.as_str())
            .cloned()
            .unwrap_or_default();
        s.flow_ids = flows.get(s.name.raw.as_str()).cloned().unwrap_or_default();
    }
}

/// Why a valid blueprint does not resolve: a built-in data file (scale presets, pinned images)
/// does not load, or the blueprint's `overrides` do not fit its preset.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("presets.yaml: {0}")]
    Presets(#[source] Box<serde_saphyr::Error>),
    #[error("presets.yaml has no `{0}` preset")]
    NoPreset(String),
    #[error("`overrides`: {0}")]
    Overrides(#[source] serde_json::Error),
    #[error("images.yaml: {0}")]
    Images(#[source] Box<serde_saphyr::Error>),
    #[error("images.yaml: `{key}: {image}`: {why}")]
    Unpinned {
        key: &'static str,
        image: String,
        why: &'static str,
    },
}

pub fn resolve(bp: &Blueprint, presets_src: &str) -> Result<Model, ResolveError> {
    let preset = presets::load(presets_src, bp.scale.as_str(), &bp.overrides)?;
    let name = Names::new(&bp.name);
    let namespace = name.kebab.clone();
    let mut data = data::resolve(bp, &preset);
    let mut services = services::resolve(bp, &preset, &data);
    lang::python::code::enrich_columns(&mut data.entities);
    lang::python::code::enrich_entities(&mut data.entities, &services);
    auth::link_entities(bp, &mut data.entities, &services);
    // Cache-aside is not lowered to functions yet: a serverless system has no cache (no route gets
    // a cache prefix, no cluster is created); the docs name the blueprint's caches left out.
    let unlowered_caches: Vec<String> = if bp.arch == ArchType::Serverless {
        for e in &mut data.entities {
            e.code.cache_key_prefix = None;
        }
        for s in &mut services {
            s.cache = None;
        }
        data.caches.drain(..).map(|c| c.name.raw).collect()
    } else {
        Vec::new()
    };
    lang::python::code::link_entities(&mut services, &mut data.databases, &data.entities);
    lang::python::code::link_calls(&mut services, &mut data.entities);
    lang::lower(&mut services, &data.entities);
    let mut deployables = services::deployables(bp, &name, &services, &data);
    lang::python::code::link_entities(&mut deployables, &mut [], &data.entities);
    if bp.arch == ArchType::Monolith {
        lang::lower_apps(&mut deployables, &services, &data.entities);
    }
    events::link_topics(data.messaging.as_mut(), &data.entities);
    if bp.arch != ArchType::Serverless {
        // Functions publish after the commit (no outbox or relay there yet).
        let mq = data.messaging.as_ref();
        events::link(&mut services, &mut data.databases, &preset, mq);
        events::link(&mut deployables, &mut data.databases, &preset, mq);
        lang::typescript::link_in_process(&mut deployables);
        if let Some(mq) = data.messaging.as_mut().filter(|m| m.is_sqs) {
            let prefix_len = bp.environments.iter().map(|e| e.len()).max().unwrap_or(0);
            let prefix_len = name.kebab.len() + 1 + prefix_len;
            let layout = events::link_sqs(
                &mut deployables,
                &mq.topics,
                &mq.address,
                &name.kebab,
                prefix_len,
                &preset,
            );
            mq.sqs = Some(layout);
            // Microservices render each service from `services`: the same names as its workload.
            for s in &mut services {
                if let Some(d) = deployables.iter().find(|d| d.name.raw == s.name.raw) {
                    s.events = d.events.clone();
                    s.env = d.env.clone();
                }
            }
        }
    }
    // Every variable is in `env` now: compose's list follows from it.
    services::derive_local_env(&mut services);
    services::derive_local_env(&mut deployables);
    for d in &mut data.databases {
        d.tables = d
            .entity_ids
            .iter()
            .map(|&i| ddl::table(&data.entities[i]))
            .collect();
        if d.events {
            d.tables.extend(ddl::event_tables(d.dialect));
        }
        d.init_up = ddl::init_up(d.dialect, &d.tables);
        d.init_down = ddl::init_down(d.dialect, &d.tables);
    }
    let mut functions = services::functions(bp, &services, &data.entities, &preset);
    let serverless = (bp.arch == ArchType::Serverless).then(|| {
        let mut lowered = serverless::lower(
            unlowered_caches,
            &name,
            &preset,
            &services,
            &data.databases,
            &data.entities,
            &mut functions,
        );
        // A small system is for trying out: its tables may be deleted with it.
        lowered.table_deletion_protection = bp.scale.as_str() != "small";
        lowered
    });
    lang::typescript::lower_functions(&mut services, &functions, serverless.as_ref(), &name);
    let images = images::load(crate::assets::images())?;
    let docs = docs::build(&docs::Input {
        arch: bp.arch,
        system: &name.kebab,
        services: &services,
        deployables: &deployables,
        functions: &functions,
        databases: &data.databases,
        caches: &data.caches,
        messaging: data.messaging.as_ref(),
        mesh: bp.mesh.enabled && bp.arch == ArchType::Microservices,
        scale: bp.scale.as_str(),
        preset: &preset,
        presets_src,
        environments: &bp.environments,
        images: &images,
    });
    link_docs(&mut services, &docs);
    link_docs(&mut deployables, &docs);
    let phases = services::phases(bp, &services);
    let mesh_on = bp.mesh.enabled && bp.arch == ArchType::Microservices;
    let environments: Vec<Environment> = bp
        .environments
        .iter()
        .map(|e| Environment {
            name: e.clone(),
            namespace: format!("{namespace}-{e}"),
            is_prod: e == "prod" || e == "production",
        })
        .collect();
    let deploy = deploy::resolve(
        bp,
        &name,
        &services,
        &deployables,
        &data,
        &environments,
        preset.replicas.min,
    )?;
    let terraform = terraform::resolve(
        &preset,
        bp.scale.as_str(),
        &bp.cloud.region,
        data.messaging.as_ref(),
    );
    let transport = transport::resolve(
        &name,
        &bp.cloud.region,
        &environments,
        &deployables,
        &data,
        bp.arch != ArchType::Serverless,
    );
    let security = auth::resolve(bp, &name, &preset, &data.entities, &deployables);
    let load_paths = if data.entities.iter().any(|e| e.code.public) {
        Vec::new()
    } else {
        deploy
            .edge
            .iter()
            .flat_map(|e| e.routes.iter().map(|r| r.path.clone()))
            .collect()
    };
    Ok(Model {
        security,
        tool: Tool {
            name: TOOL_NAME,
            version: TOOL_VERSION,
        },
        description: bp.description.clone(),
        arch: bp.arch.as_str(),
        is_microservices: bp.arch == ArchType::Microservices,
        is_monolith: bp.arch == ArchType::Monolith,
        is_serverless: bp.arch == ArchType::Serverless,
        scale: bp.scale.as_str(),
        cloud: Cloud {
            provider: bp.cloud.provider.clone(),
            region: bp.cloud.region.clone(),
        },
        environments,
        ingress: bp.ingress.as_ref().map(|i| Ingress {
            host: i.host.clone(),
            tls: i.tls,
            tls_secret: format!("{namespace}-tls"),
        }),
        namespace,
        name,
        preset,
        services,
        deployables,
        functions,
        serverless,
        entities: data.entities,
        databases: data.databases,
        caches: data.caches,
        messaging: data.messaging,
        mesh: Mesh {
            enabled: mesh_on,
            mtls: bp.mesh.mtls.clone(),
            mtls_mode: bp.mesh.mtls.to_uppercase(),
        },
        observability: Observability {
            tracing: bp.observability.tracing,
            metrics: bp.observability.metrics,
            dashboards: bp.observability.dashboards,
            otlp_endpoint: "http://otel-collector:4317".into(),
        },
        docs,
        ci: Ci {
            provider: bp.ci.provider.clone(),
            github: bp.ci.provider == "github",
        },
        phases,
        load_paths,
        deploy,
        terraform,
        transport,
    })
}
