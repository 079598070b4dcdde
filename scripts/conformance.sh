#!/usr/bin/env bash
# Generate every built-in example × type × scale and run the real validators over the trees.
#   CONFORMANCE_VENV   validators' venv (default .venv-conformance; made by tools/conformance/install.sh)
#   CONFORMANCE_OUT    where the trees go (default target/conformance)
#   MATRIX_EXAMPLES / MATRIX_TYPES / MATRIX_SCALES   narrow the matrix (space-separated)
#   MATRIX_BLUEPRINTS  blueprint files generated once each, as written, beside the matrix (default:
#                      the existing-image fixtures, the two monoliths and the Python + TypeScript ones (one serving gRPC);
#                      empty for none)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${CONFORMANCE_VENV:-.venv-conformance}"
OUT="${CONFORMANCE_OUT:-target/conformance}"
cargo build --release --quiet
BIN=target/release/codex-system-design
EXAMPLES="${MATRIX_EXAMPLES:-$($BIN examples | awk '{print $1}')}"
TYPES="${MATRIX_TYPES:-microservices monolith serverless}"
SCALES="${MATRIX_SCALES:-small medium large}"
rm -rf "$OUT"
mkdir -p "$OUT"
trees=()
for ex in $EXAMPLES; do
  supported="$("$BIN" examples types "$ex")"
  for ty in $TYPES; do
    if ! grep -qx "$ty" <<<"$supported"; then
      # Not a skip: the generator must refuse this pair with a located error, writing nothing.
      if "$BIN" --example "$ex" --type "$ty" --quiet --out "$OUT/refused-$ex-$ty" 2>"$OUT/refused-$ex-$ty.err"; then
        echo "FAIL $ex $ty: generated, but the example is not meant for $ty" >&2
        exit 1
      fi
      [ ! -e "$OUT/refused-$ex-$ty" ] || { echo "FAIL $ex $ty: refused but wrote files" >&2; exit 1; }
      echo "refused as designed: $ex $ty ($(grep -o 'error\[E[0-9]*\]' "$OUT/refused-$ex-$ty.err" | sort -u | tr '\n' ' '))"
      continue
    fi
    scales="$SCALES"
    # The mixed-engine example adds its own databases' tests, not new templates: one scale is enough
    # (CI time); MATRIX_SCALES still narrows or widens it by hand.
    if [ -z "${MATRIX_SCALES:-}" ] && [ "$ex" = polyglot-shop ]; then scales=small; fi
    for sc in $scales; do
      dir="$OUT/$ex-$ty-$sc"
      "$BIN" --example "$ex" --type "$ty" --scale "$sc" --quiet --out "$dir"
      trees+=("$dir")
    done
  done
done
BLUEPRINTS="${MATRIX_BLUEPRINTS-tests/fixtures/valid/online-boutique.yaml tests/fixtures/valid/images-contract.yaml tests/fixtures/valid/mysql-monolith.yaml tests/fixtures/valid/typescript-monolith.yaml tests/fixtures/polyglot/polyglot.yaml tests/fixtures/polyglot/polyglot-grpc.yaml tests/fixtures/polyglot/polyglot-grpc-only.yaml tests/fixtures/polyglot/polyglot-kafka.yaml tests/fixtures/polyglot/polyglot-sqs.yaml tests/fixtures/polyglot/polyglot-mysql.yaml tests/fixtures/polyglot/polyglot-serverless.yaml tests/fixtures/polyglot/polyglot-serverless-dynamodb.yaml}"
for bp in $BLUEPRINTS; do
  dir="$OUT/$(basename "$bp" .yaml)"
  "$BIN" --blueprint "$bp" --quiet --out "$dir"
  trees+=("$dir")
done
echo "generated ${#trees[@]} trees under $OUT"
export CONFORMANCE_STRICT_TOOLS="${CONFORMANCE_STRICT_TOOLS:-1}"
export CONFORMANCE_KNOWN_FAILURES="${CONFORMANCE_KNOWN_FAILURES:-tools/conformance/known-failures.txt}"
export CONFORMANCE_VENV="$VENV"
exec python3 tools/conformance/validate.py "${trees[@]}"
