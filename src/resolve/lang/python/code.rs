//! Code-generation details of the model for the Python services, their API contracts and
//! protobuf files: type annotations, import lines, sample values for generated tests, the HTTP
//! path of each entity's CRUD endpoints and which events its creation publishes.
//!
//! Input: the entities and services resolved by `data` and `services`. Output: the `code`
//! field of each column, entity and service filled in. Pure and deterministic: everything is
//! derived from names and types, in blueprint order.

use crate::blueprint::{fields, pattern};
use crate::resolve::Names;
use crate::resolve::data::{Column, Database, Entity};
use crate::resolve::services::Service;
use std::collections::{BTreeSet, HashMap};

pub use super::types::{
    ClientCode, ClientOperation, ColumnCode, EntityCode, InvalidValue, Parent, ProtoEnum,
    ProtoNames, ServiceCode, VerifiedRef,
};

pub fn enrich_columns(entities: &mut [Entity]) {
    for e in entities.iter_mut() {
        for c in &mut e.columns {
            c.code = column_code(c);
            c.code.proto_enum = proto_enum(&e.name, c);
            if let Some(en) = &c.code.proto_enum {
                c.code.proto_field_type = en.name.clone();
            }
            if let Some(inner) = c
                .code
                .schema_type
                .strip_prefix("Annotated[")
                .and_then(|t| t.strip_suffix(']'))
            {
                let alias = format!(
                    "{}{}Value",
                    e.name.pascal,
                    crate::resolve::Names::new(&c.name).pascal
                );
                c.code.schema_alias = Some(alias_definition(&alias, inner));
                c.code.schema_type = alias;
            }
        }
    }
}

/// The proto enum of an enum column: named by the entity and the column, its values prefixed by
/// the enum's name in upper snake case (proto enums share one namespace per package).
fn proto_enum(entity: &Names, c: &Column) -> Option<ProtoEnum> {
    if c.enum_values.is_empty() {
        return None;
    }
    let prefix = format!("{}_{}", entity.upper, Names::new(&c.name).upper);
    let values = std::iter::once(format!("{prefix}_UNSPECIFIED"))
        .chain(
            c.enum_values
                .iter()
                .map(|v| format!("{prefix}_{}", Names::new(v).upper)),
        )
        .collect();
    Some(ProtoEnum {
        name: format!("{}{}", entity.pascal, Names::new(&c.name).pascal),
        values,
    })
}

/// `Name = Annotated[...]` spread one part per line with trailing commas: the layout a Python
/// formatter keeps (a magic trailing comma), however long a pattern makes the line.
fn alias_definition(alias: &str, inner: &str) -> String {
    let mut out = format!("{alias} = Annotated[\n");
    for part in split_args(inner) {
        match part
            .strip_prefix("Field(")
            .and_then(|a| a.strip_suffix(')'))
        {
            Some(args) => {
                out.push_str("    Field(\n");
                for arg in split_args(args) {
                    out.push_str(&format!("        {arg},\n"));
                }
                out.push_str("    ),\n");
            }
            None => out.push_str(&format!("    {part},\n")),
        }
    }
    out.push(']');
    out
}

