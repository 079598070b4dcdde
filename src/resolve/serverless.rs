//! Serverless lowering of the data store, the event bus and each function's wiring.
//!
//! Input: the blueprint's services (with their database, topics and references) and the
//! functions lowered from them. Output: [`Serverless`] (the one decision of which managed data
//! store and event bus the system runs on) and, per function, the exact environment its code
//! reads (name and Terraform value), the synchronous calls it makes and the IAM statements it
//! needs. The function code, the Terraform, the docs and `plan` all read these; no template
//! chooses a store, a variable or an action. Invariant: a function's `env` is every variable its
//! code requires and nothing else (the settings class of the functions is built from the union).

use super::data::{Database, Entity};
use super::services::{Function, Service};
use super::{Names, Preset};
use heck::ToSnakeCase;
use serde::Serialize;

/// The Lambda runtime of Python functions (the deploy workflow builds their package for it).
pub const PYTHON_RUNTIME: &str = "python3.12";

/// Short names of the decision, for `plan` and the docs.
pub const DATABASE_KIND: &str = "Aurora Serverless v2 + RDS Proxy";
pub const EVENT_BUS_KIND: &str = "EventBridge, one SQS queue per consumer";

/// The data store and event bus a serverless system runs on, decided once.
#[derive(Debug, Clone, Serialize)]
pub struct Serverless {
    /// `aurora-postgresql`: Aurora Serverless v2 behind RDS Proxy (IAM auth).
    pub data_store: &'static str,
    /// Human name of the data store, for the docs and `plan`.
    pub data_store_title: &'static str,
    /// `eventbridge-sqs`: one EventBridge bus, one SQS queue (with DLQ) per consuming function.
    pub event_bus: &'static str,
    pub event_bus_title: &'static str,
    /// One Aurora cluster (and proxy) per blueprint database (`aurora-postgresql` only).
    pub databases: Vec<AuroraDatabase>,
    /// One DynamoDB table per entity (`dynamodb` only).
    pub tables: Vec<DynamoTable>,
    /// Tables refuse `DeleteTable` (every scale but `small`, whose systems are for trying out).
    pub table_deletion_protection: bool,
    /// Aurora Serverless v2 sizing from the scale preset: instances per cluster (the writer, plus
    /// a reader where the preset asks for a standby or replicas) and the ACU range of each.
    pub db_instances: u32,
    pub db_min_capacity: f64,
    pub db_max_capacity: f64,
    /// Every service some function calls, once (the address each call reads).
    pub callees: Vec<FunctionCall>,
    /// Caches of the blueprint a serverless system does not create (no cache-aside in functions yet).
    pub unlowered_caches: Vec<String>,
    /// Every reference a function verifies through another service's API.
    pub lookups: Vec<Lookup>,
    /// Every variable any function reads: the fields of the functions' settings class.
    pub settings: Vec<Setting>,
    /// The packages CI builds and uploads, once each: the Python app's, one per TypeScript
    /// service with its functions' bundles.
    pub packages: Vec<Package>,
    /// The modules of the Python app (`app.modules.<name>`): its generated Python services.
    pub python_modules: Vec<String>,
}

/// One function package (a zip): built from `code_dir` for `runtime`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Package {
    pub file: String,
    pub language: &'static str,
    pub runtime: &'static str,
    /// The toolchain version CI sets up to build it (`3.12`, `22`), once per language.
    pub version: &'static str,
    pub first_of_language: bool,
    pub code_dir: String,
}

fn packages(functions: &[Function]) -> Vec<Package> {
    let mut out: Vec<Package> = Vec::new();
    for f in functions {
        if !out.iter().any(|p| p.file == f.package) {
            let typescript = f.language == super::lang::TYPESCRIPT;
            out.push(Package {
                file: f.package.clone(),
                language: f.language,
                runtime: f.runtime,
                version: if typescript {
                    super::lang::typescript::NODE_MAJOR
                } else {
                    "3.12"
                },
                first_of_language: !out.iter().any(|p| p.language == f.language),
                code_dir: f.code_dir.clone(),
            });
        }
    }
    out
}

