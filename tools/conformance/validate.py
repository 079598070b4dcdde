#!/usr/bin/env python3
"""Run every offline conformance validator over one or more generated trees.

usage: validate.py [validate] TREE [TREE...]
       validate.py --list          (validator names and groups, for CONFORMANCE_SKIP / CONFORMANCE_ONLY)

Prints `PASS|FAIL|SKIP|XFAIL <validator> <target> <detail>` per check and ends with the line
`N passed, M failed`. Exit status: 0 when nothing failed and some check ran, 1 otherwise, 2 on usage errors
or a missing venv. With several trees every target is prefixed with its tree's folder name. An input identical
to one checked earlier is not checked again: its result is a copy (`same content as <target>: ...`, see README.md).

Environment:
  CONFORMANCE_VENV            venv made by install.sh (default: <repo>/.venv-conformance)
  CONFORMANCE_SKIP / _ONLY    comma lists of validators or groups to leave out / to run alone
  CONFORMANCE_STRICT_TOOLS=1  a missing tool is a FAIL, not a SKIP (CI)
  CONFORMANCE_KNOWN_FAILURES  file of `<validator> <glob on the target> # reason`: matching FAILs become XFAIL
  CONFORMANCE_STRICT_XPASS=1  a known failure that did not occur counts as a failure
  CONFORMANCE_DEDUP=0         check every input, also those identical to one checked earlier
  CONFORMANCE_TIMING=1        validator, background and total times on stderr
  CONFORMANCE_K8S_VERSIONS    Kubernetes versions for the schemas (default "1.30 <newest bundled>")
  CONFORMANCE_TF_PLUGINS      provider plugin folder for terraform init (default /opt/tf-plugins)
  CONFORMANCE_HADOLINT_THRESHOLD, CONFORMANCE_RUFF_SELECT, CONFORMANCE_PYTEST_TIMEOUT, CONFORMANCE_TERRAFORM,
  CONFORMANCE_PG_BIN, CONFORMANCE_YAMLLINT_CONFIG   see README.md
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import tempfile
import time
import traceback

sys.dont_write_bytecode = True  # never leave __pycache__ in the repo or in a checked tree
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def venv_dir() -> str:
    return os.path.abspath(os.environ.get("CONFORMANCE_VENV") or os.path.join(REPO, ".venv-conformance"))


def enter_venv(argv: list) -> str:
    """Re-runs this script with the venv's interpreter unless it already is the one running."""
    venv = venv_dir()
    python = os.path.join(venv, "bin", "python")
    if not os.access(python, os.X_OK):
        print(f"conformance venv not found at {venv}: run tools/conformance/install.sh", file=sys.stderr)
        sys.exit(2)
    if os.path.realpath(sys.prefix) != os.path.realpath(venv):
        if os.environ.get("CONFORMANCE_IN_VENV") == "1":
            print(f"cannot enter the venv {venv}", file=sys.stderr)
            sys.exit(2)
        os.environ["CONFORMANCE_IN_VENV"] = "1"
        os.execv(python, [python, os.path.abspath(__file__), *argv])
    return venv


sys.path.insert(0, HERE)


def tree_labels(paths: list) -> list:
    """Display names of the trees: their folder names, made unique."""
    labels, seen = [], {}
    for path in paths:
        base = os.path.basename(path) or "tree"
        seen[base] = seen.get(base, 0) + 1
        labels.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return labels


def parse_args(argv: list) -> list:
    from checks.context import GROUPS, VALIDATORS
    from checks.report import UsageError

    if argv and argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        sys.exit(0)
    if argv and argv[0] == "--list":
        print("validators: " + " ".join(VALIDATORS))
        for name, members in GROUPS.items():
            print(f"group {name}: {' '.join(members)}")
        sys.exit(0)
    if argv and argv[0] == "validate" and not os.path.isdir(argv[0]):
        argv = argv[1:]
    if not argv:
        raise UsageError("usage: validate.py [validate] TREE [TREE...]  (--help for more)")
    for path in argv:
        if not os.path.isdir(path):
            raise UsageError(f"not a directory: {path}")
    return [os.path.realpath(p) for p in argv]


# Validators that only report work started in the background at the beginning of the run (worker threads,
# check-jsonschema, checkov): they run after the other validators of every tree, so that waiting for them never
# holds up the in-process checks of the next trees.
COLLECTED = (
    "compose-schema",
    "gha-schema",
    "postgres-migrate",
    "postgres-roundtrip",
    "mysql-migrate",
    "pytest",
    "terraform-validate",
    "terraform-test",
    "checkov",
)


def steps() -> list:
    """(validator, function) in the order they run over each tree."""
    from checks import (
        checkov,
        istio,
        jsonschemas,
        kube,
        kustomize,
        lint,
        linters,
        node,
        prometheus,
        proto,
        pytest_run,
        python,
        refs,
        sql,
        terraform,
        terraform_plan,
    )

    return [
        ("yamllint", lint.yamllint),
        ("json-parse", lint.json_parse),
        ("kubernetes-validate", kube.kubernetes_validate),
        ("k8s-api-rules", kube.k8s_api_rules),
        ("istio-schema", istio.istio_schema),
        ("k8s-refs", refs.k8s_refs),
        ("kustomize", kustomize.kustomize),
        ("compose-schema", jsonschemas.compose_schema),
        ("docker-compose-config", linters.docker_compose_config),
        ("actionlint", linters.actionlint),
        ("gha-schema", jsonschemas.gha_schema),
        ("openapi-spec-validator", linters.openapi_spec_validator),
        ("promtool", prometheus.promtool),
        ("grafana-dashboard", prometheus.grafana_dashboard),
        ("grafana-promql", prometheus.grafana_promql),
        ("terraform-fmt", terraform.terraform_fmt),
        ("python-hcl2", terraform.python_hcl2),
        ("terraform-validate", terraform_plan.terraform_validate),
        ("terraform-test", terraform_plan.terraform_test),
        ("hadolint", linters.hadolint),
        ("protoc", proto.protoc),
        ("buf-lint", proto.buf_lint),
        ("pglast", sql.pglast),
        ("postgres-migrate", sql.postgres_migrate),
        ("postgres-roundtrip", sql.postgres_roundtrip),
        ("mysql-migrate", sql.mysql_migrate),
        ("py-compile", python.py_compile),
        ("ruff-check", python.ruff_check),
        ("ruff-format", python.ruff_format),
        ("requirements", python.requirements),
        ("pytest", pytest_run.pytest),
        # One entry runs the three TypeScript validators (tsc, eslint, node-test) of a tree.
        ("node-test", node.check),
        ("checkov", checkov.checkov),
    ]


