#!/usr/bin/env python3
"""Write a synthetic blueprint with N services (entities, databases, topics, dependencies).

Usage: python3 bench/synth.py N [--type microservices|monolith|serverless] > blueprint.yaml

Service i depends on up to two services with a lower index (so there is no cycle), owns one
entity in its own database, publishes one topic that service i+1 consumes; every tenth service
shares a cache. Deterministic: the same N gives the same text.
"""
import sys


def main() -> None:
    args = sys.argv[1:]
    if not args or not args[0].isdigit():
        sys.exit(__doc__)
    n = int(args[0])
    arch = args[args.index("--type") + 1] if "--type" in args else "microservices"
    out = [
        "version: 1",
        f"name: synth{n}",
        f"description: Synthetic blueprint with {n} services for benchmarks",
        f"type: {arch}",
        "scale: medium",
        "ingress: { host: synth.example.com, tls: true }",
        "services:",
        "  gateway:",
        "    kind: gateway",
        "    routes:",
    ]
    out += [f"      - {{ path: /api/s{i}, to: s{i} }}" for i in range(min(n, 20))]
    for i in range(n):
        out.append(f"  s{i}:")
        out.append("    language: python")
        deps = [f"s{j}" for j in (i - 1, i // 2) if 0 <= j < i]
        deps = sorted(set(deps))
        if deps:
            out.append(f"    depends_on: [{', '.join(deps)}]")
        out.append(f"    database: db{i}")
        out.append(f"    entities: [Item{i}]")
        if i % 10 == 0:
            out.append("    cache: shared")
        out.append(f"    publishes: [t{i}.created]")
        out.append(f"    consumes: [t{(i - 1) % n}.created]")
    out.append("entities:")
    for i in range(n):
        out += [
            f"  Item{i}:",
            "    fields:",
            "      id: uuid pk",
            "      name: string(120)",
            "      price: decimal(12,2)",
            "      status: enum(active, retired) default active",
            "      created_at: timestamp default now",
        ]
    out.append("databases:")
    out += [f"  db{i}: {{ engine: postgres }}" for i in range(n)]
    out.append("caches: { shared: { engine: redis } }")
    out.append("messaging:")
    out.append("  broker: kafka")
    out.append("  topics:")
    out += [f"    t{i}.created: {{}}" for i in range(n)]
    print("\n".join(out))


if __name__ == "__main__":
    main()
