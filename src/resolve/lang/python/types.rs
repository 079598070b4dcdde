//! The Python code-generation fields of the model (`code` of each column, entity and service,
//! a caller's `client`, verified references): their shape only. [`super::code`] fills them in
//! from the resolved entities and services; keeping the types apart lets `data` and `services`
//! hold them without importing the code that reads `data` and `services`.

use crate::resolve::Names;
use serde::Serialize;

/// Per column: how it is spelled in Python, Pydantic and tests.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ColumnCode {
    /// Type inside `Mapped[...]` (without `| None`).
    pub model_type: String,
    /// Pydantic field type (without `| None`): the type itself, or the name of its alias
    /// when it carries constraints.
    pub schema_type: String,
    /// `<Entity><Field>Value = Annotated[...]`: the constrained type, defined once per column.
    pub schema_alias: Option<String>,
    /// A Python expression giving a valid value for a JSON payload (tests, load tests).
    pub sample: String,
    /// Digits of a decimal column.
    pub precision: Option<u32>,
    pub scale: Option<u32>,
    /// Part of the create payload (not server generated).
    pub writable: bool,
    /// The column's type in the gRPC contract: `proto_type`, or its enum's name.
    pub proto_field_type: String,
    /// An enum column's proto enum (`OrderStatus`: `ORDER_STATUS_UNSPECIFIED = 0`, then one
    /// value per blueprint value, prefixed by the type as the proto style guide asks).
    pub proto_enum: Option<ProtoEnum>,
    /// Part of the update payload: writable and not moved by the event flow (`auth`).
    pub updatable: bool,
    /// Compared after a round trip in generated tests (exact JSON equality holds).
    pub comparable: bool,
    /// Values the API refuses for this column (generated input tests).
    pub invalid: Vec<InvalidValue>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct InvalidValue {
    /// Test id: `<column>-<rule>` (`total-below-min`).
    pub case: String,
    /// A Python expression for the value.
    pub value: String,
}

/// Per entity: HTTP path, events and the field generated tests update.
#[derive(Debug, Clone, Default, Serialize)]
pub struct EntityCode {
    /// Collection path of its CRUD endpoints, under the owner's gateway route when it has one
    /// (`/api/orders`, `/api/orders/order-items`, `/api/identity/accounts`).
    pub api_path: String,
    /// Reachable through the gateway (its owner is the target of a route).
    pub public: bool,
    /// The path lies under another entity's collection path: its routes are registered first.
    pub nested: bool,
    /// Topics published when one is created.
    pub publishes: Vec<Names>,
    /// A writable, non-unique column a test can change with PATCH, and a new value for it.
    pub patch_column: Option<String>,
    pub patch_value: Option<String>,
    /// Columns a create payload must carry (writable, not nullable, no default).
    pub required: Vec<String>,
    /// Unique writable columns (a second insert with the same value is a 409).
    pub unique_columns: Vec<String>,
    /// Same-database references: the parent entities a test creates first.
    pub parents: Vec<Parent>,
    /// References to entities served through the gateway (any database): the rows an
    /// end-to-end or load test creates first, since references may be verified by their owner.
    pub gateway_parents: Vec<Parent>,
    /// gRPC message and RPC names.
    pub proto: ProtoNames,
    /// References checked through a dependency's API before a create or update writes.
    pub references: Vec<VerifiedRef>,
    /// Cache-aside for reads by id when its owner has a `cache:`: keys are
    /// `<prefix>:<id>` with the prefix `<service>:<table>`.
    pub cache_key_prefix: Option<String>,
    /// Who may read and write, whose rows they are, what PATCH cannot change; see `auth`.
    pub auth: crate::resolve::auth::EntityAuth,
}