def needs_postgres(ctx) -> bool:
    from checks.node import node_services

    migrations = any(ms.ups for t in ctx.trees for ms in t.migration_sets)
    services = any(t.py_services for t in ctx.trees)
    node = any(node_services(t) for t in ctx.trees)
    return (
        (migrations and (ctx.enabled("postgres-migrate") or ctx.enabled("postgres-roundtrip")))
        or (services and ctx.enabled("pytest"))
        or (node and ctx.enabled("node-test"))
    )


def needs_mariadb(ctx) -> bool:
    mysql = [ms for t in ctx.trees for ms in t.migration_sets if ms.dialect == "mysql" and ms.ups]
    return bool(mysql) and (ctx.enabled("mysql-migrate") or ctx.enabled("pytest") or ctx.enabled("node-test"))


def start_background(ctx) -> None:
    from checks import checkov, jsonschemas, pytest_run, sql, terraform_plan
    from checks.mariadb import MariaDBServer
    from checks.postgres import PostgresServer

    if needs_postgres(ctx):
        ctx.postgres = PostgresServer(ctx.work)
        ctx.postgres.start_in_background()
    if needs_mariadb(ctx):
        ctx.mariadb = MariaDBServer(ctx.work)
        ctx.mariadb.start_in_background()
    terraform_plan.start(ctx)
    checkov.start(ctx)
    jsonschemas.start(ctx)
    sql.start(ctx)
    pytest_run.start(ctx)


def run_tree(ctx, tree, collected: bool) -> None:
    for validator, check in steps():
        if not ctx.enabled(validator) or (validator in COLLECTED) != collected:
            continue
        began = time.monotonic()
        try:
            check(ctx, tree)
        except Exception as e:  # noqa: BLE001 - one broken validator must not hide the others' results
            traceback.print_exc(file=sys.stderr)
            ctx.failed(validator, tree, ".", f"internal error in the runner: {type(e).__name__}: {e}")
        spent = time.monotonic() - began
        TIMES[validator] = TIMES.get(validator, 0.0) + spent
        if timing():
            print(f"[timing] {tree.label} {validator} {spent:.2f}s", file=sys.stderr, flush=True)


TIMES: dict = {}  # validator -> seconds the main thread spent in it (waiting for background work included)


def timing() -> bool:
    return os.environ.get("CONFORMANCE_TIMING") == "1"


def print_times() -> None:
    for validator, spent in sorted(TIMES.items(), key=lambda kv: -kv[1]):
        print(f"[timing] total {validator} {spent:.2f}s", file=sys.stderr)
    print(f"[timing] total (all validators) {sum(TIMES.values()):.2f}s", file=sys.stderr, flush=True)


def build_context(venv: str, paths: list, work: str):
    from checks.context import Context
    from checks.report import Reporter, load_known_failures
    from checks.tree import scan

    known_file = os.environ.get("CONFORMANCE_KNOWN_FAILURES")
    reporter = Reporter(
        known=load_known_failures(known_file) if known_file else [],
        strict_xpass=os.environ.get("CONFORMANCE_STRICT_XPASS", "0") == "1",
    )
    ctx = Context.from_env(venv, HERE, work, reporter)
    labels = tree_labels(paths)
    for i, (path, label) in enumerate(zip(paths, labels, strict=True)):
        ctx.trees.append(scan(path, label, f"{label}/" if len(paths) > 1 else "", i))
    return ctx


def main(argv: list) -> int:
    from checks.report import UsageError

    started = time.monotonic()
    venv = enter_venv(argv)
    os.environ["PATH"] = os.path.join(venv, "bin") + os.pathsep + os.environ.get("PATH", "")
    os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
    work = tempfile.mkdtemp(prefix="conformance-")
    os.chmod(work, 0o755)  # the postgres user must reach its data folder inside
    ctx = None
    try:
        ctx = build_context(venv, parse_args(argv), work)
        if timing():
            print(f"[timing] inventory of the trees {time.monotonic() - started:.2f}s", file=sys.stderr, flush=True)
        start_background(ctx)
        for collected in (False, True):
            for tree in ctx.trees:
                run_tree(ctx, tree, collected)
        if timing():
            print_times()
        print(f"(ran in {time.monotonic() - started:.1f}s)", flush=True)
        return ctx.reporter.finish(ctx.enabled_glob)
    except UsageError as e:
        print(e, file=sys.stderr)
        return 2
    finally:
        if ctx is not None:
            ctx.stop_jobs()
            if ctx.postgres is not None:
                ctx.postgres.stop()
            if ctx.mariadb is not None:
                ctx.mariadb.stop()
        shutil.rmtree(work, ignore_errors=True)


def on_signal(signum, _frame):
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    sys.exit(main(sys.argv[1:]))