#[derive(Debug, Clone, Serialize)]
pub struct AuroraDatabase {
    pub name: Names,
    /// Terraform module name (`database_orders_db`).
    pub module: String,
    pub db_name: String,
    /// Master user: the proxy signs in with its secret, functions connect as it with IAM.
    pub user: String,
}

/// The DynamoDB table of one entity. Access patterns: get, put, update and delete by key;
/// list a page (a scan); list a user's rows (a query on the owner's index); check a reference
/// to a row of the same database (get on its table) and refuse deleting a row still referenced
/// (a query on the referencing table's index).
#[derive(Debug, Clone, Serialize)]
pub struct DynamoTable {
    /// The entity (raw name) and the service whose functions use the table.
    pub entity: String,
    pub service: String,
    /// Terraform resource label (`table_stock_item`) and the table name after the system prefix.
    pub label: String,
    pub name_suffix: String,
    /// Partition key: the entity's primary key (no sort key: every access by key is one item).
    pub hash_key: String,
    pub hash_type: &'static str,
    /// The variable naming the table (`STOCK_ITEM_TABLE`) and its settings field.
    pub env_var: String,
    pub field: String,
    /// Global secondary indexes: one per `ref` field the code queries by.
    pub indexes: Vec<TableIndex>,
    /// References to rows of the same database, checked before a write.
    pub checks: Vec<RefCheck>,
    /// Indexes of other tables whose rows refer to this table's rows.
    pub referenced_by: Vec<Referrer>,
    /// Columns the code fills in on create: `uuid` (the key) or `now` (`default now`).
    pub generated: Vec<(String, &'static str)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TableIndex {
    /// `by_author_id`.
    pub name: String,
    pub hash_key: String,
    pub hash_type: &'static str,
    /// The index lists a user's own rows (its key is the entity's owner column).
    pub owner: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct RefCheck {
    pub column: String,
    /// Settings field of the referenced table, and its key.
    pub table_field: String,
    pub key: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Referrer {
    pub entity: String,
    pub table_field: String,
    pub index: String,
    pub column: String,
}

/// One field of the functions' settings class.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Setting {
    pub name: String,
    /// Python attribute (`db_host`).
    pub field: String,
    /// Python annotation and default literal (`str`, `""`).
    pub py_type: &'static str,
    pub py_default: String,
    /// The value the generated tests set (a string: it goes into the environment).
    pub test_value: String,
    /// What reads it, for the comment above the field.
    pub doc: &'static str,
}

/// One variable of a function's environment: its name and the Terraform expression of its value.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FunctionEnv {
    pub name: String,
    pub value: String,
}

/// A synchronous call of a function to another service, through the HTTP API's URL.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FunctionCall {
    pub service: String,
    pub env_var: String,
    pub field: String,
}

/// How one reference is looked up: on `service` with `operation`, at `path/{id}` under the
/// service's address (see `callees`), within the caller's time budget.
#[derive(Debug, Clone, Serialize)]
pub struct Lookup {
    pub service: String,
    pub operation: String,
    pub path: String,
    pub timeout_seconds: f64,
}

/// One route of the HTTP API: `ANY /api/orders/{proxy+}`, `GET /api/products/{id}`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ApiRoute {
    pub key: String,
    /// `JWT` (the authorizer checks the token first) or `NONE` (a public operation).
    pub authorization: &'static str,
}

/// One statement of a function's IAM policy.
#[derive(Debug, Clone, Serialize)]
pub struct Statement {
    pub sid: String,
    pub actions: Vec<&'static str>,
    /// Terraform expressions.
    pub resources: Vec<String>,
}

const DB_VARS: [(&str, &str); 6] = [
    ("DB_HOST", "RDS Proxy endpoint (app/db.py)"),
    ("DB_PORT", "RDS Proxy port (app/db.py)"),
    ("DB_NAME", "database name (app/db.py)"),
    ("DB_USER", "database user the IAM token is for (app/db.py)"),
    ("DB_SSLMODE", "libpq sslmode towards the proxy (app/db.py)"),
    (
        "DB_SSLROOTCERT",
        "CA bundle the proxy's certificate is checked against (app/db.py)",
    ),
];

