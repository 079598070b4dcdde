//! Security of the model: who may call each entity's routes, which rows a user may touch, the
//! token issuer the services trust, CORS and the per-client rate limit at the edge.
//!
//! Input: the blueprint's `auth` (gateway routes, services), `identity`, `ingress.cors`, the
//! scale preset's `edge` limits and the entities with their API paths. Output: [`Security`] on
//! the model and `code.auth` on each entity. Every decision is made here; templates print it.
//!
//! Decisions: an entity's routes take the `auth` of the gateway route that serves them (the
//! longest matching path prefix), else of the owning service, else `user`. The user entity is
//! `identity.user_entity`, else an entity named `User`; a token's `sub` is its key. A row with a
//! `ref` to the user entity belongs to that user (the user entity's own rows belong to
//! themselves): users see and change their own rows only, holders of the admin role all rows.
//! An enum field named `status` or `state` of an entity whose service consumes events is moved
//! by the event flow: clients neither set it on create nor change it with PATCH, and a new row
//! starts at its default (else the enum's first value).

use super::Names;
use super::data::Entity;
use super::services::{EnvVar, Service};
use crate::blueprint::{Access, ArchType, Auth, Blueprint};
use serde::Serialize;
use std::collections::HashMap;

/// The role that sees and changes every row (object-level checks let it through).
pub const ADMIN_ROLE: &str = "admin";
/// The claim holding a token's roles (a list of names).
pub const ROLES_CLAIM: &str = "roles";
/// The local development issuer's compose service and port (never deployed).
const DEV_ISSUER: &str = "dev-issuer";
const DEV_ISSUER_PORT: u16 = 8080;
/// Where the development issuer is published on the developer's machine.
const DEV_ISSUER_HOST_PORT: u16 = 8090;
const DEFAULT_CORS_METHODS: [&str; 4] = ["GET", "POST", "PATCH", "DELETE"];

#[derive(Debug, Clone, Serialize)]
pub struct Security {
    /// What deployed services trust (the blueprint's `identity`, else a placeholder issuer at
    /// `login.<ingress host>`).
    pub issuer: String,
    pub audience: String,
    pub jwks_url: String,
    /// Whether the blueprint names its issuer (else the deployed one is a placeholder).
    pub custom_identity: bool,
    pub roles_claim: &'static str,
    pub admin_role: &'static str,
    /// The roles of a token allowed everything: the admin role (every row) and each role a
    /// route requires, in first-use order. The admin role alone does not pass `role(X)`, so
    /// the generated tests, the e2e suite, the load test and the system test ask for these.
    pub test_roles: Vec<String>,
    pub dev_issuer: Option<DevIssuer>,
    /// `AUTH_*` and `CORS_*` as deployed (Kubernetes ConfigMaps).
    pub env: Vec<EnvVar>,
    /// The same names with the values compose gives (the development issuer).
    pub local_env: Vec<EnvVar>,
    pub cors: Cors,
    pub rate_limit: RateLimit,
    /// The entity whose key is a token's subject, if any.
    pub user_entity: Option<String>,
    /// Per workload, the requests the mesh refuses (Istio DENY policies next to the callers'
    /// ALLOW): no request principal where a token is needed, no role where one is named.
    pub mesh_policies: Vec<MeshPolicy>,
}

