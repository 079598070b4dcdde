//! Schema stage: a [`Node`] tree → a typed [`Blueprint`], reporting every schema problem at once
//! (unknown keys with a did-you-mean, wrong types, missing fields, bad enum values) and recording
//! the position of every value in the [`SourceMap`].

use super::node::{Node, Value};
use super::*;
use crate::diagnostic::{Diagnostic, Diagnostics, suggest};

mod container;

const TOP_KEYS: &[&str] = &[
    "version",
    "name",
    "description",
    "type",
    "scale",
    "cloud",
    "environments",
    "ingress",
    "identity",
    "services",
    "entities",
    "databases",
    "caches",
    "messaging",
    "mesh",
    "observability",
    "ci",
    "overrides",
];
const SERVICE_KEYS: &[&str] = &[
    "kind",
    "description",
    "language",
    "image",
    "protocol",
    "port",
    "database",
    "cache",
    "entities",
    "publishes",
    "consumes",
    "depends_on",
    "versions",
    "traffic",
    "resilience",
    "routes",
    "auth",
    "ports",
    "probes",
    "env",
    "security",
    "volumes",
    "command",
    "args",
];
pub const LANGUAGES: &[&str] = &["python", TYPESCRIPT];
/// The language whose services have their own rules (`validate::services`).
pub const TYPESCRIPT: &str = "typescript";

pub fn read(root: &Node, sources: &mut SourceMap, diags: &mut Diagnostics) -> Option<Blueprint> {
    let mut r = Reader { sources, diags };
    r.sources.record("", root.loc, None);
    let top = r.map(root, "", TOP_KEYS)?;
    let mut bp = Blueprint::default();
    let get = |k: &str| top.iter().find(|(key, _)| *key == k).map(|(_, n)| *n);

    match get("version") {
        Some(n) => match &n.value {
            Value::Int(1) => bp.version = 1,
            _ => r.push(
                Diagnostic::error("E0006", "version", "unsupported blueprint version")
                    .with_help("this tool reads blueprint format `version: 1`")
                    .at(n.loc),
            ),
        },
        None => r.missing("", "version", "add `version: 1` at the top of the file"),
    }
    match get("name") {
        Some(n) => bp.name = r.string(n, "name").unwrap_or_default(),
        None => r.missing("", "name", "add `name: my-system` (a DNS-1123 label)"),
    }
    if let Some(n) = get("description") {
        bp.description = r.string(n, "description").unwrap_or_default();
    }
    if let Some(n) = get("type") {
        bp.arch = r
            .choice(n, "type", &ArchType::NAMES, ArchType::parse)
            .unwrap_or_default();
    }
    if let Some(n) = get("scale") {
        bp.scale = r
            .choice(n, "scale", &Scale::NAMES, Scale::parse)
            .unwrap_or_default();
    }
    if let Some(n) = get("cloud") {
        bp.cloud = r.cloud(n);
    }
    bp.environments = match get("environments") {
        Some(n) => r.string_list(n, "environments"),
        None => vec!["dev".into(), "staging".into(), "prod".into()],
    };
    if let Some(n) = get("ingress") {
        bp.ingress = r.ingress(n);
    }
    if let Some(n) = get("identity") {
        bp.identity = r.identity(n);
    }
    if let Some(n) = get("services") {
        bp.services = r.named_map(n, "services", Reader::service);
    } else {
        r.missing(
            "",
            "services",
            "declare at least one service under `services:`",
        );
    }
    if let Some(n) = get("entities") {
        bp.entities = r.named_map(n, "entities", Reader::entity);
    }
    if let Some(n) = get("databases") {
        bp.databases = r.named_map(n, "databases", |r, n, p| {
            Some(Database {
                engine: r.engine(n, p, &["postgres", "mysql", "dynamodb"]),
            })
        });
    }
    if let Some(n) = get("caches") {
        bp.caches = r.named_map(n, "caches", |r, n, p| {
            Some(Cache {
                engine: r.engine(n, p, &["redis"]),
            })
        });
    }
    if let Some(n) = get("messaging") {
        bp.messaging = r.messaging(n);
    }
    if let Some(n) = get("mesh") {
        bp.mesh = r.mesh(n);
    }
    if let Some(n) = get("observability") {
        bp.observability = r.observability(n);
    }
    if let Some(n) = get("ci") {
        bp.ci = r.ci(n);
    }
    if let Some(n) = get("overrides") {
        bp.overrides = r.overrides(n, bp.scale);
    }
    Some(bp)
}