/// Short name of the DynamoDB decision, for `plan` and the docs.
pub const DYNAMODB_KIND: &str = "DynamoDB, one on-demand table per entity";

/// Fill in each function's environment, calls and policy; return the system-wide decision.
pub fn lower(
    unlowered_caches: Vec<String>,
    system: &Names,
    preset: &Preset,
    services: &[Service],
    databases: &[Database],
    entities: &[Entity],
    functions: &mut [Function],
) -> Serverless {
    let dynamodb = !databases.is_empty() && databases.iter().all(|d| d.engine == "dynamodb");
    let tables = if dynamodb {
        dynamo_tables(services, entities)
    } else {
        Vec::new()
    };
    for f in functions.iter_mut() {
        let Some(s) = services.iter().find(|s| s.name.raw == f.service) else {
            continue;
        };
        f.calls = calls(s);
        f.env = environment(s, f, &tables);
        f.statements = statements(s, f, &tables);
        f.api_routes = api_routes(s, f, entities);
    }
    let (data_store, data_store_title) = if dynamodb {
        (
            "dynamodb",
            "DynamoDB: one on-demand table per entity, point-in-time recovery, KMS encryption",
        )
    } else {
        (
            "aurora-postgresql",
            "Aurora Serverless v2 (PostgreSQL) behind RDS Proxy, IAM authentication",
        )
    };
    // The Python app's settings, addresses and lookups cover its own functions only (a
    // TypeScript service's package has its own: `lang::typescript`).
    let python: Vec<Function> = functions
        .iter()
        .filter(|f| f.language == super::lang::PYTHON)
        .cloned()
        .collect();
    let python_services: Vec<Service> = services
        .iter()
        .filter(|s| !s.is_typescript)
        .cloned()
        .collect();
    Serverless {
        data_store,
        data_store_title,
        event_bus: "eventbridge-sqs",
        event_bus_title: "EventBridge bus, one SQS queue with a dead-letter queue per consumer",
        settings: settings(system, &python, &tables),
        packages: packages(functions),
        python_modules: python_services
            .iter()
            .filter(|s| s.generated && !s.is_gateway)
            .map(|s| s.name.snake.clone())
            .collect(),
        tables,
        // Set from the scale by the caller (see `resolve`).
        table_deletion_protection: true,
        databases: databases
            .iter()
            .filter(|_| !dynamodb)
            .map(|d| AuroraDatabase {
                name: d.name.clone(),
                module: d.module.clone(),
                db_name: d.db_name.clone(),
                user: d.user.clone(),
            })
            .collect(),
        callees: callees(&python),
        lookups: lookups(&python_services),
        unlowered_caches,
        db_instances: 1 + preset
            .database
            .read_replicas
            .max(u32::from(preset.database.multi_az)),
        db_min_capacity: 0.5,
        db_max_capacity: max_capacity(&preset.database.instance_class),
    }
}

/// The routes of an HTTP function. Every path the function serves needs a token (`ANY` on the
/// path and below it); an operation the blueprint's `auth` makes public gets a route of its own
/// without the authorizer. API Gateway prefers a route with a method and no greedy variable, so
/// `GET /api/products/{id}` (public) wins over `ANY /api/products/{proxy+}` (JWT) for reads only.
/// The function still checks the rule on the claims, so a route left on the authorizer by mistake
/// only refuses more.
fn api_routes(s: &Service, f: &Function, entities: &[Entity]) -> Vec<ApiRoute> {
    if f.trigger != "http" {
        return Vec::new();
    }
    let mut out: Vec<ApiRoute> = Vec::new();
    let mut add = |key: String, authorization| {
        if !out.iter().any(|r| r.key == key) {
            out.push(ApiRoute { key, authorization });
        }
    };
    for r in &f.routes {
        add(format!("ANY {r}"), "JWT");
        add(format!("ANY {r}/{{proxy+}}"), "JWT");
    }
    let public =
        |rule: &Option<super::auth::Rule>| rule.as_ref().is_some_and(|r| r.kind == "public");
    for e in s.entity_ids.iter().map(|&i| &entities[i]) {
        let p = &e.code.api_path;
        if public(&e.code.auth.read) {
            add(format!("GET {p}"), "NONE");
            add(format!("GET {p}/{{id}}"), "NONE");
        }
        if public(&e.code.auth.write) {
            add(format!("POST {p}"), "NONE");
            add(format!("PATCH {p}/{{id}}"), "NONE");
            add(format!("DELETE {p}/{{id}}"), "NONE");
        }
    }
    out
}