/// A small token issuer for local work: compose runs it; the README says how to get a token.
#[derive(Debug, Clone, Serialize)]
pub struct DevIssuer {
    pub name: &'static str,
    pub port: u16,
    pub host_port: u16,
    /// Its URL inside compose (also the `iss` of the tokens it signs).
    pub url: String,
    pub jwks_url: String,
    /// Its token endpoint as a developer reaches it (`http://localhost:8090/token`).
    pub local_token_url: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Cors {
    pub origins: Vec<String>,
    pub methods: Vec<String>,
}

/// Per client (address) at the edge, from the scale preset.
#[derive(Debug, Clone, Serialize)]
pub struct RateLimit {
    pub rps: u32,
    pub burst: u32,
    /// ingress-nginx states the burst as a multiple of the rate (`limit-burst-multiplier`):
    /// the burst divided by the rate, rounded up so the burst is never smaller than the preset's.
    pub burst_multiplier: u32,
    /// How many clients' token buckets the Istio ingress gateway keeps (least recently seen go
    /// first); a forgotten client starts again with a full bucket.
    pub clients_tracked: u32,
}

/// Client buckets an Istio ingress gateway pod keeps: Envoy's default (20) would forget busy
/// clients at once; 10 000 buckets are a few MB per pod.
const CLIENTS_TRACKED: u32 = 10_000;

fn rate_limit(rps: u32, burst: u32) -> RateLimit {
    RateLimit {
        rps,
        burst,
        burst_multiplier: burst.div_ceil(rps.max(1)).max(1),
        clients_tracked: CLIENTS_TRACKED,
    }
}

/// One access rule as the templates print it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Rule {
    /// `public`, `user` or `role`.
    pub kind: &'static str,
    pub role: Option<String>,
    /// The Python expression of `app.auth` building it (`PUBLIC`, `USER`, `role("admin")`).
    pub python: String,
}

/// Access to one entity's routes.
#[derive(Debug, Clone, Default, Serialize)]
pub struct EntityAuth {
    pub read: Option<Rule>,
    pub write: Option<Rule>,
    /// The column naming the user a row belongs to (the key for the user entity itself).
    pub owner_column: Option<String>,
    /// Columns clients cannot change with PATCH (moved by the event flow).
    pub flow_columns: Vec<String>,
}

/// Requests to `paths` with one of `methods`.
#[derive(Debug, Clone, Serialize)]
pub struct Operation {
    pub paths: Vec<String>,
    pub methods: Vec<&'static str>,
}

/// A role required on some operations of a workload.
#[derive(Debug, Clone, Serialize)]
pub struct RoleRule {
    pub role: String,
    pub operations: Vec<Operation>,
}

/// What the mesh refuses at one workload (the Kubernetes name of the deployable).
#[derive(Debug, Clone, Serialize)]
pub struct MeshPolicy {
    pub workload: String,
    /// Operations that need a valid token (a request principal).
    pub need_token: Vec<Operation>,
    /// Operations that also need a role (the roles claim).
    pub need_role: Vec<RoleRule>,
}

fn rule(a: &Access) -> Rule {
    match a {
        Access::Public => Rule {
            kind: "public",
            role: None,
            python: "PUBLIC".into(),
        },
        Access::User => Rule {
            kind: "user",
            role: None,
            python: "USER".into(),
        },
        Access::Role(r) => Rule {
            kind: "role",
            role: Some(r.clone()),
            python: format!("role(\"{r}\")"),
        },
    }
}

/// The `auth` in force for an entity served at `api_path` by blueprint service `owner`.
fn auth_for<'a>(bp: &'a Blueprint, owner: &str, api_path: &str) -> Option<&'a Auth> {
    let under = |prefix: &str| {
        let p = prefix.trim_end_matches('/');
        api_path == p || api_path.starts_with(&format!("{p}/"))
    };
    let route = bp
        .services
        .values()
        .flat_map(|s| s.routes.iter())
        .filter(|r| r.to == owner && r.auth.is_some() && under(&r.path))
        .max_by_key(|r| r.path.len());
    route
        .and_then(|r| r.auth.as_ref())
        .or_else(|| bp.services.get(owner).and_then(|s| s.auth.as_ref()))
}

/// A column the event flow moves is the service's to set, on create as on update: clients
/// neither send nor change it, and a new row starts at the blueprint's default, else at the
/// first value of the enum (in the database's DEFAULT, so every writer agrees).
fn start_with_flow(c: &mut super::data::Column) {
    c.code.writable = false;
    c.code.updatable = false;
    if c.default_sql.is_none()
        && let Some(first) = c.enum_values.first()
    {
        c.default_sql = Some(format!("'{}'", first.replace('\'', "''")));
        c.default_py = Some(format!("{first:?}"));
    }
}

