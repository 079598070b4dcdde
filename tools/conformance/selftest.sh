#!/usr/bin/env bash
# Proves the validators still tell good from bad: fixtures/valid must pass every validator, and in
# fixtures/broken every validator must find something. Also checks the exit codes, the summary line and the
# known-failures list. Needs install.sh to have run. Ends with "N passed, M failed".
set -u -o pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VALIDATE=(python3 "$HERE/validate.py")
TMP="$(mktemp -d "${TMPDIR:-/tmp}/conformance-selftest.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
pass=0
fail=0
ok() { echo "PASS selftest $*"; pass=$((pass + 1)); }
ko() { echo "FAIL selftest $*"; fail=$((fail + 1)); }
expect() { # expect NAME CONDITION-COMMAND...
  local name="$1"
  shift
  if "$@"; then ok "$name"; else ko "$name"; fi
}

# copies, so that a run can never touch the fixtures and the tree names are fixed
cp -r "$HERE/fixtures/valid" "$HERE/fixtures/broken" "$TMP/"
mapfile -t VALIDATORS < <("${VALIDATE[@]}" --list | sed -n 's/^validators: //p' | tr ' ' '\n')
[ "${#VALIDATORS[@]}" -gt 20 ] || { echo "cannot list the validators (is the venv installed?)" >&2; exit 2; }

# ---------------------------------------------------------------- both trees in one run (shared setup)
CONFORMANCE_STRICT_TOOLS=1 "${VALIDATE[@]}" "$TMP/valid" "$TMP/broken" >"$TMP/both.out" 2>"$TMP/both.err"
rc=$?
expect "a run with failures exits 1 (got $rc)" [ "$rc" = 1 ]
expect "the last line is 'N passed, M failed'" grep -qE '^[0-9]+ passed, [0-9]+ failed$' <(tail -n 1 "$TMP/both.out")
bad="$(grep -E '^(FAIL|SKIP) [^ ]+ valid/' "$TMP/both.out" | head -5)"
expect "valid/ has no FAIL or SKIP${bad:+: $bad}" [ -z "$bad" ]
for v in "${VALIDATORS[@]}"; do
  expect "valid/ passes $v" grep -q "^PASS $v valid/" "$TMP/both.out"
  expect "broken/ is rejected by $v" grep -q "^FAIL $v broken/" "$TMP/both.out"
done

# ---------------------------------------------------------------- one tree, exit 0, no prefix
CONFORMANCE_ONLY=yamllint,kubernetes-validate "${VALIDATE[@]}" "$TMP/valid" >"$TMP/one.out" 2>&1
rc=$?
expect "a passing run exits 0 (got $rc)" [ "$rc" = 0 ]
expect "one tree: targets have no tree prefix" grep -q '^PASS yamllint deploy/' "$TMP/one.out"

# ---------------------------------------------------------------- known failures
cat >"$TMP/known.txt" <<'EOF'
# validator  glob on the target              # reason
yamllint     observability/otel/*.yaml       # duplicate key kept on purpose
json-parse   observability/grafana/payments-*  # a broken dashboard
yamllint     deploy/never-generated.yaml     # fixed long ago
EOF
run_known() { CONFORMANCE_ONLY=yamllint,json-parse CONFORMANCE_KNOWN_FAILURES="$TMP/known.txt" "$@" \
  "${VALIDATE[@]}" "$TMP/broken" >"$TMP/known.out" 2>&1; }
run_known env
rc=$?
expect "known failures only: exit 0 (got $rc)" [ "$rc" = 0 ]
expect "known failures are XFAIL" [ "$(grep -c '^XFAIL ' "$TMP/known.out")" = 2 ]
expect "the summary counts them" grep -qx '(2 known failures)' "$TMP/known.out"
expect "a stale entry is an XPASS note" grep -q '^XPASS yamllint deploy/never-generated.yaml' "$TMP/known.out"
run_known env CONFORMANCE_STRICT_XPASS=1
rc=$?
expect "CONFORMANCE_STRICT_XPASS=1 turns the XPASS into a failure (exit $rc)" [ "$rc" = 1 ]

# ---------------------------------------------------------------- usage errors
"${VALIDATE[@]}" "$TMP/no-such-tree" >/dev/null 2>&1
rc=$?
expect "a missing tree is a usage error (exit $rc)" [ "$rc" = 2 ]
CONFORMANCE_SKIP=no-such-validator "${VALIDATE[@]}" "$TMP/valid" >/dev/null 2>&1
rc=$?
expect "an unknown validator name is a usage error (exit $rc)" [ "$rc" = 2 ]
CONFORMANCE_VENV="$TMP/no-venv" "${VALIDATE[@]}" "$TMP/valid" >/dev/null 2>&1
rc=$?
expect "a missing venv is exit 2 (got $rc)" [ "$rc" = 2 ]

if [ "$fail" -gt 0 ]; then
  echo "--- output of the two-tree run:"
  grep -E '^(FAIL|SKIP)' "$TMP/both.out" | cut -c1-300
  tail -n 20 "$TMP/both.err"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
