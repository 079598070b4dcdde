//! A valid blueprint with `n` services, each with its own database, entity and topic, a chain of
//! dependencies and a gateway: the load for the "10 000 services" and performance tests.

use std::fmt::Write as _;

pub fn blueprint(n: usize) -> String {
    let mut s = String::from(
        "version: 1\nname: big\ntype: microservices\nmesh: { enabled: true }\nservices:\n  gateway:\n    kind: gateway\n    routes:\n",
    );
    for i in 0..n.min(50) {
        let _ = writeln!(s, "      - {{ path: /api/s{i}, to: svc-{i} }}");
    }
    for i in 0..n {
        let _ = writeln!(
            s,
            "  svc-{i}:\n    language: python\n    database: db-{i}\n    entities: [Entity{i}]\n    publishes: [topic.{i}]\n    consumes: [topic.{}]",
            (i + 1) % n
        );
        if i > 0 {
            let _ = writeln!(s, "    depends_on: [svc-{}]", i - 1);
        }
    }
    s.push_str("entities:\n");
    for i in 0..n {
        let _ = writeln!(
            s,
            "  Entity{i}:\n    fields:\n      id: uuid pk\n      name: string(120)\n      created_at: timestamp default now"
        );
        if i > 0 {
            let _ = writeln!(s, "      parent_id: ref Entity{}", i - 1);
        }
    }
    s.push_str("databases:\n");
    for i in 0..n {
        let _ = writeln!(s, "  db-{i}: {{ engine: postgres }}");
    }
    s.push_str("messaging:\n  broker: kafka\n  topics:\n");
    for i in 0..n {
        let _ = writeln!(s, "    topic.{i}: {{}}");
    }
    s
}
