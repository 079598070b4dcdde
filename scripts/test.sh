#!/usr/bin/env bash
# The one command that runs all tests (see README). On a fresh Debian machine it installs what it
# needs: the validators' Python venv (PyPI), PostgreSQL/shellcheck/promtool (Debian), Rust crates;
# the system test adds Redis/RabbitMQ/nginx (Debian) and the tansu broker (crates.io, cached).
set -euo pipefail
cd "$(dirname "$0")/.."
export CONFORMANCE_VENV="${CONFORMANCE_VENV:-$PWD/.venv-conformance}"
command -v cargo >/dev/null || { echo "error: cargo not found; install Rust with rustup first" >&2; exit 2; }
bash tools/conformance/install.sh
cargo fmt --all -- --check
cargo clippy --all-targets -- -D warnings
# Release: the same build the conformance and system tests use (one dependency build, not two),
# and the tests that run the binary many times run it optimised.
cargo test --release --all-targets --no-fail-fast
bash scripts/conformance.sh
# The validators still tell good from bad (a planted Terraform attribute typo fails at its line, …).
bash tools/conformance/selftest.sh
# The system test: every example × {microservices, monolith, serverless} started for real, then the test of the
# test (each mutation must be caught by its check).
bash scripts/system-test.sh
SYSTEM_EXAMPLES=ecommerce SYSTEM_TYPES=microservices bash scripts/system-test.sh --mutate no-migrations
SYSTEM_EXAMPLES=ecommerce SYSTEM_TYPES=microservices bash scripts/system-test.sh --mutate ignore-depends-on
SYSTEM_EXAMPLES= SYSTEM_BLUEPRINTS=tests/fixtures/polyglot/polyglot.yaml SYSTEM_TYPES=microservices bash scripts/system-test.sh --mutate ts-ignore-depends-on
SYSTEM_EXAMPLES= SYSTEM_BLUEPRINTS=tests/fixtures/polyglot/polyglot.yaml SYSTEM_TYPES=microservices bash scripts/system-test.sh --mutate ts-no-owner-check
SYSTEM_EXAMPLES=auth-service SYSTEM_TYPES=monolith bash scripts/system-test.sh --mutate exit-without-broker
SYSTEM_EXAMPLES=ecommerce SYSTEM_TYPES=serverless bash scripts/system-test.sh --mutate swallow-failed-records
SYSTEM_EXAMPLES=ecommerce SYSTEM_TYPES=serverless bash scripts/system-test.sh --mutate unset-function-variable
SYSTEM_EXAMPLES=event-orders SYSTEM_TYPES=serverless bash scripts/system-test.sh --mutate every-route-jwt
SYSTEM_EXAMPLES=ecommerce SYSTEM_TYPES=microservices bash scripts/system-test.sh --mutate no-outbox
SYSTEM_EXAMPLES=auth-service SYSTEM_TYPES=microservices bash scripts/system-test.sh --mutate no-idempotency
SYSTEM_EXAMPLES=ecommerce SYSTEM_TYPES=microservices bash scripts/system-test.sh --mutate no-dead-letters
# The same three event mutations through SNS/SQS (event-orders).
SYSTEM_EXAMPLES=event-orders SYSTEM_TYPES=microservices bash scripts/system-test.sh --mutate no-outbox
SYSTEM_EXAMPLES=event-orders SYSTEM_TYPES=microservices bash scripts/system-test.sh --mutate no-idempotency
SYSTEM_EXAMPLES=event-orders SYSTEM_TYPES=microservices bash scripts/system-test.sh --mutate no-dead-letters
SYSTEM_EXAMPLES=ecommerce SYSTEM_TYPES=monolith bash scripts/system-test.sh --mutate no-auth
SYSTEM_EXAMPLES=ecommerce SYSTEM_TYPES=microservices bash scripts/system-test.sh --mutate no-owner-check
