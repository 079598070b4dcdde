//! Declared but unused: databases, caches and topics nobody uses, topics with no publisher or no
//! consumer, a database shared by several services in microservices, and a `depends_on` edge
//! that no field goes through (warnings: they do not stop generation).

use super::Check;
use crate::blueprint::fields::FieldType;
use crate::blueprint::{ArchType, ServiceKind};
use std::collections::{BTreeMap, HashMap, HashSet};

impl Check<'_> {
    pub(super) fn usage(&mut self) {
        let bp = self.bp;
        let mut db_users: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        let mut cache_users: HashSet<&str> = HashSet::new();
        let mut published: HashSet<&str> = HashSet::new();
        let mut consumed: HashSet<&str> = HashSet::new();
        for (name, s) in &bp.services {
            if let Some(d) = &s.database {
                db_users.entry(d).or_default().push(name);
            }
            if let Some(c) = &s.cache {
                cache_users.insert(c);
            }
            published.extend(s.publishes.iter().map(String::as_str));
            consumed.extend(s.consumes.iter().map(String::as_str));
        }
        for name in bp.databases.keys() {
            match db_users.get(name.as_str()) {
                None => self.warn_key(
                    "W0202",
                    format!("databases.{name}"),
                    format!("database `{name}` is used by no service"),
                    format!("remove it or add `database: {name}` to a service"),
                ),
                Some(users) if users.len() > 1 && bp.arch == ArchType::Microservices => {
                    let (first, second) = (users[0], users[1]);
                    self.warn(
                        "W0201",
                        format!("services.{second}.database"),
                        format!(
                            "database `{name}` is shared by {} (first used by `{first}`)",
                            users.join(", ")
                        ),
                        "give each service its own database, or accept the coupling".into(),
                    );
                }
                _ => {}
            }
        }
        for name in bp.caches.keys() {
            if !cache_users.contains(name.as_str()) {
                self.warn_key(
                    "W0202",
                    format!("caches.{name}"),
                    format!("cache `{name}` is used by no service"),
                    format!("remove it or add `cache: {name}` to a service"),
                );
            }
        }
        self.unused_dependencies();
        let Some(m) = &bp.messaging else { return };
        for topic in m.topics.keys() {
            let (pubs, subs) = (
                published.contains(topic.as_str()),
                consumed.contains(topic.as_str()),
            );
            let path = format!("messaging.topics.{topic}");
            match (pubs, subs) {
                (false, false) => self.warn_key(
                    "W0202",
                    path,
                    format!("topic `{topic}` is used by no service"),
                    "remove it, or list it under some service's `publishes` and `consumes`".into(),
                ),
                (false, true) => self.warn_key(
                    "W0203",
                    path,
                    format!("topic `{topic}` has consumers but no publisher"),
                    format!("add `{topic}` to some service's `publishes`"),
                ),
                (true, false) => self.warn_key(
                    "W0203",
                    path,
                    format!("topic `{topic}` has a publisher but no consumer"),
                    format!("add `{topic}` to some service's `consumes`"),
                ),
                _ => {}
            }
        }
    }

    /// W0207: a generated service depends on another, but none of its entities' fields is a
    /// `ref` to an entity the other owns, so the generated code never calls it (it only gets a
    /// typed client). An existing `image` is not ours to judge; gateways route, they do not call.
    fn unused_dependencies(&mut self) {
        let bp = self.bp;
        let mut owner: HashMap<&str, &str> = HashMap::new();
        for (name, s) in &bp.services {
            for e in &s.entities {
                owner.entry(e.as_str()).or_insert(name.as_str());
            }
        }
        for (name, s) in &bp.services {
            if s.image.is_some() || s.kind == ServiceKind::Gateway || s.depends_on.is_empty() {
                continue;
            }
            let referred: HashSet<&str> = s
                .entities
                .iter()
                .filter_map(|e| bp.entities.get(e))
                .flat_map(|e| e.fields.values())
                .filter_map(|spec| match &self.spec(spec).as_ref().ok()?.ty {
                    FieldType::Ref(target) => owner.get(target.as_str()).copied(),
                    _ => None,
                })
                .collect();
            for (i, dep) in s.depends_on.iter().enumerate() {
                let Some(callee) = bp.services.get(dep) else {
                    continue; // unknown or self: an error already
                };
                if dep == name || referred.contains(dep.as_str()) {
                    continue;
                }
                let help = match callee.entities.first() {
                    Some(e) => format!(
                        "give an entity of `{name}` a field like `{}_id: ref {e}` (checked on \
                         create and update), call the generated client from your own code, or \
                         remove `{dep}` from `depends_on` if the two talk through events",
                        heck::ToSnakeCase::to_snake_case(e.as_str())
                    ),
                    None => format!(
                        "`{dep}` owns no entities: call the generated client from your own code, \
                         or remove `{dep}` from `depends_on` if the two talk through events"
                    ),
                };
                self.warn(
                    "W0207",
                    format!("services.{name}.depends_on[{i}]"),
                    format!(
                        "service `{name}` depends on `{dep}` but no field refers to its \
                         entities: nothing calls it yet"
                    ),
                    help,
                );
            }
        }
    }
}
