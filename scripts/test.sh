#!/usr/bin/env bash
# The one command that runs all tests (see README). On a fresh Debian machine it installs what it
# needs: the validators' Python venv (PyPI), PostgreSQL/shellcheck/promtool (Debian), Rust crates;
# the system test adds Redis/RabbitMQ/nginx (Debian) and the tansu broker (crates.io, cached).
set -euo pipefail
cd "$(dirname "$0")/.."
export CONFORMANCE_VENV="${CONFORMANCE_VENV:-$PWD/.venv-conformance}"
command -v cargo >/dev/null || { echo "error: cargo not found; install Rust with rustup first" >&2; exit 2; }
echo "[test.sh] ${SECONDS}s: install"
bash tools/conformance/install.sh
echo "[test.sh] ${SECONDS}s: fmt"
cargo fmt --all -- --check
echo "[test.sh] ${SECONDS}s: clippy"
cargo clippy --all-targets -- -D warnings
# Release: the same build the conformance and system tests use (one dependency build, not two),
# and the tests that run the binary many times run it optimised.
echo "[test.sh] ${SECONDS}s: cargo test"
cargo test --release --all-targets --no-fail-fast
# The system test: every example × {microservices, monolith, serverless} started for real. It mostly
# waits (restarts, timeouts, readiness polls) while the validators mostly compute, so it runs beside
# them; every process of both takes a free port. Its output is printed whole when both have ended.
echo "[test.sh] ${SECONDS}s: system test (in the background) and conformance"
system_log=$(mktemp)
bash scripts/system-test.sh >"$system_log" 2>&1 &
system_pid=$!
# The trap keeps the script's own exit status: under `set -e` a failing `kill` (the system test has
# already ended) would otherwise turn a passing run into exit 1.
trap 'status=$?; kill "$system_pid" 2>/dev/null || true; rm -f "$system_log"; exit "$status"' EXIT
conformance_status=0
bash scripts/conformance.sh || conformance_status=$?
# The validators still tell good from bad (a planted Terraform attribute typo fails at its line, …).
if [ "$conformance_status" = 0 ]; then
    echo "[test.sh] ${SECONDS}s: selftest"
    bash tools/conformance/selftest.sh || conformance_status=$?
fi
echo "[test.sh] ${SECONDS}s: waiting for the system test"
system_status=0
wait "$system_pid" || system_status=$?
cat "$system_log"
trap - EXIT
rm -f "$system_log"
echo "[test.sh] ${SECONDS}s: system test ended (exit $system_status); conformance and selftest exit $conformance_status"
[ "$conformance_status" = 0 ] && [ "$system_status" = 0 ] || exit 1
# Then the test of the test: each mutation must be caught by its check.
# Mutations: each run generates, breaks one mechanism and must see its check fail. The runs mostly
# wait on processes they started (ports are picked free, so runs do not collide): two at a time.
# Each run's output is printed whole when it ends; any uncaught mutation fails the suite.
mutation() {
    local log
    log=$(mktemp)
    # An example's name, or a blueprint's path (a test fixture, run alone).
    local examples=$1 blueprints=
    case $1 in */*) examples='' blueprints=$1 ;; esac
    if SYSTEM_EXAMPLES=$examples SYSTEM_BLUEPRINTS=$blueprints SYSTEM_TYPES=$2 \
        bash scripts/system-test.sh --mutate "$3" >"$log" 2>&1; then
        cat "$log"
    else
        cat "$log"
        echo "FAIL mutation $3 ($1 $2) was not caught or did not run" >&2
        rm -f "$log"
        return 1
    fi
    rm -f "$log"
}
export -f mutation
# The first run builds what the others share (the release binary, the service venv, brokers).
echo "[test.sh] ${SECONDS}s: mutations"
mutation ecommerce microservices no-migrations
xargs -P 2 -L 1 bash -c 'mutation "$@"' _ <<'LIST'
ecommerce microservices ignore-depends-on
tests/fixtures/polyglot/polyglot.yaml microservices ts-ignore-depends-on
tests/fixtures/polyglot/polyglot.yaml microservices ts-no-owner-check
tests/fixtures/polyglot/polyglot-serverless.yaml serverless ts-swallow-failed-records
tests/fixtures/polyglot/polyglot-serverless.yaml serverless ts-no-publish
tests/fixtures/polyglot/polyglot-serverless-dynamodb.yaml serverless ts-dynamodb-ignores-referrers
tests/fixtures/polyglot/polyglot.yaml microservices ts-no-outbox
tests/fixtures/polyglot/polyglot.yaml microservices ts-no-idempotency
tests/fixtures/polyglot/polyglot.yaml microservices ts-no-dead-letters
tests/fixtures/polyglot/polyglot-grpc.yaml microservices ts-grpc-drops-metadata
tests/fixtures/polyglot/polyglot-grpc.yaml microservices py-grpc-drops-metadata
tests/fixtures/polyglot/polyglot-mysql.yaml microservices ts-no-idempotency
tests/fixtures/valid/typescript-monolith.yaml monolith ts-no-outbox
auth-service monolith exit-without-broker
ecommerce serverless swallow-failed-records
ecommerce serverless unset-function-variable
event-orders serverless every-route-jwt
ecommerce microservices no-outbox
auth-service microservices no-idempotency
polyglot-shop microservices no-idempotency
ecommerce microservices no-dead-letters
event-orders microservices no-outbox
event-orders microservices no-idempotency
event-orders microservices no-dead-letters
ecommerce monolith no-auth
ecommerce microservices no-owner-check
LIST
echo "[test.sh] ${SECONDS}s: all tests passed"
