#!/usr/bin/env bash
# System test (PRODUCT §12): every built-in example × {microservices, monolith, serverless}, started for
# real on loopback (PostgreSQL, Redis, RabbitMQ, nginx from Debian; a Kafka-protocol broker, tansu, from
# crates.io; for serverless, moto's server for the AWS APIs) and walked through its public API.
# Installs what it needs on a fresh Debian machine;
# caches the venv (by the hash of every dependency file) and the broker binary (by version) under
# $SYSTEM_CACHE (default ~/.cache/codex-system-design).
#   SYSTEM_EXAMPLES / SYSTEM_TYPES   narrow the matrix (space-separated)
#   extra arguments go to tests/system/system_test.py (--only CHECK…, --keep, --mutate NAME)
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${SYSTEM_CACHE:-$HOME/.cache/codex-system-design}"
TANSU_VERSION=0.6.0
mkdir -p "$CACHE"
log() { printf '[system-test] %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }

need=()
[ -x /usr/lib/postgresql/15/bin/postgres ] || ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need+=(postgresql)
command -v redis-server >/dev/null || need+=(redis-server)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
[ -x /usr/sbin/rabbitmq-server ] || need+=(rabbitmq-server)
command -v mariadb-install-db >/dev/null || need+=(mariadb-server)  # engine: mysql (ADR 0007)
if [ ${#need[@]} -gt 0 ]; then
  log "apt-get install ${need[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# Debian starts these as system services on install; the test runs its own processes only.
for unit in postgresql mariadb redis-server nginx rabbitmq-server; do
  as_root service "$unit" stop >/dev/null 2>&1 || true
done

cargo build --release --quiet
BIN="$PWD/target/release/codex-system-design"
EXAMPLES="${SYSTEM_EXAMPLES-$($BIN examples | awk '{print $1}')}"
TYPES="${SYSTEM_TYPES:-microservices monolith serverless}"

# One venv for every generated service, installed from their own dependency files.
reqs="$(mktemp -d)"
trap 'rm -rf "$reqs"' EXIT
# One venv for every example and type, whichever are run now: a narrowed run (a mutation, --only)
# reuses the venv of the full run instead of building its own (about 2.5 minutes each).
for ex in $("$BIN" examples | awk '{print $1}'); do
  supported="$("$BIN" examples types "$ex")"
  for ty in microservices monolith serverless; do
    grep -qx "$ty" <<<"$supported" || continue  # refused by design; system_test.py says so
    "$BIN" --example "$ex" --type "$ty" --scale small --quiet --out "$reqs/$ex-$ty"
  done
done
for bp in tests/fixtures/polyglot/polyglot.yaml tests/fixtures/polyglot/polyglot-grpc.yaml tests/fixtures/polyglot/polyglot-grpc-only.yaml tests/fixtures/polyglot/polyglot-kafka.yaml tests/fixtures/polyglot/polyglot-sqs.yaml tests/fixtures/polyglot/polyglot-mysql.yaml tests/fixtures/polyglot/polyglot-serverless.yaml tests/fixtures/polyglot/polyglot-serverless-dynamodb.yaml tests/fixtures/valid/mysql-monolith.yaml tests/fixtures/valid/typescript-monolith.yaml; do
  "$BIN" generate -f "$bp" --out "$reqs/$(basename "$bp" .yaml)" --quiet
done
files=$( (find "$reqs" -path '*/services/*/requirements.txt'; find "$reqs" -path '*/functions/requirements.txt') | sort)
key=$( (cat tests/system/requirements.txt; for f in $files; do grep -v '^#' "$f"; done) | sort -u | sha256sum | cut -c1-16)
VENV="$CACHE/venv-$key"
if [ ! -x "$VENV/bin/python" ] || [ ! -f "$VENV/.complete" ]; then
  log "creating $VENV"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
  args=(-r tests/system/requirements.txt)
  for f in $files; do args+=(-r "$f"); done
  "$VENV/bin/pip" install -q "${args[@]}"
  touch "$VENV/.complete"
fi

TANSU="$CACHE/tansu-$TANSU_VERSION/bin/tansu"
if [ ! -x "$TANSU" ]; then
  log "building tansu $TANSU_VERSION (once; about 15 minutes on 2 cores)"
  CARGO_TARGET_DIR="$CACHE/tansu-build" cargo install tansu --version "$TANSU_VERSION" --features dynostore \
    --locked --quiet --root "$CACHE/tansu-$TANSU_VERSION"
  rm -rf "$CACHE/tansu-build"
fi

# Migrations from one source: a history of edits migrates to the schema of a fresh first migration.
# Part of the full run; a narrowed run (arguments, e.g. --mutate) leaves it out.
if [ $# -eq 0 ]; then
  "$VENV/bin/python" tests/system/migration_equivalence.py --bin "$BIN" --venv "$VENV" --seeds 3 --steps 6
fi

# Blueprint files run as written beside the examples, as the type they declare (when SYSTEM_TYPES has
# it): Python and TypeScript services side by side (microservices on PostgreSQL and on MySQL, one TypeScript service serving gRPC, and as serverless functions), a Python monolith on MySQL and a
# TypeScript monolith on PostgreSQL (the mixed polyglot-shop example is microservices only). By default only in a run of every example
# (SYSTEM_EXAMPLES unset); SYSTEM_BLUEPRINTS names them for a narrowed run (SYSTEM_EXAMPLES= for none
# of the examples).
if [ -z "${SYSTEM_EXAMPLES+set}" ]; then
  BLUEPRINTS="${SYSTEM_BLUEPRINTS-tests/fixtures/polyglot/polyglot.yaml tests/fixtures/polyglot/polyglot-grpc.yaml tests/fixtures/polyglot/polyglot-grpc-only.yaml tests/fixtures/polyglot/polyglot-kafka.yaml tests/fixtures/polyglot/polyglot-sqs.yaml tests/fixtures/polyglot/polyglot-mysql.yaml tests/fixtures/polyglot/polyglot-serverless.yaml tests/fixtures/polyglot/polyglot-serverless-dynamodb.yaml tests/fixtures/valid/mysql-monolith.yaml tests/fixtures/valid/typescript-monolith.yaml}"
else
  BLUEPRINTS="${SYSTEM_BLUEPRINTS-}"
fi
# shellcheck disable=SC2086
exec "$VENV/bin/python" tests/system/system_test.py --bin "$BIN" --venv "$VENV" --tansu "$TANSU" \
  --examples $EXAMPLES --types $TYPES --blueprints $BLUEPRINTS "$@"
