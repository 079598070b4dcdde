//! Data: references from services to databases, caches, topics and entities; entity fields
//! (types, primary keys, `ref`s, indexes); who owns each entity; and references that cross
//! databases, which become logical references (a note, not a warning: PRODUCT §3 does it on
//! purpose).

use super::names::{PYTHON_KEYWORDS, is_snake};
use super::{Check, names};
use crate::blueprint::fields::{self, FieldType};
use crate::blueprint::{ArchType, Blueprint};
use crate::diagnostic::Diagnostic;
use std::collections::{BTreeMap, HashSet};

const FIELD_TYPES_HELP: &str = "field types: uuid, string(N), text, int, bigint, decimal(P,S), bool, timestamp, date, json, enum(a, b), ref Entity; modifiers: pk, unique, nullable, default <value>; constraints: min N, max N, email, url, pattern '<regex>'";

/// The service that owns each entity (the first one listing it).
fn owners(bp: &Blueprint) -> BTreeMap<&str, &str> {
    let mut owner = BTreeMap::new();
    for (svc, s) in &bp.services {
        for e in &s.entities {
            owner.entry(e.as_str()).or_insert(svc.as_str());
        }
    }
    owner
}

impl Check<'_> {
    pub(super) fn references(&mut self) {
        let bp = self.bp;
        let topic_list: Vec<&str> = bp
            .messaging
            .as_ref()
            .map(|m| names(&m.topics))
            .unwrap_or_default();
        let topics: HashSet<&str> = topic_list.iter().copied().collect();
        let (dbs, caches, entities) =
            (names(&bp.databases), names(&bp.caches), names(&bp.entities));
        for (name, s) in &bp.services {
            let p = format!("services.{name}");
            if let Some(db) = &s.database
                && !bp.databases.contains_key(db)
            {
                let help = self.hint(db, &dbs, "databases");
                self.err(
                    "E0120",
                    format!("{p}.database"),
                    format!("service `{name}` uses unknown database `{db}`"),
                    format!("declare it under `databases`; {help}"),
                );
            }
            if let Some(c) = &s.cache
                && !bp.caches.contains_key(c)
            {
                let help = self.hint(c, &caches, "caches");
                self.err(
                    "E0121",
                    format!("{p}.cache"),
                    format!("service `{name}` uses unknown cache `{c}`"),
                    format!("declare it under `caches`; {help}"),
                );
            }
            for (list, key) in [(&s.publishes, "publishes"), (&s.consumes, "consumes")] {
                for (i, t) in list.iter().enumerate() {
                    if !topics.contains(t.as_str()) {
                        let help = self.hint(t, &topic_list, "messaging.topics");
                        self.err(
                            "E0122",
                            format!("{p}.{key}[{i}]"),
                            format!("service `{name}` {key} unknown topic `{t}`"),
                            format!("declare it under `messaging.topics`; {help}"),
                        );
                    }
                }
                self.duplicates(&format!("{p}.{key}"), list, "E0114", "topic");
            }
            for (i, e) in s.entities.iter().enumerate() {
                if !bp.entities.contains_key(e) {
                    let help = self.hint(e, &entities, "entities");
                    self.err(
                        "E0123",
                        format!("{p}.entities[{i}]"),
                        format!("service `{name}` owns unknown entity `{e}`"),
                        help,
                    );
                }
            }
            self.duplicates(&format!("{p}.entities"), &s.entities, "E0114", "entity");
            if !s.entities.is_empty() && s.database.is_none() {
                self.err_key(
                    "E0124",
                    format!("{p}.entities"),
                    format!("service `{name}` owns entities but has no database"),
                    "add `database: <name>` to the service".into(),
                );
            }
        }
    }

    pub(super) fn entities(&mut self) {
        let bp = self.bp;
        let entity_names = names(&bp.entities);
        for (name, e) in &bp.entities {
            let p = format!("entities.{name}.fields");
            let mut pk: Option<&str> = None;
            for (field, spec) in &e.fields {
                let fp = format!("{p}.{field}");
                if !is_snake(field) {
                    self.err_key(
                        "E0101",
                        fp.clone(),
                        format!("field name `{field}` is not snake_case"),
                        "use lowercase letters, digits and `_`, starting with a letter".into(),
                    );
                } else if PYTHON_KEYWORDS.contains(&field.as_str()) {
                    self.err_key(
                        "E0103",
                        fp.clone(),
                        format!("field name `{field}` is reserved: it is a Python keyword"),
                        format!("rename it, e.g. `{field}_value`"),
                    );
                }
                match self.spec(spec) {
                    Err(msg) => self.err(
                        "E0140",
                        fp,
                        format!("bad field type `{spec}`: {msg}"),
                        FIELD_TYPES_HELP.into(),
                    ),
                    Ok(f) => {
                        for p in fields::problems(f) {
                            self.err(
                                p.code,
                                fp.clone(),
                                format!("`{name}.{field}`: {}", p.message),
                                p.help,
                            );
                        }
                        if f.pk {
                            match pk {
                                Some(first) => self.err(
                                    "E0141",
                                    fp.clone(),
                                    format!(
                                        "entity `{name}` has a second primary key `{field}` (the first is `{first}`)"
                                    ),
                                    "mark exactly one field `pk`".into(),
                                ),
                                None => pk = Some(field),
                            }
                        }
                        if let FieldType::Ref(target) = &f.ty
                            && !bp.entities.contains_key(target)
                        {
                            let help = self.hint(target, &entity_names, "entities");
                            self.err(
                                "E0142",
                                fp,
                                format!("`{name}.{field}` refers to unknown entity `{target}`"),
                                help,
                            );
                        }
                    }
                }
            }
            if pk.is_none() && !e.fields.is_empty() {
                self.err_key(
                    "E0143",
                    format!("entities.{name}"),
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
                            format!("index of `{name}` on unknown field `{col}`"),
                            crate::diagnostic::suggest(col, &names(&e.fields)),
                        );
                    }
                }
            }
        }
    }

    pub(super) fn ownership(&mut self) {
        let bp = self.bp;
        let owner = owners(bp);
        for (svc, s) in &bp.services {
            for (i, e) in s.entities.iter().enumerate() {
                if let Some(first) = owner.get(e.as_str())
                    && *first != svc
                {
                    self.err(
                        "E0125",
                        format!("services.{svc}.entities[{i}]"),
                        format!("entity `{e}` is owned by both `{first}` and `{svc}`"),
                        "an entity belongs to one service; reference it with `ref` from the other"
                            .into(),
                    );
                }
            }
        }
        for name in bp.entities.keys() {
            if !owner.contains_key(name.as_str()) {
                self.err_key(
                    "E0126",
                    format!("entities.{name}"),
                    format!("entity `{name}` is owned by no service"),
                    "list it under the `entities` of the service that stores it".into(),
                );
            }
        }
        if bp.arch != ArchType::Microservices {
            return; // one database: every ref is a real foreign key
        }
        let db_of = |entity: &str| {
            owner
                .get(entity)
                .and_then(|s| bp.services[*s].database.as_deref())
        };
        for (name, e) in &bp.entities {
            for (field, spec) in &e.fields {
                if let Ok(f) = self.spec(spec)
                    && let FieldType::Ref(target) = &f.ty
                    && db_of(target).is_some()
                    && db_of(name) != db_of(target)
                {
                    let path = format!("entities.{name}.fields.{field}");
                    let loc = self.src.value(&path);
                    self.push(
                        Diagnostic::note(
                            "N0301",
                            path,
                            format!(
                                "`{name}.{field}` refers to `{target}` in another database: a logical reference"
                            ),
                        )
                        .with_help("it becomes an indexed id column without a foreign key; the owning service checks it through the API")
                        .at(loc),
                    );
                }
            }
        }
    }
}

