//! Services of the model: ports, env wiring, callers, versions, resilience, and the per-type
//! lowering into deployables (microservices, monolith) or functions (serverless).

use super::data::Data;
use super::{Names, Phase, Preset};
use crate::blueprint::container::{AddressForm, EffectivePort, EnvValue, PortProtocol, PortRef};
use crate::blueprint::{self, ArchType, Blueprint, ServiceKind};
use serde::Serialize;

pub use crate::blueprint::container::HTTP_PORT;
pub const IMAGE_TAG: &str = "0.1.0";

#[derive(Debug, Clone, Serialize)]
pub struct Service {
    pub name: Names,
    pub kind: &'static str,
    pub description: String,
    pub is_gateway: bool,
    pub is_worker: bool,
    /// Code is generated for it (it has a language); false for an existing `image`.
    pub generated: bool,
    pub language: Option<String>,
    /// Full image reference; built images are `<system>/<service>:<tag>`.
    pub image: String,
    pub image_repository: String,
    pub image_tag: String,
    pub http: bool,
    pub grpc: bool,
    /// Main port (http when served, else grpc).
    pub port: u16,
    pub http_port: Option<u16>,
    pub grpc_port: Option<u16>,
    /// Where its generated HTTP server listens in the container.
    pub listen: Listen,
    pub ports: Vec<Port>,
    /// Where Prometheus scrapes it (the http container port), when it serves the tool's
    /// `/metrics`: generated code, or an image that declares no ports of its own.
    pub scrape_port: Option<u16>,
    /// Every port is plain TCP: the mesh routes it as TCP (no HTTP timeouts or retries).
    pub mesh_tcp: bool,
    /// Probes, user, filesystem, volumes and command of its container; see `container`.
    pub run: super::container::ContainerRun,
    pub health_path: &'static str,
    pub ready_path: &'static str,
    pub metrics_path: &'static str,
    /// Python package / module name.
    pub module: String,
    pub service_account: String,
    pub config_map: String,
    pub database: Option<DatabaseRef>,
    pub cache: Option<CacheRef>,
    /// Names of the entities it owns.
    pub entities: Vec<String>,
    pub publishes: Vec<Names>,
    pub consumes: Vec<Names>,
    pub depends_on: Vec<Dependency>,
    /// Services whose address an existing image is given under `env` (calls without a start-up
    /// order), with the container port it dials.
    pub addressed: Vec<(String, u16)>,
    /// References verified through a dependency's API on create and update (microservices:
    /// a `ref` to an entity owned by a service in `depends_on`); see `lang::python::code::link_calls`.
    pub references: Vec<super::lang::python::types::VerifiedRef>,
    /// Services (and the gateway) allowed to call it.
    pub callers: Vec<String>,
    pub versions: Vec<Version>,
    pub has_versions: bool,
    pub resilience: Resilience,
    /// Gateway only: path prefix → service.
    pub routes: Vec<Route>,
    /// Plain configuration, the Kubernetes ConfigMap's.
    pub env: Vec<EnvVar>,
    /// The same names for compose, where an address names the callee's container port (there is
    /// no Service in front of it); identical to `env` unless a callee maps its ports. Derived
    /// from `env` and `local_values` once, at the end of resolve ([`derive_local_env`]): an
    /// addition to `env` reaches compose without a second list to keep in step.
    pub local_env: Vec<EnvVar>,
    /// compose's value of each variable of `env` whose value differs there.
    #[serde(skip)]
    pub local_values: Vec<EnvVar>,
    /// Credentials, from a Secret in Kubernetes (never literal there).
    pub secret_env: Vec<SecretEnv>,
    /// Monolith only: the blueprint services that are modules of this app.
    pub modules: Vec<String>,
    /// Indices into `Model::entities` of what it owns (a monolith app: what its modules own),
    /// in model order, so templates index instead of scanning every entity.
    pub entity_ids: Vec<usize>,
    /// Indices into `Model::docs.monitored` and `Model::docs.flows` of its entries (at most one
    /// each), set once the docs model is built.
    pub monitored_ids: Vec<usize>,
    pub flow_ids: Vec<usize>,
    /// Code-generation details (import lines, router order); see `lang::python::code`.
    pub code: super::lang::python::types::ServiceCode,
    /// Pinned Python packages (pyproject.toml, requirements.txt); see `lang::python::deps`.
    pub python: super::lang::python::deps::PythonDeps,
    /// The TypeScript view (packages, entities, clients) of a `language: typescript` service;
    /// see `lang::typescript`.
    pub ts: Option<super::lang::typescript::TsService>,
    /// Its code is TypeScript: the templates of `templates/lang/typescript/` render it.
    pub is_typescript: bool,
    /// Outbox, idempotent consumption, retries and dead letters; see `events`.
    pub events: super::events::EventsCode,
}

/// The address a service's HTTP server binds: every interface on its HTTP port; loopback only
/// when it speaks gRPC alone. Such a service's routes are internal: its RPCs reach them in
/// process, its probes are gRPC's (container.rs) and the image's HEALTHCHECK runs inside it.
#[derive(Debug, Clone, Serialize)]
pub struct Listen {
    pub host: &'static str,
    pub port: u16,
}

