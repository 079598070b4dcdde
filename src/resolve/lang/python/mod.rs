//! Python (FastAPI) lowering: the `code` fields of columns, entities and services ([`types`],
//! filled in by [`code`]) and the pinned packages of a service ([`deps`]).

pub mod code;
pub mod deps;
pub mod types;
