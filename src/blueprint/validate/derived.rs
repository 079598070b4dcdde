//! Names the generator derives from blueprint names, checked before anything is written: the
//! cloud region's format (E0181); field names that would shadow what the generated Python
//! modules import or declare (E0103); names that become one after a derivation (E0185: plural
//! table names, serverless function names, the monolith's own hosts; E0102 for topics equal
//! after case conversion); and derived identifiers longer than the service that receives them
//! accepts (E0186: RDS, ElastiCache, IAM, S3, Lambda, SQS, PostgreSQL), each with the derived
//! name in the message. The derivations are those of the resolve stage ([`table_name`] is its
//! own function); the limits are the providers' documented ones.

use super::{Check, names};
use crate::blueprint::{ArchType, Protocol, ServiceKind, fields};
use crate::naming::table_name;
use heck::ToKebabCase;
use std::collections::BTreeMap;

/// Names a field may not take: the generated models and schemas import them (`uuid`,
/// `datetime`, `sa`, …), use them as type names in the class body that declares the field
/// (`int`, `str`, …), or reserve them (SQLAlchemy's `metadata`, pydantic's `model_*`).
const SHADOWING_FIELDS: &[&str] = &[
    // Imported by the generated models and schemas, used again below the field.
    "uuid", "datetime", "date", "sa",
    // Type names in the annotations of the same class body.
    "str", "int", "float", "bool", "bytes", "dict", "list",
    // Reserved by SQLAlchemy's declarative base.
    "metadata", "registry",
];

/// AWS region: `eu-west-1`, `us-gov-west-1`, `ap-southeast-4`.
pub fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    s.len() <= 25
        && parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].len() <= 2
        && !parts[parts.len() - 1].is_empty()
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
}

