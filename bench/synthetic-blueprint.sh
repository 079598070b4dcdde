#!/bin/sh
# Print a synthetic microservices blueprint with N services (default 200): each with its own
# database and entity, a dependency on the previous service and an event to the next one.
# Used by bench/regen.sh and mirrored by the 200-service test in tests/regenerate.rs.
n=${1:-200}
cat <<HEAD
version: 1
name: synthetic
description: Synthetic blueprint with $n services for benchmarks
type: microservices
scale: large
services:
  gateway:
    kind: gateway
    routes:
      - { path: /api/s001, to: s001 }
HEAD
i=1
while [ "$i" -le "$n" ]; do
  s=$(printf 's%03d' "$i"); p=$(printf 's%03d' $((i - 1)))
  echo "  $s:"
  echo "    language: python"
  echo "    database: $s-db"
  echo "    entities: [Item$s]"
  [ "$i" -gt 1 ] && echo "    depends_on: [$p]" && echo "    consumes: [$p.done]"
  [ "$i" -lt "$n" ] && echo "    publishes: [$s.done]"
  i=$((i + 1))
done
echo "entities:"
i=1
while [ "$i" -le "$n" ]; do
  s=$(printf 's%03d' "$i")
  printf '  Item%s:\n    fields:\n      id: uuid pk\n      name: string(120)\n      qty: int default 0\n      created_at: timestamp default now\n' "$s"
  i=$((i + 1))
done
echo "databases:"
i=1
while [ "$i" -le "$n" ]; do printf '  s%03d-db: { engine: postgres }\n' "$i"; i=$((i + 1)); done
echo "messaging:"
echo "  broker: kafka"
echo "  topics:"
i=1
while [ "$i" -lt "$n" ]; do printf '    s%03d.done: {}\n' "$i"; i=$((i + 1)); done
