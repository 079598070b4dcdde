//! TypeScript (Node.js, Fastify) lowering: per TypeScript service, what its templates print —
//! the npm packages (pinned; the embedded `package-lock.json` locks the same set), and per
//! owned entity its table, columns, request-body JSON Schemas, access rules and the references
//! verified through a dependency; per dependency a typed client.
//!
//! Input: the model after the neutral lowering (`code.api_path`, `code.auth`, `code.required`,
//! the clients' operations). Output: `ts` of each TypeScript service. Pure and deterministic.

use crate::resolve::Names;
use crate::resolve::data::{Column, Entity};
use crate::resolve::serverless::{self, DynamoTable, Serverless};
use crate::resolve::services::Service;
use serde::Serialize;
use serde_json::{Map, Value, json};

/// Runtime packages, exact versions: the lockfile template pins these (a test keeps them in step).
pub const DEPENDENCIES: &[(&str, &str)] = &[
    ("@grpc/grpc-js", "1.14.7"),
    ("@grpc/proto-loader", "0.8.1"),
    ("@aws-sdk/client-sns", "3.1178.0"),
    ("@aws-sdk/client-sqs", "3.1178.0"),
    ("@aws-sdk/client-sts", "3.1178.0"),
    ("@opentelemetry/api", "1.9.1"),
    ("@opentelemetry/exporter-trace-otlp-grpc", "0.223.0"),
    ("@opentelemetry/instrumentation", "0.223.0"),
    ("@opentelemetry/instrumentation-http", "0.223.0"),
    ("@opentelemetry/resources", "2.12.0"),
    ("@opentelemetry/sdk-trace-node", "2.12.0"),
    ("@platformatic/kafka", "1.35.0"),
    ("ajv", "8.20.0"),
    ("ajv-formats", "3.0.1"),
    ("amqplib", "2.3.1"),
    ("aws-msk-iam-sasl-signer-js", "1.0.3"),
    ("fastify", "5.12.8"),
    ("ioredis", "6.1.0"),
    ("jose", "6.2.19"),
    ("mysql2", "3.26.1"),
    ("pg", "8.23.1"),
    ("prom-client", "15.1.3"),
];
/// Compiler, type declarations and linter (`npm ci` installs them for the tests and CI).
pub const DEV_DEPENDENCIES: &[(&str, &str)] = &[
    ("@eslint/js", "9.39.5"),
    ("@types/node", "20.19.43"),
    ("@types/pg", "8.23.1"),
    ("eslint", "9.39.5"),
    ("typescript", "5.9.3"),
    ("typescript-eslint", "8.74.0"),
];
/// The Node.js major version of the image and of CI (its LTS line the packages support).
pub const NODE_MAJOR: &str = "22";
/// The Lambda runtime of TypeScript functions: the same Node.js line.
pub const LAMBDA_RUNTIME: &str = "nodejs22.x";
/// Runtime packages of a service's functions (serverless): Fastify behind @fastify/aws-lambda
/// (API Gateway's events in, its responses out), pg and the RDS IAM token signer (Aurora), the
/// AWS SDK's DynamoDB client and document layer (DynamoDB), and its EventBridge client (events
/// put on the bus). Every function package has the same set (esbuild bundles only what the code
/// imports), so the embedded `_functions/package-lock.json` locks exactly these.
pub const FUNCTION_DEPENDENCIES: &[(&str, &str)] = &[
    ("@aws-sdk/client-dynamodb", "3.1178.0"),
    ("@aws-sdk/client-eventbridge", "3.1178.0"),
    ("@aws-sdk/lib-dynamodb", "3.1178.0"),
    ("@aws-sdk/rds-signer", "3.1178.0"),
    ("@fastify/aws-lambda", "6.4.1"),
    ("@opentelemetry/api", "1.9.1"),
    ("fastify", "5.12.8"),
    ("pg", "8.23.1"),
];
/// Compiler, linter, the Lambda event types and esbuild (one bundle per function).
pub const FUNCTION_DEV_DEPENDENCIES: &[(&str, &str)] = &[
    ("@eslint/js", "9.39.5"),
    ("@types/aws-lambda", "8.10.164"),
    ("@types/node", "20.19.43"),
    ("@types/pg", "8.23.1"),
    ("esbuild", "0.28.2"),
    ("eslint", "9.39.5"),
    ("typescript", "5.9.3"),
    ("typescript-eslint", "8.74.0"),
];

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Pin {
    pub name: &'static str,
    pub version: &'static str,
}

/// A TypeScript service's view of the model.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TsService {
    pub dependencies: Vec<Pin>,
    pub dev_dependencies: Vec<Pin>,
    pub node_major: &'static str,
    /// Owned entities, in router order (nested paths first).
    pub entities: Vec<TsEntity>,
    /// One typed client per generated HTTP dependency.
    pub clients: Vec<TsClient>,
    /// Some entity has a reference checked through a client (test/references.test.ts).
    pub has_references: bool,
    /// Some entity's reads by id go through the cache, with a sample row to test it.
    pub has_cached: bool,
    /// A monolith app: its modules (one per service, `src/modules/<file>.ts`), in the order of
    /// the blueprint; empty for a service.
    pub modules: Vec<TsModule>,
    /// Serverless: the service's Lambda functions (its package replaces the server's files).
    pub functions: Option<TsFunctions>,
    /// It publishes or consumes events (src/events.ts, test/events.test.ts); for a service's
    /// functions, it publishes (src/events.ts puts them on the bus; queue functions consume).
    pub has_events: bool,
    /// Some entity whose creation publishes an event the relay sends to the broker has a sample
    /// row to test it.
    pub has_published_sample: bool,
    /// The published topics the relay sends to the broker (a monolith's own topics are handed
    /// to its handlers instead): the tests' outbox-to-broker cases.
    pub sent: Vec<String>,
    /// The consumed topics, each with a valid `data` of its envelope for the tests.
    pub consumed: Vec<TsConsumed>,
    /// The gRPC API it serves beside HTTP (src/grpc.ts), when it declares `grpc`.
    pub grpc: Option<super::grpc::GrpcApi>,
    /// Dependencies its `/readyz` checks by a connection to their `host:port` (reached over
    /// gRPC or TCP), as the Python services' readiness does.
    pub connected: Vec<TsConnected>,
    /// Some consumed topic has such a sample.
    pub has_consumed_sample: bool,
}