impl Check<'_> {
    pub(super) fn derived(&mut self) {
        let bp = self.bp;
        if !is_region(&bp.cloud.region) {
            self.err(
                "E0181",
                "cloud.region".into(),
                format!("`{}` is not an AWS region", bp.cloud.region),
                "write a region code such as `eu-west-1` or `us-east-2`".into(),
            );
        }
        self.field_names();
        self.tables();
        if let Some(m) = &bp.messaging {
            let topics = names(&m.topics);
            self.collisions("messaging.topics", &topics);
        }
        if bp.arch == ArchType::Serverless {
            self.function_names();
        }
        if bp.arch == ArchType::Monolith {
            self.monolith_hosts();
        }
        self.cloud_lengths();
    }

    fn field_names(&mut self) {
        for (name, e) in &self.bp.entities {
            for field in e.fields.keys() {
                if SHADOWING_FIELDS.contains(&field.as_str()) || field.starts_with("model_") {
                    self.err_key(
                        "E0103",
                        format!("entities.{name}.fields.{field}"),
                        format!(
                            "field name `{field}` is reserved: the generated Python models use this name (an import, a type or a base-class attribute)"
                        ),
                        format!("rename it, e.g. `{field}_value`"),
                    );
                }
            }
        }
    }

    /// Two entities whose plural table names are one (`Bus`, `Buse` → `buses`), and
    /// PostgreSQL's 63-byte limit on table, constraint and index names.
    fn tables(&mut self) {
        let mut seen: BTreeMap<String, &str> = BTreeMap::new();
        for (name, e) in &self.bp.entities {
            let table = table_name(name);
            let p = || format!("entities.{name}");
            if let Some(first) = seen.get(&table) {
                self.err_key(
                    "E0185",
                    p(),
                    format!("entities `{first}` and `{name}` both become table `{table}`"),
                    "rename one of them".into(),
                );
            } else {
                seen.insert(table.clone(), name);
            }
            self.pg_len(&p, &[&table], "table name");
            self.pg_len(&p, &["pk", &table], "primary key constraint name");
            for (field, spec) in &e.fields {
                let fp = || format!("entities.{name}.fields.{field}");
                let Ok(f) = self.spec(spec) else { continue };
                if f.unique && !f.pk {
                    self.pg_len(&fp, &["uq", &table, field], "unique constraint name");
                }
                if matches!(f.ty, fields::FieldType::Enum(_)) {
                    self.pg_len(&fp, &["ck", &table, field], "check constraint name");
                }
                if matches!(f.ty, fields::FieldType::Ref(_)) {
                    self.pg_len(&fp, &["fk", &table, field], "foreign key constraint name");
                    self.pg_len(&fp, &["ix", &table, field], "index name");
                }
            }
            for (i, cols) in e.indexes.iter().enumerate() {
                let mut parts = vec!["ix", table.as_str()];
                parts.extend(cols.iter().map(String::as_str));
                self.pg_len(
                    &|| format!("entities.{name}.indexes[{i}]"),
                    &parts,
                    "index name",
                );
            }
        }
    }

    /// PostgreSQL's limit on the name `parts` joined by `_` make. The name and the path are only
    /// built for a report: this runs for every entity, field and index.
    fn pg_len(&mut self, path: &dyn Fn() -> String, parts: &[&str], what: &str) {
        let len = parts.iter().map(|s| s.len()).sum::<usize>() + parts.len().saturating_sub(1);
        if len > 63 {
            self.too_long(&path(), &parts.join("_"), what, "PostgreSQL", 63);
        }
    }

    fn too_long(&mut self, path: &str, derived: &str, what: &str, limit_of: &str, limit: usize) {
        let at_key = path.starts_with("entities.")
            || path.starts_with("services.")
            || path.starts_with("databases.")
            || path.starts_with("caches.");
        let msg = format!(
            "the derived {what} `{derived}` is {} characters; {limit_of} allows at most {limit}",
            derived.len()
        );
        let help =
            "shorten the names it is made of (the system, environment or resource name)".to_owned();
        if at_key && !path.contains(".indexes[") {
            self.err_key("E0186", path.into(), msg, help);
        } else {
            self.err("E0186", path.into(), msg, help);
        }
    }

    /// One serverless function per HTTP service (`<service>-api`) and per consumed topic
    /// (`<service>-<topic>`): two of them may not share a name.
    fn function_names(&mut self) {
        let mut seen: BTreeMap<String, String> = BTreeMap::new();
        for (name, s) in &self.bp.services {
            let generated =
                s.image.is_none() && (s.language.is_some() || s.kind != ServiceKind::Gateway);
            if !generated || s.kind == ServiceKind::Gateway {
                continue;
            }
            let kebab = name.to_kebab_case();
            let http = s.protocols.is_empty() || s.protocols.contains(&Protocol::Http);
            let mut mine: Vec<(String, String)> = Vec::new();
            if http && s.kind != ServiceKind::Worker {
                mine.push((format!("{kebab}-api"), format!("services.{name}")));
            }
            for (i, t) in s.consumes.iter().enumerate() {
                mine.push((
                    format!("{kebab}-{}", t.to_kebab_case()),
                    format!("services.{name}.consumes[{i}]"),
                ));
            }
            for (f, path) in mine {
                if let Some(first) = seen.get(&f) {
                    let msg = format!(
                        "function `{f}` is derived twice: from `{first}` and from `{path}`"
                    );
                    let help =
                        "rename the service or the topic so the function names differ".to_owned();
                    if path.contains('[') {
                        self.err("E0185", path, msg, help);
                    } else {
                        self.err_key("E0185", path, msg, help);
                    }
                } else {
                    seen.insert(f, path);
                }
            }
        }
    }

    /// A monolith runs as `<system>-app` with database host `<system>-db`: no service or cache
    /// may take those names (a database may: the monolith's one database takes its place).
    fn monolith_hosts(&mut self) {
        let bp = self.bp;
        let taken = [format!("{}-app", bp.name), format!("{}-db", bp.name)];
        let groups: [(&str, Vec<&str>); 2] = [
            ("services", names(&bp.services)),
            ("caches", names(&bp.caches)),
        ];
        for (section, list) in groups {
            for n in list {
                if taken.iter().any(|t| t == n) {
                    self.err_key(
                        "E0185",
                        format!("{section}.{n}"),
                        format!(
                            "`{n}` is the host name the monolith already uses for its {}",
                            if n.ends_with("-db") {
                                "database"
                            } else {
                                "app"
                            }
                        ),
                        "rename it".into(),
                    );
                }
            }
        }
    }

    /// Terraform names built from `<system>-<environment>` plus a resource name, against the
    /// limits of the AWS service that receives them. The longest environment name is used.
    fn cloud_lengths(&mut self) {
        let bp = self.bp;
        let Some(env) = bp.environments.iter().max_by_key(|e| e.len()) else {
            return;
        };
        let prefix = format!("{}-{env}", bp.name);
        let envs_written = self.src.has("environments");
        let replicas = crate::blueprint::overrides::effective(bp.scale, &bp.overrides)
            .pointer("/database/read_replicas")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0);
        let mut checks: Vec<(String, String, &str, &str, usize)> = Vec::new();
        let mut add =
            |path: String, name: String, what: &'static str, of: &'static str, max: usize| {
                checks.push((path, name, what, of, max));
            };
        for (suffix, what) in [
            ("eks-cluster", "IAM role name"),
            ("eks-node", "IAM role name"),
            ("vpc-flow-logs", "IAM role name"),
        ] {
            add("name".into(), format!("{prefix}-{suffix}"), what, "IAM", 64);
        }
        for (i, e) in bp.environments.iter().enumerate() {
            add(
                if envs_written {
                    format!("environments[{i}]")
                } else {
                    "name".into()
                },
                format!("{}-terraform-state-{e}", bp.name),
                "S3 bucket name",
                "S3",
                63,
            );
        }
        if bp.arch == ArchType::Serverless {
            self.serverless_lengths(&prefix, &mut checks);
        } else {
            let dbs: Vec<(String, String)> = if bp.arch == ArchType::Monolith {
                if bp.databases.is_empty() && bp.entities.is_empty() {
                    Vec::new()
                } else {
                    vec![("name".into(), format!("{}-db", bp.name))]
                }
            } else {
                bp.databases
                    .keys()
                    .map(|d| (format!("databases.{d}"), d.clone()))
                    .collect()
            };
            for (path, db) in dbs {
                let id = format!("{prefix}-{}", db.to_kebab_case());
                checks.push((
                    path.clone(),
                    id.clone(),
                    "RDS instance identifier",
                    "RDS",
                    63,
                ));
                if replicas > 0 {
                    checks.push((
                        path.clone(),
                        format!("{id}-replica-{replicas}"),
                        "RDS read replica identifier",
                        "RDS",
                        63,
                    ));
                }
                checks.push((
                    path,
                    format!("{id}-rds-monitoring"),
                    "IAM role name",
                    "IAM",
                    64,
                ));
            }
            // One IAM role per workload: the monolith's app, or each service that runs.
            let workloads: Vec<(String, String)> = if bp.arch == ArchType::Monolith {
                vec![("name".into(), format!("{}-app", bp.name))]
            } else {
                bp.services
                    .iter()
                    .filter(|(_, s)| {
                        s.kind != ServiceKind::Gateway || s.image.is_some() || s.language.is_some()
                    })
                    .map(|(n, _)| (format!("services.{n}"), n.to_kebab_case()))
                    .collect()
            };
            for (path, w) in workloads {
                checks.push((path, format!("{prefix}-{w}"), "IAM role name", "IAM", 64));
            }
        }
        for c in bp.caches.keys() {
            let id = format!("{prefix}-{}", c.to_kebab_case());
            checks.push((
                format!("caches.{c}"),
                format!("{id}-default"),
                "ElastiCache user id",
                "ElastiCache",
                40,
            ));
        }
        let mut reported = std::collections::BTreeSet::new();
        for (path, name, what, of, max) in checks {
            if name.len() > max && reported.insert(path.clone()) {
                self.too_long(&path, &name, what, of, max);
            }
        }
    }

    fn serverless_lengths(
        &self,
        prefix: &str,
        checks: &mut Vec<(String, String, &'static str, &'static str, usize)>,
    ) {
        for (name, s) in &self.bp.services {
            let kebab = name.to_kebab_case();
            if s.kind == ServiceKind::Gateway {
                continue;
            }
            checks.push((
                format!("services.{name}"),
                format!("{prefix}-{kebab}-api"),
                "Lambda function name",
                "Lambda",
                64,
            ));
            for (i, t) in s.consumes.iter().enumerate() {
                checks.push((
                    format!("services.{name}.consumes[{i}]"),
                    format!("{prefix}-{kebab}-{}-dlq", t.to_kebab_case()),
                    "SQS queue name",
                    "SQS",
                    80,
                ));
                checks.push((
                    format!("services.{name}.consumes[{i}]"),
                    format!("{prefix}-{kebab}-{}", t.to_kebab_case()),
                    "Lambda function name",
                    "Lambda",
                    64,
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(text: &str) -> Vec<&'static str> {
        crate::blueprint::load(text, "t.yaml")
            .diagnostics
            .items
            .iter()
            .map(|d| d.code)
            .collect()
    }

    #[test]
    fn database_identifiers_are_measured_with_the_longest_environment() {
        // `shop-staging-` + 36 + `-rds-monitoring` = 64 fits IAM; with `production` it does not.
        let db = "a".repeat(36);
        let bp = |envs: &str| {
            format!(
                "version: 1\nname: shop\nenvironments: [{envs}]\nservices:\n  users:\n    database: {db}\ndatabases:\n  {db}: {{}}\n"
            )
        };
        assert!(!codes(&bp("dev, staging")).contains(&"E0186"));
        let loaded = crate::blueprint::load(&bp("dev, production"), "t.yaml");
        let d = loaded
            .diagnostics
            .items
            .iter()
            .find(|d| d.code == "E0186")
            .unwrap();
        assert!(
            d.message
                .contains(&format!("shop-production-{db}-rds-monitoring")),
            "{}",
            d.message
        );
        assert_eq!(d.path, format!("databases.{db}"));
    }

    #[test]
    fn regions() {
        for ok in ["eu-west-1", "us-east-2", "us-gov-west-1", "ap-southeast-4"] {
            assert!(is_region(ok), "{ok}");
        }
        for bad in [
            "",
            "eu-west",
            "EU-west-1",
            "eu-west-1\"",
            "eu-west-1a",
            "e-west-1",
            "eu--1",
        ] {
            assert!(!is_region(bad), "{bad}");
        }
    }
}
