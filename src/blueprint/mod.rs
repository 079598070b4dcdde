//! The blueprint: what the user wrote, as typed values, plus where each value stands.
//!
//! Flow inside this module: text → [`node::parse`] (YAML with positions) → [`schema::read`]
//! (typed [`Blueprint`], schema diagnostics, a [`SourceMap`] from blueprint path to position) →
//! [`validate::check`] (cross-reference rules). Nothing here applies defaults beyond what the
//! format itself defines; the `resolve` stage does that.

pub mod container;
pub mod edit;
pub mod fields;
pub mod node;
pub mod overrides;
pub mod pattern;
pub mod schema;
pub mod text;
pub mod validate;

use crate::diagnostic::Diagnostics;
use indexmap::IndexMap;
use node::Loc;
use serde::Serialize;
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ArchType {
    #[default]
    Microservices,
    Serverless,
    Monolith,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Scale {
    Small,
    #[default]
    Medium,
    Large,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ServiceKind {
    #[default]
    Api,
    Worker,
    Gateway,
    Frontend,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Http,
    Grpc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Broker {
    #[default]
    Kafka,
    Rabbitmq,
    Sqs,
}

impl ArchType {
    pub const NAMES: [&'static str; 3] = ["microservices", "serverless", "monolith"];
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "microservices" => Some(Self::Microservices),
            "serverless" => Some(Self::Serverless),
            "monolith" => Some(Self::Monolith),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

impl Scale {
    pub const NAMES: [&'static str; 3] = ["small", "medium", "large"];
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "small" => Some(Self::Small),
            "medium" => Some(Self::Medium),
            "large" => Some(Self::Large),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

#[derive(Debug, Clone, Default)]
pub struct Blueprint {
    pub version: u32,
    pub name: String,
    pub description: String,
    pub arch: ArchType,
    pub scale: Scale,
    pub cloud: Cloud,
    pub environments: Vec<String>,
    pub ingress: Option<Ingress>,
    /// The token issuer services trust (`identity:`); `None`: the local development issuer.
    pub identity: Option<Identity>,
    pub services: IndexMap<String, Service>,
    pub entities: IndexMap<String, Entity>,
    pub databases: IndexMap<String, Database>,
    pub caches: IndexMap<String, Cache>,
    pub messaging: Option<Messaging>,
    pub mesh: Mesh,
    pub observability: Observability,
    pub ci: Ci,
    /// Per-blueprint overrides of the scale preset (same keys as `blueprints/presets.yaml`).
    pub overrides: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone)]
pub struct Cloud {
    pub provider: String,
    pub region: String,
}

impl Default for Cloud {
    fn default() -> Self {
        Cloud {
            provider: "aws".into(),
            region: "eu-west-1".into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Ingress {
    pub host: String,
    pub tls: bool,
    pub cors: Option<Cors>,
}

/// `ingress.cors`: browser origins allowed to call the API, and the methods they may use.
#[derive(Debug, Clone, Default)]
pub struct Cors {
    pub origins: Vec<String>,
    pub methods: Vec<String>,
}

/// `identity:`: the OpenID issuer whose JWTs the services accept.
#[derive(Debug, Clone, Default)]
pub struct Identity {
    pub issuer: Option<String>,
    pub audience: Option<String>,
    pub jwks_url: Option<String>,
    /// The entity whose rows are the users (`sub` = its key); default: an entity named `User`.
    pub user_entity: Option<String>,
}

/// Who may call a route: `public`, any signed-in `user`, or a user holding `role(NAME)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    Public,
    User,
    Role(String),
}

impl Access {
    /// `public`, `user` or `role(NAME)`; `None` for anything else.
    pub fn parse(s: &str) -> Option<Access> {
        match s.trim() {
            "public" => Some(Access::Public),
            "user" => Some(Access::User),
            other => {
                let name = other.strip_prefix("role(")?.strip_suffix(')')?.trim();
                is_role_name(name).then(|| Access::Role(name.to_owned()))
            }
        }
    }
}

/// A role name reaches Python strings, YAML and Istio claim values: a short plain token.
pub fn is_role_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.:-".contains(&b))
}

/// `auth:` on a route or service: one rule for every method, or `{ read, write }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Auth {
    pub read: Access,
    pub write: Access,
}

#[derive(Debug, Clone, Default)]
pub struct Service {
    pub kind: ServiceKind,
    pub description: String,
    pub language: Option<String>,
    pub image: Option<String>,
    pub protocols: Vec<Protocol>,
    pub port: Option<u16>,
    pub database: Option<String>,
    pub cache: Option<String>,
    pub entities: Vec<String>,
    pub publishes: Vec<String>,
    pub consumes: Vec<String>,
    pub depends_on: Vec<String>,
    pub versions: Vec<String>,
    pub traffic: IndexMap<String, u32>,
    pub resilience: Option<Resilience>,
    pub routes: Vec<Route>,
    pub auth: Option<Auth>,
    /// An existing image's own contract (ports, probes, env, …); empty for generated code.
    pub container: container::Container,
}

#[derive(Debug, Clone)]
pub struct Resilience {
    /// Seconds.
    pub timeout: Option<f64>,
    pub retries: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct Route {
    pub path: String,
    pub to: String,
    pub auth: Option<Auth>,
}

#[derive(Debug, Clone, Default)]
pub struct Entity {
    /// Field name → field spec as written (`string(255) unique`).
    pub fields: IndexMap<String, String>,
    pub indexes: Vec<Vec<String>>,
}

#[derive(Debug, Clone)]
pub struct Database {
    pub engine: String,
}

#[derive(Debug, Clone)]
pub struct Cache {
    pub engine: String,
}

#[derive(Debug, Clone, Default)]
pub struct Messaging {
    pub broker: Broker,
    pub topics: IndexMap<String, Topic>,
}

#[derive(Debug, Clone, Default)]
pub struct Topic {
    pub partitions: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct Mesh {
    pub enabled: bool,
    pub mtls: String,
}

impl Default for Mesh {
    fn default() -> Self {
        Mesh {
            enabled: false,
            mtls: "strict".into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Observability {
    pub tracing: bool,
    pub metrics: bool,
    pub dashboards: bool,
}

impl Default for Observability {
    fn default() -> Self {
        Observability {
            tracing: true,
            metrics: true,
            dashboards: true,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Ci {
    pub provider: String,
}

impl Default for Ci {
    fn default() -> Self {
        Ci {
            provider: "github".into(),
        }
    }
}

/// Blueprint path (`services.orders.port`) → where its value (and its key) stand in the file.
/// One entry per path holds both positions: a large blueprint has a node per line or so, so the
/// map is sized from the text and hashed with FNV-1a (short keys, no untrusted-input concern:
/// the paths come from the user's own file and a collision only costs time).
#[derive(Debug, Default, Clone)]
pub struct SourceMap {
    places: HashMap<String, (Loc, Option<Loc>), FnvBuild>,
}

/// FNV-1a: fast for the short keys and paths of a blueprint.
#[derive(Default)]
pub(crate) struct Fnv(u64);

pub(crate) type FnvBuild = std::hash::BuildHasherDefault<Fnv>;

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for b in bytes {
            h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

impl SourceMap {
    /// A map with room for about `n` paths.
    pub fn with_capacity(n: usize) -> Self {
        SourceMap {
            places: HashMap::with_capacity_and_hasher(n, Default::default()),
        }
    }

    /// Takes the path by value where the caller is done with it: one allocation per key of
    /// the blueprint instead of two.
    pub fn record(&mut self, path: impl Into<String>, value: Loc, key: Option<Loc>) {
        self.places.insert(path.into(), (value, key));
    }

    /// Position of the value at `path`, or of the nearest ancestor that has one.
    pub fn value(&self, path: &str) -> Loc {
        let mut p = path;
        loop {
            if let Some((l, _)) = self.places.get(p) {
                return *l;
            }
            match p.rfind(['.', '[']) {
                Some(i) => p = &p[..i],
                None => return Loc::default(),
            }
        }
    }

    /// Whether the blueprint wrote a value at exactly `path`.
    pub fn has(&self, path: &str) -> bool {
        self.places.contains_key(path)
    }

    /// Position of the key at `path` (for "unknown key" and "duplicate" reports).
    pub fn key(&self, path: &str) -> Loc {
        match self.places.get(path) {
            Some((_, Some(k))) => *k,
            _ => self.value(path),
        }
    }
}

/// A blueprint read from text, with its diagnostics and source positions.
pub struct Loaded {
    pub blueprint: Option<Blueprint>,
    pub sources: SourceMap,
    pub diagnostics: Diagnostics,
}

/// Parse, read and validate a blueprint. `blueprint` is `None` when it could not be read at all;
/// callers must still check `diagnostics.has_errors()` before using it.
pub fn load(source: &str, file: &str) -> Loaded {
    let mut diagnostics = Diagnostics::default();
    let mut sources = SourceMap::with_capacity(source.len() / 24);
    let blueprint = match node::parse(source) {
        Err(e) => {
            diagnostics.push(parse_diagnostic(e));
            None
        }
        Ok(root) => {
            text::check(&root, &mut diagnostics);
            let bp = schema::read(&root, &mut sources, &mut diagnostics);
            if let Some(bp) = &bp {
                validate::check(bp, &sources, &mut diagnostics);
            }
            bp
        }
    };
    diagnostics.finish(file);
    Loaded {
        blueprint,
        sources,
        diagnostics,
    }
}

fn parse_diagnostic(e: node::ParseError) -> crate::diagnostic::Diagnostic {
    let mut d =
        crate::diagnostic::Diagnostic::error(e.kind.code(), "", e.message).with_help(e.help);
    if let Some(loc) = e.loc {
        d = d.at(loc);
    }
    d
}

/// Why a blueprint's bytes cannot be read as text: too large (E0009) or not UTF-8 (E0010), as a
/// located diagnostic.
pub fn decode(bytes: &[u8], file: &str) -> Result<String, Diagnostics> {
    let d = if bytes.len() > node::MAX_SOURCE_BYTES {
        parse_diagnostic(node::too_large(bytes.len()))
    } else {
        match std::str::from_utf8(bytes) {
            Ok(text) => return Ok(text.to_owned()),
            Err(e) => {
                let valid = &bytes[..e.valid_up_to()];
                let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
                let line_start = valid.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
                // The valid prefix is UTF-8, so counting its characters gives the column.
                let col = String::from_utf8_lossy(&valid[line_start..])
                    .chars()
                    .count()
                    + 1;
                crate::diagnostic::Diagnostic::error(
                    "E0010",
                    "",
                    format!(
                        "the blueprint is not UTF-8 text (invalid byte 0x{:02x} at offset {})",
                        bytes[e.valid_up_to()],
                        e.valid_up_to()
                    ),
                )
                .with_help("save the file as UTF-8")
                .at(Loc {
                    line: u32::try_from(line).unwrap_or(u32::MAX),
                    col: u32::try_from(col).unwrap_or(u32::MAX),
                })
            }
        }
    };
    let mut diagnostics = Diagnostics::default();
    diagnostics.push(d);
    diagnostics.finish(file);
    Err(diagnostics)
}

/// Read a blueprint file without ever holding more than [`node::MAX_SOURCE_BYTES`] + 1 bytes:
/// a 50 MB file is refused after reading 8 MiB, not loaded whole.
pub fn read_file(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    file.take(node::MAX_SOURCE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}