struct Reader<'a> {
    sources: &'a mut SourceMap,
    diags: &'a mut Diagnostics,
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

impl Reader<'_> {
    fn push(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    fn missing(&mut self, path: &str, key: &str, help: &str) {
        let loc = self.sources.value(path);
        let what = if path.is_empty() {
            "the blueprint".to_owned()
        } else {
            format!("`{path}`")
        };
        self.push(
            Diagnostic::error("E0004", join(path, key), format!("{what} has no `{key}`"))
                .with_help(help)
                .at(loc),
        );
    }

    fn wrong_type(&mut self, n: &Node, path: &str, expected: &str) {
        self.push(
            Diagnostic::error(
                "E0002",
                path,
                format!("`{path}` must be {expected}, found {}", n.value.kind()),
            )
            .with_help(format!("write {expected} here"))
            .at(n.loc),
        );
    }

    /// The entries of a mapping whose keys must all be in `allowed`; records positions.
    fn map<'n>(
        &mut self,
        n: &'n Node,
        path: &str,
        allowed: &[&str],
    ) -> Option<Vec<(&'n str, &'n Node)>> {
        let Value::Map(entries) = &n.value else {
            self.wrong_type(
                n,
                if path.is_empty() {
                    "the blueprint"
                } else {
                    path
                },
                "a mapping",
            );
            return None;
        };
        let mut out = Vec::with_capacity(entries.len());
        for (key, value) in entries {
            let p = join(path, &key.name);
            if allowed.contains(&key.name.as_str()) {
                self.sources.record(p, value.loc, Some(key.loc));
                out.push((key.name.as_str(), value));
            } else {
                self.sources.record(p.clone(), value.loc, Some(key.loc));
                let place = if path.is_empty() {
                    "the blueprint".to_owned()
                } else {
                    format!("`{path}`")
                };
                self.push(
                    Diagnostic::error("E0003", p, format!("unknown key `{}` in {place}", key.name))
                        .with_help(suggest(&key.name, allowed))
                        .at(key.loc),
                );
            }
        }
        Some(out)
    }

    /// A mapping of user-chosen names (services, entities, …) to values read by `each`.
    fn named_map<T>(
        &mut self,
        n: &Node,
        path: &str,
        each: impl Fn(&mut Self, &Node, &str) -> Option<T>,
    ) -> IndexMap<String, T> {
        let mut out = IndexMap::new();
        let Value::Map(entries) = &n.value else {
            if !matches!(n.value, Value::Null) {
                self.wrong_type(n, path, "a mapping of names");
            }
            return out;
        };
        for (key, value) in entries {
            let p = join(path, &key.name);
            self.sources.record(&p, value.loc, Some(key.loc));
            if let Some(v) = each(self, value, &p) {
                out.insert(key.name.clone(), v);
            }
        }
        out
    }

    fn string(&mut self, n: &Node, path: &str) -> Option<String> {
        match &n.value {
            Value::Str(s) => Some(s.clone()),
            Value::Int(i) => Some(i.to_string()),
            _ => {
                self.wrong_type(n, path, "a string");
                None
            }
        }
    }

    fn boolean(&mut self, n: &Node, path: &str) -> Option<bool> {
        match &n.value {
            Value::Bool(b) => Some(*b),
            _ => {
                self.wrong_type(n, path, "`true` or `false`");
                None
            }
        }
    }

    fn uint(&mut self, n: &Node, path: &str, max: i64) -> Option<i64> {
        match &n.value {
            Value::Int(i) if (0..=max).contains(i) => Some(*i),
            Value::Int(_) => {
                self.push(
                    Diagnostic::error("E0005", path, format!("`{path}` is out of range"))
                        .with_help(format!("use a whole number from 0 to {max}"))
                        .at(n.loc),
                );
                None
            }
            _ => {
                self.wrong_type(n, path, "a whole number");
                None
            }
        }
    }

    fn choice<T>(
        &mut self,
        n: &Node,
        path: &str,
        names: &[&str],
        parse: fn(&str) -> Option<T>,
    ) -> Option<T> {
        let s = self.string(n, path)?;
        let v = parse(&s);
        if v.is_none() {
            self.push(
                Diagnostic::error("E0005", path, format!("`{s}` is not a valid `{path}`"))
                    .with_help(suggest(&s, names))
                    .at(n.loc),
            );
        }
        v
    }

    /// A list of strings; a single string is accepted as a one-item list.
    fn string_list(&mut self, n: &Node, path: &str) -> Vec<String> {
        match &n.value {
            Value::Seq(items) => items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| {
                    let p = format!("{path}[{i}]");
                    self.sources.record(&p, item.loc, None);
                    self.string(item, &p)
                })
                .collect(),
            Value::Str(s) => vec![s.clone()],
            Value::Null => Vec::new(),
            _ => {
                self.wrong_type(n, path, "a list of names");
                Vec::new()
            }
        }
    }

    fn engine(&mut self, n: &Node, path: &str, engines: &[&str]) -> String {
        // A datastore whose entry is malformed is still declared (an empty engine: the error
        // already stops generation), so what names it is not also reported as unknown.
        let entries = if matches!(n.value, Value::Null) {
            Vec::new()
        } else {
            let Some(entries) = self.map(n, path, &["engine"]) else {
                return String::new();
            };
            entries
        };
        let Some((_, e)) = entries.first() else {
            return engines[0].to_owned();
        };
        let p = join(path, "engine");
        let Some(s) = self.string(e, &p) else {
            return String::new();
        };
        if !engines.contains(&s.as_str()) {
            self.push(
                Diagnostic::error("E0005", p, format!("engine `{s}` is not supported"))
                    .with_help(suggest(&s, engines))
                    .at(e.loc),
            );
        }
        s
    }

    fn cloud(&mut self, n: &Node) -> Cloud {
        let mut c = Cloud::default();
        for (k, v) in self
            .map(n, "cloud", &["provider", "region"])
            .unwrap_or_default()
        {
            let p = join("cloud", k);
            match k {
                "provider" => {
                    if let Some(s) =
                        self.choice(v, &p, &["aws"], |s| (s == "aws").then(|| s.to_owned()))
                    {
                        c.provider = s;
                    }
                }
                _ => c.region = self.string(v, &p).unwrap_or(c.region),
            }
        }
        c
    }

    fn ingress(&mut self, n: &Node) -> Option<Ingress> {
        let entries = self.map(n, "ingress", &["host", "tls", "cors"])?;
        let mut ing = Ingress {
            host: String::new(),
            tls: true,
            cors: None,
        };
        let mut has_host = false;
        for (k, v) in entries {
            let p = join("ingress", k);
            match k {
                "host" => {
                    ing.host = self.string(v, &p).unwrap_or_default();
                    has_host = true;
                }
                "cors" => ing.cors = self.cors(v, &p),
                _ => ing.tls = self.boolean(v, &p).unwrap_or(true),
            }
        }
        if !has_host {
            self.missing("ingress", "host", "add `host: shop.example.com`");
        }
        Some(ing)
    }

    fn service(&mut self, n: &Node, path: &str) -> Option<Service> {
        let mut s = Service::default();
        if matches!(n.value, Value::Null) {
            return Some(s);
        }
        for (k, v) in self.map(n, path, SERVICE_KEYS)? {
            let p = join(path, k);
            match k {
                "kind" => {
                    s.kind = self
                        .choice(
                            v,
                            &p,
                            &["api", "worker", "gateway", "frontend"],
                            |x| match x {
                                "api" => Some(ServiceKind::Api),
                                "worker" => Some(ServiceKind::Worker),
                                "gateway" => Some(ServiceKind::Gateway),
                                "frontend" => Some(ServiceKind::Frontend),
                                _ => None,
                            },
                        )
                        .unwrap_or_default();
                }
                "description" => s.description = self.string(v, &p).unwrap_or_default(),
                "language" => s.language = self.string(v, &p),
                "image" => s.image = self.string(v, &p),
                "protocol" => s.protocols = self.protocols(v, &p),
                "port" => s.port = self.uint(v, &p, 65535).and_then(|x| u16::try_from(x).ok()),
                "database" => s.database = self.string(v, &p),
                "cache" => s.cache = self.string(v, &p),
                "entities" => s.entities = self.string_list(v, &p),
                "publishes" => s.publishes = self.string_list(v, &p),
                "consumes" => s.consumes = self.string_list(v, &p),
                "depends_on" => s.depends_on = self.string_list(v, &p),
                "versions" => s.versions = self.string_list(v, &p),
                "traffic" => {
                    s.traffic =
                        self.named_map(v, &p, |r, n, p| r.uint(n, p, 100).map(|x| x as u32));
                }
                "resilience" => s.resilience = self.resilience(v, &p),
                "auth" => s.auth = self.auth(v, &p),
                "routes" => s.routes = self.routes(v, &p),
                _ => self.container(&mut s.container, k, v, &p),
            }
        }
        Some(s)
    }

    fn protocols(&mut self, n: &Node, path: &str) -> Vec<Protocol> {
        let parse = |x: &str| match x {
            "http" => Some(Protocol::Http),
            "grpc" => Some(Protocol::Grpc),
            _ => None,
        };
        match &n.value {
            Value::Seq(items) => items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| {
                    self.choice(item, &format!("{path}[{i}]"), &["http", "grpc"], parse)
                })
                .collect(),
            _ => self
                .choice(n, path, &["http", "grpc"], parse)
                .into_iter()
                .collect(),
        }
    }

    fn resilience(&mut self, n: &Node, path: &str) -> Option<Resilience> {
        let mut r = Resilience {
            timeout: None,
            retries: None,
        };
        for (k, v) in self.map(n, path, &["timeout", "retries"])? {
            let p = join(path, k);
            if k == "timeout" {
                r.timeout = self.duration(v, &p);
            } else {
                r.retries = self.uint(v, &p, 10).map(|x| x as u32);
            }
        }
        Some(r)
    }

    /// `5s`, `250ms`, `1m` → seconds.
    fn duration(&mut self, n: &Node, path: &str) -> Option<f64> {
        let s = self.string(n, path)?;
        let parsed = parse_duration(&s);
        if parsed.is_none() {
            self.push(
                Diagnostic::error("E0005", path, format!("`{s}` is not a duration"))
                    .with_help("write a number with a unit: `500ms`, `5s` or `1m` (at most 10m)")
                    .at(n.loc),
            );
        }
        parsed
    }

    fn routes(&mut self, n: &Node, path: &str) -> Vec<Route> {
        let Value::Seq(items) = &n.value else {
            self.wrong_type(n, path, "a list of `{ path, to }` routes");
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let p = format!("{path}[{i}]");
            self.sources.record(&p, item.loc, None);
            let Some(entries) = self.map(item, &p, &["path", "to", "auth"]) else {
                continue;
            };
            let mut route = Route {
                path: String::new(),
                to: String::new(),
                auth: None,
            };
            let (mut has_path, mut has_to) = (false, false);
            for (k, v) in entries {
                let kp = join(&p, k);
                if k == "auth" {
                    route.auth = self.auth(v, &kp);
                    continue;
                }
                let val = self.string(v, &kp).unwrap_or_default();
                if k == "path" {
                    route.path = val;
                    has_path = true;
                } else {
                    route.to = val;
                    has_to = true;
                }
            }
            if !has_path {
                self.missing(&p, "path", "add `path: /api/...`");
            }
            if !has_to {
                self.missing(&p, "to", "add `to: <service>`");
            }
            out.push(route);
        }
        out
    }

    /// `auth: user`, `auth: role(admin)` or `auth: { read: public, write: role(admin) }`
    /// (a side left out is `user`).
    fn auth(&mut self, n: &Node, path: &str) -> Option<Auth> {
        if let Value::Map(_) = &n.value {
            let mut auth = Auth {
                read: Access::User,
                write: Access::User,
            };
            for (k, v) in self.map(n, path, &["read", "write"])? {
                let access = self.access(v, &join(path, k))?;
                if k == "read" {
                    auth.read = access;
                } else {
                    auth.write = access;
                }
            }
            return Some(auth);
        }
        let access = self.access(n, path)?;
        Some(Auth {
            read: access.clone(),
            write: access,
        })
    }

    fn access(&mut self, n: &Node, path: &str) -> Option<Access> {
        let s = self.string(n, path)?;
        let access = Access::parse(&s);
        if access.is_none() {
            self.push(
                Diagnostic::error("E0005", path, format!("`{s}` is not a valid `auth`"))
                    .with_help("write `public`, `user` or `role(NAME)` (NAME: letters, digits, `_.:-`), or `{ read: public, write: role(admin) }`")
                    .at(n.loc),
            );
        }
        access
    }

    fn cors(&mut self, n: &Node, path: &str) -> Option<Cors> {
        let mut cors = Cors::default();
        for (k, v) in self.map(n, path, &["origins", "methods"])? {
            let list = self.string_list(v, &join(path, k));
            if k == "origins" {
                cors.origins = list;
            } else {
                cors.methods = list;
            }
        }
        Some(cors)
    }

    fn identity(&mut self, n: &Node) -> Option<Identity> {
        let keys = ["issuer", "audience", "jwks_url", "user_entity"];
        let mut id = Identity::default();
        for (k, v) in self.map(n, "identity", &keys)? {
            let s = self.string(v, &join("identity", k));
            match k {
                "issuer" => id.issuer = s,
                "audience" => id.audience = s,
                "jwks_url" => id.jwks_url = s,
                _ => id.user_entity = s,
            }
        }
        Some(id)
    }

    fn entity(&mut self, n: &Node, path: &str) -> Option<Entity> {
        let mut e = Entity::default();
        let mut has_fields = false;
        for (k, v) in self.map(n, path, &["fields", "indexes"])? {
            let p = join(path, k);
            if k == "fields" {
                has_fields = true;
                e.fields = self.named_map(v, &p, |r, n, p| r.string(n, p));
            } else if let Value::Seq(items) = &v.value {
                for (i, item) in items.iter().enumerate() {
                    let ip = format!("{p}[{i}]");
                    self.sources.record(&ip, item.loc, None);
                    e.indexes.push(self.string_list(item, &ip));
                }
            } else {
                self.wrong_type(v, &p, "a list of field lists, e.g. `[[created_at]]`");
            }
        }
        if !has_fields {
            self.missing(path, "fields", "add `fields:` with at least `id: uuid pk`");
        }
        Some(e)
    }

    fn messaging(&mut self, n: &Node) -> Option<Messaging> {
        let mut m = Messaging::default();
        for (k, v) in self.map(n, "messaging", &["broker", "topics"])? {
            let p = join("messaging", k);
            if k == "broker" {
                m.broker = self
                    .choice(v, &p, &["kafka", "rabbitmq", "sqs"], |x| match x {
                        "kafka" => Some(Broker::Kafka),
                        "rabbitmq" => Some(Broker::Rabbitmq),
                        "sqs" => Some(Broker::Sqs),
                        _ => None,
                    })
                    .unwrap_or_default();
            } else {
                m.topics = self.named_map(v, &p, |r, n, p| {
                    if matches!(n.value, Value::Null) {
                        return Some(Topic::default());
                    }
                    let mut t = Topic::default();
                    for (k, v) in r.map(n, p, &["partitions"])? {
                        let kp = join(p, k);
                        t.partitions = r.uint(v, &kp, 1000).map(|x| x as u32);
                        if t.partitions == Some(0) {
                            r.push(
                                Diagnostic::error("E0005", kp.as_str(), "a topic needs at least one partition")
                                    .with_help("use a whole number from 1 to 1000, or leave `partitions` out for the scale preset's")
                                    .at(v.loc),
                            );
                            t.partitions = None;
                        }
                    }
                    Some(t)
                });
            }
        }
        Some(m)
    }

    fn mesh(&mut self, n: &Node) -> Mesh {
        let mut m = Mesh {
            enabled: true,
            mtls: "strict".into(),
        };
        for (k, v) in self
            .map(n, "mesh", &["enabled", "mtls"])
            .unwrap_or_default()
        {
            let p = join("mesh", k);
            if k == "enabled" {
                m.enabled = self.boolean(v, &p).unwrap_or(true);
            } else if let Some(s) = self.choice(v, &p, &["strict", "permissive"], |x| {
                matches!(x, "strict" | "permissive").then(|| x.to_owned())
            }) {
                m.mtls = s;
            }
        }
        m
    }

    fn observability(&mut self, n: &Node) -> Observability {
        let mut o = Observability::default();
        for (k, v) in self
            .map(n, "observability", &["tracing", "metrics", "dashboards"])
            .unwrap_or_default()
        {
            let b = self.boolean(v, &join("observability", k)).unwrap_or(true);
            match k {
                "tracing" => o.tracing = b,
                "metrics" => o.metrics = b,
                _ => o.dashboards = b,
            }
        }
        o
    }

    fn ci(&mut self, n: &Node) -> Ci {
        let mut c = Ci::default();
        for (_, v) in self.map(n, "ci", &["provider"]).unwrap_or_default() {
            if let Some(s) = self.choice(v, "ci.provider", &["github", "none"], |x| {
                matches!(x, "github" | "none").then(|| x.to_owned())
            }) {
                c.provider = s;
            }
        }
        c
    }

    fn overrides(&mut self, n: &Node, scale: Scale) -> serde_json::Map<String, serde_json::Value> {
        super::overrides::read(n, scale, self.sources, self.diags)
    }
}

pub fn parse_duration(s: &str) -> Option<f64> {
    let s = s.trim();
    let (num, mult) = if let Some(n) = s.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 60.0)
    } else {
        return None;
    };
    let v: f64 = num.trim().parse().ok()?;
    let secs = v * mult;
    (secs > 0.0 && secs <= 600.0 && secs.is_finite()).then_some(secs)
}
