#!/bin/sh
# Regeneration benchmark on a synthetic blueprint (default 200 services):
#   fresh    generate into an empty folder
#   no-op    `generate` again with nothing changed (renders everything, rewrites nothing)
#   edit     `generate` after one entity gained a field (one new migration)
#   copy     `cp -r` of the generated tree, the floor for writing that many files
# Prints the best of RUNS runs (default 5) in milliseconds.
# Usage: bench/regen.sh [SERVICES] [RUNS]   (builds the release binary first)
set -eu
n=${1:-200}
runs=${2:-5}
root=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release -q --manifest-path "$root/Cargo.toml"
bin="$root/target/release/codex-system-design"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sh "$root/bench/synthetic-blueprint.sh" "$n" > "$work/bp.yaml"

now_ms() { date +%s%N | cut -b1-13; }
best() { # best <label> <setup> <command>
  b=999999
  i=0
  while [ "$i" -lt "$runs" ]; do
    eval "$2"
    t0=$(now_ms); eval "$3" > /dev/null 2>&1; t1=$(now_ms)
    [ $((t1 - t0)) -lt "$b" ] && b=$((t1 - t0))
    i=$((i + 1))
  done
  printf '%-8s %6d ms\n' "$1" "$b"
}

best fresh "rm -rf '$work/out'" "'$bin' --blueprint '$work/bp.yaml' --out '$work/out' -q"
files=$(find "$work/out" -type f -not -path '*/.codex-system-design/*' | wc -l)
best no-op ":" "'$bin' generate -q -f '$work/out/blueprint.yaml'"
cp "$work/out/blueprint.yaml" "$work/bp-edited.yaml"
sed -i '0,/^      qty: int default 0$/s//      qty: int default 0\n      note: text nullable/' "$work/bp-edited.yaml"
best edit "rm -rf '$work/e'; cp -r '$work/out' '$work/e'; cp '$work/bp-edited.yaml' '$work/e/blueprint.yaml'" \
  "'$bin' generate -q -f '$work/e/blueprint.yaml'"
best copy "rm -rf '$work/copy'" "cp -r '$work/out' '$work/copy'"
echo "services: $n, generated files: $files"
