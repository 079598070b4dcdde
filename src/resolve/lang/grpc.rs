//! The gRPC side of a generated service that declares `grpc`, in either language: the contract
//! it serves (the same `.proto` as `proto/<service>/v1/<service>.proto`, copied beside its code
//! so that its image holds it) and, per owned entity, the RPC names and the fields whose proto
//! form differs from the HTTP API's JSON (timestamps, structs, enums). Each RPC is answered by
//! the HTTP route it stands for (`src/grpc.ts`, `app/grpc_api.py`). Pure; filled by
//! `lang::lower` into `code.grpc`, which the TypeScript view copies.

use crate::resolve::data::Entity;
use crate::resolve::services::Service;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct GrpcApi {
    /// The contract, relative to the service's folder (`proto/orders/v1/orders.proto`).
    pub proto_file: String,
    /// The full name of the proto service (`orders.v1.OrdersService`).
    pub service: String,
    /// One set of RPCs per owned entity, in the order of the service's entities.
    pub entities: Vec<GrpcRpcs>,
}

/// The four RPCs of one entity and how its message differs from its JSON row.
#[derive(Debug, Clone, Serialize)]
pub struct GrpcRpcs {
    /// The entity's snake name (`src/entities.ts` names its spec so).
    pub entity: String,
    /// The HTTP route the RPCs stand for (`/api/orders`).
    pub path: String,
    /// The field of the Get and Create responses holding the row (`order_item`).
    pub field: String,
    pub get: String,
    pub list: String,
    pub create: String,
    pub delete: String,
    pub pk: String,
    /// `google.protobuf.Timestamp` columns (ISO 8601 text in JSON).
    pub timestamps: Vec<String>,
    /// `google.protobuf.Struct` columns (a JSON object).
    pub structs: Vec<String>,
    /// Enum columns: proto value names against the JSON values, in the same order.
    pub enums: Vec<GrpcEnum>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GrpcEnum {
    pub column: String,
    /// `(proto name, JSON value)`; the proto's `_UNSPECIFIED` zero value has no JSON value.
    pub values: Vec<(String, String)>,
}

/// The gRPC view of a service that serves gRPC (None otherwise).
pub fn grpc(s: &Service, entities: &[Entity]) -> Option<GrpcApi> {
    if !s.grpc || !s.generated || s.is_gateway {
        return None;
    }
    let module = &s.name.snake;
    Some(GrpcApi {
        proto_file: format!("proto/{module}/v1/{module}.proto"),
        service: format!("{module}.v1.{}Service", s.name.pascal),
        entities: s
            .code
            .router_ids
            .iter()
            .map(|&i| rpcs(&entities[i]))
            .collect(),
    })
}

fn rpcs(e: &Entity) -> GrpcRpcs {
    let columns = |t: &str| {
        e.columns
            .iter()
            .filter(|c| c.proto_type == t)
            .map(|c| c.name.clone())
            .collect()
    };
    GrpcRpcs {
        entity: e.name.snake.clone(),
        field: e.name.snake.clone(),
        path: e.code.api_path.clone(),
        get: e.code.proto.get.clone(),
        list: e.code.proto.list.clone(),
        create: e.code.proto.create.clone(),
        delete: e.code.proto.delete.clone(),
        pk: e.pk.clone(),
        timestamps: columns("google.protobuf.Timestamp"),
        structs: columns("google.protobuf.Struct"),
        enums: e
            .columns
            .iter()
            .filter_map(|c| {
                let en = c.code.proto_enum.as_ref()?;
                Some(GrpcEnum {
                    column: c.name.clone(),
                    values: en
                        .values
                        .iter()
                        .skip(1)
                        .cloned()
                        .zip(c.enum_values.iter().cloned())
                        .collect(),
                })
            })
            .collect(),
    }
}
