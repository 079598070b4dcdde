//! The synthetic blueprint behind the benchmarks and the large-input tests: `n` services behind a
//! gateway, each with its own database and entity, one or two dependencies on lower-numbered
//! services (so no cycle) with a `ref` field to each one's entity (so every edge is used), an
//! event to the next service, and a shared cache on every tenth.
//! Deterministic: the same `n` and type give the same text. Shared by `benches/`, `tests/` and
//! `examples/synth.rs` (which the whole-process bench script calls) so every figure is about the
//! same input.

#![allow(dead_code)] // each user (bench, test, example) calls a different subset

use std::fmt::Write as _;

/// Service name of the `i`th service (1-based), zero-padded so names sort by number.
pub fn service(i: usize) -> String {
    format!("s{i:03}")
}

/// Entity owned by the `i`th service.
pub fn entity(i: usize) -> String {
    format!("Item{i:03}")
}

/// The services the `i`th service depends on: the previous one and the one at half its number.
fn deps(i: usize) -> Vec<usize> {
    let mut deps: Vec<usize> = [i - 1, i / 2].into_iter().filter(|&j| j >= 1).collect();
    deps.dedup();
    deps
}

pub fn blueprint(n: usize) -> String {
    blueprint_for(n, "microservices")
}

pub fn blueprint_for(n: usize, arch: &str) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "version: 1\nname: synthetic\ndescription: Synthetic blueprint with {n} services for benchmarks\n\
         type: {arch}\nscale: medium\nservices:\n  gateway:\n    kind: gateway\n    routes:\n"
    );
    for i in 1..=n.min(20) {
        let _ = writeln!(s, "      - {{ path: /api/{0}, to: {0} }}", service(i));
    }
    for i in 1..=n {
        let name = service(i);
        let _ = write!(
            s,
            "  {name}:\n    language: python\n    database: {name}-db\n    entities: [{}]\n",
            entity(i)
        );
        let deps = deps(i);
        if !deps.is_empty() {
            let list: Vec<String> = deps.iter().map(|&j| service(j)).collect();
            let _ = writeln!(s, "    depends_on: [{}]", list.join(", "));
            let _ = writeln!(s, "    consumes: [{}.done]", service(i - 1));
        }
        if i < n {
            let _ = writeln!(s, "    publishes: [{name}.done]");
        }
        if i % 10 == 0 {
            s.push_str("    cache: shared\n");
        }
    }
    s.push_str("entities:\n");
    for i in 1..=n {
        let _ = write!(
            s,
            "  {}:\n    fields:\n      id: uuid pk\n      name: string(120)\n      qty: int default 0\n      \
             price: decimal(12,2)\n      status: enum(active, retired) default active\n      \
             created_at: timestamp default now\n",
            entity(i)
        );
        for j in deps(i) {
            let _ = writeln!(s, "      item{j:03}_id: ref {}", entity(j));
        }
    }
    s.push_str("databases:\n");
    for i in 1..=n {
        let _ = writeln!(s, "  {}-db: {{ engine: postgres }}", service(i));
    }
    if n >= 10 {
        s.push_str("caches:\n  shared: { engine: redis }\n");
    }
    if n < 2 {
        return s;
    }
    s.push_str("messaging:\n  broker: kafka\n  topics:\n");
    for i in 1..n {
        let _ = writeln!(s, "    {}.done: {{}}", service(i));
    }
    s
}
