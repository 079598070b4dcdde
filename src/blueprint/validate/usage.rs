//! Declared but unused: databases, caches and topics nobody uses, topics with no publisher or no
//! consumer, and a database shared by several services in microservices (warnings: they do not
//! stop generation).

use super::Check;
use crate::blueprint::ArchType;
use std::collections::{BTreeMap, HashSet};

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
}
