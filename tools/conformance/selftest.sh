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
cp -r "$HERE/fixtures/broken" "$TMP/broken-copy" # identical to broken/: checked through dedup
mapfile -t VALIDATORS < <("${VALIDATE[@]}" --list | sed -n 's/^validators: //p' | tr ' ' '\n')
[ "${#VALIDATORS[@]}" -gt 20 ] || { echo "cannot list the validators (is the venv installed?)" >&2; exit 2; }

# ---------------------------------------------------------------- the trees in one run (shared setup)
CONFORMANCE_STRICT_TOOLS=1 "${VALIDATE[@]}" "$TMP/valid" "$TMP/broken" "$TMP/broken-copy" >"$TMP/both.out" \
  2>"$TMP/both.err"
rc=$?
expect "a run with failures exits 1 (got $rc)" [ "$rc" = 1 ]
expect "the last line is 'N passed, M failed'" grep -qE '^[0-9]+ passed, [0-9]+ failed$' <(tail -n 1 "$TMP/both.out")
# Every validator has a valid and a broken fixture (the TypeScript ones: services/labels, a small
# package on the generated services' lockfile, with a type error, an unused variable and a failing
# test planted in broken/). A validator listed here would be excused from the both-ways proof.
NO_FIXTURE='^$'
bad="$(grep -E '^(FAIL|SKIP) [^ ]+ valid/' "$TMP/both.out" | grep -vE "^SKIP ($NO_FIXTURE) " |
  grep -vE '^SKIP (pglast|postgres-migrate|postgres-roundtrip) .*(MySQL dialect|a MySQL database)' | head -5)"
expect "valid/ has no FAIL or SKIP${bad:+: $bad}" [ -z "$bad" ]
for v in "${VALIDATORS[@]}"; do
  [[ $v =~ ^($NO_FIXTURE)$ ]] && continue
  expect "valid/ passes $v" grep -q "^PASS $v valid/" "$TMP/both.out"
  expect "broken/ is rejected by $v" grep -q "^FAIL $v broken/" "$TMP/both.out"
done

# the errors planted in the custom resources are the ones named (not only some error of the file)
named() { # named NAME VALIDATOR FILE REGEX
  expect "$1" grep -qE "^FAIL $2 broken/$3 .*$4" "$TMP/both.out"
}
named "tsc names the planted type error" tsc services/labels "src/labels.ts.*TS2322"
named "eslint names the planted unused variable" eslint services/labels "no-unused-vars"
expect "node-test runs valid/'s test" grep -qE '^PASS node-test valid/services/labels .*pass 1' "$TMP/both.out"
named "istio-schema names the misspelt RequestAuthentication field" istio-schema \
  deploy/istio/requestauthentication.yaml "'jwtRule' was unexpected"
named "istio-schema refuses an ftp:// jwksUri (CEL url() rule)" istio-schema deploy/istio/requestauthentication.yaml \
  'RequestAuthentication/ftp-keys: spec.jwtRules\[0\].jwksUri: url must have scheme'
named "istio-schema names the unknown EnvoyFilter applyTo" istio-schema deploy/istio/envoyfilter.yaml \
  "'HTTP_FILTERS' is not one of"
named "kubernetes-validate checks an ExternalSecret against its CRD schema" kubernetes-validate \
  deploy/k8s/base/orders/externalsecret.yaml "'keyy' was unexpected"
named "kubernetes-validate checks a SecretStore against its CRD schema" kubernetes-validate \
  deploy/k8s/base/orders/externalsecret.yaml "SecretStore/orders-aws .*'SecretManager' is not one of"
expect "valid/ ExternalSecret and SecretStore are checked, not skipped" grep -qE \
  '^PASS kubernetes-validate valid/deploy/k8s/overlays/dev/transport.yaml .*2 custom resource' "$TMP/both.out"

# ---------------------------------------------------------------- dedup
# broken-copy/ is broken/ again: its checks are copies of broken/'s, and a copy of a FAIL must FAIL
results() { # results FILE TREE: "STATUS VALIDATOR TARGET" of one tree, without the tree prefix, sorted
  grep -E "^(PASS|FAIL|SKIP|XFAIL) [^ ]+ $2/" "$1" | awk -v p="$2/" '{ sub("^" p, "", $3); print $1, $2, $3 }' | sort
}
for v in "${VALIDATORS[@]}"; do
  [[ $v =~ ^($NO_FIXTURE)$ ]] && continue
  expect "broken-copy/ (dedup) is rejected by $v" grep -q "^FAIL $v broken-copy/" "$TMP/both.out"
done
expect "broken-copy/ gets exactly broken/'s results" cmp -s <(results "$TMP/both.out" broken) \
  <(results "$TMP/both.out" broken-copy)
# validators that always run: cheap ones, tree-wide cross references, and compose (reads files anywhere)
# (mysql-migrate applies each MySQL folder to MariaDB every time, like the servers' own checks)
ALWAYS='docker-compose-config|json-parse|k8s-refs|grafana-dashboard|pglast|py-compile|requirements|mysql-migrate'
not_copied="$(grep -E '^(PASS|FAIL|SKIP) [^ ]+ broken-copy/' "$TMP/both.out" | grep -vE "^[A-Z]+ ($ALWAYS) " |
  grep -v ' same content as broken/' | grep -vE "^SKIP ($NO_FIXTURE) " | head -3)"