/// The services a service's HTTP function calls: every generated HTTP dependency.
fn calls(s: &Service) -> Vec<FunctionCall> {
    s.depends_on
        .iter()
        .filter(|d| d.generated && d.protocol == "http")
        .map(|d| FunctionCall {
            service: d.name.raw.clone(),
            env_var: d.env_var.clone(),
            field: d.env_var.to_snake_case(),
        })
        .collect()
}

fn literal(v: &str) -> String {
    crate::escape::hcl(v)
}

/// The table of each entity of a DynamoDB system, in model order.
fn dynamo_tables(services: &[Service], entities: &[Entity]) -> Vec<DynamoTable> {
    let owned = |e: &Entity| {
        services
            .iter()
            .find(|s| {
                s.entity_ids
                    .iter()
                    .any(|&i| entities[i].name.raw == e.name.raw)
            })
            .map(|s| s.name.raw.clone())
    };
    let field_of = |entity: &str| format!("{}_table", entity.to_snake_case());
    let mut tables: Vec<DynamoTable> = Vec::new();
    for e in entities {
        let Some(service) = owned(e) else { continue };
        let owner = e.code.auth.owner_column.as_deref();
        let mut indexes = Vec::new();
        let mut checks = Vec::new();
        for c in e.columns.iter().filter(|c| !c.pk) {
            let Some(r) = &c.reference else { continue };
            if r.foreign_key {
                checks.push(RefCheck {
                    column: c.name.clone(),
                    table_field: field_of(&r.entity),
                    key: r.column.clone(),
                });
            }
            // Queried for a user's rows, or for the rows still referring to a row being deleted.
            if r.foreign_key || owner == Some(c.name.as_str()) {
                indexes.push(TableIndex {
                    name: format!("by_{}", c.name),
                    hash_key: c.name.clone(),
                    hash_type: c.dynamo_type,
                    owner: owner == Some(c.name.as_str()),
                });
            }
        }
        let pk = e.columns.iter().find(|c| c.pk);
        tables.push(DynamoTable {
            entity: e.name.raw.clone(),
            service,
            label: format!("table_{}", e.name.snake),
            name_suffix: e.table.replace('_', "-"),
            hash_key: e.pk.clone(),
            hash_type: pk.map_or("S", |c| c.dynamo_type),
            env_var: field_of(&e.name.raw).to_uppercase(),
            field: field_of(&e.name.raw),
            indexes,
            checks,
            referenced_by: Vec::new(),
            generated: e
                .columns
                .iter()
                .filter(|c| c.server_generated)
                .map(|c| (c.name.clone(), if c.pk { "uuid" } else { "now" }))
                .collect(),
        });
    }
    // Each same-database reference is also a reason its target refuses a delete.
    let referrers: Vec<(String, Referrer)> = tables
        .iter()
        .flat_map(|t| {
            let e = entities.iter().find(|e| e.name.raw == t.entity);
            t.checks.iter().filter_map(move |c| {
                let target = e?
                    .columns
                    .iter()
                    .find(|x| x.name == c.column)?
                    .reference
                    .as_ref()?;
                Some((
                    target.entity.clone(),
                    Referrer {
                        entity: t.entity.clone(),
                        table_field: t.field.clone(),
                        index: format!("by_{}", c.column),
                        column: c.column.clone(),
                    },
                ))
            })
        })
        .collect();
    for (target, r) in referrers {
        if let Some(t) = tables.iter_mut().find(|t| t.entity == target) {
            t.referenced_by.push(r);
        }
    }
    tables
}