/// Fill in `code.auth` of every entity (after `lang::python::code::enrich_entities`).
pub fn link_entities(bp: &Blueprint, entities: &mut [Entity], services: &[Service]) {
    let user_entity = user_entity(bp);
    let consumers: HashMap<&str, bool> = services
        .iter()
        .map(|s| (s.name.raw.as_str(), !s.consumes.is_empty()))
        .collect();
    for e in entities.iter_mut() {
        let auth = auth_for(bp, &e.owner, &e.code.api_path);
        let (read, write) = match auth {
            Some(a) => (rule(&a.read), rule(&a.write)),
            None => (rule(&Access::User), rule(&Access::User)),
        };
        let owner_column = if user_entity.as_deref() == Some(e.name.raw.as_str()) {
            Some(e.pk.clone())
        } else {
            e.columns
                .iter()
                .find(|c| {
                    c.reference
                        .as_ref()
                        .is_some_and(|r| Some(&r.entity) == user_entity.as_ref())
                })
                .map(|c| c.name.clone())
        };
        let flow_columns = if consumers.get(e.owner.as_str()) == Some(&true) {
            e.columns
                .iter()
                .filter(|c| c.kind == "enum" && matches!(c.name.as_str(), "status" | "state"))
                .map(|c| c.name.clone())
                .collect()
        } else {
            Vec::new()
        };
        for c in e
            .columns
            .iter_mut()
            .filter(|c| flow_columns.contains(&c.name))
        {
            start_with_flow(c);
        }
        if e.code
            .patch_column
            .as_ref()
            .is_some_and(|p| flow_columns.contains(p))
        {
            e.code.patch_column = None;
            e.code.patch_value = None;
        }
        e.code.auth = EntityAuth {
            read: Some(read),
            write: Some(write),
            owner_column,
            flow_columns,
        };
    }
}

fn user_entity(bp: &Blueprint) -> Option<String> {
    bp.identity
        .as_ref()
        .and_then(|i| i.user_entity.clone())
        .or_else(|| bp.entities.contains_key("User").then(|| "User".to_owned()))
}

pub fn resolve(
    bp: &Blueprint,
    name: &Names,
    preset: &super::Preset,
    entities: &[Entity],
    deployables: &[Service],
) -> Security {
    let dev_issuer = (bp.arch != ArchType::Serverless).then(|| {
        let url = format!("http://{DEV_ISSUER}:{DEV_ISSUER_PORT}");
        DevIssuer {
            name: DEV_ISSUER,
            port: DEV_ISSUER_PORT,
            host_port: DEV_ISSUER_HOST_PORT,
            jwks_url: format!("{url}/.well-known/jwks.json"),
            url,
            local_token_url: format!("http://localhost:{DEV_ISSUER_HOST_PORT}/token"),
        }
    });
    let id = bp.identity.clone().unwrap_or_default();
    let local_url = format!("http://{DEV_ISSUER}:{DEV_ISSUER_PORT}");
    let local_jwks = format!("{local_url}/.well-known/jwks.json");
    let audience = id.audience.clone().unwrap_or_else(|| name.kebab.clone());
    // Without `identity:`, deployed environments expect an issuer at `login.<ingress host>`: a
    // placeholder the README and the RequestAuthentication call out, never the local issuer
    // (which is not deployed).
    let issuer = id.issuer.clone().unwrap_or_else(|| {
        let host = bp
            .ingress
            .as_ref()
            .map_or_else(|| format!("{}.example.com", name.kebab), |i| i.host.clone());
        format!("https://login.{}", host.trim_start_matches("*."))
    });
    let jwks_url = id
        .jwks_url
        .clone()
        .unwrap_or_else(|| format!("{}/.well-known/jwks.json", issuer.trim_end_matches('/')));
    let cors_in = bp.ingress.as_ref().and_then(|i| i.cors.clone());
    let cors = Cors {
        origins: cors_in
            .as_ref()
            .map(|c| c.origins.clone())
            .unwrap_or_default(),
        methods: match cors_in.map(|c| c.methods) {
            Some(m) if !m.is_empty() => m,
            _ => DEFAULT_CORS_METHODS
                .iter()
                .map(|m| (*m).to_owned())
                .collect(),
        },
    };
    let var = |n: &str, v: &str| EnvVar {
        name: n.to_owned(),
        value: v.to_owned(),
    };
    let cors_env = [
        var("CORS_ORIGINS", &cors.origins.join(",")),
        var("CORS_METHODS", &cors.methods.join(",")),
    ];
    let mut env = vec![
        var("AUTH_ISSUER", &issuer),
        var("AUTH_AUDIENCE", &audience),
        var("AUTH_JWKS_URL", &jwks_url),
    ];
    let mut local_env = vec![
        var("AUTH_ISSUER", &local_url),
        var("AUTH_AUDIENCE", &audience),
        var("AUTH_JWKS_URL", &local_jwks),
    ];
    env.extend(cors_env.clone());
    local_env.extend(cors_env);
    Security {
        issuer,
        audience,
        jwks_url,
        custom_identity: bp.identity.as_ref().is_some_and(|i| i.issuer.is_some()),
        roles_claim: ROLES_CLAIM,
        admin_role: ADMIN_ROLE,
        test_roles: test_roles(entities),
        dev_issuer,
        env,
        local_env,
        cors,
        rate_limit: rate_limit(preset.edge.rate_limit_rps, preset.edge.rate_limit_burst),
        user_entity: user_entity(bp),
        mesh_policies: mesh_policies(bp, entities, deployables),
    }
}

