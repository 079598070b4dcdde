//! Data layer of the model: entities as tables and columns, databases, caches and messaging.

use super::ddl::Dialect;
use super::{Names, Preset};
use crate::blueprint::fields::{self, FieldType};
use crate::blueprint::{ArchType, Blueprint, Broker};
use serde::Serialize;
use std::collections::HashMap;

#[derive(Debug, Clone, Serialize)]
pub struct Entity {
    pub name: Names,
    pub table: String,
    /// URL segment of its CRUD endpoints (`order-items`).
    pub resource: String,
    pub owner: String,
    /// Database holding the table (None when the owner has none).
    pub database: Option<String>,
    pub columns: Vec<Column>,
    pub pk: String,
    /// Name of the primary key constraint ([`constraint::primary_key`]).
    pub pk_constraint: String,
    pub indexes: Vec<Index>,
    /// Code-generation details (API path, events, test values); see `lang::python::code`.
    pub code: super::lang::python::types::EntityCode,
    /// Columns declared `unique` (not the primary key): looked up by value.
    pub unique_columns: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Column {
    pub name: String,
    /// `uuid`, `string`, `decimal`, … as written.
    pub kind: &'static str,
    pub sql_type: String,
    pub sa_type: String,
    pub py_type: String,
    pub proto_type: &'static str,
    /// DynamoDB attribute type: S, N or B.
    pub dynamo_type: &'static str,
    pub json_schema_type: &'static str,
    pub json_schema_format: Option<&'static str>,
    pub max_length: Option<u32>,
    pub enum_values: Vec<String>,
    pub pk: bool,
    pub unique: bool,
    pub nullable: bool,
    /// SQL default expression, if any.
    pub default_sql: Option<String>,
    /// Python default literal for the create schema, if any.
    pub default_py: Option<String>,
    /// Set on server side (pk, `default now`): not part of the create payload.
    pub server_generated: bool,
    pub reference: Option<Reference>,
    /// Names of the column's constraints, empty where it has none: `UNIQUE` (not the primary
    /// key), the foreign key. Built by [`constraint`].
    pub unique_constraint: String,
    pub fk_constraint: String,
    /// Inclusive bounds of a numeric column, normalised (`0`, `0.01`, `-5`).
    pub minimum: Option<String>,
    pub maximum: Option<String>,
    /// The regular expression values match: the field's `pattern`, or the built-in one behind
    /// `email` / `url` (see `blueprint::pattern`).
    pub pattern: Option<String>,
    /// `email` or `url`, as the blueprint says.
    pub format: Option<&'static str>,
    /// 1 for a required (not nullable) string or text: an empty value is refused.
    pub min_length: Option<u32>,
    /// The column's CHECK constraints, named once here for V001 and every later migration.
    pub checks: Vec<CheckConstraint>,
    /// Code-generation details (Python and Pydantic types, sample value); see `lang::python::code`.
    pub code: super::lang::python::types::ColumnCode,
}

/// Constraint names, built here and nowhere else: the first migration (template) reads them
/// from the model and the schema-diff migrations (`crate::migrate`) call these, so a later
/// migration drops or re-adds exactly what an earlier one created.
pub mod constraint {
    pub fn primary_key(table: &str) -> String {
        format!("pk_{table}")
    }
    pub fn unique(table: &str, column: &str) -> String {
        format!("uq_{table}_{column}")
    }
    pub fn foreign_key(table: &str, column: &str) -> String {
        format!("fk_{table}_{column}")
    }
    /// `ck_<table>_<column>[_<rule>]`; PostgreSQL cuts names at 63 bytes, so a longer one keeps
    /// its start and ends with a hash of the whole (two rules of one column never share a name).
    pub fn check(table: &str, column: &str, rule: &str) -> String {
        let mut name = format!("ck_{table}_{column}");
        if !rule.is_empty() {
            name.push('_');
            name.push_str(rule);
        }
        if name.len() <= 63 {
            return name;
        }
        let hash = blake3::hash(name.as_bytes()).to_hex();
        format!("{}_{}", &name[..54], &hash[..8])
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckConstraint {
    /// `ck_<table>_<column>[_<rule>]`, at most 63 bytes (PostgreSQL's identifier limit).
    pub name: String,
    /// The SQL condition, e.g. `"quantity" >= 1`.
    pub expr: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Reference {
    pub entity: String,
    pub table: String,
    pub column: String,
    /// A real foreign key (same database) or a logical reference (another database).
    pub foreign_key: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Index {
    pub name: String,
    pub columns: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Database {
    pub name: Names,
    /// `postgres`, `mysql` or `dynamodb` (serverless only).
    pub engine: String,
    /// The SQL its migrations and queries are written in.
    pub dialect: Dialect,
    /// RDS's engine and major version in the cloud (`postgres` 16, `mysql` 8.4).
    pub rds_engine: &'static str,
    pub rds_engine_version: &'static str,
    pub services: Vec<String>,
    pub entities: Vec<String>,
    /// Host name in compose and Kubernetes (in the cloud it is an RDS endpoint in the Secret).
    pub host: String,
    pub port: u16,
    pub db_name: String,
    pub user: String,
    /// Kubernetes Secret / Secrets Manager name holding `DATABASE_URL`.
    pub secret_name: String,
    pub migrations_dir: String,
    /// Its Terraform module (`database_<snake>`): the block and every `module.` reference.
    pub module: String,
    /// Indices into `Model::entities` of the tables it holds, in model order.
    pub entity_ids: Vec<usize>,
    /// It holds the `outbox` and `processed_events` tables (a service using it publishes or
    /// consumes events); see `events::link`.
    pub events: bool,
    /// Its tables in creation order (the entities', then the event tables when `events`): what
    /// the first migration creates and what later migrations diff against.
    #[serde(skip)]
    pub tables: Vec<super::ddl::Table>,
    /// The `migrate:up` and `migrate:down` blocks of its first migration ([`super::ddl`]).
    pub init_up: String,
    pub init_down: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Cache {
    pub name: Names,
    pub engine: String,
    pub services: Vec<String>,
    pub host: String,
    pub port: u16,
    pub url: String,
    /// Its Terraform module (`cache_<snake>`): the block and every `module.` reference.
    pub module: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Messaging {
    pub broker: &'static str,
    pub is_kafka: bool,
    pub is_rabbitmq: bool,
    pub is_sqs: bool,
    pub host: String,
    pub port: u16,
    /// Env var carrying the broker address, and its value for compose and Kubernetes.
    pub env_var: &'static str,
    /// The settings attribute the variable fills.
    pub setting: String,
    pub address: String,
    pub topics: Vec<Topic>,
    /// SNS/SQS only: the topics, queues and dead-letter queues (see `events::link_sqs`).
    pub sqs: Option<super::events::SqsLayout>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Topic {
    pub name: Names,
    pub partitions: u32,
    /// Where events its consumers cannot handle go (`<topic>.dlq`).
    pub dead_letter: String,
    /// Index into `Model::entities` of the entity whose creation publishes it (its payload
    /// schema), when a generated service publishes it; see `events::link_topics`.
    pub entity_id: Option<usize>,
    pub publishers: Vec<String>,
    pub consumers: Vec<String>,
}

pub struct Data {
    pub entities: Vec<Entity>,
    pub databases: Vec<Database>,
    pub caches: Vec<Cache>,
    pub messaging: Option<Messaging>,
    /// Service name → index in `databases` of the database its tables live in.
    pub service_db: HashMap<String, usize>,
}

pub fn resolve(bp: &Blueprint, preset: &Preset) -> Data {
    let owners = Owners::new(bp);
    let databases = databases(bp, &owners);
    let entities = entities(bp, &owners);
    let index: HashMap<&str, usize> = databases
        .iter()
        .enumerate()
        .map(|(i, d)| (d.name.raw.as_str(), i))
        .collect();
    let service_db = bp
        .services
        .keys()
        .filter_map(|s| Some((s.clone(), *index.get(owners.database(s)?.as_str())?)))
        .collect();
    Data {
        entities,
        databases,
        caches: caches(bp),
        messaging: messaging(bp, preset),
        service_db,
    }
}

/// Which service owns each entity and which database each service's tables live in after
/// lowering, worked out once: scanning every service per entity or per reference made resolve
/// quadratic in the number of services.
struct Owners<'a> {
    bp: &'a Blueprint,
    owner: HashMap<&'a str, &'a str>,
    /// A monolith's one database, when any service needs one.
    monolith: Option<String>,
    /// Its engine: `mysql` when every database the blueprint declares is MySQL, else PostgreSQL
    /// (a monolith keeps one database, so the tables of differing engines meet in the default).
    monolith_engine: String,
}

impl<'a> Owners<'a> {
    fn new(bp: &'a Blueprint) -> Self {
        let mut owner = HashMap::new();
        for (name, s) in &bp.services {
            for e in &s.entities {
                // Validation refuses two owners; the first is kept regardless.
                owner.entry(e.as_str()).or_insert(name.as_str());
            }
        }
        let monolith = (bp.arch == ArchType::Monolith
            && bp
                .services
                .values()
                .any(|s| s.database.is_some() || !s.entities.is_empty()))
        .then(|| monolith_db(bp));
        let all_mysql =
            !bp.databases.is_empty() && bp.databases.values().all(|d| d.engine == "mysql");
        Owners {
            bp,
            owner,
            monolith,
            monolith_engine: if all_mysql { "mysql" } else { "postgres" }.into(),
        }
    }

    /// The engine of a database after lowering (`postgres` when it is not declared).
    fn engine(&self, db: &str) -> String {
        if self.bp.arch == ArchType::Monolith {
            return self.monolith_engine.clone();
        }
        self.bp
            .databases
            .get(db)
            .map_or("postgres".into(), |d| d.engine.clone())
    }

    fn dialect(&self, db: Option<&str>) -> Dialect {
        db.map_or(Dialect::Postgres, |db| Dialect::of(&self.engine(db)))
    }

    fn owner(&self, entity: &str) -> Option<&'a str> {
        self.owner.get(entity).copied()
    }

    fn database(&self, service: &str) -> Option<String> {
        if self.bp.arch == ArchType::Monolith {
            return self.monolith.clone();
        }
        self.bp
            .services
            .get(service)
            .and_then(|s| s.database.clone())
    }
}

fn monolith_db(bp: &Blueprint) -> String {
    format!("{}-db", bp.name)
}

fn databases(bp: &Blueprint, owners: &Owners) -> Vec<Database> {
    let mut names: Vec<String> = if bp.arch == ArchType::Monolith {
        owners.monolith.iter().cloned().collect()
    } else {
        bp.databases.keys().cloned().collect()
    };
    names.dedup();
    // Each service's database, once (not once per database).
    let mut users: HashMap<String, Vec<String>> = HashMap::new();
    for s in bp.services.keys() {
        if let Some(db) = owners.database(s) {
            users.entry(db).or_default().push(s.clone());
        }
    }
    names
        .into_iter()
        .map(|db| {
            let services = users.remove(&db).unwrap_or_default();
            let entities = services
                .iter()
                .flat_map(|s| bp.services[s].entities.clone())
                .collect();
            let n = Names::new(&db);
            let engine = owners.engine(&db);
            let dialect = Dialect::of(&engine);
            Database {
                port: if dialect.is_mysql() {
                    super::transport::MYSQL_PORT
                } else {
                    super::transport::POSTGRES_PORT
                },
                engine,
                dialect,
                rds_engine: if dialect.is_mysql() {
                    "mysql"
                } else {
                    "postgres"
                },
                rds_engine_version: if dialect.is_mysql() { "8.4" } else { "16" },
                host: n.kebab.clone(),
                db_name: n.snake.clone(),
                user: n.snake.clone(),
                secret_name: format!("{}-credentials", n.kebab),
                migrations_dir: format!("migrations/{}", n.kebab),
                module: format!("database_{}", n.snake),
                entity_ids: Vec::new(),
                events: false,
                tables: Vec::new(),
                init_up: String::new(),
                init_down: String::new(),
                services,
                entities,
                name: n,
            }
        })
        .collect()
}

pub use crate::naming::table_name;

fn entities(bp: &Blueprint, owners: &Owners) -> Vec<Entity> {
    bp.entities
        .iter()
        .map(|(name, e)| {
            let owner = owners.owner(name).unwrap_or_default().to_owned();
            let database = owners.database(&owner);
            let table = table_name(name);
            let mut columns: Vec<Column> = e
                .fields
                .iter()
                .filter_map(|(f, spec)| {
                    fields::parse(spec)
                        .ok()
                        .map(|p| column(bp, owners, &database, &table, f, &p))
                })
                .collect();
            for c in &mut columns {
                if c.unique && !c.pk {
                    c.unique_constraint = constraint::unique(&table, &c.name);
                }
                if c.reference.as_ref().is_some_and(|r| r.foreign_key) {
                    c.fk_constraint = constraint::foreign_key(&table, &c.name);
                }
            }
            let pk = columns
                .iter()
                .find(|c| c.pk)
                .map_or("id".into(), |c| c.name.clone());
            let mut indexes: Vec<Index> = e
                .indexes
                .iter()
                .map(|cols| Index {
                    name: format!("ix_{table}_{}", cols.join("_")),
                    columns: cols.clone(),
                })
                .collect();
            // Reference columns are looked up by; index them (FKs get no index by default in PostgreSQL).
            for c in columns.iter().filter(|c| c.reference.is_some()) {
                if !indexes.iter().any(|i| i.columns == [c.name.clone()]) {
                    indexes.push(Index {
                        name: format!("ix_{table}_{}", c.name),
                        columns: vec![c.name.clone()],
                    });
                }
            }
            let unique_columns = columns
                .iter()
                .filter(|c| c.unique && !c.pk)
                .map(|c| c.name.clone())
                .collect();
            Entity {
                pk_constraint: constraint::primary_key(&table),
                unique_columns,
                resource: Names::new(&table).kebab,
                name: Names::new(name),
                table,
                owner,
                database,
                columns,
                pk,
                indexes,
                code: Default::default(),
            }
        })
        .collect()
}

fn column(
    bp: &Blueprint,
    owners: &Owners,
    database: &Option<String>,
    table: &str,
    name: &str,
    f: &fields::FieldSpec,
) -> Column {
    let dialect = owners.dialect(database.as_deref());
    let types = dialect.types();
    let mut c = Column {
        name: name.to_owned(),
        kind: "",
        sql_type: String::new(),
        sa_type: String::new(),
        py_type: String::new(),
        proto_type: "string",
        dynamo_type: "S",
        json_schema_type: "string",
        json_schema_format: None,
        max_length: None,
        enum_values: Vec::new(),
        pk: f.pk,
        unique: f.unique,
        nullable: f.nullable,
        default_sql: None,
        default_py: None,
        server_generated: f.pk || f.default.as_deref() == Some("now"),
        reference: None,
        unique_constraint: String::new(),
        fk_constraint: String::new(),
        minimum: f.min.as_ref().map(ToString::to_string),
        maximum: f.max.as_ref().map(ToString::to_string),
        pattern: fields::effective_pattern(f).map(str::to_owned),
        format: f.format.map(fields::Format::word),
        min_length: (f.ty.is_text() && !f.nullable).then_some(1),
        checks: Vec::new(),
        code: Default::default(),
    };
    let simple =
        |kind, sql: &str, sa: &str, py: &str| (kind, sql.to_owned(), sa.to_owned(), py.to_owned());
    let (kind, sql, sa, py) = match &f.ty {
        FieldType::Uuid => simple("uuid", types.uuid, uuid_sa(dialect), "uuid.UUID"),
        FieldType::String(n) => {
            c.max_length = Some(*n);
            (
                "string",
                format!("VARCHAR({n})"),
                format!("String({n})"),
                "str".into(),
            )
        }
        FieldType::Text => simple("text", "TEXT", "Text", "str"),
        FieldType::Int => simple("int", "INTEGER", "Integer", "int"),
        FieldType::BigInt => simple("bigint", "BIGINT", "BigInteger", "int"),
        FieldType::Decimal(p, s) => (
            "decimal",
            format!("NUMERIC({p},{s})"),
            format!("Numeric({p}, {s})"),
            "Decimal".into(),
        ),
        FieldType::Bool => simple("bool", "BOOLEAN", "Boolean", "bool"),
        FieldType::Timestamp => simple(
            "timestamp",
            types.timestamp,
            "DateTime(timezone=True)",
            "datetime",
        ),
        FieldType::Date => simple("date", "DATE", "Date", "date"),
        FieldType::Json => simple("json", types.json, "JSON", "dict"),
        FieldType::Enum(values) => {
            c.enum_values = values.clone();
            let len = values.iter().map(String::len).max().unwrap_or(1).max(16);
            c.max_length = Some(len as u32);
            (
                "enum",
                format!("VARCHAR({len})"),
                format!("String({len})"),
                "str".into(),
            )
        }
        FieldType::Ref(target) => {
            let owner = owners.owner(target).unwrap_or_default();
            let target_db = owners.database(owner);
            let target_pk = bp.entities.get(target).and_then(|e| {
                e.fields.iter().find_map(|(n, s)| {
                    fields::parse(s)
                        .ok()
                        .filter(|p| p.pk)
                        .map(|p| (n.clone(), p.ty))
                })
            });
            let (pk_col, pk_ty) = target_pk.unwrap_or(("id".into(), FieldType::Uuid));
            c.reference = Some(Reference {
                entity: target.clone(),
                table: table_name(target),
                column: pk_col,
                foreign_key: target_db.is_some() && &target_db == database,
            });
            if pk_ty == FieldType::Uuid {
                simple("ref", types.uuid, uuid_sa(dialect), "uuid.UUID")
            } else {
                simple("ref", "BIGINT", "BigInteger", "int")
            }
        }
    };
    (
        c.proto_type,
        c.dynamo_type,
        c.json_schema_type,
        c.json_schema_format,
    ) = match kind {
        "int" => ("int32", "N", "integer", None),
        "bigint" => ("int64", "N", "integer", None),
        "bool" => ("bool", "S", "boolean", None),
        "decimal" => ("string", "N", "string", Some("decimal")),
        "timestamp" => (
            "google.protobuf.Timestamp",
            "S",
            "string",
            Some("date-time"),
        ),
        "date" => ("string", "S", "string", Some("date")),
        "uuid" | "ref" if py == "uuid.UUID" => ("string", "S", "string", Some("uuid")),
        // A reference to an integer key is that integer (OpenAPI, event schemas, protobuf).
        "ref" => ("int64", "N", "integer", None),
        "json" => ("google.protobuf.Struct", "S", "object", None),
        _ => ("string", "S", "string", None),
    };
    if kind == "bool" {
        c.dynamo_type = "N";
    }
    match f.format {
        Some(fields::Format::Email) => c.json_schema_format = Some("email"),
        Some(fields::Format::Url) => c.json_schema_format = Some("uri"),
        None => {}
    }
    c.checks = checks(dialect, table, &c);
    if let Some(d) = &f.default {
        let value = match (&f.ty, d.as_str()) {
            (_, "now") => {
                if kind == "date" {
                    types.today.into()
                } else {
                    types.now.into()
                }
            }
            (FieldType::Bool, v) => v.to_uppercase(),
            (FieldType::Int | FieldType::BigInt | FieldType::Decimal(..), v) => v.to_owned(),
            (_, v) => format!("'{v}'"),
        };
        c.default_sql = Some(dialect.default_for(&sql, &value));
        if d != "now" {
            c.default_py = Some(match &f.ty {
                FieldType::Bool => {
                    if d == "true" {
                        "True".into()
                    } else {
                        "False".into()
                    }
                }
                FieldType::Int | FieldType::BigInt => d.clone(),
                FieldType::Decimal(..) => format!("Decimal(\"{d}\")"),
                _ => format!("\"{d}\""),
            });
        }
    }
    c.kind = kind;
    c.sql_type = sql;
    c.sa_type = sa;
    c.py_type = py;
    c
}

/// SQLAlchemy's type of a UUID column: in MySQL always 32 hex digits in `CHAR(32)`, never the
/// native type SQLAlchemy would pick on MariaDB ≥ 10.7, so MySQL 8 and MariaDB store the same.
pub fn uuid_sa(dialect: Dialect) -> &'static str {
    if dialect.is_mysql() {
        "Uuid(native_uuid=False)"
    } else {
        "Uuid"
    }
}

/// The CHECK constraints that enforce a column's rules in the database: enum membership,
/// bounds, pattern (with `email` / `url`) and non-empty text. A pattern is `~` in PostgreSQL
/// and `REGEXP` in MySQL (the tables' binary collation keeps it case-sensitive).
fn checks(dialect: Dialect, table: &str, c: &Column) -> Vec<CheckConstraint> {
    let col = dialect.quote(&c.name);
    let literal = |s: &str| dialect.literal(s);
    let matches = if dialect.is_mysql() { "REGEXP" } else { "~" };
    let mut out = Vec::new();
    let mut add = |rule: &str, expr: String| {
        out.push(CheckConstraint {
            name: constraint::check(table, &c.name, rule),
            expr,
        });
    };
    if !c.enum_values.is_empty() {
        let values: Vec<String> = c.enum_values.iter().map(|v| literal(v)).collect();
        add("", format!("{col} IN ({})", values.join(", ")));
    }
    if let Some(n) = &c.minimum {
        add("min", format!("{col} >= {n}"));
    }
    if let Some(n) = &c.maximum {
        add("max", format!("{col} <= {n}"));
    }
    if c.min_length.is_some() {
        add("not_empty", format!("{col} <> ''"));
    }
    if let Some(p) = &c.pattern {
        add(
            c.format.unwrap_or("pattern"),
            format!("{col} {matches} {}", literal(p)),
        );
    }
    out
}

fn caches(bp: &Blueprint) -> Vec<Cache> {
    bp.caches
        .iter()
        .map(|(name, c)| {
            let n = Names::new(name);
            Cache {
                engine: c.engine.clone(),
                services: bp
                    .services
                    .iter()
                    .filter(|(_, s)| s.cache.as_deref() == Some(name))
                    .map(|(k, _)| k.clone())
                    .collect(),
                host: n.kebab.clone(),
                port: 6379,
                url: format!("redis://{}:6379/0", n.kebab),
                module: format!("cache_{}", n.snake),
                name: n,
            }
        })
        .collect()
}

fn messaging(bp: &Blueprint, preset: &Preset) -> Option<Messaging> {
    let m = bp.messaging.as_ref()?;
    let (broker, host, port, env_var, address) = match m.broker {
        Broker::Kafka => (
            "kafka",
            "kafka",
            9092,
            "KAFKA_BOOTSTRAP_SERVERS",
            "kafka:9092".to_owned(),
        ),
        Broker::Rabbitmq => (
            "rabbitmq",
            "rabbitmq",
            5672,
            "AMQP_HOST",
            // host:port, so the port is explicit wherever the address is set (compose, ConfigMaps).
            "rabbitmq:5672".to_owned(),
        ),
        // Locally moto's server plays SNS and SQS (compose); in the cloud the variable is empty
        // and the SDK uses AWS's regional endpoints.
        Broker::Sqs => (
            "sqs",
            "moto",
            5000,
            "SQS_ENDPOINT_URL",
            "http://moto:5000".to_owned(),
        ),
    };
    // Each topic's publishers and consumers in service order, gathered in one pass.
    let mut publishers: HashMap<&str, Vec<String>> = HashMap::new();
    let mut consumers: HashMap<&str, Vec<String>> = HashMap::new();
    for (name, s) in &bp.services {
        for (topics, side) in [
            (&s.publishes, &mut publishers),
            (&s.consumes, &mut consumers),
        ] {
            for t in topics {
                let list = side.entry(t.as_str()).or_default();
                if list.last() != Some(name) {
                    list.push(name.clone());
                }
            }
        }
    }
    Some(Messaging {
        broker,
        is_kafka: m.broker == Broker::Kafka,
        is_rabbitmq: m.broker == Broker::Rabbitmq,
        is_sqs: m.broker == Broker::Sqs,
        host: host.into(),
        port,
        env_var,
        setting: super::setting_name(env_var),
        address,
        sqs: None,
        topics: m
            .topics
            .iter()
            .map(|(t, topic)| Topic {
                name: Names::new(t),
                partitions: topic.partitions.unwrap_or(preset.messaging.partitions),
                dead_letter: super::events::dead_letter(t),
                entity_id: None,
                publishers: publishers.remove(t.as_str()).unwrap_or_default(),
                consumers: consumers.remove(t.as_str()).unwrap_or_default(),
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraint_names_stay_within_postgres_identifier_length() {
        assert_eq!(
            constraint::check("orders", "total", "min"),
            "ck_orders_total_min"
        );
        assert_eq!(
            constraint::check("orders", "status", ""),
            "ck_orders_status"
        );
        let long = "a".repeat(40);
        let (lo, hi) = (
            constraint::check(&long, &long, "min"),
            constraint::check(&long, &long, "max"),
        );
        assert!(lo.len() <= 63 && hi.len() <= 63);
        assert_ne!(lo, hi);
    }

    #[test]
    fn a_mysql_database_gets_mysql_types_checks_and_port() {
        let src = "version: 1\nname: shop\nservices:\n  s: { database: db, entities: [Item] }\nentities:\n  Item:\n    fields:\n      id: uuid pk\n      at: timestamp default now\n      doc: json nullable\n      note: text default 'n/a'\n      code: string(9) pattern '^a\\.b$'\ndatabases: { db: { engine: mysql } }\n";
        let bp = crate::blueprint::load(src, "t.yaml").blueprint.unwrap();
        let m = super::super::resolve(&bp, crate::assets::presets()).unwrap();
        let db = &m.databases[0];
        assert_eq!((db.dialect, db.port), (Dialect::Mysql, 3306));
        let col = |n: &str| m.entities[0].columns.iter().find(|c| c.name == n).unwrap();
        assert_eq!(col("id").sql_type, "CHAR(32)");
        assert_eq!(col("id").sa_type, "Uuid(native_uuid=False)");
        assert_eq!(col("at").sql_type, "DATETIME(6)");
        assert_eq!(
            col("at").default_sql.as_deref(),
            Some("CURRENT_TIMESTAMP(6)")
        );
        assert_eq!(col("doc").sql_type, "JSON");
        // MySQL takes a TEXT default only as an expression.
        assert_eq!(col("note").default_sql.as_deref(), Some("('n/a')"));
        // Backticks, REGEXP, and the backslash doubled inside a MySQL literal.
        let pattern = col("code")
            .checks
            .iter()
            .find(|k| k.name.ends_with("_pattern"))
            .unwrap();
        assert_eq!(pattern.expr, "`code` REGEXP '^a\\\\.b$'");
        assert!(
            db.init_up
                .contains("`id` CHAR(32) NOT NULL DEFAULT (REPLACE(UUID(), '-', ''))"),
            "{}",
            db.init_up
        );
        // A monolith whose databases are all MySQL keeps its one database in MySQL too.
        let mono = src.replace("version: 1\n", "version: 1\ntype: monolith\n");
        let bp = crate::blueprint::load(&mono, "t.yaml").blueprint.unwrap();
        let m = super::super::resolve(&bp, crate::assets::presets()).unwrap();
        assert_eq!(m.databases[0].dialect, Dialect::Mysql);
    }

    #[test]
    fn columns_carry_their_constraints_and_checks() {
        let src = "version: 1\nname: shop\nservices:\n  s: { database: db, entities: [Item] }\nentities:\n  Item:\n    fields:\n      id: uuid pk\n      qty: int min 1 max 9\n      price: decimal(6,2) min 0.5\n      mail: string(99) email\n      code: text pattern '^[a-z]+$' nullable\n      site: string(200) url\ndatabases: { db: {} }\n";
        let bp = crate::blueprint::load(src, "t.yaml").blueprint.unwrap();
        let m = super::super::resolve(&bp, crate::assets::presets()).unwrap();
        let col = |n: &str| m.entities[0].columns.iter().find(|c| c.name == n).unwrap();
        let checks = |n: &str| -> Vec<String> {
            col(n)
                .checks
                .iter()
                .map(|k| format!("{}: {}", k.name, k.expr))
                .collect()
        };
        assert_eq!(
            checks("qty"),
            [
                "ck_items_qty_min: \"qty\" >= 1",
                "ck_items_qty_max: \"qty\" <= 9"
            ]
        );
        assert_eq!(checks("price"), ["ck_items_price_min: \"price\" >= 0.5"]);
        assert_eq!(col("price").minimum.as_deref(), Some("0.5"));
        assert_eq!(col("mail").format, Some("email"));
        assert_eq!(col("mail").json_schema_format, Some("email"));
        assert_eq!(col("mail").min_length, Some(1));
        assert_eq!(checks("mail")[0], "ck_items_mail_not_empty: \"mail\" <> ''");
        assert!(checks("mail")[1].starts_with("ck_items_mail_email: \"mail\" ~ '^[A-Za-z0-9"));
        assert_eq!(col("code").min_length, None, "nullable text may be empty");
        assert_eq!(
            checks("code"),
            ["ck_items_code_pattern: \"code\" ~ '^[a-z]+$'"]
        );
        assert_eq!(col("site").json_schema_format, Some("uri"));
    }
}
