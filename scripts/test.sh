#!/usr/bin/env bash
# The one command that runs all tests (see README). On a fresh Debian machine it installs what it
# needs: the validators' Python venv (PyPI), PostgreSQL/shellcheck/promtool (Debian), Rust crates.
set -euo pipefail
cd "$(dirname "$0")/.."
export CONFORMANCE_VENV="${CONFORMANCE_VENV:-$PWD/.venv-conformance}"
command -v cargo >/dev/null || { echo "error: cargo not found; install Rust with rustup first" >&2; exit 2; }
bash tools/conformance/install.sh
cargo fmt --all -- --check
cargo clippy --all-targets -- -D warnings
cargo test --all-targets --no-fail-fast
bash scripts/conformance.sh
