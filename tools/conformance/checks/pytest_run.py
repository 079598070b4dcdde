"""pytest in every Python service (a project folder with tests/), against a fresh PostgreSQL database that
holds the service's migrations, with DATABASE_URL (and PGHOST, PGPORT, PGUSER, PGDATABASE) pointing at it.

A service whose requirements the conformance venv does not satisfy gets a venv of its own, built once from
its requirements and cached under <venv>/service-venvs/ by the hash of the file.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import threading
import tomllib
from dataclasses import dataclass

from .context import Context
from .postgres import PostgresError
from .python import requirement_lines
from .sql import apply_ups, database_name
from .tree import Tree

UNSUPPORTED_OPTIONS = ("-r", "-c", "-e", "--requirement", "--constraint", "--editable")


@dataclass
class Service:
    rel: str
    python: str = ""
    env: dict | None = None
    note: str = ""
    error: str = ""


# ---------------------------------------------------------------- dependencies


def declared_requirements(folder: str) -> tuple:
    """(requirement strings, file they come from) for a service folder."""
    path = os.path.join(folder, "requirements.txt")
    if os.path.exists(path):
        return [text for _, text in requirement_lines(path)], path
    with open(os.path.join(folder, "pyproject.toml"), "rb") as fh:
        project = tomllib.load(fh).get("project", {})
    extras = project.get("optional-dependencies", {})
    return project.get("dependencies", []) + extras.get("test", []) + extras.get("dev", []), None


def unmet(requirements: list) -> list:
    """Requirements the running interpreter (the conformance venv) does not satisfy."""
    from importlib.metadata import PackageNotFoundError, version

    from packaging.requirements import InvalidRequirement, Requirement

    missing = []
    for text in requirements:
        if text.startswith(UNSUPPORTED_OPTIONS):
            missing.append(text)
            continue
        if text.startswith("-"):
            continue
        try:
            req = Requirement(text)
        except InvalidRequirement:
            missing.append(text)
            continue
        if req.marker and not req.marker.evaluate():
            continue
        try:
            have = version(req.name)
        except PackageNotFoundError:
            missing.append(req.name)
            continue
        if req.specifier and not req.specifier.contains(have, prereleases=True):
            missing.append(f"{req.name}{req.specifier} (has {have})")
    return missing


def service_venv(ctx: Context, folder: str, requirements: list, source: str | None) -> tuple:
    """(python of a cached venv with the service's requirements, error)."""
    if source:
        with open(source, encoding="utf-8") as fh:
            key_text = fh.read() + sys.version
    else:
        key_text = "\n".join(requirements) + sys.version
    venv = os.path.join(ctx.venv, "service-venvs", hashlib.sha256(key_text.encode()).hexdigest()[:16])
    python = os.path.join(venv, "bin", "python")
    if os.path.exists(os.path.join(venv, ".complete")):
        return python, ""
    base = getattr(sys, "_base_executable", None) or "python3"
    install = ["-r", source] if source else requirements
    for cmd in (
        [base, "-m", "venv", "--clear", venv],
        [python, "-m", "pip", "install", "-q", "--disable-pip-version-check", *install, "pytest", "httpx"],
    ):
        status, out = ctx.run(cmd, cwd=folder, timeout=900)
        if status:
            return "", f"cannot build a venv for its requirements: {out.strip()[-300:]}"
    open(os.path.join(venv, ".complete"), "w").close()
    return python, ""


def choose_python(ctx: Context, tree: Tree, svc: Service) -> None:
    folder = tree.path(svc.rel)
    requirements, source = declared_requirements(folder)
    missing = unmet(requirements)
    if not missing:
        svc.python = ctx.venv_bin("python")
        return
    svc.python, svc.error = service_venv(ctx, folder, requirements, source)
    svc.note = f"own venv: the conformance venv lacks {', '.join(missing[:3])}"


# ---------------------------------------------------------------- database


def migration_set_for(tree: Tree, name: str):
    wanted = (f"{name}-db", f"{name}_db", name)
    for ms in tree.migration_sets:
        if ms.name in wanted:
            return ms
    return tree.migration_sets[0] if len(tree.migration_sets) == 1 else None


def prepare_database(ctx: Context, tree: Tree, svc: Service) -> None:
    import psycopg

    server = ctx.postgres
    if server is None or not server.ready():
        svc.note = (svc.note + "; " if svc.note else "") + "no PostgreSQL: DATABASE_URL not set"
        return
    db = database_name(tree, "svc", svc.rel)
    ms = migration_set_for(tree, os.path.basename(os.path.abspath(tree.path(svc.rel))))
    try:
        server.create_database(db)
        if ms is not None:
            with server.connect(db, autocommit=True) as conn:
                apply_ups(conn, tree, ms)  # errors are reported by postgres-migrate
    except (PostgresError, psycopg.Error) as e:
        svc.error = f"cannot prepare its database: {e}"
        return
    svc.env = {
        "DATABASE_URL": server.url(db),
        "PGHOST": "127.0.0.1",
        "PGPORT": str(server.port),
        "PGUSER": "postgres",
        "PGDATABASE": db,
    }


# ---------------------------------------------------------------- run


def pytest_env(tree: Tree, svc: Service) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(svc.env or {})
    env["PYTHONPATH"] = tree.path(svc.rel)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PATH"] = os.path.dirname(svc.python) + os.pathsep + env.get("PATH", "")
    return env


def run_pytest(ctx: Context, tree: Tree, svc: Service) -> tuple:
    """(status, detail) of one service's tests."""
    if svc.error:
        return 1, svc.error
    timeout = int(os.environ.get("CONFORMANCE_PYTEST_TIMEOUT", "600"))
    cmd = [svc.python, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    status, out = ctx.run(cmd, cwd=tree.path(svc.rel), timeout=timeout, env=pytest_env(tree, svc))
    lines = out.splitlines()
    summary = next(
        (ln.strip("= ") for ln in reversed(lines) if re.search(r"\d+ (passed|failed|error)|no tests ran", ln)),
        f"pytest exited {status}",
    )
    if status == 5:
        return 1, f"no tests collected ({summary})"
    if status:
        details = [ln for ln in lines if ln.startswith(("FAILED", "ERROR", "E "))][:6]
        return 1, " | ".join([summary, *details])
    return 0, summary + (f"; {svc.note}" if svc.note else "")


class PytestRuns:
    """Every service's tests, started at the beginning of the run on worker threads (they spend their time
    in subprocesses), so that they overlap with the in-process validators."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.venv_lock = threading.Lock()  # two services may share one cached venv
        self.futures = {
            (t.index, rel): ctx.submit(self.run_one, t, Service(rel)) for t in ctx.trees for rel in t.py_services
        }

    def run_one(self, tree: Tree, svc: Service) -> tuple:
        try:
            with self.venv_lock:
                choose_python(self.ctx, tree, svc)
            if not svc.error:
                prepare_database(self.ctx, tree, svc)
            return run_pytest(self.ctx, tree, svc)
        except Exception as e:  # noqa: BLE001 - e.g. an unreadable pyproject.toml: that service fails alone
            return 1, f"cannot run its tests: {type(e).__name__}: {e}"

    def result(self, tree: Tree, rel: str) -> tuple:
        return self.futures[(tree.index, rel)].result()

    def stop(self) -> None:
        pass  # the shared worker pool is shut down by the context


def start(ctx: Context) -> None:
    if ctx.enabled("pytest") and any(t.py_services for t in ctx.trees):
        ctx.jobs["pytest"] = PytestRuns(ctx)


def pytest(ctx: Context, tree: Tree) -> None:
    for rel in tree.py_services:
        status, detail = ctx.jobs["pytest"].result(tree, rel)
        ctx.verdict("pytest", tree, rel, [detail] if status else [], detail)