impl Check<'_> {
    /// Engines per architecture: `dynamodb` is a serverless store (no container type runs it
    /// yet), a serverless system keeps its data in one kind of store, and an entity in DynamoDB
    /// must fit the table design resolve makes (a string key the code generates, uniqueness of
    /// the key only, no secondary indexes but the ones for references).
    pub(super) fn engines(&mut self) {
        let bp = self.bp;
        let serverless = bp.arch == ArchType::Serverless;
        let first_postgres = bp.databases.iter().find(|(_, d)| d.engine == "postgres");
        for (name, d) in &bp.databases {
            if serverless && d.engine == "mysql" {
                // Aurora Serverless MySQL behind RDS Proxy would need its own IAM token path in
                // the functions (ADR 0007): refused rather than half-made.
                self.err(
                    "E0127",
                    format!("databases.{name}.engine"),
                    format!("database `{name}` uses `mysql`, which a serverless system does not support yet"),
                    "use `engine: postgres` (Aurora Serverless v2) or `engine: dynamodb`, or generate with `--type microservices` or `--type monolith`".into(),
                );
            }
            if d.engine != "dynamodb" {
                continue;
            }
            let path = format!("databases.{name}.engine");
            if !serverless {
                self.err(
                    "E0127",
                    path,
                    format!(
                        "database `{name}` uses `dynamodb`, which only a serverless system supports"
                    ),
                    "use `engine: postgres` or `engine: mysql`, or generate with `--type serverless`".into(),
                );
            } else if let Some((other, _)) = first_postgres {
                self.err(
                    "E0127",
                    path,
                    format!("database `{name}` is dynamodb but `{other}` is postgres: a serverless system keeps its data in one kind of store"),
                    "give every database the same engine".into(),
                );
            }
        }
        if serverless {
            self.dynamodb_entities();
        } else {
            self.mysql_entities();
        }
    }

    /// MySQL indexes a `TEXT` or `JSON` column only by a prefix: `unique` or an index on one would
    /// fail when the migration runs, so it is refused here (E0129).
    fn mysql_entities(&mut self) {
        let bp = self.bp;
        let owner = owners(bp);
        let all_mysql =
            !bp.databases.is_empty() && bp.databases.values().all(|d| d.engine == "mysql");
        for (name, e) in &bp.entities {
            let in_mysql = if bp.arch == ArchType::Monolith {
                all_mysql
            } else {
                owner
                    .get(name.as_str())
                    .and_then(|s| bp.services[*s].database.as_ref())
                    .and_then(|db| bp.databases.get(db))
                    .is_some_and(|d| d.engine == "mysql")
            };
            if !in_mysql {
                continue;
            }
            let indexed: HashSet<&str> = e.indexes.iter().flatten().map(String::as_str).collect();
            for (field, spec) in &e.fields {
                let Ok(f) = self.spec(spec) else { continue };
                if !matches!(f.ty, FieldType::Text | FieldType::Json) {
                    continue;
                }
                let what = if f.unique { "`unique`" } else { "indexed" };
                if f.unique || indexed.contains(field.as_str()) {
                    self.err(
                        "E0129",
                        format!("entities.{name}.fields.{field}"),
                        format!("`{name}.{field}` is {what}, but MySQL indexes `text` and `json` columns only by a prefix"),
                        format!("use `{field}: string(N)` (N up to 768), or drop `unique` and the index"),
                    );
                }
            }
        }
    }

    fn dynamodb_entities(&mut self) {
        let bp = self.bp;
        let owner = owners(bp);
        for (name, e) in &bp.entities {
            let in_dynamodb = owner
                .get(name.as_str())
                .and_then(|s| bp.services[*s].database.as_ref())
                .and_then(|db| bp.databases.get(db))
                .is_some_and(|d| d.engine == "dynamodb");
            if !in_dynamodb {
                continue;
            }
            if !e.indexes.is_empty() {
                self.err(
                    "E0128",
                    format!("entities.{name}.indexes"),
                    format!(
                        "entity `{name}` is stored in DynamoDB, where `indexes` are not generated"
                    ),
                    "remove `indexes`: each `ref` field gets a global secondary index of its own"
                        .into(),
                );
            }
            for (field, spec) in &e.fields {
                let Ok(f) = self.spec(spec) else { continue };
                let path = format!("entities.{name}.fields.{field}");
                if f.pk && !matches!(f.ty, FieldType::Uuid | FieldType::String(_)) {
                    self.err(
                        "E0128",
                        path,
                        format!("`{name}.{field}` is the key of a DynamoDB table, which has no generated numeric keys"),
                        format!("use `{field}: uuid pk`"),
                    );
                } else if f.unique && !f.pk {
                    self.err(
                        "E0128",
                        path,
                        format!("`{name}.{field}` is `unique`, but DynamoDB enforces the uniqueness of the key only"),
                        "drop `unique`, or store the entity in a postgres database".into(),
                    );
                }
            }
        }
    }
}