/// See [`Listen`]: the internal HTTP port is HTTP_PORT, or the next one when gRPC took it.
fn listen(http_port: Option<u16>, main_port: u16, grpc_port: Option<u16>) -> Listen {
    match (http_port, grpc_port) {
        (None, Some(grpc)) => Listen {
            host: "127.0.0.1",
            port: if grpc == HTTP_PORT {
                HTTP_PORT + 1
            } else {
                HTTP_PORT
            },
        },
        _ => Listen {
            host: "0.0.0.0",
            port: main_port,
        },
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Port {
    pub name: String,
    /// The Service port other workloads dial.
    pub port: u16,
    /// Where the container listens (NetworkPolicy, the mesh's policies and compose use it).
    pub container_port: u16,
    /// The Service's `appProtocol`: `http`, `grpc` or `tcp`.
    pub protocol: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct DatabaseRef {
    pub name: String,
    /// The database's Terraform module (see `data::Database::module`).
    pub module: String,
    /// `postgres`, `mysql` or `dynamodb` (serverless only).
    pub engine: String,
    /// The SQL the service's code and tests speak (`postgres` or `mysql`), and the pieces of
    /// it the templates print.
    pub dialect: super::ddl::Dialect,
    pub mysql: bool,
    /// SQLAlchemy's dialect and driver: `postgresql+psycopg` or `mysql+pymysql` (ADR 0007).
    pub sa_driver: &'static str,
    /// What quotes an identifier in raw SQL (`"` or a backtick).
    pub quote: &'static str,
    /// SQLAlchemy's type of a UUID column (the event tables'; entities' columns carry theirs).
    pub uuid_type: &'static str,
    /// The URL a developer's local server answers on (settings default; the tests' default
    /// connects as the server's superuser, `postgres` or `root`).
    pub local_url: String,
    pub test_url: String,
    pub env_var: &'static str,
    pub secret_name: String,
    pub host: String,
    pub port: u16,
    pub db_name: String,
    pub user: String,
    /// Where its migrations are (`migrations/<db>`), for the service's test fixtures.
    pub migrations_dir: String,
    /// From the scale preset: PostgreSQL `statement_timeout` (ms) and the SQLAlchemy pool of
    /// one process; the service reads `DB_STATEMENT_TIMEOUT_MS`, `DB_POOL_SIZE` and
    /// `DB_MAX_OVERFLOW` with these defaults.
    pub statement_timeout_ms: u32,
    pub pool_size: u32,
    pub max_overflow: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct CacheRef {
    pub name: String,
    /// The cache's Terraform module (see `data::Cache::module`).
    pub module: String,
    pub env_var: &'static str,
    pub url: String,
    /// Lifetime of a row cached by id (the scale preset's `cache.ttl_seconds`).
    pub ttl_seconds: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Dependency {
    pub name: Names,
    /// `ORDERS_URL` (http) or `ORDERS_GRPC_ADDR` (grpc only), and its settings attribute.
    pub env_var: String,
    pub setting: String,
    pub address: String,
    pub protocol: &'static str,
    /// How the caller's `/readyz` checks it: `http` (a GET of the tool's `/healthz`) when it
    /// keeps the tool's probes, else `tcp` (a connection to its port).
    pub check: &'static str,
    pub port: u16,
    /// The callee's container port (what a NetworkPolicy egress rule names).
    pub target_port: u16,
    /// Its key in the caller's `/readyz` checks: the service name, or `service.<name>` when
    /// that would clash with a check of the caller's own (`database`, `schema`, `broker`, `cache`).
    pub ready_key: String,
    /// The callee has generated code (an HTTP API with an OpenAPI contract) rather than an image.
    pub generated: bool,
    /// Its typed client: the Python class and one method per endpoint of the callee (filled
    /// in by `lang::python::code::link_calls`).
    pub client: super::lang::python::types::ClientCode,
}

#[derive(Debug, Clone, Serialize)]
pub struct Version {
    pub name: String,
    pub weight: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Resilience {
    pub timeout: String,
    pub timeout_seconds: f64,
    pub retries: u32,
    /// `try_timeout_seconds` as a duration (`1250ms`): the mesh's per-try timeout too.
    pub per_try_timeout: String,
    /// One try of an outgoing call: the budget over `retries + 1` tries, so that every try
    /// together fits `timeout_seconds`.
    pub try_timeout_seconds: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Route {
    pub path: String,
    pub service: String,
    pub port: u16,
    /// The target's container port (what compose's nginx dials).
    pub local_port: u16,
}

/// A variable and its value; serialized with its `setting` (see [`super::setting_name`]).
#[derive(Debug, Clone)]
pub struct EnvVar {
    pub name: String,
    pub value: String,
}

impl Serialize for EnvVar {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("EnvVar", 3)?;
        st.serialize_field("name", &self.name)?;
        st.serialize_field("value", &self.value)?;
        st.serialize_field("setting", &super::setting_name(&self.name))?;
        st.end()
    }
}

/// A variable read from a Secret; serialized with its `setting` (see [`super::setting_name`]).
#[derive(Debug, Clone)]
pub struct SecretEnv {
    pub name: String,
    pub secret: String,
    pub key: String,
}

impl Serialize for SecretEnv {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("SecretEnv", 4)?;
        st.serialize_field("name", &self.name)?;
        st.serialize_field("secret", &self.secret)?;
        st.serialize_field("key", &self.key)?;
        st.serialize_field("setting", &super::setting_name(&self.name))?;
        st.end()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Function {
    pub name: Names,
    pub service: String,
    /// `http` (API Gateway routes) or `queue` (one consumed topic).
    pub trigger: &'static str,
    pub routes: Vec<String>,
    pub topic: Option<Names>,
    pub handler: String,
    /// The language of its code (its service's) and the Lambda runtime that runs it.
    pub language: &'static str,
    pub runtime: &'static str,
    /// The folder holding its code (`functions`: the Python app of every Python function;
    /// `services/<service>`: a TypeScript service's package, bundled by esbuild).
    pub code_dir: String,
    /// The package CI uploads for it (`functions.zip`, `<service>-functions.zip`).
    pub package: String,
    pub memory_mb: u32,
    pub reserved_concurrency: u32,
    pub timeout_s: u32,
    /// Exactly the variables its code reads, with their Terraform values (see `serverless`).
    pub env: Vec<super::serverless::FunctionEnv>,
    /// Synchronous calls to other services, through the HTTP API's URL.
    pub calls: Vec<super::serverless::FunctionCall>,
    /// Its IAM policy beyond logging: only what its code does, on what it uses.
    pub statements: Vec<super::serverless::Statement>,
    /// The HTTP API's routes to it, each with the authorization API Gateway applies.
    pub api_routes: Vec<super::serverless::ApiRoute>,
}

pub fn format_seconds(s: f64) -> String {
    let ms = (s * 1000.0).round() as u64;
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// A database's URL on a developer's machine, signed in as `user` without a password.
fn local_url(d: &super::data::Database, user: &str) -> String {
    let scheme = if d.dialect.is_mysql() {
        "mysql"
    } else {
        "postgresql"
    };
    format!("{scheme}://{user}@localhost:{}/{}", d.port, d.db_name)
}

fn has_code(s: &blueprint::Service) -> bool {
    s.image.is_none() && (s.language.is_some() || s.kind != ServiceKind::Gateway)
}

/// The ports a service runs with: serverless functions serve HTTP only (validation warns).
fn ports_in(bp: &Blueprint, s: &blueprint::Service) -> Vec<EffectivePort> {
    let mut ports = s.effective_ports();
    if bp.arch == ArchType::Serverless {
        ports.retain(|p| p.protocol != PortProtocol::Grpc);
    }
    ports
}

/// The container port of the first port speaking `protocol`.
fn first(ports: &[EffectivePort], protocol: PortProtocol) -> Option<u16> {
    ports
        .iter()
        .find(|p| p.protocol == protocol)
        .map(|p| p.container_port)
}

pub fn resolve(bp: &Blueprint, preset: &Preset, data: &Data) -> Vec<Service> {
    let mut callers = callers(bp);
    bp.services
        .iter()
        .map(|(name, s)| {
            let who = callers.remove(name.as_str()).unwrap_or_default();
            service(bp, preset, data, name, s, who)
        })
        .collect()
}

fn service(
    bp: &Blueprint,
    preset: &Preset,
    data: &Data,
    name: &str,
    s: &blueprint::Service,
    callers: Vec<String>,
) -> Service {
    let n = Names::new(name);
    let effective = ports_in(bp, s);
    let (http_port, grpc_port) = (
        first(&effective, PortProtocol::Http),
        first(&effective, PortProtocol::Grpc),
    );
    let generated = has_code(s);
    let (image_repository, image_tag) = match &s.image {
        Some(img) => split_image(img),
        None => (format!("{}/{}", bp.name, n.kebab), IMAGE_TAG.to_owned()),
    };
    let ports: Vec<Port> = effective
        .iter()
        .map(|p| Port {
            name: p.name.clone(),
            port: p.port,
            container_port: p.container_port,
            protocol: p.protocol.as_str(),
        })
        .collect();
    let main_port = s.main_port().map_or(HTTP_PORT, |p| p.port);
    let database = data
        .service_db
        .get(name)
        .map(|&i| &data.databases[i])
        .map(|d| DatabaseRef {
            name: d.name.raw.clone(),
            module: d.module.clone(),
            engine: d.engine.clone(),
            dialect: d.dialect,
            mysql: d.dialect.is_mysql(),
            sa_driver: if d.dialect.is_mysql() {
                "mysql+pymysql"
            } else {
                "postgresql+psycopg"
            },
            quote: if d.dialect.is_mysql() { "`" } else { "\"" },
            uuid_type: super::data::uuid_sa(d.dialect),
            local_url: local_url(d, &d.user),
            test_url: local_url(
                d,
                if d.dialect.is_mysql() {
                    "root"
                } else {
                    "postgres"
                },
            ),
            env_var: "DATABASE_URL",
            secret_name: d.secret_name.clone(),
            host: d.host.clone(),
            port: d.port,
            db_name: d.db_name.clone(),
            user: d.user.clone(),
            migrations_dir: d.migrations_dir.clone(),
            statement_timeout_ms: preset.database.statement_timeout_ms,
            pool_size: preset.database.pool_size,
            max_overflow: preset.database.max_overflow,
        });
    let cache = s
        .cache
        .as_ref()
        .and_then(|c| data.caches.iter().find(|x| &x.name.raw == c))
        .map(|c| CacheRef {
            name: c.name.raw.clone(),
            module: c.module.clone(),
            env_var: "REDIS_URL",
            url: c.url.clone(),
            ttl_seconds: preset.cache.ttl_seconds,
        });
    let depends_on: Vec<Dependency> = s
        .depends_on
        .iter()
        .filter_map(|d| bp.services.get(d).and_then(|ds| dependency(d, ds)))
        .collect();
    let versions = versions(s);
    let timeout = s
        .resilience
        .as_ref()
        .and_then(|r| r.timeout)
        .unwrap_or_else(|| {
            blueprint::schema::parse_duration(&preset.resilience.timeout).unwrap_or(3.0)
        });
    let retries = s
        .resilience
        .as_ref()
        .and_then(|r| r.retries)
        .unwrap_or(preset.resilience.retries);
    let routes = s
        .routes
        .iter()
        .filter_map(|r| {
            let target = bp.services.get(&r.to)?.main_port()?;
            Some(Route {
                path: r.path.clone(),
                service: Names::new(&r.to).kebab,
                port: target.port,
                local_port: target.container_port,
            })
        })
        .collect();
    let mut svc = Service {
        kind: match s.kind {
            ServiceKind::Api => "api",
            ServiceKind::Worker => "worker",
            ServiceKind::Gateway => "gateway",
            ServiceKind::Frontend => "frontend",
        },
        description: if s.description.is_empty() {
            format!("The {name} service")
        } else {
            s.description.clone()
        },
        is_gateway: s.kind == ServiceKind::Gateway,
        is_worker: s.kind == ServiceKind::Worker,
        generated,
        language: if generated {
            Some(s.language.clone().unwrap_or_else(|| "python".into()))
        } else {
            s.language.clone()
        },
        image: format!("{image_repository}:{image_tag}"),
        image_repository,
        image_tag,
        http: http_port.is_some(),
        grpc: grpc_port.is_some(),
        port: main_port,
        http_port,
        grpc_port,
        listen: listen(http_port, main_port, grpc_port),
        scrape_port: http_port.filter(|_| bp.observability.metrics && s.container.ports.is_none()),
        mesh_tcp: !effective.is_empty()
            && effective.iter().all(|p| p.protocol == PortProtocol::Tcp),
        run: super::container::resolve(&n.kebab, &s.container, &effective),
        ports,
        health_path: "/healthz",
        ready_path: "/readyz",
        metrics_path: "/metrics",
        module: n.snake.clone(),
        service_account: n.kebab.clone(),
        config_map: format!("{}-config", n.kebab),
        database,
        cache,
        entities: s.entities.clone(),
        publishes: s.publishes.iter().map(|t| Names::new(t)).collect(),
        consumes: s.consumes.iter().map(|t| Names::new(t)).collect(),
        depends_on,
        addressed: Vec::new(),
        references: Vec::new(),
        callers,
        has_versions: versions.len() > 1,
        versions,
        resilience: Resilience {
            timeout: format_seconds(timeout),
            timeout_seconds: timeout,
            retries,
            per_try_timeout: format_seconds(try_timeout(timeout, retries)),
            try_timeout_seconds: try_timeout(timeout, retries),
        },
        routes,
        env: Vec::new(),
        local_env: Vec::new(),
        local_values: Vec::new(),
        secret_env: Vec::new(),
        modules: Vec::new(),
        entity_ids: Vec::new(),
        monitored_ids: Vec::new(),
        flow_ids: Vec::new(),
        code: Default::default(),
        python: Default::default(),
        ts: None,
        is_typescript: generated && s.language.as_deref() == Some(super::lang::TYPESCRIPT),
        events: Default::default(),
        name: n,
    };
    (svc.env, svc.secret_env) = wiring(bp, data, &svc);
    declared_env(bp, data, s, &mut svc);
    svc.python = python_deps(&svc, data);
    svc
}

/// The monolith app's one port.
fn app_ports() -> Vec<EffectivePort> {
    vec![EffectivePort {
        name: "http".into(),
        port: HTTP_PORT,
        container_port: HTTP_PORT,
        protocol: PortProtocol::Http,
    }]
}

/// The packages its code imports: a Redis client with a cache, the broker's client when it
/// publishes or consumes, the gRPC server when it serves gRPC.
fn python_deps(s: &Service, data: &Data) -> super::lang::python::deps::PythonDeps {
    let broker = data
        .messaging
        .as_ref()
        .filter(|_| !s.publishes.is_empty() || !s.consumes.is_empty())
        .map(|m| m.broker);
    let mysql = s.database.as_ref().is_some_and(|d| d.mysql);
    let grpc = s.grpc && s.generated && !s.is_gateway;
    super::lang::python::deps::for_service(mysql, s.cache.is_some(), broker, grpc)
}

fn split_image(img: &str) -> (String, String) {
    // The tag is after the last `:` that follows the last `/` (a registry port is not a tag).
    let slash = img.rfind('/').map_or(0, |i| i + 1);
    match img[slash..].rfind(':') {
        Some(i) => (img[..slash + i].to_owned(), img[slash + i + 1..].to_owned()),
        None => (img.to_owned(), "latest".to_owned()),
    }
}

/// Checks of a service's own `/readyz`; a dependency's key must not take one of these.
pub const OWN_READY_CHECKS: [&str; 4] = ["database", "schema", "broker", "cache"];

fn ready_key(name: &str) -> String {
    if OWN_READY_CHECKS.contains(&name) {
        format!("service.{name}")
    } else {
        name.to_owned()
    }
}

/// The time one try of an outgoing call may take: `timeout / (retries + 1)`, rounded down to
/// the millisecond so that all tries together never exceed the budget.
pub fn try_timeout(timeout: f64, retries: u32) -> f64 {
    let ms = (timeout * 1000.0 / f64::from(retries + 1)).floor().max(1.0);
    ms / 1000.0
}

fn dependency(name: &str, s: &blueprint::Service) -> Option<Dependency> {
    let n = Names::new(name);
    let p = s.main_port()?;
    let (protocol, address) = match p.protocol {
        PortProtocol::Http => ("http", format!("http://{}:{}", n.kebab, p.port)),
        PortProtocol::Grpc => ("grpc", format!("{}:{}", n.kebab, p.port)),
        PortProtocol::Tcp => ("tcp", format!("{}:{}", n.kebab, p.port)),
    };
    let own_probes = s.container.probes.is_none();
    let env_var = s.address_var(&n.upper);
    Some(Dependency {
        setting: super::setting_name(&env_var),
        env_var,
        address,
        protocol,
        check: if protocol == "http" && own_probes {
            "http"
        } else {
            "tcp"
        },
        port: p.port,
        target_port: p.container_port,
        ready_key: ready_key(name),
        generated: has_code(s) && s.kind != ServiceKind::Gateway,
        client: Default::default(),
        name: n,
    })
}

/// The variables an existing image declares under `env`: literals as written, addresses of
/// services (their Service port in Kubernetes, their container port in compose) and caches.
fn declared_env(bp: &Blueprint, data: &Data, s: &blueprint::Service, svc: &mut Service) {
    for (name, value) in &s.container.env {
        let (k8s, local) = match value {
            EnvValue::Literal(v) => (v.clone(), v.clone()),
            EnvValue::Service {
                service,
                port,
                form,
            } => {
                let Some(target) = bp.services.get(service) else {
                    continue;
                };
                let ports = target.effective_ports();
                let chosen = match port {
                    Some(PortRef::Name(n)) => ports.iter().find(|p| &p.name == n).cloned(),
                    Some(PortRef::Number(n)) => ports.iter().find(|p| p.port == *n).cloned(),
                    None => target.main_port(),
                };
                let Some(p) = chosen else { continue };
                let host = Names::new(service).kebab;
                svc.addressed.push((host.clone(), p.container_port));
                let scheme = if *form == AddressForm::Url {
                    "http://"
                } else {
                    ""
                };
                (
                    format!("{scheme}{host}:{}", p.port),
                    format!("{scheme}{host}:{}", p.container_port),
                )
            }
            EnvValue::Cache { cache, form } => {
                let Some(c) = data.caches.iter().find(|c| &c.name.raw == cache) else {
                    continue;
                };
                let v = match form {
                    AddressForm::Url => c.url.clone(),
                    AddressForm::Address => format!("{}:{}", c.host, c.port),
                };
                (v.clone(), v)
            }
        };
        if local != k8s {
            svc.local_values.push(EnvVar {
                name: name.clone(),
                value: local,
            });
        }
        svc.env.push(EnvVar {
            name: name.clone(),
            value: k8s,
        });
    }
}

/// compose's variables of each workload: its `env`, with the compose value of the variables
/// that have one (`local_values`). Called once every variable is in `env`.
pub fn derive_local_env(workloads: &mut [Service]) {
    for w in workloads {
        let local = |e: &EnvVar| w.local_values.iter().find(|l| l.name == e.name);
        w.local_env = w
            .env
            .iter()
            .map(|e| local(e).cloned().unwrap_or_else(|| e.clone()))
            .collect();
    }
}

/// Who calls each service (its `depends_on` or a gateway route), sorted: one pass over the
/// blueprint rather than one per service.
fn callers(bp: &Blueprint) -> std::collections::HashMap<&str, Vec<String>> {
    let mut map: std::collections::HashMap<&str, Vec<String>> = Default::default();
    for (caller, s) in &bp.services {
        let callees = s.depends_on.iter().map(String::as_str);
        let addressed = s.container.env.values().filter_map(|v| match v {
            EnvValue::Service { service, .. } => Some(service.as_str()),
            _ => None,
        });
        for callee in callees
            .chain(s.routes.iter().map(|r| r.to.as_str()))
            .chain(addressed)
        {
            map.entry(callee).or_default().push(caller.clone());
        }
    }
    for v in map.values_mut() {
        v.sort();
        v.dedup();
    }
    map
}

fn versions(s: &blueprint::Service) -> Vec<Version> {
    let names: Vec<String> = if s.versions.is_empty() {
        vec!["v1".into()]
    } else {
        s.versions.clone()
    };
    let n = names.len() as u32;
    names
        .iter()
        .enumerate()
        .map(|(i, v)| Version {
            weight: match s.traffic.get(v) {
                Some(w) => *w,
                None if s.traffic.is_empty() => 100 / n + u32::from((i as u32) < 100 % n),
                None => 0,
            },
            name: v.clone(),
        })
        .collect()
}

/// The environment of a service: the same names and values in compose and Kubernetes.
fn wiring(bp: &Blueprint, data: &Data, s: &Service) -> (Vec<EnvVar>, Vec<SecretEnv>) {
    let var = |n: &str, v: String| EnvVar {
        name: n.to_owned(),
        value: v,
    };
    let mut env = vec![
        var("SERVICE_NAME", s.name.kebab.clone()),
        var("LOG_LEVEL", "INFO".into()),
    ];
    // The tool's port contract; an image that declares its ports sets its own variables.
    let own_ports = bp
        .services
        .get(&s.name.raw)
        .is_some_and(|b| b.container.ports.is_some());
    // A service speaking gRPC alone still serves its routes, on loopback (see `Listen`).
    let internal = (s.generated && s.grpc && !s.http).then_some(s.listen.port);
    if let Some(p) = s.http_port.or(internal).filter(|_| !own_ports) {
        env.push(var("PORT", p.to_string()));
    }
    if let Some(p) = s.grpc_port.filter(|_| !own_ports) {
        env.push(var("GRPC_PORT", p.to_string()));
    }
    if bp.observability.tracing {
        env.push(var(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "http://otel-collector:4317".into(),
        ));
        env.push(var("OTEL_SERVICE_NAME", s.name.kebab.clone()));
    }
    if bp.arch != ArchType::Monolith {
        for d in &s.depends_on {
            env.push(var(&d.env_var, d.address.clone()));
        }
    }
    if let Some(c) = &s.cache {
        env.push(var(c.env_var, c.url.clone()));
    }
    if let Some(m) = &data.messaging
        && (!s.publishes.is_empty() || !s.consumes.is_empty())
    {
        env.push(var(m.env_var, m.address.clone()));
    }
    let mut secrets = Vec::new();
    if let Some(db) = &s.database {
        secrets.push(SecretEnv {
            name: db.env_var.into(),
            secret: db.secret_name.clone(),
            key: "DATABASE_URL".into(),
        });
    }
    (env, secrets)
}

/// Workloads: microservices deploy every service that runs as a container (a gateway with no
/// image is realised by the mesh or ingress); a monolith is one app holding every service.
pub fn deployables(
    bp: &Blueprint,
    system: &Names,
    services: &[Service],
    data: &Data,
) -> Vec<Service> {
    match bp.arch {
        ArchType::Serverless => Vec::new(),
        ArchType::Microservices => services
            .iter()
            .filter(|s| {
                !(s.is_gateway
                    && !s.generated
                    && s.language.is_none()
                    && bp.services[&s.name.raw].image.is_none())
            })
            .cloned()
            .collect(),
        ArchType::Monolith => vec![monolith_app(bp, system, services, data)],
    }
}

fn monolith_app(bp: &Blueprint, system: &Names, services: &[Service], data: &Data) -> Service {
    let mut app = services
        .iter()
        .find(|s| s.generated)
        .cloned()
        .unwrap_or_else(|| services[0].clone());
    let name = Names::new(&format!("{}-app", system.kebab));
    app.module = "app".into();
    app.service_account = name.kebab.clone();
    app.config_map = format!("{}-config", name.kebab);
    app.image_repository = format!("{}/{}", bp.name, name.kebab);
    app.image = format!("{}:{}", app.image_repository, app.image_tag);
    app.description = format!("{} (monolith: one app with a module per service)", bp.name);
    app.kind = "api";
    app.is_gateway = false;
    app.is_worker = false;
    app.generated = true;
    app.modules = services
        .iter()
        .filter(|s| s.generated)
        .map(|s| s.name.raw.clone())
        .collect();
    app.entities = services.iter().flat_map(|s| s.entities.clone()).collect();
    app.publishes = dedup(services.iter().flat_map(|s| s.publishes.clone()).collect());
    app.consumes = dedup(services.iter().flat_map(|s| s.consumes.clone()).collect());
    app.depends_on = Vec::new();
    app.addressed = Vec::new();
    app.references = Vec::new();
    app.callers = services
        .iter()
        .filter(|s| s.is_gateway)
        .map(|s| s.name.raw.clone())
        .collect();
    app.routes = Vec::new();
    app.versions = vec![Version {
        name: "v1".into(),
        weight: 100,
    }];
    app.has_versions = false;
    app.http = true;
    app.grpc = false;
    app.port = HTTP_PORT;
    app.http_port = Some(HTTP_PORT);
    app.grpc_port = None;
    app.listen = listen(Some(HTTP_PORT), HTTP_PORT, None);
    app.code.grpc = None;
    app.ports = vec![Port {
        name: "http".into(),
        port: HTTP_PORT,
        container_port: HTTP_PORT,
        protocol: "http",
    }];
    app.scrape_port = Some(HTTP_PORT).filter(|_| bp.observability.metrics);
    app.mesh_tcp = false;
    app.run = super::container::resolve(&name.kebab, &Default::default(), &app_ports());
    app.cache = services.iter().find_map(|s| s.cache.clone());
    for e in &mut app.env {
        if e.name == "SERVICE_NAME" || e.name == "OTEL_SERVICE_NAME" {
            e.value = name.kebab.clone();
        }
    }
    let extra: Vec<EnvVar> = services
        .iter()
        .flat_map(|s| s.env.clone())
        .filter(|e| !app.env.iter().any(|x| x.name == e.name) && e.name != "GRPC_PORT")
        .collect();
    app.env.extend(dedup_env(extra));
    // One app in compose as in Kubernetes: it addresses no image by a mapped port.
    app.local_values = Vec::new();
    app.name = name;
    // The app is in its modules' one language (validation refuses a monolith that mixes
    // them, E0156): a TypeScript app gets its `ts` view from `lang::lower_apps`.
    app.is_typescript = app.language.as_deref() == Some(super::lang::TYPESCRIPT);
    app.ts = None;
    // What any of its modules imports (none for a TypeScript app).
    app.python = if app.is_typescript {
        Default::default()
    } else {
        python_deps(&app, data)
    };
    app
}

fn dedup(mut v: Vec<Names>) -> Vec<Names> {
    let mut seen = std::collections::BTreeSet::new();
    v.retain(|n| seen.insert(n.raw.clone()));
    v
}

fn dedup_env(mut v: Vec<EnvVar>) -> Vec<EnvVar> {
    let mut seen = std::collections::BTreeSet::new();
    v.retain(|e| seen.insert(e.name.clone()));
    v
}

/// Serverless: one function for each service that serves HTTP, one per consumed topic.
pub fn functions(
    bp: &Blueprint,
    services: &[Service],
    entities: &[super::data::Entity],
    preset: &Preset,
) -> Vec<Function> {
    if bp.arch != ArchType::Serverless {
        return Vec::new();
    }
    // The gateway's routes to the service; without one, where its code serves (its entities'
    // collection paths), and `/<service>` for a service with no entity.
    let gateway_routes = |s: &Service| -> Vec<String> {
        let r: Vec<String> = services
            .iter()
            .flat_map(|g| g.routes.iter())
            .filter(|r| r.service == s.name.kebab)
            .map(|r| r.path.clone())
            .collect();
        if !r.is_empty() {
            return r;
        }
        super::serverless::own_paths(s, entities)
            .unwrap_or_else(|| vec![format!("/{}", s.name.kebab)])
    };
    let mut out = Vec::new();
    for s in services.iter().filter(|s| s.generated && !s.is_gateway) {
        let ts = s.is_typescript;
        let base = |name: Names, trigger, routes, topic| Function {
            handler: format!("{}.handler", name.snake),
            language: if ts {
                super::lang::TYPESCRIPT
            } else {
                super::lang::PYTHON
            },
            runtime: if ts {
                super::lang::typescript::LAMBDA_RUNTIME
            } else {
                super::serverless::PYTHON_RUNTIME
            },
            code_dir: if ts {
                format!("services/{}", s.name.kebab)
            } else {
                "functions".into()
            },
            package: if ts {
                format!("{}-functions.zip", s.name.kebab)
            } else {
                "functions.zip".into()
            },
            name,
            service: s.name.raw.clone(),
            trigger,
            routes,
            topic,
            memory_mb: preset.function.memory_mb,
            reserved_concurrency: preset.function.reserved_concurrency,
            timeout_s: preset.function.timeout_s,
            env: Vec::new(),
            calls: Vec::new(),
            statements: Vec::new(),
            api_routes: Vec::new(),
        };
        if s.http && !s.is_worker {
            out.push(base(
                Names::new(&format!("{}-api", s.name.kebab)),
                "http",
                gateway_routes(s),
                None,
            ));
        }
        for t in &s.consumes {
            out.push(base(
                Names::new(&format!("{}-{}", s.name.kebab, t.kebab)),
                "queue",
                Vec::new(),
                Some(t.clone()),
            ));
        }
    }
    out
}

/// Build phases: foundation → data → services by dependency level → gateway and edge.
pub fn phases(bp: &Blueprint, services: &[Service]) -> Vec<Phase> {
    let serverless = bp.arch == ArchType::Serverless;
    let mut phases = vec![foundation(serverless)];
    phases.push(Phase {
        number: 2,
        name: "data".into(),
        description: if serverless && bp.databases.values().any(|d| d.engine == "dynamodb") {
            "DynamoDB tables, the event bus".into()
        } else if serverless {
            "databases and migrations, the event bus".into()
        } else {
            "databases and migrations, caches, the message broker".into()
        },
        items: data_items(bp),
    });
    let levels = levels(bp);
    // Services grouped by level once, in blueprint order within a level.
    let mut by_level: std::collections::BTreeMap<usize, Vec<String>> = Default::default();
    for s in services.iter().filter(|s| !s.is_gateway) {
        if let Some(&l) = levels.get(s.name.raw.as_str()) {
            by_level.entry(l).or_default().push(s.name.raw.clone());
        }
    }
    for (level, items) in by_level {
        let (name, description) = if level == 0 {
            (
                "core services".to_owned(),
                "services that call no other service".to_owned(),
            )
        } else {
            (
                format!("orchestrating services (level {level})"),
                format!("services whose dependencies are all in earlier phases (depth {level})"),
            )
        };
        phases.push(Phase {
            number: phases.len() + 1,
            name,
            description,
            items,
        });
    }
    let mut edge: Vec<String> = services
        .iter()
        .filter(|s| s.is_gateway)
        .map(|s| s.name.raw.clone())
        .collect();
    edge.push("observability".into());
    phases.push(Phase {
        number: phases.len() + 1,
        name: "gateway and infrastructure".into(),
        description: "ingress routes, mesh policies, dashboards and alerts".into(),
        items: edge,
    });
    phases
}

fn foundation(serverless: bool) -> Phase {
    let (description, items): (&str, &[&str]) = if serverless {
        (
            "network, function runtime and package signing, CI",
            &["network", "function runtime"],
        )
    } else {
        (
            "network, cluster, registry, namespaces, CI",
            &["network", "cluster", "registry"],
        )
    };
    Phase {
        number: 1,
        name: "foundation".into(),
        description: description.into(),
        items: items.iter().map(|i| (*i).to_owned()).collect(),
    }
}

/// What phase 2 builds. Serverless runs every database on Aurora Serverless v2 and every topic on
/// the EventBridge bus (see `serverless`); its functions have no cache-aside, so no cache.
fn data_items(bp: &Blueprint) -> Vec<String> {
    let serverless = bp.arch == ArchType::Serverless;
    let mut items: Vec<String> = bp
        .databases
        .keys()
        .map(|d| {
            if serverless && bp.databases[d].engine == "dynamodb" {
                format!("database {d} ({})", super::serverless::DYNAMODB_KIND)
            } else if serverless {
                format!("database {d} ({})", super::serverless::DATABASE_KIND)
            } else {
                format!("database {d}")
            }
        })
        .collect();
    if !serverless {
        items.extend(bp.caches.keys().map(|c| format!("cache {c}")));
    }
    if let Some(m) = &bp.messaging {
        items.push(if serverless {
            format!("event bus ({})", super::serverless::EVENT_BUS_KIND)
        } else {
            format!(
                "broker {}",
                match m.broker {
                    blueprint::Broker::Kafka => "kafka",
                    blueprint::Broker::Rabbitmq => "rabbitmq",
                    blueprint::Broker::Sqs => "sqs",
                }
            )
        });
    }
    items
}

/// Dependency depth of each service (0 = calls nobody). Cycles are rejected by validation; a
/// guard keeps this total anyway.
fn levels(bp: &Blueprint) -> std::collections::BTreeMap<&str, usize> {
    let mut level: std::collections::BTreeMap<&str, usize> =
        bp.services.keys().map(|k| (k.as_str(), 0)).collect();
    for _ in 0..bp.services.len() {
        let mut changed = false;
        for (name, s) in &bp.services {
            let l = s
                .depends_on
                .iter()
                .filter_map(|d| level.get(d.as_str()))
                .map(|l| l + 1)
                .max()
                .unwrap_or(0);
            if level[name.as_str()] != l {
                level.insert(name, l);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    level
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(yaml: &str) -> super::super::Model {
        let bp = crate::blueprint::load(yaml, "t.yaml").blueprint.unwrap();
        super::super::resolve(&bp, crate::assets::presets()).unwrap()
    }

    fn example(name: &str, arch: &str) -> super::super::Model {
        let src = crate::assets::examples()
            .into_iter()
            .find(|(n, _)| *n == name)
            .map(|(_, s)| s)
            .unwrap();
        let yaml = src.replace("type: microservices", &format!("type: {arch}"));
        model(&yaml)
    }

    fn service<'a>(m: &'a super::super::Model, name: &str) -> &'a Service {
        m.services.iter().find(|s| s.name.raw == name).unwrap()
    }

    /// compose's list against Kubernetes': the same names in the same order, and a value of
    /// its own only where `local_values` gives one.
    fn assert_compose_has_every_variable(w: &Service, what: &str) {
        let names = |l: &[EnvVar]| l.iter().map(|e| e.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(&w.env), names(&w.local_env), "{what}");
        for (k8s, local) in w.env.iter().zip(&w.local_env) {
            let own = w.local_values.iter().find(|l| l.name == k8s.name);
            let expected = own.map_or(&k8s.value, |l| &l.value);
            assert_eq!(&local.value, expected, "{what} {}", k8s.name);
        }
    }

    /// The SQS names come last in resolve (`events::link_sqs`); before compose's list was
    /// derived from `env`, it was a copy taken early and missed them.
    #[test]
    fn compose_gets_every_variable_whatever_step_adds_it() {
        for (name, _) in crate::assets::examples() {
            for arch in crate::assets::example_types(name) {
                let m = example(name, arch);
                for w in m.deployables.iter().chain(&m.services) {
                    assert_compose_has_every_variable(w, &format!("{name} {arch} {}", w.name.raw));
                }
            }
        }
        let m = example("event-orders", "microservices");
        let orders = m
            .deployables
            .iter()
            .find(|d| d.name.raw == "orders")
            .unwrap();
        assert!(
            orders
                .local_env
                .iter()
                .any(|e| e.name.starts_with("SNS_TOPIC_"))
        );
    }

    #[test]
    fn compose_addresses_a_mapped_port_by_its_container_port() {
        let m = model(include_str!(
            "../../tests/fixtures/valid/images-contract.yaml"
        ));
        let w = m
            .deployables
            .iter()
            .find(|d| !d.local_values.is_empty())
            .unwrap();
        assert_compose_has_every_variable(w, &w.name.raw);
        let value = |l: &[EnvVar]| {
            l.iter()
                .find(|e| e.name == "API_GRPC")
                .unwrap()
                .value
                .clone()
        };
        assert_eq!(
            (value(&w.env), value(&w.local_env)),
            ("api:9000".into(), "api:50051".into())
        );
    }

    #[test]
    fn database_settings_come_from_the_scale_preset_and_its_overrides() {
        let m = example("ecommerce", "microservices");
        let db = service(&m, "users").database.clone().unwrap();
        assert_eq!(m.scale, "medium");
        assert_eq!(
            (db.statement_timeout_ms, db.pool_size, db.max_overflow),
            (
                m.preset.database.statement_timeout_ms,
                m.preset.database.pool_size,
                m.preset.database.max_overflow
            )
        );
        assert_eq!((db.statement_timeout_ms, db.pool_size), (2500, 10));
        let src = crate::assets::examples()
            .into_iter()
            .find(|(n, _)| *n == "ecommerce")
            .map(|(_, s)| s)
            .unwrap();
        let tuned = format!(
            "{src}\noverrides: {{ database: {{ statement_timeout_ms: 900, pool_size: 3 }} }}\n"
        );
        let m = model(&tuned);
        let db = service(&m, "orders").database.clone().unwrap();
        assert_eq!(
            (db.statement_timeout_ms, db.pool_size, db.max_overflow),
            (900, 3, 10)
        );
    }

    #[test]
    fn python_dependencies_follow_cache_and_broker_and_the_monolith_takes_them_all() {
        let m = example("ecommerce", "microservices");
        let has = |s: &Service, pin: &str| s.python.runtime.iter().any(|p| p == pin);
        let users = service(&m, "users");
        assert!(
            has(users, crate::resolve::lang::python::deps::REDIS)
                && has(users, crate::resolve::lang::python::deps::KAFKA)
        );
        let products = service(&m, "products");
        assert!(!has(products, crate::resolve::lang::python::deps::REDIS));
        assert!(!has(products, crate::resolve::lang::python::deps::KAFKA));
        assert_eq!(
            products.python.test,
            crate::resolve::lang::python::deps::TEST
        );
        let mono = example("ecommerce", "monolith");
        let app = &mono.deployables[0];
        assert!(
            has(app, crate::resolve::lang::python::deps::REDIS)
                && has(app, crate::resolve::lang::python::deps::KAFKA)
        );
        let auth = example("auth-service", "microservices");
        assert!(has(
            service(&auth, "identity"),
            crate::resolve::lang::python::deps::RABBITMQ
        ));
    }

    #[test]
    fn a_dependency_named_like_a_readiness_check_gets_a_distinct_key() {
        let m = example("ecommerce", "microservices");
        let keys: Vec<&str> = service(&m, "orders")
            .depends_on
            .iter()
            .map(|d| d.ready_key.as_str())
            .collect();
        assert_eq!(keys, ["users", "products"]);
        assert_eq!(ready_key("cache"), "service.cache");
        assert_eq!(ready_key("broker"), "service.broker");
        assert_eq!(ready_key("schema"), "service.schema");
        assert_eq!(ready_key("database"), "service.database");
        assert_eq!(ready_key("caches"), "caches");
    }

    #[test]
    fn image_split_keeps_registry_port() {
        assert_eq!(
            split_image("ghcr.io/acme/rec:1.4.2"),
            ("ghcr.io/acme/rec".into(), "1.4.2".into())
        );
        assert_eq!(
            split_image("localhost:5000/x"),
            ("localhost:5000/x".into(), "latest".into())
        );
    }

    #[test]
    fn seconds_format_as_duration_strings() {
        assert_eq!(format_seconds(5.0), "5s");
        assert_eq!(format_seconds(0.25), "250ms");
        assert_eq!(format_seconds(1.5), "1500ms");
    }

    #[test]
    fn every_try_together_fits_the_budget() {
        assert_eq!(try_timeout(5.0, 3), 1.25);
        assert_eq!(try_timeout(3.0, 3), 0.75);
        assert_eq!(try_timeout(2.0, 0), 2.0);
        // 1 s over 3 tries: 333 ms each, never 334 (3 × 334 ms > 1 s)
        assert_eq!(try_timeout(1.0, 2), 0.333);
        for (t, r) in [(5.0, 3), (1.0, 2), (0.7, 6), (10.0, 9)] {
            assert!(try_timeout(t, r) * f64::from(r + 1) <= t + 1e-9);
        }
    }
}
