#!/usr/bin/env bash
# The one command that runs all tests (see README). Installs what it needs on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --all-targets -- -D warnings
cargo test --all-targets