/// The top-level comma-separated parts of `args` (commas inside brackets or strings stay).
fn split_args(args: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start, mut quoted) = (0i32, 0usize, false);
    let bytes = args.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'"' if i == 0 || bytes[i - 1] != b'\\' => quoted = !quoted,
            b'(' | b'[' | b'{' if !quoted => depth += 1,
            b')' | b']' | b'}' if !quoted => depth -= 1,
            b',' if !quoted && depth == 0 => {
                out.push(args[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(args[start..].trim());
    out
}

fn column_code(c: &Column) -> ColumnCode {
    let (precision, scale) = decimal_digits(&c.sql_type);
    let model_type = match c.kind {
        "json" => "dict[str, Any]".to_owned(),
        _ => c.py_type.clone(),
    };
    let schema_type = schema_type(c, &model_type, precision, scale);
    let sample = match c.kind {
        "uuid" => "str(uuid.uuid4())".to_owned(),
        "ref" if c.py_type == "int" => "1".to_owned(),
        "ref" => "str(uuid.uuid4())".to_owned(),
        "string" | "text" if c.pattern.is_some() => pattern_sample(c),
        "string" => format!("unique_text({})", c.max_length.unwrap_or(255).min(32)),
        "text" => "\"some text\"".to_owned(),
        "int" | "bigint" => int_sample(c, 7).to_string(),
        "decimal" => {
            let (p, s) = (precision.unwrap_or(12), scale.unwrap_or(2));
            let int_part = if p > s { "1" } else { "0" };
            let frac = if s > 0 { ".5" } else { "" };
            format!("\"{}\"", decimal_sample(c, &format!("{int_part}{frac}")))
        }
        "bool" => "True".to_owned(),
        "timestamp" => "\"2030-01-01T00:00:00Z\"".to_owned(),
        "date" => "\"2030-01-01\"".to_owned(),
        "json" => "{\"key\": \"value\"}".to_owned(),
        "enum" => format!("\"{}\"", c.enum_values.first().cloned().unwrap_or_default()),
        _ => "\"x\"".to_owned(),
    };
    ColumnCode {
        model_type,
        schema_type,
        schema_alias: None,
        sample,
        precision,
        scale,
        writable: !c.server_generated,
        proto_field_type: c.proto_type.to_owned(),
        proto_enum: None,
        updatable: !c.server_generated,
        comparable: matches!(
            c.kind,
            "uuid"
                | "ref"
                | "string"
                | "text"
                | "int"
                | "bigint"
                | "bool"
                | "date"
                | "json"
                | "enum"
        ),
        invalid: invalid_values(c, scale.unwrap_or(0)),
    }
}

/// The Pydantic type of a writable column, with every rule of the blueprint: lengths, bounds,
/// pattern (and the `format` it stands for), and the NUL check PostgreSQL needs (it cannot
/// store `\x00`, so such input is a 422, not a failed INSERT).
fn schema_type(c: &Column, model_type: &str, precision: Option<u32>, scale: Option<u32>) -> String {
    let mut args: Vec<String> = Vec::new();
    let py_num = |n: &str| {
        if c.kind == "decimal" {
            format!("Decimal(\"{n}\")")
        } else {
            n.to_owned()
        }
    };
    match c.kind {
        "string" | "text" => {
            if let Some(n) = c.min_length {
                args.push(format!("min_length={n}"));
            }
            if c.kind == "string" {
                args.push(format!("max_length={}", c.max_length.unwrap_or(255)));
            }
            if let Some(p) = &c.pattern {
                args.push(format!("pattern={}", py_str(p)));
            }
            if let Some(f) = c.json_schema_format {
                args.push(format!("json_schema_extra={{\"format\": \"{f}\"}}"));
            }
        }
        "int" | "bigint" => {
            let bits = if c.kind == "int" { 31 } else { 63 };
            args.push(match &c.minimum {
                Some(n) => format!("ge={n}"),
                None => format!("ge=-(2**{bits})"),
            });
            args.push(match &c.maximum {
                Some(n) => format!("le={n}"),
                None => format!("lt=2**{bits}"),
            });
        }
        "decimal" => {
            args.push(format!("max_digits={}", precision.unwrap_or(12)));
            args.push(format!("decimal_places={}", scale.unwrap_or(2)));
            if let Some(n) = &c.minimum {
                args.push(format!("ge={}", py_num(n)));
            }
            if let Some(n) = &c.maximum {
                args.push(format!("le={}", py_num(n)));
            }
        }
        "enum" => {
            return format!(
                "Literal[{}]",
                c.enum_values
                    .iter()
                    .map(|v| format!("\"{v}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        _ => {}
    }
    let mut parts = vec![match c.kind {
        "string" | "text" => "str".to_owned(),
        _ => model_type.to_owned(),
    }];
    if !args.is_empty() {
        parts.push(format!("Field({})", args.join(", ")));
    }
    match c.kind {
        "string" | "text" => parts.push("AfterValidator(reject_nul)".into()),
        "json" => parts.push("AfterValidator(reject_nul_in_json)".into()),
        _ => {}
    }
    if parts.len() == 1 {
        model_type.to_owned()
    } else {
        format!("Annotated[{}]", parts.join(", "))
    }
}

/// A Python string literal (JSON's escapes are Python's too).
fn py_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// `preferred`, moved into the column's bounds.
fn int_sample(c: &Column, preferred: i64) -> i64 {
    let bound = |b: &Option<String>| b.as_deref().and_then(|n| n.parse::<i64>().ok());
    let mut v = preferred;
    if let Some(lo) = bound(&c.minimum) {
        v = v.max(lo);
    }
    if let Some(hi) = bound(&c.maximum) {
        v = v.min(hi);
    }
    v
}

fn decimal_sample(c: &Column, preferred: &str) -> String {
    let num = |s: &str| fields::Num::parse(s);
    let (Some(mut v), lo, hi) = (
        num(preferred),
        c.minimum.as_deref().and_then(num),
        c.maximum.as_deref().and_then(num),
    ) else {
        return preferred.to_owned();
    };
    if let Some(lo) = lo
        && v < lo
    {
        v = lo;
    }
    if let Some(hi) = hi
        && v > hi
    {
        v = hi;
    }
    v.to_string()
}

/// A Python expression giving a random value that matches the column's pattern: one random
/// character per position of a matching shape (see `blueprint::pattern::sample_slots`).
fn pattern_sample(c: &Column) -> String {
    let max_len = c.max_length.unwrap_or(255) as usize;
    match c.format {
        Some("email") if max_len >= 30 => return "f\"{unique_text(12)}@example.com\"".into(),
        Some("url") if max_len >= 40 => return "f\"https://example.com/{unique_text(12)}\"".into(),
        _ => {}
    }
    let p = c.pattern.as_deref().unwrap_or_default();
    let slots = pattern::sample_slots(p, 3, max_len)
        .or_else(|| pattern::sample_slots(p, 0, max_len))
        .unwrap_or_default();
    if !c.unique {
        let fixed: String = slots.iter().filter_map(|s| s.chars().next()).collect();
        return py_str(&fixed);
    }
    // Laid out as a formatter lays it out inside the payload dict (8 spaces deep).
    let mut out =
        "\"\".join(\n            s[uuid.uuid4().int % len(s)]\n            for s in (\n".to_owned();
    for slot in &slots {
        out.push_str(&format!("                {},\n", py_str(slot)));
    }
    out.push_str("            )\n        )");
    out
}

/// Values the API must refuse with a 422 naming the column: below `min`, above `max`, empty
/// required text, text with a NUL character, text off the pattern.
fn invalid_values(c: &Column, scale: u32) -> Vec<InvalidValue> {
    let mut out = Vec::new();
    if c.server_generated {
        return out;
    }
    let mut push = |case: &str, value: String| {
        out.push(InvalidValue {
            case: format!("{}-{case}", c.name),
            value,
        });
    };
    let step = if scale == 0 {
        "1".to_owned()
    } else {
        format!("0.{}1", "0".repeat(scale as usize - 1))
    };
    match c.kind {
        "int" | "bigint" => {
            if let Some(n) = &c.minimum {
                push("below-min", format!("{n} - 1"));
            }
            if let Some(n) = &c.maximum {
                push("above-max", format!("{n} + 1"));
            }
        }
        "decimal" => {
            if let Some(n) = &c.minimum {
                push(
                    "below-min",
                    format!("str(Decimal(\"{n}\") - Decimal(\"{step}\"))"),
                );
            }
            if let Some(n) = &c.maximum {
                push(
                    "above-max",
                    format!("str(Decimal(\"{n}\") + Decimal(\"{step}\"))"),
                );
            }
        }
        "string" | "text" => {
            if c.min_length.is_some() {
                push("empty", "\"\"".into());
            }
            push("nul", "\"a\\x00b\"".into());
            if let Some(p) = &c.pattern {
                let max_len = c.max_length.unwrap_or(255) as usize;
                if let Some(bad) = ["!", "not an email or url", "~", "0", "a", "A", "a b"]
                    .into_iter()
                    .find(|v| v.len() <= max_len && !pattern::matches(p, v))
                {
                    push(c.format.unwrap_or("pattern"), py_str(bad));
                }
            }
        }
        "json" => push("nul", "{\"key\": \"a\\x00b\"}".into()),
        _ => {}
    }
    out
}

fn decimal_digits(sql_type: &str) -> (Option<u32>, Option<u32>) {
    let Some(inner) = sql_type
        .strip_prefix("NUMERIC(")
        .and_then(|s| s.strip_suffix(')'))
    else {
        return (None, None);
    };
    let mut parts = inner.split(',').map(|p| p.trim().parse::<u32>().ok());
    (parts.next().flatten(), parts.next().flatten())
}

/// Entity-level details; needs the services for gateway routes and published topics.
pub fn enrich_entities(entities: &mut [Entity], services: &[Service]) {
    // Looked up per entity and per reference: maps, so that this stays linear in the services.
    let databases: HashMap<String, Option<String>> = entities
        .iter()
        .map(|e| (e.name.raw.clone(), e.database.clone()))
        .collect();
    let by_name: HashMap<&str, &Service> =
        services.iter().map(|s| (s.name.raw.as_str(), s)).collect();
    // The first gateway route to each service, in the order of services and routes.
    let mut first_route: HashMap<&str, &str> = HashMap::new();
    for r in services.iter().flat_map(|g| g.routes.iter()) {
        first_route
            .entry(r.service.as_str())
            .or_insert(r.path.as_str());
    }
    for e in entities.iter_mut() {
        let route = by_name
            .get(e.owner.as_str())
            .and_then(|o| first_route.get(o.name.kebab.as_str()))
            .map(|path| path.trim_end_matches('/').to_owned());
        let public = route.is_some();
        let (api_path, nested) = match route {
            Some(r) if r.rsplit('/').next() == Some(e.resource.as_str()) => (r, false),
            Some(r) => (format!("{r}/{}", e.resource), true),
            None => (format!("/api/{}", e.resource), false),
        };
        let patch = e.columns.iter().find(|c| {
            c.code.writable && !c.unique && !c.pk && c.reference.is_none() && c.code.comparable
        });
        let patch_value = patch.map(|c| match c.kind {
            "string" | "text" if c.pattern.is_some() => pattern_sample(c),
            "string" if c.max_length.is_some_and(|n| n < 7) => "\"x\"".to_owned(),
            "string" => "\"changed\"".to_owned(),
            "text" => "\"changed text\"".to_owned(),
            "int" | "bigint" => {
                let sample = int_sample(c, 7);
                let up = int_sample(c, sample.saturating_add(1));
                if up != sample {
                    up.to_string()
                } else {
                    int_sample(c, sample.saturating_sub(1)).to_string()
                }
            }
            "bool" => "False".to_owned(),
            "date" => "\"2031-02-03\"".to_owned(),
            "json" => "{\"changed\": True}".to_owned(),
            "enum" => format!(
                "\"{}\"",
                c.enum_values
                    .get(1)
                    .or(c.enum_values.first())
                    .cloned()
                    .unwrap_or_default()
            ),
            _ => "str(uuid.uuid4())".to_owned(),
        });
        let parents = e
            .columns
            .iter()
            .filter_map(|c| {
                let r = c.reference.as_ref()?;
                let same_db = databases
                    .get(&r.entity)
                    .is_some_and(|db| db.is_some() && db == &e.database);
                (r.foreign_key && same_db).then(|| Parent {
                    column: c.name.clone(),
                    entity: r.entity.clone(),
                    snake: Names::new(&r.entity).snake,
                })
            })
            .collect();
        e.code = EntityCode {
            api_path,
            public,
            nested,
            publishes: Vec::new(),
            patch_column: patch.map(|c| c.name.clone()),
            patch_value,
            required: e
                .columns
                .iter()
                .filter(|c| c.code.writable && !c.nullable && c.default_sql.is_none())
                .map(|c| c.name.clone())
                .collect(),
            unique_columns: e
                .columns
                .iter()
                .filter(|c| c.unique && c.code.writable)
                .map(|c| c.name.clone())
                .collect(),
            parents,
            proto: ProtoNames {
                message: e.name.pascal.clone(),
                get: format!("Get{}", e.name.pascal),
                list: format!("List{}", Names::new(&e.table).pascal),
                create: format!("Create{}", e.name.pascal),
                delete: format!("Delete{}", e.name.pascal),
            },
            references: Vec::new(),
            gateway_parents: Vec::new(),
            cache_key_prefix: by_name
                .get(e.owner.as_str())
                .filter(|o| o.cache.is_some())
                .map(|o| format!("{}:{}", o.name.kebab, e.table)),
            auth: crate::resolve::auth::EntityAuth::default(),
        };
    }
    let public: HashMap<String, bool> = entities
        .iter()
        .map(|e| (e.name.raw.clone(), e.code.public))
        .collect();
    for e in entities.iter_mut() {
        e.code.gateway_parents = e
            .columns
            .iter()
            .filter_map(|c| {
                let r = c.reference.as_ref()?;
                (c.code.writable && public.get(&r.entity) == Some(&true)).then(|| Parent {
                    column: c.name.clone(),
                    entity: r.entity.clone(),
                    snake: Names::new(&r.entity).snake,
                })
            })
            .collect();
    }
    // Each published topic goes to the owned entity whose name matches the topic's first
    // segment best (`order.created` → Order), else to the service's first entity.
    for s in services {
        let owned: Vec<usize> = entities
            .iter()
            .enumerate()
            .filter(|(_, e)| e.owner == s.name.raw)
            .map(|(i, _)| i)
            .collect();
        let Some(&first) = owned.first() else {
            continue;
        };
        for t in &s.publishes {
            let head = t.raw.split(['.', '-', '_']).next().unwrap_or_default();
            let head = Names::new(head).snake;
            let target = owned
                .iter()
                .copied()
                .find(|&i| entities[i].name.snake == head)
                .or_else(|| {
                    owned
                        .iter()
                        .copied()
                        .find(|&i| entities[i].name.snake.starts_with(&head))
                })
                .unwrap_or(first);
            entities[target].code.publishes.push(t.clone());
        }
    }
}

/// Which entities each service and database holds (`entity_ids`), and the service-level code
/// details that follow from them. One pass over the entities: linear in the blueprint's size.
pub fn link_entities(services: &mut [Service], databases: &mut [Database], entities: &[Entity]) {
    let mut by_owner: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut by_db: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, e) in entities.iter().enumerate() {
        by_owner.entry(e.owner.as_str()).or_default().push(i);
        if let Some(db) = &e.database {
            by_db.entry(db.as_str()).or_default().push(i);
        }
    }
    for s in services.iter_mut() {
        let mut ids: Vec<usize> = if s.modules.is_empty() {
            by_owner
                .get(s.name.raw.as_str())
                .cloned()
                .unwrap_or_default()
        } else {
            s.modules
                .iter()
                .flat_map(|m| by_owner.get(m.as_str()).into_iter().flatten().copied())
                .collect()
        };
        ids.sort_unstable();
        ids.dedup();
        let owned: Vec<&Entity> = ids.iter().map(|&i| &entities[i]).collect();
        s.code = service_code(&owned);
        let (nested, flat): (Vec<usize>, Vec<usize>) =
            ids.iter().partition(|&&i| entities[i].code.nested);
        s.code.router_ids = nested.into_iter().chain(flat).collect();
        s.code.cached_ids = s
            .code
            .router_ids
            .iter()
            .copied()
            .filter(|&i| entities[i].code.cache_key_prefix.is_some())
            .collect();
        s.entity_ids = ids;
    }
    for d in databases.iter_mut() {
        d.entity_ids = by_db.get(d.name.raw.as_str()).cloned().unwrap_or_default();
    }
}

/// Calls between services: each dependency's typed client (one method per CRUD endpoint of
/// the callee's entities) and the references verified through it. A reference is verified when
/// it is not a foreign key (another database) and its target's owner is a generated HTTP
/// service this one depends on; a monolith has foreign keys only, and no dependencies.
pub fn link_calls(services: &mut [Service], entities: &mut [Entity]) {
    let owner_of: HashMap<&str, &str> = entities
        .iter()
        .map(|e| (e.name.raw.as_str(), e.owner.as_str()))
        .collect();
    let mut owned: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, e) in entities.iter().enumerate() {
        owned.entry(e.owner.as_str()).or_default().push(i);
    }
    // In the order of the entities and their fields, whatever the order of `depends_on`.
    let order: HashMap<&str, usize> = entities
        .iter()
        .enumerate()
        .map(|(i, e)| (e.name.raw.as_str(), i))
        .collect();
    let mut per_entity: HashMap<String, Vec<VerifiedRef>> = HashMap::new();
    for s in services.iter_mut() {
        let mut refs = Vec::new();
        for d in s.depends_on.iter_mut() {
            if !d.generated || d.protocol != "http" {
                continue;
            }
            let callee: Vec<&Entity> = owned
                .get(d.name.raw.as_str())
                .into_iter()
                .flatten()
                .map(|&i| &entities[i])
                .collect();
            d.client = client_code(&d.name, &callee);
            // The service's own entities by index: a scan of every entity per dependency was
            // a twentieth of a 1 000-service regeneration.
            let mine = owned.get(s.name.raw.as_str()).into_iter().flatten();
            for e in mine.map(|&i| &entities[i]) {
                for c in &e.columns {
                    let Some(r) = c.reference.as_ref().filter(|r| !r.foreign_key) else {
                        continue;
                    };
                    if owner_of.get(r.entity.as_str()) != Some(&d.name.raw.as_str()) {
                        continue;
                    }
                    let Some(target) = callee.iter().find(|t| t.name.raw == r.entity) else {
                        continue;
                    };
                    d.client.verifies.push(format!("{}.{}", e.name.raw, c.name));
                    refs.push(VerifiedRef {
                        entity: e.name.raw.clone(),
                        field: c.name.clone(),
                        target: r.entity.clone(),
                        service: d.name.raw.clone(),
                        env_var: d.env_var.clone(),
                        path: target.code.api_path.clone(),
                        operation: format!("get_{}", target.name.snake),
                        int_key: c.py_type == "int",
                    });
                }
            }
        }
        refs.sort_by_key(|r| order.get(r.entity.as_str()).copied());
        for r in &refs {
            per_entity
                .entry(r.entity.clone())
                .or_default()
                .push(r.clone());
        }
        s.references = refs;
    }
    for e in entities.iter_mut() {
        let mut refs = per_entity.remove(&e.name.raw).unwrap_or_default();
        refs.sort_by_key(|r| e.columns.iter().position(|c| c.name == r.field));
        e.code.references = refs;
    }
}

fn client_code(callee: &Names, entities: &[&Entity]) -> ClientCode {
    let mut operations = Vec::new();
    for e in entities {
        let one = format!("{}/{{id}}", e.code.api_path);
        let snake = &e.name.snake;
        for (kind, method, path) in [
            ("list", "GET", &e.code.api_path),
            ("create", "POST", &e.code.api_path),
            ("get", "GET", &one),
            ("update", "PATCH", &one),
            ("delete", "DELETE", &one),
        ] {
            operations.push(ClientOperation {
                name: format!("{kind}_{snake}"),
                method,
                path: path.clone(),
                kind,
                entity: e.name.raw.clone(),
            });
        }
    }
    ClientCode {
        class: format!("{}Client", callee.pascal),
        provider: format!("{}_client", callee.snake),
        operations,
        openapi: format!("{}/openapi.yaml", callee.kebab),
        verifies: Vec::new(),
    }
}

fn service_code(owned: &[&Entity]) -> ServiceCode {
    let kinds: BTreeSet<&str> = owned
        .iter()
        .flat_map(|e| e.columns.iter())
        .map(|c| {
            if c.kind == "ref" && c.py_type == "uuid.UUID" {
                "uuid"
            } else {
                c.kind
            }
        })
        .collect();
    let writable_kinds: BTreeSet<&str> = owned
        .iter()
        .flat_map(|e| e.columns.iter())
        .filter(|c| c.code.writable)
        .map(|c| c.kind)
        .collect();
    let has = |k: &str| kinds.contains(k);
    let mut model_imports = Vec::new();
    let mut schema_imports = Vec::new();
    if has("uuid") {
        model_imports.push("import uuid".to_owned());
        schema_imports.push("import uuid".to_owned());
    }
    let dt: Vec<&str> = [("date", "date"), ("timestamp", "datetime")]
        .iter()
        .filter(|(k, _)| has(k))
        .map(|(_, n)| *n)
        .collect();
    if !dt.is_empty() {
        let line = format!("from datetime import {}", dt.join(", "));
        model_imports.push(line.clone());
        schema_imports.push(line);
    }
    if has("decimal") {
        model_imports.push("from decimal import Decimal".to_owned());
        schema_imports.push("from decimal import Decimal".to_owned());
    }
    let writable_types: Vec<&str> = owned
        .iter()
        .flat_map(|e| e.columns.iter())
        .filter(|c| c.code.writable)
        .map(|c| {
            c.code
                .schema_alias
                .as_deref()
                .unwrap_or(&c.code.schema_type)
        })
        .collect();
    let uses = |s: &str| writable_types.iter().any(|t| t.contains(s));
    let annotated = uses("Annotated[");
    let mut typing = Vec::new();
    if annotated {
        typing.push("Annotated");
    }
    if has("json") {
        typing.push("Any");
        model_imports.push("from typing import Any".to_owned());
    }
    if writable_kinds.contains("enum") {
        typing.push("Literal");
    }
    if !typing.is_empty() {
        schema_imports.push(format!("from typing import {}", typing.join(", ")));
    }
    let mut router_order: Vec<String> = owned
        .iter()
        .filter(|e| e.code.nested)
        .map(|e| e.name.raw.clone())
        .collect();
    router_order.extend(
        owned
            .iter()
            .filter(|e| !e.code.nested)
            .map(|e| e.name.raw.clone()),
    );
    let mut proto_imports = Vec::new();
    if has("timestamp") {
        proto_imports.push("google/protobuf/timestamp.proto".to_owned());
    }
    if has("json") {
        proto_imports.push("google/protobuf/struct.proto".to_owned());
    }
    let auth_imports: BTreeSet<String> = owned
        .iter()
        .flat_map(|e| [&e.code.auth.read, &e.code.auth.write])
        .flatten()
        .map(|r| match r.kind {
            "role" => "role".to_owned(),
            _ => r.python.clone(),
        })
        .collect();
    let owned_payloads: BTreeSet<String> = owned
        .iter()
        .filter(|e| e.code.auth.owner_column.is_some())
        .map(|e| format!("{}_payload", e.name.snake))
        .collect();
    ServiceCode {
        auth_imports: auth_imports.into_iter().collect(),
        owned_payloads: owned_payloads.into_iter().collect(),
        model_imports,
        schema_imports,
        schema_needs_field: uses("Field("),
        schema_has_alias: owned
            .iter()
            .flat_map(|e| e.columns.iter())
            .any(|c| c.code.writable && c.code.schema_alias.is_some()),
        schema_needs_nul_check: uses("(reject_nul)"),
        schema_needs_json_nul_check: uses("(reject_nul_in_json)"),
        input_tests_need_decimal: owned
            .iter()
            .flat_map(|e| e.columns.iter())
            .flat_map(|c| c.code.invalid.iter())
            .any(|v| v.value.contains("Decimal(")),
        router_order,
        router_ids: Vec::new(),
        cached_ids: Vec::new(),
        proto_imports,
        // Set by `lang::lower` once every service is resolved.
        grpc: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ecommerce() -> crate::resolve::Model {
        let src = crate::assets::examples()
            .into_iter()
            .find(|(n, _)| *n == "ecommerce")
            .map(|(_, s)| s)
            .unwrap();
        let bp = crate::blueprint::load(src, "ecommerce.yaml")
            .blueprint
            .unwrap();
        crate::resolve::resolve(&bp, crate::assets::presets()).unwrap()
    }

    fn entity<'a>(m: &'a crate::resolve::Model, name: &str) -> &'a Entity {
        m.entities.iter().find(|e| e.name.raw == name).unwrap()
    }

    #[test]
    fn entity_paths_follow_the_gateway_route_of_their_owner() {
        let m = ecommerce();
        assert_eq!(entity(&m, "Order").code.api_path, "/api/orders");
        assert!(!entity(&m, "Order").code.nested);
        assert_eq!(
            entity(&m, "OrderItem").code.api_path,
            "/api/orders/order-items"
        );
        assert!(entity(&m, "OrderItem").code.nested);
        // payments has no route: its own resource path, not public
        assert_eq!(entity(&m, "Payment").code.api_path, "/api/payments");
        assert!(!entity(&m, "Payment").code.public);
        let orders = m.services.iter().find(|s| s.name.raw == "orders").unwrap();
        assert_eq!(orders.code.router_order, ["OrderItem", "Order"]);
    }

    #[test]
    fn topics_attach_to_the_entity_they_are_named_after() {
        let m = ecommerce();
        let topics = |e: &str| -> Vec<String> {
            entity(&m, e)
                .code
                .publishes
                .iter()
                .map(|t| t.raw.clone())
                .collect()
        };
        assert_eq!(topics("Order"), ["order.created"]);
        assert!(topics("OrderItem").is_empty());
        assert_eq!(topics("User"), ["user.registered"]);
    }

    #[test]
    fn schema_types_carry_the_column_constraints() {
        let m = ecommerce();
        let col = |e: &str, c: &str| {
            entity(&m, e)
                .columns
                .iter()
                .find(|x| x.name == c)
                .unwrap()
                .code
                .clone()
        };
        assert_eq!(
            col("Order", "status").schema_type,
            "Literal[\"pending\", \"paid\", \"shipped\", \"cancelled\"]"
        );
        assert_eq!(col("Order", "total").schema_type, "OrderTotalValue");
        assert_eq!(
            col("Order", "total").schema_alias.as_deref(),
            Some(
                "OrderTotalValue = Annotated[\n    Decimal,\n    Field(\n        max_digits=12,\n        decimal_places=2,\n        ge=Decimal(\"0\"),\n    ),\n]"
            )
        );
        let quantity = col("OrderItem", "quantity");
        assert!(
            quantity
                .schema_alias
                .unwrap()
                .contains("        ge=1,\n        lt=2**31,\n")
        );
        assert_eq!(quantity.sample, "7");
        let cases: Vec<(String, String)> = quantity
            .invalid
            .iter()
            .map(|v| (v.case.clone(), v.value.clone()))
            .collect();
        assert_eq!(cases, [("quantity-below-min".into(), "1 - 1".into())]);
        let email = col("User", "email");
        assert!(email.schema_alias.as_deref().unwrap().contains("pattern="));
        assert!(email.invalid.iter().any(|v| v.case == "email-email"));
        assert!(email.invalid.iter().any(|v| v.case == "email-empty"));
        assert!(email.invalid.iter().any(|v| v.case == "email-nul"));
        assert_eq!(col("Order", "total").sample, "\"1.5\"");
        assert!(!col("Order", "created_at").writable);
        assert_eq!(entity(&m, "OrderItem").code.parents[0].snake, "order");
        assert!(
            entity(&m, "Order").code.parents.is_empty(),
            "cross-database ref"
        );
    }

    #[test]
    fn refs_to_a_dependency_are_verified_through_its_api() {
        let m = ecommerce();
        let orders = m.services.iter().find(|s| s.name.raw == "orders").unwrap();
        let refs: Vec<(&str, &str, &str, &str, &str, &str)> = orders
            .references
            .iter()
            .map(|r| {
                (
                    r.entity.as_str(),
                    r.field.as_str(),
                    r.service.as_str(),
                    r.env_var.as_str(),
                    r.path.as_str(),
                    r.operation.as_str(),
                )
            })
            .collect();
        assert_eq!(
            refs,
            [
                (
                    "Order",
                    "user_id",
                    "users",
                    "USERS_URL",
                    "/api/users",
                    "get_user"
                ),
                (
                    "OrderItem",
                    "product_id",
                    "products",
                    "PRODUCTS_URL",
                    "/api/products",
                    "get_product"
                ),
            ]
        );
        // the same-database `OrderItem.order_id` is a foreign key, not a call
        let item = entity(&m, "OrderItem");
        assert_eq!(item.code.references.len(), 1);
        assert_eq!(item.code.references[0].field, "product_id");
        // payments refers to Order but does not depend on orders: a logical reference only
        let payments = m
            .services
            .iter()
            .find(|s| s.name.raw == "payments")
            .unwrap();
        assert!(payments.references.is_empty());
        let users = &orders.depends_on[0];
        assert_eq!(users.client.class, "UsersClient");
        assert_eq!(users.client.provider, "users_client");
        assert_eq!(users.client.openapi, "users/openapi.yaml");
        assert_eq!(users.client.verifies, ["Order.user_id"]);
        let ops: Vec<(&str, &str, &str)> = users
            .client
            .operations
            .iter()
            .map(|o| (o.name.as_str(), o.method, o.path.as_str()))
            .collect();
        assert_eq!(
            ops,
            [
                ("list_user", "GET", "/api/users"),
                ("create_user", "POST", "/api/users"),
                ("get_user", "GET", "/api/users/{id}"),
                ("update_user", "PATCH", "/api/users/{id}"),
                ("delete_user", "DELETE", "/api/users/{id}"),
            ]
        );
    }

    #[test]
    fn a_monolith_verifies_nothing_over_http() {
        let src = crate::assets::examples()
            .into_iter()
            .find(|(n, _)| *n == "ecommerce")
            .map(|(_, s)| s.replace("type: microservices", "type: monolith"))
            .unwrap();
        let bp = crate::blueprint::load(&src, "ecommerce.yaml")
            .blueprint
            .unwrap();
        let m = crate::resolve::resolve(&bp, crate::assets::presets()).unwrap();
        assert!(m.services.iter().all(|s| s.references.is_empty()));
        assert!(m.entities.iter().all(|e| e.code.references.is_empty()));
        assert!(m.deployables[0].depends_on.is_empty());
        // the cache still applies to the module that has one
        assert_eq!(
            entity(&m, "User").code.cache_key_prefix.as_deref(),
            Some("users:users")
        );
    }

    #[test]
    fn rows_of_a_service_with_a_cache_are_cached_for_the_preset_ttl() {
        let m = ecommerce();
        assert_eq!(
            entity(&m, "User").code.cache_key_prefix.as_deref(),
            Some("users:users")
        );
        assert_eq!(entity(&m, "Order").code.cache_key_prefix, None);
        let users = m.services.iter().find(|s| s.name.raw == "users").unwrap();
        assert_eq!(users.cache.as_ref().unwrap().ttl_seconds, 300);
        assert_eq!(m.preset.cache.ttl_seconds, 300);
        assert_eq!(users.code.cached_ids.len(), 1);
        let orders = m.services.iter().find(|s| s.name.raw == "orders").unwrap();
        assert!(orders.code.cached_ids.is_empty());
        // the blueprint's timeout over retries + 1 tries
        assert_eq!(orders.resilience.timeout_seconds, 5.0);
        assert_eq!(orders.resilience.try_timeout_seconds, 1.25);
    }

    #[test]
    fn decimal_digits_come_from_the_sql_type() {
        assert_eq!(decimal_digits("NUMERIC(12,2)"), (Some(12), Some(2)));
        assert_eq!(decimal_digits("UUID"), (None, None));
    }
}
