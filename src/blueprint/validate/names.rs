//! Names: formats (DNS labels, PascalCase entities, snake_case fields, topic names), reserved
//! names, and collisions — after case conversion (`user-service` vs `user_service` become one
//! Python module) and across sections (a database named like a service: one DNS namespace in
//! compose and Kubernetes).

use super::{Check, names};
use heck::ToSnakeCase;
use std::collections::BTreeMap;

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

pub(super) fn is_snake(s: &str) -> bool {
    s.len() <= 63
        && s.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Names Windows refuses as file or directory names (`services/con/` cannot be checked out).
const WINDOWS_DEVICES: &[&str] = &[
    "con", "prn", "aux", "nul", "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8",
    "com9", "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
];

/// Hosts the generated infrastructure already uses in compose and Kubernetes.
pub(super) const INFRA_NAMES: &[&str] = &[
    "kafka",
    "zookeeper",
    "rabbitmq",
    "localstack",
    "moto",
    "sqs-provision",
    "otel-collector",
    "prometheus",
    "grafana",
    "jaeger",
    "alertmanager",
    "istiod",
    "istio-ingressgateway",
    "kubernetes",
    "migrations",
];

/// Python keywords: services become packages and fields attributes.
pub(super) const PYTHON_KEYWORDS: &[&str] = &[
    "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del", "elif",
    "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda",
    "nonlocal", "not", "or", "pass", "raise", "return", "try", "while", "with", "yield", "none",
    "true", "false",
];

const LABEL_HELP: &str = "use lowercase letters, digits and `-`, starting with a letter, at most 40 characters (e.g. `user-service`)";

impl Check<'_> {
    pub(super) fn names(&mut self) {
        let bp = self.bp;
        // An empty name is only reported when written (`name: ""`); a missing one is E0004.
        let written = self.src.value("name") != Default::default();
        if (written || !bp.name.is_empty()) && !is_dns_label(&bp.name, 40) {
            self.err(
                "E0101",
                "name".into(),
                format!("system name `{}` is not a DNS-1123 label", bp.name),
                LABEL_HELP.into(),
            );
        }
        let groups: [(&str, &str, Vec<&str>); 3] = [
            ("services", "service", names(&bp.services)),
            ("databases", "database", names(&bp.databases)),
            ("caches", "cache", names(&bp.caches)),
        ];
        let mut owners: BTreeMap<&str, &str> = BTreeMap::new();
        for (section, what, list) in &groups {
            for name in list {
                let path = format!("{section}.{name}");
                if !is_dns_label(name, 40) {
                    self.err_key(
                        "E0101",
                        path,
                        format!("{what} name `{name}` is not a DNS-1123 label"),
                        LABEL_HELP.into(),
                    );
                } else if let Some(why) = reserved(name, section) {
                    self.err_key(
                        "E0103",
                        path,
                        format!("{what} name `{name}` is reserved: {why}"),
                        format!("rename it, e.g. `{name}-svc`"),
                    );
                } else if let Some(first) = owners.get(name) {
                    self.err_key(
                        "E0104",
                        path,
                        format!("{what} `{name}` has the same name as a {first}"),
                        "services, databases and caches share one namespace in compose and Kubernetes; rename one of them".into(),
                    );
                } else {
                    owners.insert(name, what);
                }
            }
            self.collisions(section, list);
        }
        // Each database gets a `<database>-migrate` compose service and Kubernetes Job.
        for db in &groups[1].2 {
            let migrate = format!("{db}-migrate");
            for (section, what, list) in [&groups[0], &groups[2]] {
                if list.contains(&migrate.as_str()) {
                    self.err_key(
                        "E0104",
                        format!("{section}.{migrate}"),
                        format!("{what} `{migrate}` has the same name as the migration run of database `{db}`"),
                        format!("each database gets a `<database>-migrate` service in compose and a Job of that name in Kubernetes; rename the {what}"),
                    );
                }
            }
        }
        for (i, env) in bp.environments.iter().enumerate() {
            if !is_dns_label(env, 20) {
                self.err(
                    "E0101",
                    format!("environments[{i}]"),
                    format!("environment name `{env}` is not a DNS-1123 label"),
                    "use lowercase letters, digits and `-`, at most 20 characters (e.g. `staging`)"
                        .into(),
                );
            }
        }
        self.duplicates("environments", &bp.environments, "E0114", "environment");
        for name in bp.entities.keys() {
            if !is_entity_name(name) {
                self.err_key(
                    "E0101",
                    format!("entities.{name}"),
                    format!("entity name `{name}` is not PascalCase"),
                    "start with a capital letter and use only letters and digits, e.g. `OrderItem`"
                        .into(),
                );
            } else if matches!(name.as_str(), "None" | "True" | "False") {
                self.err_key(
                    "E0103",
                    format!("entities.{name}"),
                    format!("entity name `{name}` is reserved: it is a Python keyword"),
                    "choose another name".into(),
                );
            }
        }
        let entity_names = names(&bp.entities);
        self.collisions("entities", &entity_names);
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
    pub(super) fn collisions(&mut self, section: &str, list: &[&str]) {
        let mut seen: BTreeMap<String, &str> = BTreeMap::new();
        for name in list {
            let folded = name.to_snake_case();
            if let Some(first) = seen.get(&folded) {
                self.err_key(
                    "E0102",
                    format!("{section}.{name}"),
                    format!(
                        "`{name}` and `{first}` in `{section}` become the same name `{folded}` in code"
                    ),
                    "rename one of them".into(),
                );
            } else {
                seen.insert(folded, name);
            }
        }
    }
}

/// Why a (well-formed) service, database or cache name cannot be used, if it cannot.
fn reserved(name: &str, section: &str) -> Option<&'static str> {
    if WINDOWS_DEVICES.contains(&name) {
        return Some("Windows cannot create a file or folder with this name");
    }
    if INFRA_NAMES.contains(&name) {
        return Some("the generated infrastructure already uses this host name");
    }
    if section == "services" && name == "default" {
        return Some(
            "Kubernetes gives every namespace a `default` ServiceAccount, which this service's identity would share",
        );
    }
    if section == "services" && PYTHON_KEYWORDS.contains(&name.to_snake_case().as_str()) {
        return Some("it is a Python keyword, and services become Python packages");
    }
    None
}
