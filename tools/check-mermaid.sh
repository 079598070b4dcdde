#!/usr/bin/env bash
# check-mermaid.sh DIR — parse every Mermaid diagram of a generated tree (docs/diagrams/*.mmd and
# the ```mermaid blocks of docs/*.md) with the real Mermaid parser. Needs node 20+ and, once,
# network for `npm ci` (or an existing tools/mermaid/node_modules). Not part of `cargo test`: it
# takes a few seconds and an npm install.
set -euo pipefail
[ $# -eq 1 ] && [ -d "$1" ] || { echo "usage: $0 GENERATED_DIR" >&2; exit 2; }
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/mermaid" && pwd)"
if [ ! -d "$HERE/node_modules/mermaid" ]; then
  (cd "$HERE" && npm install --no-audit --no-fund --silent)
fi
mapfile -t files < <(find "$1/docs" \( -name '*.mmd' -o -name '*.md' \) -type f | sort)
[ ${#files[@]} -gt 0 ] || { echo "no diagrams under $1/docs" >&2; exit 1; }
exec node "$HERE/check.mjs" "${files[@]}"