fn test_roles(entities: &[Entity]) -> Vec<String> {
    let mut out = vec![ADMIN_ROLE.to_owned()];
    let rules = entities
        .iter()
        .flat_map(|e| [&e.code.auth.read, &e.code.auth.write]);
    for role in rules.flatten().filter_map(|r| r.role.as_ref()) {
        if !out.contains(role) {
            out.push(role.clone());
        }
    }
    out
}

const READS: [&str; 2] = ["GET", "HEAD"];
const WRITES: [&str; 4] = ["POST", "PUT", "PATCH", "DELETE"];

/// The workload serving each entity's routes: its owner's deployable (microservices), the one
/// app (monolith).
fn workload_of(bp: &Blueprint, e: &Entity, deployables: &[Service]) -> Option<String> {
    match bp.arch {
        ArchType::Monolith => deployables.first().map(|d| d.name.kebab.clone()),
        _ => {
            let kebab = Names::new(&e.owner).kebab;
            deployables
                .iter()
                .find(|d| d.name.kebab == kebab)
                .map(|d| d.name.kebab.clone())
        }
    }
}

/// Per workload, the reads and writes of each entity's collection and items that need a
/// token or a role, in entity order.
fn mesh_policies(bp: &Blueprint, entities: &[Entity], deployables: &[Service]) -> Vec<MeshPolicy> {
    let mut out: Vec<MeshPolicy> = Vec::new();
    for e in entities {
        let Some(workload) = workload_of(bp, e, deployables) else {
            continue;
        };
        let at = match out.iter().position(|p| p.workload == workload) {
            Some(i) => i,
            None => {
                out.push(MeshPolicy {
                    workload,
                    need_token: Vec::new(),
                    need_role: Vec::new(),
                });
                out.len() - 1
            }
        };
        let policy = &mut out[at];
        let paths = vec![e.code.api_path.clone(), format!("{}/*", e.code.api_path)];
        for (rule, methods) in [
            (&e.code.auth.read, READS.to_vec()),
            (&e.code.auth.write, WRITES.to_vec()),
        ] {
            let Some(rule) = rule else { continue };
            let op = Operation {
                paths: paths.clone(),
                methods,
            };
            match (rule.kind, &rule.role) {
                ("public", _) => {}
                ("role", Some(role)) => {
                    policy.need_token.push(op.clone());
                    match policy.need_role.iter_mut().find(|r| &r.role == role) {
                        Some(r) => r.operations.push(op),
                        None => policy.need_role.push(RoleRule {
                            role: role.clone(),
                            operations: vec![op],
                        }),
                    }
                }
                _ => policy.need_token.push(op),
            }
        }
    }
    out.retain(|p| !p.need_token.is_empty());
    out
}