/// The tables a service's code touches: its own, the ones its references are checked in and the
/// ones whose rows refer to its rows.
pub fn tables_used<'a>(s: &Service, tables: &'a [DynamoTable]) -> Vec<&'a DynamoTable> {
    let own: Vec<&DynamoTable> = tables.iter().filter(|t| t.service == s.name.raw).collect();
    let mut fields: Vec<&str> = own.iter().map(|t| t.field.as_str()).collect();
    for t in &own {
        fields.extend(t.checks.iter().map(|c| c.table_field.as_str()));
        fields.extend(t.referenced_by.iter().map(|r| r.table_field.as_str()));
    }
    tables
        .iter()
        .filter(|t| fields.contains(&t.field.as_str()))
        .collect()
}

/// A table's name where no Terraform set it (a local run): the Terraform's name in the prefix of
/// the system alone.
pub fn local_table_name(system: &Names, t: &DynamoTable) -> String {
    format!("{}-{}", system.kebab, t.name_suffix)
}

fn table_arn(t: &DynamoTable) -> String {
    format!("aws_dynamodb_table.{}.arn", t.label)
}

fn index_arn(t: &DynamoTable, index: &str) -> String {
    format!("\"${{aws_dynamodb_table.{}.arn}}/index/{index}\"", t.label)
}

/// IAM of a function on DynamoDB: exactly the calls `app/crud.py` makes.
fn table_statements(s: &Service, tables: &[DynamoTable]) -> Vec<Statement> {
    let used = tables_used(s, tables);
    let own: Vec<&&DynamoTable> = used.iter().filter(|t| t.service == s.name.raw).collect();
    if own.is_empty() {
        return Vec::new();
    }
    let by_field = |f: &str| used.iter().find(|t| t.field == f).copied();
    let mut out = vec![Statement {
        sid: "ReadWriteItems".into(),
        actions: vec![
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
            "dynamodb:Scan",
        ],
        resources: own.iter().map(|t| table_arn(t)).collect(),
    }];
    let mut indexes: Vec<String> = Vec::new();
    let mut checked: Vec<String> = Vec::new();
    for t in &own {
        for i in t.indexes.iter().filter(|i| i.owner) {
            indexes.push(index_arn(t, &i.name));
        }
        for r in &t.referenced_by {
            if let Some(other) = by_field(&r.table_field) {
                indexes.push(index_arn(other, &r.index));
            }
        }
        for c in &t.checks {
            if let Some(other) = by_field(&c.table_field)
                && other.service != s.name.raw
            {
                checked.push(table_arn(other));
            }
        }
    }
    indexes.dedup();
    checked.dedup();
    if !indexes.is_empty() {
        out.push(Statement {
            sid: "QueryIndexes".into(),
            actions: vec!["dynamodb:Query"],
            resources: indexes,
        });
    }
    if !checked.is_empty() {
        out.push(Statement {
            sid: "CheckReferences".into(),
            actions: vec!["dynamodb:GetItem"],
            resources: checked,
        });
    }
    out
}

fn environment(s: &Service, f: &Function, tables: &[DynamoTable]) -> Vec<FunctionEnv> {
    let var = |name: &str, value: String| FunctionEnv {
        name: name.to_owned(),
        value,
    };
    let mut env = vec![
        var("SERVICE_NAME", literal(&s.name.kebab)),
        var("LOG_LEVEL", literal("INFO")),
    ];
    if f.trigger != "http" {
        // A queue function runs its own handler only: logging is all it reads.
        return env;
    }
    if s.database.is_some() && !tables.is_empty() {
        for t in tables_used(s, tables) {
            env.push(var(
                &t.env_var,
                format!("aws_dynamodb_table.{}.name", t.label),
            ));
        }
    } else if let Some(db) = &s.database {
        let module = &db.module;
        env.push(var("DB_HOST", format!("module.{module}.proxy_endpoint")));
        env.push(var("DB_PORT", format!("tostring(module.{module}.port)")));
        env.push(var("DB_NAME", literal(&db.db_name)));
        env.push(var("DB_USER", literal(&db.user)));
        env.push(var(
            "DB_SSLMODE",
            literal(super::transport::CLOUD.db_sslmode),
        ));
        env.push(var(
            "DB_SSLROOTCERT",
            literal(super::transport::LAMBDA_CA_FILE),
        ));
    }
    if !s.publishes.is_empty() {
        env.push(var(
            "EVENT_BUS_NAME",
            "aws_cloudwatch_event_bus.events.name".into(),
        ));
    }
    for c in &f.calls {
        env.push(var(&c.env_var, "module.api.endpoint".into()));
    }
    env
}

