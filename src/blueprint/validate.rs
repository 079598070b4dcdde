//! Cross-reference rules of PRODUCT §4 over a typed blueprint. Pure: reads the blueprint and the
//! source map, pushes diagnostics. Codes are stable and listed in docs/diagnostics.md.

use super::fields::{self, FieldType};
use super::*;
use crate::diagnostic::{Diagnostic, Diagnostics, suggest};
use std::collections::{BTreeMap, BTreeSet};

pub fn check(bp: &Blueprint, src: &SourceMap, diags: &mut Diagnostics) {
    let mut v = Check { bp, src, diags };
    v.names();
    v.services();
    v.dependency_cycles();
    v.entities();
    v.usage();
    v.type_rules();
}

struct Check<'a> {
    bp: &'a Blueprint,
    src: &'a SourceMap,
    diags: &'a mut Diagnostics,
}

/// A DNS-1123 label: what Kubernetes, compose and Terraform all accept as a name.
pub fn is_dns_label(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && s.as_bytes()[0].is_ascii_lowercase()
        && !s.ends_with('-')
}

fn is_topic_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 120
        && s.as_bytes()[0].is_ascii_lowercase()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

fn is_entity_name(s: &str) -> bool {
    s.len() <= 60
        && s.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && s.chars().all(|c| c.is_ascii_alphanumeric())
}

fn names<T>(m: &IndexMap<String, T>) -> Vec<&str> {
    m.keys().map(String::as_str).collect()
}