/// A `ref` field whose target is owned by a service this one calls (microservices): verified
/// with `GET <env_var>/<path>/{id}` through the typed client before anything is written.
#[derive(Debug, Clone, Default, Serialize)]
pub struct VerifiedRef {
    /// The entity holding the field, and the field (`Order`, `user_id`).
    pub entity: String,
    pub field: String,
    /// The referenced entity (`User`), named in the 422 message.
    pub target: String,
    /// The dependency owning it (`users`), the variable holding its address (`USERS_URL`) and
    /// the collection path of the target in its API (`/api/users`).
    pub service: String,
    pub env_var: String,
    pub path: String,
    /// The typed client's method doing the lookup (`get_user`).
    pub operation: String,
    /// The key is an integer (else a UUID): what a generated test sends as an unknown id.
    pub int_key: bool,
}

/// The typed client of one dependency: one method per endpoint of the callee, named after its
/// OpenAPI operation ids, so that a contract test can match them against its `openapi.yaml`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ClientCode {
    /// Python class (`UsersClient`) and the FastAPI dependency returning it (`users_client`).
    pub class: String,
    pub provider: String,
    pub operations: Vec<ClientOperation>,
    /// The callee's contract, relative to the `services/` folder (`users/openapi.yaml`).
    pub openapi: String,
    /// Fields verified through it (`Order.user_id`); empty when no field refers to the callee's
    /// entities (the validator warns: nothing calls it yet).
    pub verifies: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ClientOperation {
    /// Method name, equal to the callee's operation id (`get_user`).
    pub name: String,
    /// HTTP method and path template (`GET`, `/api/users/{id}`).
    pub method: &'static str,
    pub path: String,
    /// `get`, `list`, `create`, `update` or `delete`: the shape of the Python method.
    pub kind: &'static str,
    pub entity: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Parent {
    pub column: String,
    /// The parent entity's name, and its snake form (helper names in tests).
    pub entity: String,
    pub snake: String,
}

/// A proto enum: its type name and its value names, numbered from 0 (the unspecified one).
#[derive(Debug, Clone, Default, Serialize)]
pub struct ProtoEnum {
    pub name: String,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ProtoNames {
    pub message: String,
    pub get: String,
    pub list: String,
    pub create: String,
    pub delete: String,
}

/// Per service: Python import lines (standard library) for its models and schemas, and the
/// order its entity routers are registered in.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ServiceCode {
    pub model_imports: Vec<String>,
    pub schema_imports: Vec<String>,
    /// Whether `pydantic.Field` is needed by the schemas.
    pub schema_needs_field: bool,
    /// Whether a writable column has a constrained type alias printed above the schemas.
    pub schema_has_alias: bool,
    /// Whether the schemas refuse NUL characters in text (`reject_nul`) or inside JSON values
    /// (`reject_nul_in_json`): both need `pydantic.AfterValidator`.
    pub schema_needs_nul_check: bool,
    pub schema_needs_json_nul_check: bool,
    /// Whether the generated input tests compute a decimal out of bounds.
    pub input_tests_need_decimal: bool,
    /// Owned entities: nested paths first, so `/api/orders/order-items` wins over
    /// `/api/orders/{id}`.
    pub router_order: Vec<String>,
    /// The same order as indices into `Model::entities`.
    pub router_ids: Vec<usize>,
    /// Those of them read through the cache (cache-aside), in the same order.
    pub cached_ids: Vec<usize>,
    /// `import google/protobuf/...` lines its proto file needs.
    pub proto_imports: Vec<String>,
    /// Names the routes import from `app.auth` (`PUBLIC`, `USER`, `role`), sorted.
    pub auth_imports: Vec<String>,
    /// Payload helpers of entities whose rows have owners (`order_payload`), sorted: what
    /// tests/test_auth.py imports from tests/test_api.py.
    pub owned_payloads: Vec<String>,
    /// The gRPC API it serves beside (or instead of) HTTP, when it declares `grpc`
    /// (`app/grpc_api.py`, TypeScript's `src/grpc.ts`); set by `lang::lower`.
    pub grpc: Option<super::super::grpc::GrpcApi>,
}