fn statements(s: &Service, f: &Function, tables: &[DynamoTable]) -> Vec<Statement> {
    let mut out = Vec::new();
    if f.trigger == "queue" {
        out.push(Statement {
            sid: "ConsumeQueue".into(),
            actions: vec![
                "sqs:ReceiveMessage",
                "sqs:DeleteMessage",
                "sqs:ChangeMessageVisibility",
                "sqs:GetQueueAttributes",
            ],
            resources: vec![format!("module.queue_{}.arn", f.name.snake)],
        });
        return out;
    }
    if !tables.is_empty() {
        out.extend(table_statements(s, tables));
    } else if let Some(db) = &s.database {
        let module = &db.module;
        out.push(Statement {
            sid: "ConnectToDatabase".into(),
            actions: vec!["rds-db:connect"],
            resources: vec![format!("module.{module}.connect_arn")],
        });
    }
    if !s.publishes.is_empty() {
        out.push(Statement {
            sid: "PublishEvents".into(),
            actions: vec!["events:PutEvents"],
            resources: vec!["aws_cloudwatch_event_bus.events.arn".into()],
        });
    }
    out
}

/// The union of every function's variables, in first-seen order, plus `DATABASE_URL` (a local
/// run or a test points the functions at a PostgreSQL of its own; Terraform never sets it).
fn settings(system: &Names, functions: &[Function], tables: &[DynamoTable]) -> Vec<Setting> {
    let mut out: Vec<Setting> = Vec::new();
    let mut add = |name: &str, py_type, py_default: String, doc| {
        if !out.iter().any(|s| s.name == name) {
            let test_value = if name.ends_with("_URL") {
                "https://api.test.invalid".to_owned()
            } else if py_type == "int" {
                py_default.clone()
            } else {
                py_default.trim_matches('"').to_owned()
            };
            out.push(Setting {
                name: name.to_owned(),
                field: name.to_snake_case(),
                py_type,
                py_default,
                test_value,
                doc,
            });
        }
    };
    let empty = || "\"\"".to_owned();
    add(
        "SERVICE_NAME",
        "str",
        crate::escape::py_str(&system.kebab),
        "the service, in every log line",
    );
    add("LOG_LEVEL", "str", "\"INFO\"".into(), "root log level");
    // Read by the services' models (DynamoDB), or by app/db.py (PostgreSQL).
    for t in tables {
        add(
            &t.env_var,
            "str",
            crate::escape::py_str(&local_table_name(system, t)),
            "DynamoDB table of an entity (app/modules/<service>/models.py)",
        );
    }
    for (name, doc) in DB_VARS.into_iter().filter(|_| tables.is_empty()) {
        let (ty, default) = if name == "DB_PORT" {
            ("int", "5432".to_owned())
        } else {
            ("str", empty())
        };
        add(name, ty, default, doc);
    }
    add(
        "EVENT_BUS_NAME",
        "str",
        empty(),
        "EventBridge bus events are put on (app/events.py)",
    );
    for f in functions {
        for c in &f.calls {
            add(
                &c.env_var,
                "str",
                empty(),
                "base URL of the HTTP API the call goes through (app/references.py)",
            );
        }
    }
    if !tables.is_empty() {
        return out;
    }
    add(
        "DATABASE_URL",
        "str",
        empty(),
        "local runs and tests only: a PostgreSQL URL used instead of the proxy and IAM (app/db.py)",
    );
    out
}