#[cfg(test)]
mod tests {
    use super::super::Model;

    fn model(example: &str) -> Model {
        let src = crate::assets::examples()
            .into_iter()
            .find(|(n, _)| *n == example)
            .map(|(_, s)| s)
            .unwrap();
        let bp = crate::blueprint::load(src, "x.yaml").blueprint.unwrap();
        super::super::resolve(&bp, crate::assets::presets()).unwrap()
    }

    fn auth<'a>(m: &'a Model, entity: &str) -> &'a super::EntityAuth {
        &m.entities
            .iter()
            .find(|e| e.name.raw == entity)
            .unwrap()
            .code
            .auth
    }

    #[test]
    fn routes_take_the_gateway_routes_auth_else_user() {
        let m = model("ecommerce");
        let products = auth(&m, "Product");
        assert_eq!(products.read.as_ref().unwrap().kind, "public");
        let write = products.write.as_ref().unwrap();
        assert_eq!((write.kind, write.role.as_deref()), ("role", Some("admin")));
        assert_eq!(write.python, "role(\"admin\")");
        assert_eq!(auth(&m, "Order").read.as_ref().unwrap().kind, "user");
    }

    #[test]
    fn rows_referring_to_the_user_entity_belong_to_that_user() {
        let m = model("ecommerce");
        assert_eq!(auth(&m, "Order").owner_column.as_deref(), Some("user_id"));
        assert_eq!(auth(&m, "User").owner_column.as_deref(), Some("id"));
        assert_eq!(auth(&m, "Product").owner_column, None);
        let m = model("auth-service");
        assert_eq!(
            auth(&m, "Token").owner_column.as_deref(),
            Some("account_id")
        );
    }

    #[test]
    fn a_status_moved_by_events_is_not_set_by_clients() {
        let m = model("ecommerce");
        assert_eq!(auth(&m, "Payment").flow_columns, ["status"]);
        let payment = m.entities.iter().find(|e| e.name.raw == "Payment").unwrap();
        let status = payment.columns.iter().find(|c| c.name == "status").unwrap();
        assert!(!status.code.writable && !status.code.updatable);
        // No default in the blueprint: a new payment starts at the enum's first value.
        assert_eq!(status.default_sql.as_deref(), Some("'authorized'"));
        let order = m.entities.iter().find(|e| e.name.raw == "Order").unwrap();
        let status = order.columns.iter().find(|c| c.name == "status").unwrap();
        assert_eq!(status.default_sql.as_deref(), Some("'pending'"));
        assert!(auth(&m, "Product").flow_columns.is_empty());
        let product = m.entities.iter().find(|e| e.name.raw == "Product").unwrap();
        assert!(
            product
                .columns
                .iter()
                .all(|c| c.code.writable != c.server_generated)
        );
    }

    #[test]
    fn compose_uses_the_development_issuer_and_deployments_the_blueprints() {
        let m = model("ecommerce");
        let s = &m.security;
        assert_eq!(s.issuer, "https://login.shop.example.com");
        let local = |n: &str| {
            s.local_env
                .iter()
                .find(|e| e.name == n)
                .unwrap()
                .value
                .clone()
        };
        assert_eq!(local("AUTH_ISSUER"), "http://dev-issuer:8080");
        assert_eq!(local("AUTH_AUDIENCE"), "shop-api");
        assert_eq!(s.rate_limit.rps, 100);
        let orders = s
            .mesh_policies
            .iter()
            .find(|p| p.workload == "orders")
            .unwrap();
        assert_eq!(orders.need_token.len(), 4);
        let products = s
            .mesh_policies
            .iter()
            .find(|p| p.workload == "products")
            .unwrap();
        assert_eq!(products.need_role[0].role, "admin");
    }
}