/// A module of a TypeScript monolith: one service's entities, in a file of their own.
#[derive(Debug, Clone, Serialize)]
pub struct TsModule {
    /// The service's blueprint name.
    pub service: String,
    /// `src/modules/<file>.ts` (the service's kebab-case name, as the plan names the file).
    pub file: String,
    /// What `src/entities.ts` imports its entity list as (`postsEntities`): never a reserved word.
    pub import: String,
}

/// The Lambda functions of one TypeScript service and the settings their code reads.
#[derive(Debug, Clone, Serialize)]
pub struct TsFunctions {
    pub functions: Vec<TsFunction>,
    /// Every variable any of its functions reads, plus `DATABASE_URL` (local runs and tests
    /// point the code at a PostgreSQL of their own; Terraform never sets it).
    pub settings: Vec<TsSetting>,
    pub runtime: &'static str,
    pub dependencies: Vec<Pin>,
    pub dev_dependencies: Vec<Pin>,
    /// Some function handles a queue's events (test/handlers.test.ts covers the batch).
    pub has_queue: bool,
    /// Some function serves the HTTP API (a worker's functions are all queue functions).
    pub has_http: bool,
    /// Where its rows are: `sql` (Aurora PostgreSQL behind the RDS Proxy), `dynamodb` (one table
    /// per entity, src/tables.ts) or `none` (no database).
    pub store: &'static str,
    /// DynamoDB: every table its code touches (its own, those its references are checked in and
    /// those whose rows refer to its rows), as the Terraform creates them.
    pub tables: Vec<TsTable>,
}