/// The ACU ceiling matching the memory of the preset's instance class (1 ACU ≈ 2 GiB): a
/// serverless cluster can grow to what the provisioned class would have had.
fn max_capacity(instance_class: &str) -> f64 {
    let size = instance_class.rsplit('.').next().unwrap_or_default();
    match size {
        "micro" | "small" => 2.0,
        "medium" => 4.0,
        "large" => 8.0,
        "xlarge" => 16.0,
        other => other
            .strip_suffix("xlarge")
            .and_then(|n| n.parse::<f64>().ok())
            .map_or(16.0, |n| (16.0 * n).min(256.0)),
    }
}

fn callees(functions: &[Function]) -> Vec<FunctionCall> {
    let mut out: Vec<FunctionCall> = Vec::new();
    for c in functions.iter().flat_map(|f| &f.calls) {
        if !out.contains(c) {
            out.push(c.clone());
        }
    }
    out
}

/// The collection paths of a service's top-level entities (nested ones live under them).
pub fn own_paths(s: &Service, entities: &[Entity]) -> Option<Vec<String>> {
    let mut paths: Vec<String> = Vec::new();
    for e in s.entity_ids.iter().map(|&i| &entities[i]) {
        let p = &e.code.api_path;
        if !paths
            .iter()
            .any(|q| p == q || p.starts_with(&format!("{q}/")))
        {
            paths.push(p.clone());
        }
    }
    (!paths.is_empty()).then_some(paths)
}

fn lookups(services: &[Service]) -> Vec<Lookup> {
    let mut out: Vec<Lookup> = Vec::new();
    for s in services {
        for r in &s.references {
            if !out
                .iter()
                .any(|l| l.service == r.service && l.operation == r.operation)
            {
                out.push(Lookup {
                    service: r.service.clone(),
                    operation: r.operation.clone(),
                    path: r.path.clone(),
                    timeout_seconds: s.resilience.timeout_seconds,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    fn model(yaml: &str) -> super::super::Model {
        let bp = crate::blueprint::load(yaml, "t.yaml").blueprint.unwrap();
        super::super::resolve(&bp, crate::assets::presets()).unwrap()
    }

    #[test]
    fn dynamodb_tables_are_keyed_by_the_entity_with_indexes_for_what_the_code_queries() {
        let m = model(crate::assets::example("serverless-notes").unwrap());
        let s = m.serverless.unwrap();
        assert_eq!(s.data_store, "dynamodb");
        assert!(
            s.databases.is_empty(),
            "no Aurora cluster for a DynamoDB system"
        );
        let table = |e: &str| s.tables.iter().find(|t| t.entity == e).unwrap();
        let comment = table("Comment");
        assert_eq!((comment.hash_key.as_str(), comment.hash_type), ("id", "S"));
        let indexes: Vec<(&str, bool)> = comment
            .indexes
            .iter()
            .map(|i| (i.name.as_str(), i.owner))
            .collect();
        // note_id: same database (checked, and blocks deleting its note); author_id: the owner.
        assert_eq!(indexes, [("by_note_id", false), ("by_author_id", true)]);
        assert_eq!(comment.checks[0].table_field, "note_table");
        let note = table("Note");
        assert_eq!(note.referenced_by[0].index, "by_note_id");
        assert!(
            note.checks.is_empty(),
            "author_id is another service's: checked by its API"
        );
        assert!(table("Topic").indexes.is_empty());
        // The users function reads its table only; no DB_* or DATABASE_URL anywhere.
        let users = m
            .functions
            .iter()
            .find(|f| f.name.raw == "users-api")
            .unwrap();
        let env: Vec<&str> = users.env.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(
            env,
            ["SERVICE_NAME", "LOG_LEVEL", "USER_TABLE", "EVENT_BUS_NAME"]
        );
        assert!(
            !s.settings
                .iter()
                .any(|x| x.name.starts_with("DB_") || x.name == "DATABASE_URL")
        );
    }

    #[test]
    fn aurora_systems_keep_their_clusters_and_no_tables() {
        let src = crate::assets::example("event-orders").unwrap();
        let m = model(&src.replace("type: microservices", "type: serverless"));
        let s = m.serverless.unwrap();
        assert_eq!(s.data_store, "aurora-postgresql");
        assert_eq!(s.databases.len(), 3);
        assert!(s.tables.is_empty());
    }
}