expect "broken-copy/ results of the other validators are copies of broken/'s${not_copied:+: $not_copied}" \
  [ -z "$not_copied" ]
expect "the summary counts the copies" grep -qE '^\([0-9]+ of these results copied from an identical input' \
  "$TMP/both.out"
CONFORMANCE_STRICT_TOOLS=1 CONFORMANCE_DEDUP=0 "${VALIDATE[@]}" "$TMP/broken" "$TMP/broken-copy" \
  >"$TMP/nodedup.out" 2>&1
expect "CONFORMANCE_DEDUP=0 copies nothing" [ "$(grep -c 'same content as' "$TMP/nodedup.out")" = 0 ]
expect "CONFORMANCE_DEDUP=0 gives broken/ the same results" cmp -s <(results "$TMP/both.out" broken) \
  <(results "$TMP/nodedup.out" broken)
expect "CONFORMANCE_DEDUP=0 gives broken-copy/ the same results" cmp -s <(results "$TMP/both.out" broken-copy) \
  <(results "$TMP/nodedup.out" broken-copy)

# a service whose folder is the same in three trees but whose tests read a file next to it that differs in one:
# that one runs (and fails), the third is a copy of the first
for t in reads-a reads-b reads-c; do
  mkdir -p "$TMP/$t/services/svc/tests" "$TMP/$t/shared"
  echo "pytest" >"$TMP/$t/services/svc/requirements.txt"
  cat >"$TMP/$t/services/svc/tests/test_shared.py" <<'EOF'
from pathlib import Path


def test_shared_value():
    assert (Path(__file__).resolve().parents[3] / "shared" / "value.txt").read_text().strip() == "ok"
EOF
done
echo ok >"$TMP/reads-a/shared/value.txt"
echo bad >"$TMP/reads-b/shared/value.txt"
echo ok >"$TMP/reads-c/shared/value.txt"
CONFORMANCE_ONLY=pytest "${VALIDATE[@]}" "$TMP/reads-a" "$TMP/reads-b" "$TMP/reads-c" >"$TMP/reads.out" 2>&1
expect "pytest: the first service runs and passes" grep -qE '^PASS pytest reads-a/services/svc [0-9]+ passed' \
  "$TMP/reads.out"
expect "pytest: a read outside the service that differs means no copy (it fails)" \
  grep -qE '^FAIL pytest reads-b/services/svc [0-9]+ failed' "$TMP/reads.out"
expect "pytest: with the same reads it is a copy" \
  grep -q '^PASS pytest reads-c/services/svc same content as reads-a/services/svc' "$TMP/reads.out"

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

# ---------------------------------------------------------------- terraform: the provider's schema is checked
# An attribute the AWS provider does not have passes fmt, the HCL parse and checkov; validate must name it with
# its file and line. In the sample, and in a generated tree when the tool is built (CONFORMANCE_BIN).
plant_typo() { # plant_typo FILE AFTER-REGEX: a line `storage_encrypted_typo = true` after the first match
  python3 - "$1" "$2" <<'PY'
import re, sys
path, after = sys.argv[1], sys.argv[2]
text = open(path).read()
m = re.search(after + ".*\n", text)
open(path, "w").write(text[: m.end()] + "  storage_encrypted_typo = true\n" + text[m.end():])
print(text[: m.end()].count("\n") + 1)
PY
}
cp -r "$TMP/valid" "$TMP/typo"
line="$(plant_typo "$TMP/typo/infra/terraform/main.tf" 'resource "aws_dynamodb_table" "sessions" \{')"
CONFORMANCE_ONLY=python-hcl2,terraform-validate "${VALIDATE[@]}" "$TMP/typo" >"$TMP/typo.out" 2>&1
expect "terraform-validate names a planted attribute typo with its file and line ($line)" grep -qE \
  "^FAIL terraform-validate infra/terraform infra/terraform/main.tf:$line: Unsupported argument" "$TMP/typo.out"
expect "the HCL parse does not see it" [ "$(grep -c '^FAIL python-hcl2 ' "$TMP/typo.out")" = 0 ]
REPO="$(cd "$HERE/../.." && pwd)"
# the newest build (a stale one generates the Terraform of an older commit)
BIN="${CONFORMANCE_BIN:-$(ls -t "$REPO"/target/{release,debug}/codex-system-design 2>/dev/null | head -n 1)}"
if [ -n "$BIN" ] && "$BIN" --example auth-service --type monolith --scale small --quiet --out "$TMP/gen"; then
  line="$(plant_typo "$TMP/gen/infra/terraform/modules/database/main.tf" 'resource "aws_db_instance" "primary" \{')"
  # Both, as CI runs them: terraform test runs first, and validate only runs when the test did not pass.
  CONFORMANCE_ONLY=terraform-validate,terraform-test "${VALIDATE[@]}" "$TMP/gen" >"$TMP/gen.out" 2>&1
  expect "a typo planted in a generated database module fails terraform-validate at its line ($line)" grep -qE \
    "^FAIL terraform-validate infra/terraform infra/terraform/modules/database/main.tf:$line: Unsupported argument" \
    "$TMP/gen.out"
  expect "and fails its terraform test" grep -q "^FAIL terraform-test infra/terraform " "$TMP/gen.out"
else
  echo "SKIP selftest generated-tree typo: codex-system-design is not built (cargo build, or CONFORMANCE_BIN)"
fi

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