/// One DynamoDB table as a TypeScript function uses it (the design of `serverless::DynamoTable`);
/// `setting` is the variable holding its name.
#[derive(Debug, Clone, Serialize)]
pub struct TsTable {
    /// The entity's snake-case name, as its spec in src/entities.ts names it.
    pub entity: String,
    pub setting: String,
    pub key: String,
    /// `S` or `N` (the key's attribute type; the tests create the table with it).
    pub key_type: &'static str,
    /// The service owns the table (its CRUD routes serve it).
    pub own: bool,
    /// Columns filled in on create: `uuid` (the key) or `now` (`default now`).
    pub generated: Vec<TsGenerated>,
    pub indexes: Vec<TsIndex>,
    pub checks: Vec<TsCheck>,
    pub referenced_by: Vec<TsReferrer>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TsGenerated {
    pub column: String,
    pub how: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct TsIndex {
    pub name: String,
    pub key: String,
    pub key_type: &'static str,
    /// A user's own rows are listed through it.
    pub owner: bool,
}

/// `column` holds the key (`key`) of a row of the table named by `setting`.
#[derive(Debug, Clone, Serialize)]
pub struct TsCheck {
    pub column: String,
    pub setting: String,
    pub key: String,
}

/// Rows of the table named by `setting` refer to this table's rows through `column`, found on
/// `index`.
#[derive(Debug, Clone, Serialize)]
pub struct TsReferrer {
    pub setting: String,
    pub index: String,
    pub column: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TsFunction {
    pub name: String,
    /// The module and bundle name (`reviews_api`: src/functions/reviews_api.ts, built into
    /// dist/lambda/reviews_api.mjs, handler `reviews_api.handler`).
    pub module: String,
    pub handler: String,
    /// `http` or `queue`.
    pub trigger: &'static str,
    pub topic: Option<String>,
    /// Exactly the variables Terraform sets for it (checked at cold start).
    pub env: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TsSetting {
    pub name: String,
    /// The value a local run gets when the variable is not set, as a JSON string.
    pub default: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TsConnected {
    pub ready_key: String,
    pub env_var: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TsConsumed {
    pub topic: String,
    /// A row of the topic's entity as its owner's API reads it, as JSON text; None when no
    /// value is known to fit some column (a user's pattern) or the topic has no entity.
    pub sample: Option<String>,
    /// A monolith's own topic: the relay hands it to the handler (`events.in_process`).
    pub in_process: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct TsEntity {
    pub name: String,
    pub pascal: String,
    pub table: String,
    pub api_path: String,
    pub pk: String,
    /// The key is an integer (else a UUID string).
    pub int_key: bool,
    /// Every column, in table order (what a row reads back).
    pub columns: Vec<String>,
    /// Fields of the `<Entity>` interface.
    pub fields: Vec<TsField>,
    /// JSON Schemas of the create and update bodies (the OpenAPI contract's), as JSON text.
    pub create_schema: String,
    pub update_schema: String,
    /// JSON Schema of the key in a path (`{id}`) and of `after`.
    pub key_schema: String,
    pub read_rule: TsRule,
    pub write_rule: TsRule,
    pub owner: Option<String>,
    /// Decimal columns with bounds (JSON Schema bounds do not apply to their string form).
    pub decimal_bounds: Vec<DecimalBound>,
    /// `ref` fields checked through a dependency before a write.
    pub references: Vec<TsReference>,
    /// A valid create payload (generated tests), as JSON text; None when one cannot be built
    /// without other rows (a same-database parent).
    pub sample: Option<String>,
    /// Unique text fields of the sample, which a test makes fresh for each row.
    pub unique: Vec<TsUnique>,
    /// When `sample` is None only because required fields are foreign keys (rows of the same
    /// database: another module of a monolith, or the service's own): a create payload without
    /// them, which a test completes with the keys of rows it creates first (`parents`).
    pub linked_sample: Option<String>,
    pub parents: Vec<TsParent>,
    /// Columns by the kinds a driver may not hand over as the API writes them (MySQL keeps a
    /// UUID as 32 hex digits, a boolean as 0/1, JSON as text on MariaDB, an instant without
    /// offset); PostgreSQL's driver needs none of them.
    pub kinds: TsKinds,
    /// `<service>:<table>` of the Redis keys of rows read by id, when the service has a cache.
    pub cache_prefix: Option<String>,
    /// A text column a test changes to see the cache invalidated (PATCH), when there is one.
    pub patch_column: Option<String>,
    /// Topics a new row is published on (through the outbox, in the row's transaction).
    pub publishes: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct TsKinds {
    pub uuid: Vec<String>,
    pub bool: Vec<String>,
    pub json: Vec<String>,
    pub timestamp: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TsUnique {
    pub name: String,
    /// `email`, `url` or `text`: the shape of a fresh value.
    pub form: &'static str,
    pub max_length: u32,
}

/// A row a test creates before one that refers to it by a required foreign key.
#[derive(Debug, Clone, Serialize)]
pub struct TsParent {
    /// The referring field, and the referenced entity's name, collection path and key.
    pub field: String,
    pub entity: String,
    pub path: String,
    pub pk: String,
    /// A key no row has (the shape of the referenced key).
    pub unknown_key: String,
    pub sample: String,
    pub unique: Vec<TsUnique>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TsField {
    pub name: String,
    pub ts_type: &'static str,
    pub nullable: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct TsRule {
    /// `public`, `user` or `role`.
    pub kind: &'static str,
    pub role: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DecimalBound {
    pub column: String,
    pub minimum: Option<String>,
    pub maximum: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TsReference {
    pub field: String,
    pub target: String,
    /// The client property (`users`) and its method (`getUser`).
    pub client: String,
    pub method: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TsClient {
    /// Class (`UsersClient`), property on the clients object (`users`), address variable.
    pub class: String,
    pub property: String,
    pub env_var: String,
    pub operations: Vec<TsOperation>,
    /// The callee's entity shapes the methods return.
    pub types: Vec<TsType>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TsOperation {
    /// camelCase of the callee's operation id (`getUser` for `get_user`).
    pub method: String,
    pub operation_id: String,
    pub http_method: &'static str,
    /// The collection path (`/api/users`); item operations append `/{id}`.
    pub path: String,
    pub kind: &'static str,
    pub entity: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TsType {
    pub name: String,
    pub fields: Vec<TsField>,
}

/// Fill in `ts` of every TypeScript service.
pub fn lower(services: &mut [Service], entities: &[Entity]) {
    for s in services
        .iter_mut()
        .filter(|s| s.language.as_deref() == Some(super::TYPESCRIPT))
    {
        let clients = s
            .depends_on
            .iter()
            .filter(|d| d.generated && d.protocol == "http")
            .map(|d| client(d, entities))
            .collect();
        let owned = s
            .code
            .router_ids
            .iter()
            .map(|&i| entity(&entities[i], entities))
            .collect();
        let owned: Vec<TsEntity> = owned;
        let consumed: Vec<TsConsumed> = s
            .consumes
            .iter()
            .map(|t| TsConsumed {
                topic: t.raw.clone(),
                sample: entities
                    .iter()
                    .find(|e| e.code.publishes.iter().any(|p| p.raw == t.raw))
                    .and_then(read_sample),
                in_process: false,
            })
            .collect();
        let grpc = s.code.grpc.clone();
        let connected = s
            .depends_on
            .iter()
            .filter(|d| d.check == "tcp")
            .map(|d| TsConnected {
                ready_key: d.ready_key.clone(),
                env_var: d.env_var.clone(),
            })
            .collect();
        s.ts = Some(TsService {
            grpc,
            connected,
            has_consumed_sample: consumed.iter().any(|c| c.sample.is_some()),
            consumed,
            has_references: owned
                .iter()
                .any(|e| !e.references.is_empty() && e.sample.is_some()),
            has_cached: owned
                .iter()
                .any(|e| e.cache_prefix.is_some() && e.sample.is_some()),
            has_events: !s.publishes.is_empty() || !s.consumes.is_empty(),
            sent: s.publishes.iter().map(|t| t.raw.clone()).collect(),
            has_published_sample: owned
                .iter()
                .any(|e| !e.publishes.is_empty() && e.sample.is_some()),
            dependencies: pins(DEPENDENCIES),
            dev_dependencies: pins(DEV_DEPENDENCIES),
            node_major: NODE_MAJOR,
            entities: owned,
            clients,
            modules: Vec::new(),
            functions: None,
        });
        s.python = Default::default();
    }
}

/// The modules of each TypeScript monolith app: the services it is made of (`modules`).
pub fn link_modules(apps: &mut [Service], services: &[Service]) {
    for app in apps.iter_mut() {
        let names = app.modules.clone();
        let Some(ts) = app.ts.as_mut() else {
            continue;
        };
        ts.modules = names
            .iter()
            .filter_map(|n| services.iter().find(|s| &s.name.raw == n))
            .map(|s| TsModule {
                service: s.name.raw.clone(),
                file: s.name.kebab.clone(),
                import: format!("{}Entities", camel(&s.name.snake)),
            })
            .collect();
    }
}

/// Mark the topics a TypeScript monolith app delivers in-process, as `events::link` decided
/// them: its tests hand those to the relay instead of the broker.
pub fn link_in_process(apps: &mut [Service]) {
    for app in apps.iter_mut() {
        let in_process = &app.events.in_process;
        let Some(ts) = app.ts.as_mut() else {
            continue;
        };
        let own = |topic: &str| in_process.iter().any(|t| t.raw == topic);
        for c in &mut ts.consumed {
            c.in_process = own(&c.topic);
        }
        ts.sent.retain(|t| !own(t));
        let sent = &ts.sent;
        ts.has_published_sample = ts
            .entities
            .iter()
            .any(|e| e.sample.is_some() && e.publishes.iter().any(|t| sent.contains(t)));
    }
}

/// Serverless: the functions of every TypeScript service, once their environment is known.
pub fn lower_functions(
    services: &mut [Service],
    functions: &[crate::resolve::services::Function],
    serverless: Option<&Serverless>,
    system: &Names,
) {
    let dynamo_tables = serverless.map_or(&[][..], |s| s.tables.as_slice());
    for s in services.iter_mut() {
        let tables = if s.database.is_some() {
            ts_tables(s, dynamo_tables)
        } else {
            Vec::new()
        };
        let Some(ts) = s.ts.as_mut() else { continue };
        let own: Vec<&crate::resolve::services::Function> = functions
            .iter()
            .filter(|f| f.service == s.name.raw)
            .collect();
        if own.is_empty() {
            continue;
        }
        let mut settings: Vec<TsSetting> = Vec::new();
        let store = match (&s.database, dynamo_tables.is_empty()) {
            (None, _) => "none",
            (Some(_), true) => "sql",
            (Some(_), false) => "dynamodb",
        };
        // DATABASE_URL: local runs and tests point an Aurora function at a PostgreSQL of their own.
        let names = own
            .iter()
            .flat_map(|f| f.env.iter().map(|v| v.name.as_str()))
            .chain((store == "sql").then_some("DATABASE_URL"));
        for name in names {
            if !settings.iter().any(|x| x.name == name) {
                let table = dynamo_tables.iter().find(|t| t.env_var == name);
                let default = match (name, table) {
                    (_, Some(t)) => serverless::local_table_name(system, t),
                    ("SERVICE_NAME", _) => s.name.kebab.clone(),
                    ("LOG_LEVEL", _) => "INFO".into(),
                    ("DB_PORT", _) => "5432".into(),
                    _ => String::new(),
                };
                settings.push(TsSetting {
                    name: name.to_owned(),
                    default: json!(default).to_string(),
                });
            }
        }
        // A function package's src/events.ts is its publisher only: queue functions consume
        // (src/lambda.ts), so it has events to write when it publishes.
        ts.has_events = !s.publishes.is_empty();
        // Its tests create rows through the app alone (no other service answers them): an entity
        // whose references are looked up through another service gets no publishing test.
        ts.has_published_sample = ts
            .entities
            .iter()
            .any(|e| e.sample.is_some() && !e.publishes.is_empty() && e.references.is_empty());
        ts.functions = Some(TsFunctions {
            functions: own
                .iter()
                .map(|f| TsFunction {
                    name: f.name.raw.clone(),
                    module: f.name.snake.clone(),
                    handler: f.handler.clone(),
                    trigger: f.trigger,
                    topic: f.topic.as_ref().map(|t| t.raw.clone()),
                    env: f.env.iter().map(|v| v.name.clone()).collect(),
                })
                .collect(),
            has_queue: own.iter().any(|f| f.trigger == "queue"),
            has_http: own.iter().any(|f| f.trigger == "http"),
            settings,
            runtime: LAMBDA_RUNTIME,
            dependencies: pins(FUNCTION_DEPENDENCIES),
            dev_dependencies: pins(FUNCTION_DEV_DEPENDENCIES),
            store,
            tables,
        });
    }
}

/// The DynamoDB tables a service's functions touch, each naming the variable that holds its name.
fn ts_tables(s: &Service, tables: &[DynamoTable]) -> Vec<TsTable> {
    let setting = |field: &str| {
        tables
            .iter()
            .find(|t| t.field == field)
            .map_or_else(|| field.to_uppercase(), |t| t.env_var.clone())
    };
    serverless::tables_used(s, tables)
        .into_iter()
        .map(|t| TsTable {
            // The name its entity spec has (src/entities.ts).
            entity: Names::new(&t.entity).snake,
            setting: t.env_var.clone(),
            key: t.hash_key.clone(),
            key_type: t.hash_type,
            own: t.service == s.name.raw,
            generated: t
                .generated
                .iter()
                .map(|(column, how)| TsGenerated {
                    column: column.clone(),
                    how,
                })
                .collect(),
            indexes: t
                .indexes
                .iter()
                .map(|i| TsIndex {
                    name: i.name.clone(),
                    key: i.hash_key.clone(),
                    key_type: i.hash_type,
                    owner: i.owner,
                })
                .collect(),
            checks: t
                .checks
                .iter()
                .map(|c| TsCheck {
                    column: c.column.clone(),
                    setting: setting(&c.table_field),
                    key: c.key.clone(),
                })
                .collect(),
            referenced_by: t
                .referenced_by
                .iter()
                .map(|r| TsReferrer {
                    setting: setting(&r.table_field),
                    index: r.index.clone(),
                    column: r.column.clone(),
                })
                .collect(),
        })
        .collect()
}

fn pins(list: &[(&'static str, &'static str)]) -> Vec<Pin> {
    list.iter()
        .map(|&(name, version)| Pin { name, version })
        .collect()
}

fn camel(snake: &str) -> String {
    heck::ToLowerCamelCase::to_lower_camel_case(snake)
}

fn client(d: &crate::resolve::services::Dependency, entities: &[Entity]) -> TsClient {
    let operations: Vec<TsOperation> = d
        .client
        .operations
        .iter()
        .map(|o| TsOperation {
            method: camel(&o.name),
            operation_id: o.name.clone(),
            http_method: o.method,
            path: o
                .path
                .trim_end_matches("/{id}")
                .trim_end_matches('/')
                .to_owned(),
            kind: o.kind,
            entity: o.entity.clone(),
        })
        .collect();
    let mut types: Vec<TsType> = Vec::new();
    for o in &d.client.operations {
        if types.iter().any(|t| t.name == o.entity) {
            continue;
        }
        if let Some(e) = entities.iter().find(|e| e.name.pascal == o.entity) {
            types.push(TsType {
                name: e.name.pascal.clone(),
                fields: e.columns.iter().map(field).collect(),
            });
        }
    }
    TsClient {
        class: d.client.class.clone(),
        property: d.name.camel.clone(),
        env_var: d.env_var.clone(),
        operations,
        types,
    }
}

fn ts_type(c: &Column) -> &'static str {
    match (c.kind, c.json_schema_type) {
        // An integer column, or a reference to an integer key.
        (_, "integer") => "number",
        ("bool", _) => "boolean",
        ("json", _) => "unknown",
        _ => "string",
    }
}

fn field(c: &Column) -> TsField {
    TsField {
        name: c.name.clone(),
        ts_type: ts_type(c),
        nullable: c.nullable,
    }
}

fn rule(r: Option<&crate::resolve::auth::Rule>) -> TsRule {
    match r {
        Some(r) => TsRule {
            kind: r.kind,
            role: r.role.clone(),
        },
        None => TsRule {
            kind: "user",
            role: None,
        },
    }
}

fn entity(e: &Entity, all: &[Entity]) -> TsEntity {
    let pk = e.columns.iter().find(|c| c.pk);
    let parents = parents(e, all);
    let int_key = pk.is_some_and(|c| matches!(c.kind, "int" | "bigint"));
    TsEntity {
        name: e.name.snake.clone(),
        pascal: e.name.pascal.clone(),
        table: e.table.clone(),
        api_path: e.code.api_path.clone(),
        pk: e.pk.clone(),
        int_key,
        columns: e.columns.iter().map(|c| c.name.clone()).collect(),
        fields: e.columns.iter().map(field).collect(),
        create_schema: body_schema(e, false).to_string(),
        update_schema: body_schema(e, true).to_string(),
        key_schema: pk
            .map(|c| property(c, false, false))
            .unwrap_or(json!({}))
            .to_string(),
        read_rule: rule(e.code.auth.read.as_ref()),
        write_rule: rule(e.code.auth.write.as_ref()),
        owner: e.code.auth.owner_column.clone(),
        decimal_bounds: e
            .columns
            .iter()
            .filter(|c| c.kind == "decimal" && (c.minimum.is_some() || c.maximum.is_some()))
            .map(|c| DecimalBound {
                column: c.name.clone(),
                minimum: c.minimum.clone(),
                maximum: c.maximum.clone(),
            })
            .collect(),
        references: e
            .code
            .references
            .iter()
            .map(|r| TsReference {
                field: r.field.clone(),
                target: r.target.clone(),
                client: heck::ToLowerCamelCase::to_lower_camel_case(r.service.as_str()),
                method: camel(&r.operation),
            })
            .collect(),
        sample: sample(e, false),
        linked_sample: parents.as_ref().and_then(|_| sample(e, true)),
        parents: parents.unwrap_or_default(),
        publishes: e.code.publishes.iter().map(|t| t.raw.clone()).collect(),
        kinds: kinds(e),
        cache_prefix: e.code.cache_key_prefix.clone(),
        patch_column: e
            .columns
            .iter()
            .find(|c| {
                c.code.updatable
                    && !c.pk
                    && !c.unique
                    && c.reference.is_none()
                    && c.kind == "string"
                    && c.enum_values.is_empty()
                    && c.pattern.is_none()
                    && c.format.is_none()
                    // The test writes "changed" (7 characters).
                    && c.max_length.is_none_or(|n| n >= 7)
                    && c.min_length.is_none_or(|n| n <= 7)
            })
            .map(|c| c.name.clone()),
        unique: unique(e),
    }
}

fn unique(e: &Entity) -> Vec<TsUnique> {
    e.columns
        .iter()
        .filter(|c| c.unique && !c.pk && c.code.writable && matches!(c.kind, "string" | "text"))
        .map(|c| TsUnique {
            name: c.name.clone(),
            form: c.format.unwrap_or("text"),
            max_length: c.max_length.unwrap_or(255),
        })
        .collect()
}

/// The rows to create before `e` when its sample lacks only required foreign keys: one per such
/// field, of an entity that has a sample of its own. None when there is no such field, or one
/// of them cannot be filled that way (a reference to itself, or to a row that needs others).
fn parents(e: &Entity, all: &[Entity]) -> Option<Vec<TsParent>> {
    // The tests make rows through the app alone: a row whose references are looked up through
    // another service (its own or a parent's) cannot be made there.
    if sample(e, false).is_some() || !e.code.references.is_empty() {
        return None;
    }
    let mut out = Vec::new();
    for c in e.columns.iter().filter(|c| c.code.writable) {
        let Some(r) = c.reference.as_ref().filter(|r| r.foreign_key) else {
            continue;
        };
        if !e.code.required.contains(&c.name) {
            continue;
        }
        let target = all
            .iter()
            .find(|t| t.name.raw == r.entity && t.name.raw != e.name.raw)
            .filter(|t| t.code.references.is_empty())?;
        let int_key = target
            .columns
            .iter()
            .any(|k| k.pk && matches!(k.kind, "int" | "bigint"));
        out.push(TsParent {
            field: c.name.clone(),
            entity: target.name.snake.clone(),
            path: target.code.api_path.clone(),
            pk: target.pk.clone(),
            unknown_key: if int_key {
                "2147483000".into()
            } else {
                "\"00000000-0000-4000-8000-00000000dead\"".into()
            },
            sample: sample(target, false)?,
            unique: unique(target),
        });
    }
    (!out.is_empty()).then_some(out)
}

fn kinds(e: &Entity) -> TsKinds {
    let named = |wanted: &dyn Fn(&Column) -> bool| -> Vec<String> {
        e.columns
            .iter()
            .filter(|c| wanted(c))
            .map(|c| c.name.clone())
            .collect()
    };
    TsKinds {
        uuid: named(&|c| c.json_schema_format == Some("uuid")),
        bool: named(&|c| c.kind == "bool"),
        json: named(&|c| c.kind == "json"),
        timestamp: named(&|c| c.kind == "timestamp"),
    }
}

/// The create (or update) body's JSON Schema: the same properties, types and constraints as
/// the OpenAPI contract's `<Entity>Create` / `<Entity>Update`.
fn body_schema(e: &Entity, update: bool) -> Value {
    let mut props = Map::new();
    for c in &e.columns {
        let included = if update {
            c.code.updatable
        } else {
            c.code.writable
        };
        if included {
            props.insert(c.name.clone(), property(c, c.nullable || update, true));
        }
    }
    let mut schema =
        json!({ "type": "object", "additionalProperties": false, "properties": props });
    if !update {
        schema["required"] = json!(e.code.required);
    }
    schema
}

fn property(c: &Column, nullable: bool, input: bool) -> Value {
    let ty = c.json_schema_type;
    let mut p = Map::new();
    p.insert(
        "type".into(),
        if nullable {
            json!([ty, "null"])
        } else {
            json!(ty)
        },
    );
    match c.json_schema_format {
        // A decimal travels as a string of digits (exact); ajv knows no `decimal` format.
        Some("decimal") => {
            p.insert("pattern".into(), json!(r"^-?\d+(\.\d+)?$"));
        }
        Some(f) => {
            p.insert("format".into(), json!(f));
        }
        None => {}
    }
    if let (Some(n), true) = (c.min_length, input) {
        p.insert("minLength".into(), json!(n));
    }
    if let (Some(n), "string") = (c.max_length, c.kind) {
        p.insert("maxLength".into(), json!(n));
    }
    if let Some(pat) = &c.pattern {
        p.insert("pattern".into(), json!(pat));
    }
    if c.kind != "decimal" {
        if let Some(v) = c.minimum.as_deref().and_then(number) {
            p.insert("minimum".into(), v);
        }
        if let Some(v) = c.maximum.as_deref().and_then(number) {
            p.insert("maximum".into(), v);
        }
    }
    if !c.enum_values.is_empty() && input {
        let mut values: Vec<Value> = c.enum_values.iter().map(|v| json!(v)).collect();
        if nullable {
            values.push(Value::Null);
        }
        p.insert("enum".into(), Value::Array(values));
    }
    Value::Object(p)
}

/// A bound as a JSON number: an integer when it is one (`1`, not `1.0`).
fn number(v: &str) -> Option<Value> {
    v.parse::<i64>()
        .map(Value::from)
        .ok()
        .or_else(|| v.parse::<f64>().ok().map(Value::from))
}

/// A valid create payload, when every required field can be given without another row;
/// `linked`: leaving out the foreign keys (a test fills them in with rows it creates first).
fn sample(e: &Entity, linked: bool) -> Option<String> {
    let mut body = Map::new();
    for c in e.columns.iter().filter(|c| c.code.writable) {
        let required = e.code.required.contains(&c.name);
        if c.reference.as_ref().is_some_and(|r| r.foreign_key) {
            if required && !linked {
                return None;
            }
            continue;
        }
        if !required && c.nullable {
            continue;
        }
        body.insert(c.name.clone(), sample_value(c)?);
    }
    Some(Value::Object(body).to_string())
}

/// A whole row as the API reads it (every column; null where nullable), for an event's `data`.
fn read_sample(e: &Entity) -> Option<String> {
    let mut row = Map::new();
    for c in &e.columns {
        let value = if c.nullable {
            Value::Null
        } else {
            match sample_value(c)? {
                Value::String(text) if c.kind == "string" => {
                    if c.min_length.is_some_and(|n| n as usize > text.len()) {
                        return None;
                    }
                    let max = c.max_length.map_or(text.len(), |n| n as usize);
                    json!(text.chars().take(max).collect::<String>())
                }
                v => v,
            }
        };
        row.insert(c.name.clone(), value);
    }
    Some(Value::Object(row).to_string())
}

fn sample_value(c: &Column) -> Option<Value> {
    if let Some(first) = c.enum_values.first() {
        return Some(json!(first));
    }
    if c.pattern.is_some() && c.format.is_none() {
        // A user's pattern: no value is known to match it.
        return None;
    }
    let low = c.minimum.as_ref().and_then(|v| v.parse::<f64>().ok());
    Some(match (c.kind, c.format) {
        (_, Some("email")) => json!("someone@example.com"),
        (_, Some("url")) => json!("https://example.com/a"),
        _ if c.json_schema_format == Some("uuid") => json!("00000000-0000-4000-8000-000000000001"),
        _ if c.json_schema_type == "integer" => {
            json!(low.map_or(1, |v| v.ceil() as i64).max(1))
        }
        ("decimal", _) => json!(format!("{}", low.map_or(1.0, |v| v.max(1.0)))),
        ("bool", _) => json!(true),
        ("timestamp", _) => json!("2024-01-02T03:04:05Z"),
        ("date", _) => json!("2024-01-02"),
        ("json", _) => json!({ "key": "value" }),
        _ => json!("sample"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `text` (a package-lock.json) declares exactly `pins` in each section and locks each
    /// at its version.
    fn assert_locks(text: &str, sections: [(&str, &[(&str, &str)]); 2]) {
        let lock: Value = serde_json::from_str(text).expect("the lockfile template is JSON");
        let root = &lock["packages"][""];
        for (section, pins) in sections {
            let declared = root[section].as_object().expect(section);
            assert_eq!(declared.len(), pins.len(), "{section}");
            for (name, version) in pins {
                assert_eq!(declared[*name], json!(version), "{name} in {section}");
                let locked = &lock["packages"][format!("node_modules/{name}")]["version"];
                assert_eq!(locked, &json!(version), "{name} locked at another version");
            }
        }
    }

    /// The embedded lockfile was produced once with npm for exactly these pins: a changed pin
    /// needs a new lockfile (see the README's design notes), or `npm ci` refuses the tree.
    #[test]
    fn the_embedded_lockfile_locks_every_pin_at_its_version() {
        let text = include_str!(
            "../../../templates/lang/typescript/services/__service__/package-lock.json"
        );
        assert_locks(
            text,
            [
                ("dependencies", DEPENDENCIES),
                ("devDependencies", DEV_DEPENDENCIES),
            ],
        );
    }

    /// The functions' lockfile, likewise, for the functions' pins.
    #[test]
    fn the_functions_lockfile_locks_every_function_pin_at_its_version() {
        let text = include_str!("../../../templates/lang/typescript/_functions/package-lock.json");
        assert_locks(
            text,
            [
                ("dependencies", FUNCTION_DEPENDENCIES),
                ("devDependencies", FUNCTION_DEV_DEPENDENCIES),
            ],
        );
    }

    /// In a serverless system a TypeScript service's functions run on Node.js from its own
    /// package, with exactly their environment as settings; the Python app's settings leave
    /// the TypeScript functions' variables out.
    #[test]
    fn typescript_functions_get_their_runtime_package_and_settings() {
        let src = "version: 1\nname: shop\ntype: serverless\nservices:\n  users: { language: python, database: db, entities: [User] }\n  notes: { language: typescript, database: db2, entities: [Note], depends_on: [users], consumes: [user.made] }\nentities:\n  User:\n    fields:\n      id: uuid pk\n  Note:\n    fields:\n      id: uuid pk\n      user_id: ref User\ndatabases: { db: {}, db2: {} }\nmessaging: { broker: sqs, topics: { user.made: {} } }\n";
        let bp = crate::blueprint::load(src, "t.yaml").blueprint.unwrap();
        let m = crate::resolve::resolve(&bp, crate::assets::presets()).unwrap();
        let f = |n: &str| m.functions.iter().find(|f| f.name.raw == n).unwrap();
        assert_eq!(
            (f("users-api").runtime, f("users-api").code_dir.as_str()),
            ("python3.12", "functions")
        );
        assert_eq!(
            (f("notes-api").runtime, f("notes-api").code_dir.as_str()),
            (LAMBDA_RUNTIME, "services/notes")
        );
        assert_eq!(f("notes-user-made").handler, "notes_user_made.handler");
        let notes = m.services.iter().find(|s| s.name.raw == "notes").unwrap();
        let fns = notes
            .ts
            .as_ref()
            .unwrap()
            .functions
            .as_ref()
            .expect("functions of notes");
        let names: Vec<&str> = fns.settings.iter().map(|s| s.name.as_str()).collect();
        assert!(
            names.contains(&"USERS_URL") && names.contains(&"DATABASE_URL"),
            "{names:?}"
        );
        assert!(fns.has_queue);
        let python = &m.serverless.as_ref().unwrap().settings;
        assert!(
            !python.iter().any(|s| s.name == "USERS_URL"),
            "a TypeScript function's call"
        );
        let packages: Vec<&str> = m
            .serverless
            .as_ref()
            .unwrap()
            .packages
            .iter()
            .map(|p| p.file.as_str())
            .collect();
        assert_eq!(packages, ["functions.zip", "notes-functions.zip"]);
    }

    /// On DynamoDB a TypeScript function's store is the model's tables: its own (keyed by its
    /// entity spec's name) and those it checks or is referred to from, each by the variable
    /// Terraform sets, named by default as the Python functions name it; no SQL settings.
    #[test]
    fn typescript_functions_on_dynamodb_get_the_model_tables_by_their_variables() {
        let src = crate::assets::example("serverless-notes").unwrap().replace(
            "  notes:\n    language: python",
            "  notes:\n    language: typescript",
        );
        let bp = crate::blueprint::load(&src, "t.yaml").blueprint.unwrap();
        let m = crate::resolve::resolve(&bp, crate::assets::presets()).unwrap();
        let notes = m.services.iter().find(|s| s.name.raw == "notes").unwrap();
        let fns = notes.ts.as_ref().unwrap().functions.as_ref().unwrap();
        assert_eq!(fns.store, "dynamodb");
        let tables: Vec<(&str, &str, bool)> = fns
            .tables
            .iter()
            .map(|t| (t.entity.as_str(), t.setting.as_str(), t.own))
            .collect();
        assert_eq!(
            tables,
            [
                ("note", "NOTE_TABLE", true),
                ("comment", "COMMENT_TABLE", true)
            ]
        );
        let comment = &fns.tables[1];
        assert_eq!(
            (
                comment.checks[0].column.as_str(),
                comment.checks[0].setting.as_str()
            ),
            ("note_id", "NOTE_TABLE")
        );
        let note = &fns.tables[0];
        assert_eq!(note.referenced_by[0].setting, "COMMENT_TABLE");
        assert!(note.indexes.iter().any(|i| i.owner && i.key == "author_id"));
        let setting = |n: &str| fns.settings.iter().find(|s| s.name == n);
        assert_eq!(setting("NOTE_TABLE").unwrap().default, "\"notebook-notes\"");
        assert!(setting("DATABASE_URL").is_none() && setting("DB_HOST").is_none());
    }

    /// A TypeScript service's functions have events to write (src/events.ts) when it publishes,
    /// read from the bus its HTTP function is given; consuming alone is its queue functions'.
    #[test]
    fn typescript_functions_publish_on_the_bus_their_function_is_given() {
        let src = "version: 1\nname: shop\ntype: serverless\nservices:\n  users: { language: typescript, database: db, entities: [User], publishes: [user.made] }\n  notes: { language: typescript, consumes: [user.made] }\nentities:\n  User:\n    fields:\n      id: uuid pk\ndatabases: { db: {} }\nmessaging: { broker: sqs, topics: { user.made: {} } }\n";
        let bp = crate::blueprint::load(src, "t.yaml").blueprint.unwrap();
        let m = crate::resolve::resolve(&bp, crate::assets::presets()).unwrap();
        let ts = |n: &str| {
            m.services
                .iter()
                .find(|s| s.name.raw == n)
                .and_then(|s| s.ts.as_ref())
                .unwrap()
        };
        assert!(ts("users").has_events && !ts("notes").has_events);
        let settings = &ts("users").functions.as_ref().unwrap().settings;
        assert!(settings.iter().any(|s| s.name == "EVENT_BUS_NAME"));
        let api = m
            .functions
            .iter()
            .find(|f| f.name.raw == "users-api")
            .unwrap();
        assert!(api.env.iter().any(|v| v.name == "EVENT_BUS_NAME"));
        assert!(
            api.statements
                .iter()
                .any(|s| s.actions == ["events:PutEvents"])
        );
    }

    /// A reference to an integer key is an integer in every contract (it was a string: events of
    /// the MySQL monolith fixture were dead-lettered by their own schema).
    #[test]
    fn a_reference_to_an_integer_key_is_an_integer() {
        let src = "version: 1\nname: shop\nservices:\n  s: { language: typescript, database: db, entities: [Item, Line] }\nentities:\n  Item:\n    fields:\n      id: bigint pk\n  Line:\n    fields:\n      id: uuid pk\n      item_id: ref Item\ndatabases: { db: {} }\n";
        let bp = crate::blueprint::load(src, "t.yaml").blueprint.unwrap();
        let m = crate::resolve::resolve(&bp, crate::assets::presets()).unwrap();
        let line = m.entities.iter().find(|e| e.name.pascal == "Line").unwrap();
        let col = line.columns.iter().find(|c| c.name == "item_id").unwrap();
        assert_eq!((col.json_schema_type, col.proto_type), ("integer", "int64"));
        let ts = m.services[0].ts.as_ref().unwrap();
        let e = ts.entities.iter().find(|e| e.pascal == "Line").unwrap();
        let f = e.fields.iter().find(|f| f.name == "item_id").unwrap();
        assert_eq!(f.ts_type, "number");
        let create: Value = serde_json::from_str(&e.create_schema).unwrap();
        assert_eq!(create["properties"]["item_id"]["type"], json!("integer"));
    }

    /// A TypeScript monolith's app has the TypeScript view, with its modules; an entity whose
    /// only missing sample fields are foreign keys gets the rows to create first.
    #[test]
    fn a_typescript_monolith_app_lists_its_modules_and_the_rows_its_keys_need() {
        let src = "version: 1\nname: shop\ntype: monolith\nservices:\n  items: { language: typescript, database: db, entities: [Item] }\n  order-lines: { language: typescript, depends_on: [items], database: db, entities: [Line] }\nentities:\n  Item:\n    fields:\n      id: bigint pk\n      code: string(9) unique\n  Line:\n    fields:\n      id: uuid pk\n      item_id: ref Item\n      qty: int min 2\ndatabases: { db: {} }\n";
        let bp = crate::blueprint::load(src, "t.yaml").blueprint.unwrap();
        let m = crate::resolve::resolve(&bp, crate::assets::presets()).unwrap();
        let app = &m.deployables[0];
        assert!(app.is_typescript);
        assert!(app.python.runtime.is_empty(), "no Python packages");
        let ts = app.ts.as_ref().expect("the app's TypeScript view");
        let modules: Vec<(&str, &str)> = ts
            .modules
            .iter()
            .map(|m| (m.file.as_str(), m.import.as_str()))
            .collect();
        assert_eq!(
            modules,
            [
                ("items", "itemsEntities"),
                ("order-lines", "orderLinesEntities")
            ]
        );
        assert!(ts.clients.is_empty(), "modules call each other in-process");
        let line = ts.entities.iter().find(|e| e.pascal == "Line").unwrap();
        assert_eq!(line.sample, None);
        assert_eq!(line.linked_sample.as_deref(), Some(r#"{"qty":2}"#));
        let parent = &line.parents[0];
        assert_eq!(
            (
                parent.field.as_str(),
                parent.path.as_str(),
                parent.unknown_key.as_str()
            ),
            ("item_id", "/api/items", "2147483000")
        );
        assert_eq!(parent.unique[0].name, "code");
        let item = ts.entities.iter().find(|e| e.pascal == "Item").unwrap();
        assert!(item.parents.is_empty() && item.linked_sample.is_none());
    }

    /// A consumer's tests build an event of each consumed topic from a whole row of its
    /// entity (every column; null where nullable), cut to the columns' lengths.
    #[test]
    fn a_consumed_topic_gets_a_whole_row_for_its_tests() {
        let src = "version: 1\nname: shop\nservices:\n  p: { database: a, entities: [Item], publishes: [item.made] }\n  s: { language: typescript, database: b, consumes: [item.made] }\nentities:\n  Item:\n    fields:\n      id: uuid pk\n      code: string(3)\n      note: text nullable\n      qty: int min 2\ndatabases: { a: {}, b: {} }\nmessaging: { broker: rabbitmq, topics: { item.made: {} } }\n";
        let bp = crate::blueprint::load(src, "t.yaml").blueprint.unwrap();
        let m = crate::resolve::resolve(&bp, crate::assets::presets()).unwrap();
        let s = m.services.iter().find(|s| s.name.raw == "s").unwrap();
        let ts = s.ts.as_ref().unwrap();
        assert!(ts.has_events && ts.has_consumed_sample);
        let sample: Value = serde_json::from_str(ts.consumed[0].sample.as_ref().unwrap()).unwrap();
        assert_eq!(
            sample,
            json!({ "id": "00000000-0000-4000-8000-000000000001", "code": "sam", "note": null, "qty": 2 })
        );
    }

    #[test]
    fn request_schemas_follow_the_columns_constraints() {
        let src = "version: 1\nname: shop\nservices:\n  s: { language: typescript, database: db, entities: [Item] }\nentities:\n  Item:\n    fields:\n      id: uuid pk\n      qty: int min 1 max 9\n      price: decimal(6,2) min 0.5\n      mail: string(99) email unique\ndatabases: { db: {} }\n";
        let bp = crate::blueprint::load(src, "t.yaml").blueprint.unwrap();
        let m = crate::resolve::resolve(&bp, crate::assets::presets()).unwrap();
        let ts = m.services[0].ts.as_ref().expect("a typescript view");
        let e = &ts.entities[0];
        let create: Value = serde_json::from_str(&e.create_schema).unwrap();
        assert_eq!(create["additionalProperties"], json!(false));
        assert_eq!(create["properties"]["qty"]["minimum"], json!(1));
        assert_eq!(create["properties"]["qty"]["maximum"], json!(9));
        assert_eq!(create["properties"]["mail"]["format"], json!("email"));
        assert!(
            create["properties"].get("id").is_none(),
            "the key is the server's"
        );
        let update: Value = serde_json::from_str(&e.update_schema).unwrap();
        assert_eq!(
            update["properties"]["qty"]["type"],
            json!(["integer", "null"])
        );
        assert!(update.get("required").is_none());
        assert_eq!(e.decimal_bounds[0].minimum.as_deref(), Some("0.5"));
        assert_eq!(e.unique[0].form, "email");
        assert!(
            m.services[0].python.runtime.is_empty(),
            "no Python packages"
        );
    }
}