impl Check<'_> {
    fn err(&mut self, code: &'static str, path: String, msg: String, help: String) {
        let loc = self.src.value(&path);
        self.diags
            .push(Diagnostic::error(code, path, msg).with_help(help).at(loc));
    }

    fn warn(&mut self, code: &'static str, path: String, msg: String, help: String) {
        let loc = self.src.value(&path);
        self.diags
            .push(Diagnostic::warning(code, path, msg).with_help(help).at(loc));
    }

    fn err_key(&mut self, code: &'static str, path: String, msg: String, help: String) {
        let loc = self.src.key(&path);
        self.diags
            .push(Diagnostic::error(code, path, msg).with_help(help).at(loc));
    }

    fn names(&mut self) {
        let bp = self.bp;
        if !bp.name.is_empty() && !is_dns_label(&bp.name, 40) {
            self.err(
                "E0101",
                "name".into(),
                format!("system name `{}` is not a DNS-1123 label", bp.name),
                "use lowercase letters, digits and `-`, starting with a letter, at most 40 characters".into(),
            );
        }
        let groups: [(&str, Vec<&str>); 3] = [
            ("services", names(&bp.services)),
            ("databases", names(&bp.databases)),
            ("caches", names(&bp.caches)),
        ];
        for (section, list) in groups {
            for name in &list {
                if !is_dns_label(name, 40) {
                    self.err_key(
                        "E0101",
                        format!("{section}.{name}"),
                        format!("name `{name}` in `{section}` is not a DNS-1123 label"),
                        "use lowercase letters, digits and `-`, starting with a letter, at most 40 characters (e.g. `user-service`)".into(),
                    );
                }
            }
            self.collisions(section, &list);
        }
        for name in bp.entities.keys() {
            if !is_entity_name(name) {
                self.err_key(
                    "E0101",
                    format!("entities.{name}"),
                    format!("entity name `{name}` is not PascalCase"),
                    "start with a capital letter and use only letters and digits, e.g. `OrderItem`"
                        .into(),
                );
            }
        }
        if let Some(m) = &bp.messaging {
            for name in m.topics.keys() {
                if !is_topic_name(name) {
                    self.err_key(
                        "E0101",
                        format!("messaging.topics.{name}"),
                        format!("topic name `{name}` is not valid"),
                        "use lowercase letters, digits, `.`, `_` and `-`, e.g. `order.created`"
                            .into(),
                    );
                }
            }
        }
    }

    /// `user-service` and `user_service` become the same Python module and env var.
    fn collisions(&mut self, section: &str, list: &[&str]) {
        let mut seen: BTreeMap<String, &str> = BTreeMap::new();
        for name in list {
            let folded = heck::ToSnakeCase::to_snake_case(*name);
            if let Some(first) = seen.get(&folded) {
                self.err_key(
                    "E0102",
                    format!("{section}.{name}"),
                    format!("`{name}` and `{first}` in `{section}` become the same name `{folded}` in code"),
                    "rename one of them".into(),
                );
            } else {
                seen.insert(folded, name);
            }
        }
    }

    fn services(&mut self) {
        let bp = self.bp;
        let service_names = names(&bp.services);
        let topics: Vec<&str> = bp
            .messaging
            .as_ref()
            .map(|m| names(&m.topics))
            .unwrap_or_default();
        for (name, s) in &bp.services {
            let p = format!("services.{name}");
            self.image_or_language(name, s);
            for (i, dep) in s.depends_on.iter().enumerate() {
                let dp = format!("{p}.depends_on[{i}]");
                if dep == name {
                    self.err(
                        "E0111",
                        dp,
                        format!("service `{name}` depends on itself"),
                        "remove it from `depends_on`".into(),
                    );
                } else if !bp.services.contains_key(dep) {
                    self.err(
                        "E0110",
                        dp,
                        format!("service `{name}` depends on unknown service `{dep}`"),
                        suggest(dep, &service_names),
                    );
                }
            }
            for (i, r) in s.routes.iter().enumerate() {
                if !r.to.is_empty() && !bp.services.contains_key(&r.to) {
                    self.err(
                        "E0110",
                        format!("{p}.routes[{i}].to"),
                        format!(
                            "route `{}` of `{name}` goes to unknown service `{}`",
                            r.path, r.to
                        ),
                        suggest(&r.to, &service_names),
                    );
                }
                if !r.path.starts_with('/') {
                    self.err(
                        "E0105",
                        format!("{p}.routes[{i}].path"),
                        format!("route path `{}` must start with `/`", r.path),
                        "write it as `/api/...`".into(),
                    );
                }
            }
            if !s.routes.is_empty() && s.kind != ServiceKind::Gateway {
                self.err(
                    "E0106",
                    format!("{p}.routes"),
                    format!("service `{name}` has routes but is not a gateway"),
                    "add `kind: gateway` or move the routes to the gateway service".into(),
                );
            }
            self.reference(
                &p,
                "database",
                s.database.as_deref(),
                &names(&bp.databases),
                "E0120",
            );
            self.reference(&p, "cache", s.cache.as_deref(), &names(&bp.caches), "E0121");
            for (list, key) in [(&s.publishes, "publishes"), (&s.consumes, "consumes")] {
                for (i, t) in list.iter().enumerate() {
                    if !topics.contains(&t.as_str()) {
                        self.err(
                            "E0122",
                            format!("{p}.{key}[{i}]"),
                            format!("service `{name}` {key} unknown topic `{t}`"),
                            format!(
                                "declare it under `messaging.topics`; {}",
                                suggest(t, &topics)
                            ),
                        );
                    }
                }
            }
            for (i, e) in s.entities.iter().enumerate() {
                if !bp.entities.contains_key(e) {
                    self.err(
                        "E0123",
                        format!("{p}.entities[{i}]"),
                        format!("service `{name}` owns unknown entity `{e}`"),
                        suggest(e, &names(&bp.entities)),
                    );
                }
            }
            if !s.entities.is_empty() && s.database.is_none() {
                self.err(
                    "E0124",
                    format!("{p}.entities"),
                    format!("service `{name}` owns entities but has no database"),
                    "add `database: <name>` to the service".into(),
                );
            }
            self.traffic(name, s);
        }
    }

    fn reference(
        &mut self,
        p: &str,
        key: &str,
        value: Option<&str>,
        known: &[&str],
        code: &'static str,
    ) {
        if let Some(v) = value
            && !known.contains(&v)
        {
            self.err(
                code,
                format!("{p}.{key}"),
                format!("unknown {key} `{v}`"),
                format!("declare it under `{key}s`; {}", suggest(v, known)),
            );
        }
    }

    fn image_or_language(&mut self, name: &str, s: &Service) {
        let p = format!("services.{name}");
        match (&s.image, &s.language) {
            (Some(_), Some(_)) => self.err(
                "E0130",
                format!("{p}.image"),
                format!("service `{name}` has both `image` and `language`"),
                "keep `image` for an existing image (no code generated) or `language` for generated code".into(),
            ),
            (None, Some(lang)) if !schema::LANGUAGES.contains(&lang.as_str()) => self.err(
                "E0131",
                format!("{p}.language"),
                format!("language `{lang}` is not supported"),
                suggest(lang, schema::LANGUAGES),
            ),
            _ => {}
        }
    }

    fn traffic(&mut self, name: &str, s: &Service) {
        if s.traffic.is_empty() {
            return;
        }
        let p = format!("services.{name}.traffic");
        let versions: Vec<&str> = if s.versions.is_empty() {
            vec!["v1"]
        } else {
            s.versions.iter().map(String::as_str).collect()
        };
        for v in s.traffic.keys() {
            if !versions.contains(&v.as_str()) {
                self.err_key(
                    "E0150",
                    format!("{p}.{v}"),
                    format!("traffic names version `{v}`, which `{name}` does not declare"),
                    format!("declared versions: {}", versions.join(", ")),
                );
            }
        }
        let sum: u32 = s.traffic.values().sum();
        if sum != 100 {
            self.err(
                "E0151",
                p,
                format!("traffic weights of `{name}` sum to {sum}, not 100"),
                "make the weights add up to exactly 100".into(),
            );
        }
    }

    /// Report the first dependency cycle found, as the whole loop.
    fn dependency_cycles(&mut self) {
        let bp = self.bp;
        let mut state: BTreeMap<&str, u8> = BTreeMap::new(); // 1 = on stack, 2 = done
        for start in bp.services.keys() {
            let mut stack: Vec<(&str, usize)> = vec![(start.as_str(), 0)];
            if state.contains_key(start.as_str()) {
                continue;
            }
            state.insert(start, 1);
            while let Some((node, idx)) = stack.last().copied() {
                let deps = bp
                    .services
                    .get(node)
                    .map(|s| &s.depends_on[..])
                    .unwrap_or(&[]);
                if idx >= deps.len() {
                    state.insert(node, 2);
                    stack.pop();
                    continue;
                }
                stack.last_mut().unwrap().1 += 1;
                let next = deps[idx].as_str();
                if next == node || !bp.services.contains_key(next) {
                    continue;
                }
                match state.get(next) {
                    Some(1) => {
                        let from = stack.iter().position(|(n, _)| *n == next).unwrap_or(0);
                        let mut cycle: Vec<&str> = stack[from..].iter().map(|(n, _)| *n).collect();
                        cycle.push(next);
                        let i = deps.iter().position(|d| d == next).unwrap_or(0);
                        self.err(
                            "E0112",
                            format!("services.{node}.depends_on[{i}]"),
                            format!("dependency cycle: {}", cycle.join(" → ")),
                            "synchronous calls must not loop; break the cycle with an event (publishes/consumes)".into(),
                        );
                        return;
                    }
                    Some(_) => {}
                    None => {
                        state.insert(next, 1);
                        stack.push((next, 0));
                    }
                }
            }
        }
    }

    fn entities(&mut self) {
        let bp = self.bp;
        let entity_names = names(&bp.entities);
        for (name, e) in &bp.entities {
            let p = format!("entities.{name}.fields");
            let mut pks = 0;
            for (field, spec) in &e.fields {
                let fp = format!("{p}.{field}");
                if !is_snake(field) {
                    self.err_key(
                        "E0101",
                        fp.clone(),
                        format!("field name `{field}` is not snake_case"),
                        "use lowercase letters, digits and `_`".into(),
                    );
                }
                match fields::parse(spec) {
                    Err(msg) => self.err("E0140", fp, format!("bad field type: {msg}"), "see the field types in the README: uuid, string(N), text, int, bigint, decimal(P,S), bool, timestamp, date, json, enum(a, b), ref Entity".into()),
                    Ok(f) => {
                        pks += usize::from(f.pk);
                        if let FieldType::Ref(target) = &f.ty
                            && !bp.entities.contains_key(target)
                        {
                            self.err("E0142", fp, format!("`ref {target}` names an unknown entity"), suggest(target, &entity_names));
                        }
                    }
                }
            }
            if pks > 1 {
                self.err(
                    "E0141",
                    p,
                    format!("entity `{name}` has {pks} primary keys"),
                    "mark exactly one field `pk`".into(),
                );
            } else if pks == 0 && !e.fields.is_empty() {
                self.err(
                    "E0143",
                    p,
                    format!("entity `{name}` has no primary key"),
                    "add `id: uuid pk`".into(),
                );
            }
            for (i, idx) in e.indexes.iter().enumerate() {
                for (j, col) in idx.iter().enumerate() {
                    if !e.fields.contains_key(col) {
                        self.err(
                            "E0144",
                            format!("entities.{name}.indexes[{i}][{j}]"),
                            format!("index on unknown field `{col}`"),
                            suggest(col, &names(&e.fields)),
                        );
                    }
                }
            }
        }
        self.ownership();
    }

    fn ownership(&mut self) {
        let bp = self.bp;
        let mut owner: BTreeMap<&str, &str> = BTreeMap::new();
        for (svc, s) in &bp.services {
            for (i, e) in s.entities.iter().enumerate() {
                if let Some(first) = owner.get(e.as_str()) {
                    self.err(
                        "E0125",
                        format!("services.{svc}.entities[{i}]"),
                        format!("entity `{e}` is owned by both `{first}` and `{svc}`"),
                        "an entity belongs to one service; reference it with `ref` from the other"
                            .into(),
                    );
                } else {
                    owner.insert(e, svc);
                }
            }
        }
        for name in bp.entities.keys() {
            if !owner.contains_key(name.as_str()) {
                self.err_key(
                    "E0126",
                    format!("entities.{name}"),
                    format!("entity `{name}` is owned by no service"),
                    "list it under some service's `entities`".into(),
                );
            }
        }
        // ref across databases: a logical reference, not a foreign key (microservices only).
        if bp.arch != ArchType::Microservices {
            return;
        }
        let db_of = |entity: &str| {
            owner
                .get(entity)
                .and_then(|s| bp.services[*s].database.as_deref())
        };
        for (name, e) in &bp.entities {
            for (field, spec) in &e.fields {
                if let Ok(f) = fields::parse(spec)
                    && let FieldType::Ref(target) = &f.ty
                    && db_of(name) != db_of(target)
                    && db_of(target).is_some()
                {
                    self.warn(
                        "W0204",
                        format!("entities.{name}.fields.{field}"),
                        format!("`{name}.{field}` refers to `{target}` in another database"),
                        "it becomes a logical reference (an indexed id column, no foreign key)"
                            .into(),
                    );
                }
            }
        }
    }

    fn usage(&mut self) {
        let bp = self.bp;
        let mut db_users: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        let mut cache_users: BTreeSet<&str> = BTreeSet::new();
        for (name, s) in &bp.services {
            if let Some(d) = &s.database {
                db_users.entry(d).or_default().push(name);
            }
            if let Some(c) = &s.cache {
                cache_users.insert(c);
            }
        }
        for name in bp.databases.keys() {
            match db_users.get(name.as_str()) {
                None => self.warn(
                    "W0202",
                    format!("databases.{name}"),
                    format!("database `{name}` is used by no service"),
                    "remove it or add `database: {name}` to a service".replace("{name}", name),
                ),
                Some(users) if users.len() > 1 && bp.arch == ArchType::Microservices => self.warn(
                    "W0201",
                    format!("databases.{name}"),
                    format!("database `{name}` is shared by {}", users.join(", ")),
                    "give each service its own database, or accept the coupling".into(),
                ),
                _ => {}
            }
        }
        for name in bp.caches.keys() {
            if !cache_users.contains(name.as_str()) {
                self.warn(
                    "W0202",
                    format!("caches.{name}"),
                    format!("cache `{name}` is used by no service"),
                    "remove it or add `cache: <name>` to a service".into(),
                );
            }
        }
        let Some(m) = &bp.messaging else { return };
        for topic in m.topics.keys() {
            let pubs = bp.services.values().any(|s| s.publishes.contains(topic));
            let subs = bp.services.values().any(|s| s.consumes.contains(topic));
            let path = format!("messaging.topics.{topic}");
            match (pubs, subs) {
                (false, false) => self.warn(
                    "W0202",
                    path,
                    format!("topic `{topic}` is used by no service"),
                    "remove it or publish/consume it".into(),
                ),
                (false, true) => self.warn(
                    "W0203",
                    path,
                    format!("topic `{topic}` has consumers but no publisher"),
                    "add it to some service's `publishes`".into(),
                ),
                (true, false) => self.warn(
                    "W0203",
                    path,
                    format!("topic `{topic}` has a publisher but no consumer"),
                    "add it to some service's `consumes`".into(),
                ),
                _ => {}
            }
        }
    }

    fn type_rules(&mut self) {
        let bp = self.bp;
        if bp.arch == ArchType::Serverless {
            for (name, s) in &bp.services {
                if s.protocols == [Protocol::Grpc] {
                    self.err(
                        "E0160",
                        format!("services.{name}.protocol"),
                        format!("service `{name}` serves only grpc, which serverless functions cannot serve"),
                        "use `protocol: http` or `--type microservices`".into(),
                    );
                } else if s.protocols.contains(&Protocol::Grpc) {
                    self.warn(
                        "W0162",
                        format!("services.{name}.protocol"),
                        format!("service `{name}` becomes HTTP functions; its grpc interface is not served in serverless"),
                        "callers use its HTTP API; keep grpc for the microservices type".into(),
                    );
                }
            }
        }
        if bp.arch == ArchType::Monolith
            && bp.mesh.enabled
            && self.src.value("mesh") != Default::default()
        {
            self.warn(
                "W0161",
                "mesh".into(),
                "a monolith has no service mesh; `mesh` is ignored".into(),
                "remove `mesh` or use `--type microservices`".into(),
            );
        }
    }
}

fn is_snake(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}
