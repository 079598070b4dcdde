"""pytest in every Python service (a project folder with tests/), against a fresh PostgreSQL database that
holds the service's migrations, with DATABASE_URL (and PGHOST, PGPORT, PGUSER, PGDATABASE) pointing at it.

A service whose requirements the conformance venv does not satisfy gets a venv of its own, built once from
its requirements and cached under <venv>/service-venvs/ by the hash of the file. The database is a copy of a
template database per migration set (the up scripts run once per set, not once per service).

With dedup on, a service whose inputs (service_key, and what its tests were seen to read elsewhere) are the same
as an earlier one's does not run again: its result is copied.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import threading
import time
import tomllib
from dataclasses import dataclass

from .context import Context
from .postgres import PostgresError
from .python import requirement_lines
from .sql import Templates, database_name, set_key
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
        runtime = [text for _, text in requirement_lines(path)]
        extra = test_only_requirements(folder)
        # With test-only packages the venv lacks, the venv is built from the list, not the file.
        return runtime + extra, (None if extra else path)
    with open(os.path.join(folder, "pyproject.toml"), "rb") as fh:
        project = tomllib.load(fh).get("project", {})
    extras = project.get("optional-dependencies", {})
    return project.get("dependencies", []) + extras.get("test", []) + extras.get("dev", []), None


def test_only_requirements(folder: str) -> list:
    """Lines of requirements-dev.txt naming a package the conformance venv does not have at all
    (moto for the DynamoDB functions' tests); tools it has in another version (pytest, ruff) are
    left to the venv, as before."""
    from importlib.metadata import PackageNotFoundError, version

    from packaging.requirements import InvalidRequirement, Requirement

    path = os.path.join(folder, "requirements-dev.txt")
    if not os.path.exists(path):
        return []
    out = []
    for _, text in requirement_lines(path):
        if text.startswith("-"):
            continue
        try:
            version(Requirement(text).name)
        except InvalidRequirement:
            continue
        except PackageNotFoundError:
            out.append(text)
    return out


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


def service_set(tree: Tree, rel: str):
    return migration_set_for(tree, os.path.basename(os.path.abspath(tree.path(rel))))


def prepare_mysql(ctx: Context, tree: Tree, svc: Service) -> None:
    """A fresh MariaDB database: the service's own test setup applies its migrations (conftest)."""
    from .mariadb import MariaDBError

    server = ctx.mariadb
    if server is None or not server.ready():
        svc.note = (svc.note + "; " if svc.note else "") + "no MariaDB: DATABASE_URL not set"
        return
    db = database_name(tree, "svc", svc.rel)
    try:
        server.create_database(db)
    except MariaDBError as e:
        svc.error = f"cannot prepare its database: {e}"
        return
    svc.env = {"DATABASE_URL": server.url(db)}


def prepare_database(ctx: Context, tree: Tree, svc: Service, templates: Templates) -> None:
    import psycopg

    ms = service_set(tree, svc.rel)
    if ms is not None and ms.dialect == "mysql":
        prepare_mysql(ctx, tree, svc)
        return
    server = ctx.postgres
    if server is None or not server.ready():
        svc.note = (svc.note + "; " if svc.note else "") + "no PostgreSQL: DATABASE_URL not set"
        return
    db = database_name(tree, "svc", svc.rel)
    ms = service_set(tree, svc.rel)
    try:
        if ms is not None and ms.ups:
            templates.database_from(ctx, tree, ms, db)  # errors are reported by postgres-migrate
        else:
            server.create_database(db)
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


def pytest_env(tree: Tree, svc: Service, reads: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV") and not k.startswith(READS)}
    env.update(svc.env or {})
    env["PYTHONPATH"] = tree.path(svc.rel)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PATH"] = os.path.dirname(svc.python) + os.pathsep + env.get("PATH", "")
    if reads:
        env["PYTHONPATH"] += os.pathsep + os.path.dirname(reads)
        env[READS + "FILE"] = reads + ".out"
        env[READS + "SERVICE"] = os.path.realpath(tree.path(svc.rel))
        env[READS + "AREA"] = os.path.dirname(tree.root)
    return env


def run_pytest(ctx: Context, tree: Tree, svc: Service, reads: str | None = None) -> tuple:
    """(status, detail) of one service's tests. With `reads` (the recording plugin's path), the files and folders
    the tests open or list outside the service folder are written to `reads`.out."""
    if svc.error:
        return 1, svc.error
    timeout = int(os.environ.get("CONFORMANCE_PYTEST_TIMEOUT", "600"))
    # A test (or a fixture's teardown) stuck for 5 minutes dumps every thread's stack, so a hang in CI is
    # reported with where it waits rather than only as the timeout's exit status.
    cmd = [svc.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "faulthandler_timeout=300"]
    if reads:
        cmd += ["-p", PLUGIN]
    status, out = ctx.run(cmd, cwd=tree.path(svc.rel), timeout=timeout, env=pytest_env(tree, svc, reads))
    lines = out.splitlines()
    summary = next(
        (ln.strip("= ") for ln in reversed(lines) if re.search(r"\d+ (passed|failed|error)|no tests ran", ln)),
        f"pytest exited {status}",
    )
    if status == 5:
        return 1, f"no tests collected ({summary})"
    if status == 124:
        stack = [ln.strip() for ln in lines if ln.lstrip().startswith("File ") and "/site-packages/" not in ln]
        return 1, " | ".join([f"timed out after {timeout} s", *stack[-6:]])
    if status:
        details = [ln for ln in lines if ln.startswith(("FAILED", "ERROR", "E "))][:6]
        return 1, " | ".join([summary, *details])
    return 0, summary + (f"; {svc.note}" if svc.note else "")


# ---------------------------------------------------------------- dedup

READS = "CONFORMANCE_READS_"
PLUGIN = "_conformance_reads"
# Loaded into the tests' interpreter (-p) when dedup is on: an audit hook notes every file opened (imports
# included) and every folder listed (os.listdir, os.scandir: glob and pathlib use them) next to the tree, outside
# the service folder. Only existence checks (stat) are not seen; the files pytest looks for that way are in the key.
PLUGIN_SOURCE = r"""
import atexit
import os
import sys

_OUT = os.environ.get("CONFORMANCE_READS_FILE")
_SERVICE = os.environ.get("CONFORMANCE_READS_SERVICE")
_AREA = os.environ.get("CONFORMANCE_READS_AREA")
_SEEN = set()


def _hook(event, args):
    if event == "open":
        kind = "file"
    elif event in ("os.listdir", "os.scandir"):
        kind = "list"
    else:
        return
    path = args[0] if args else None
    if isinstance(path, int):
        return
    try:
        path = os.path.realpath(os.fsdecode(path if path is not None else "."))
    except (TypeError, ValueError, OSError):
        return
    if path.startswith(_AREA + os.sep) and path != _SERVICE and not path.startswith(_SERVICE + os.sep):
        _SEEN.add((kind, path))


def _write():
    seen = sorted(_SEEN)
    with open(_OUT, "w", encoding="utf-8") as fh:
        for kind, path in seen:
            fh.write(kind + "\t" + path + "\n")


if _OUT and _SERVICE and _AREA:
    sys.addaudithook(_hook)
    atexit.register(_write)
"""

# Files pytest finds by existence (rootdir, ini files, conftest.py, packages) in the folders above a service.
PYTEST_FILES = ("pytest.ini", ".pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg", "conftest.py", "__init__.py")


def service_key(ctx: Context, tree: Tree, rel: str) -> tuple:
    """What a service's tests read that is known before they run: the service folder (code, tests, requirements,
    hence also the venv chosen), its path in the tree, the migrations its database gets, and pytest's files in
    the folders above. What else they read is recorded while they run (PLUGIN) and compared before a copy."""
    digests = ctx.memo.digests
    ms = service_set(tree, rel)
    above, path = [], os.path.abspath(tree.path(rel))
    while path != os.path.dirname(path):
        path = os.path.dirname(path)
        above += [digests.file(os.path.join(path, name)) for name in PYTEST_FILES]
    migrations = (ms.rel, set_key(ctx, tree, ms)) if ms is not None else None
    return ("pytest", rel, digests.folder(tree.path(rel)), migrations, tuple(above))


def read_reads(path: str, tree: Tree) -> list | None:
    """[(kind, path relative to the tree root)] recorded by the plugin; None when it wrote nothing."""
    try:
        with open(path, encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return None
    return [(kind, os.path.relpath(p, tree.root)) for kind, _, p in (line.partition("\t") for line in lines)]


def seen_as(digests, tree: Tree, kind: str, rel: str) -> str:
    path = tree.path(rel)
    if kind == "list":
        try:
            return "\n".join(sorted(os.listdir(path)))
        except OSError as e:
            return f"unlistable:{e.errno}"
    return digests.file(path)


class PytestRuns:
    """Every service's tests, started at the beginning of the run on worker threads (they spend their time
    in subprocesses), so that they overlap with the in-process validators. A service with the same key as
    one before it does not start; when it is reported, the first one's recorded reads are compared in its tree:
    the same, its result is copied; not the same, its tests run then."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.venv_lock = threading.Lock()  # two services may share one cached venv
        self.templates = Templates()
        self.plugin = None
        if ctx.memo.enabled:
            folder = ctx.scratch("pytest-plugin")
            with open(os.path.join(folder, PLUGIN + ".py"), "w", encoding="utf-8") as fh:
                fh.write(PLUGIN_SOURCE)
            self.plugin = folder
        self.keys = {(t.index, rel): service_key(ctx, t, rel) for t in ctx.trees for rel in t.py_services}
        self.reads: dict = {}  # (tree index, rel) -> recorded reads of a service that ran
        self.first: dict = {}  # key -> (tree, rel) of the first service with it
        self.futures: dict = {}
        for t in ctx.trees:
            for rel in t.py_services:
                key = self.keys[(t.index, rel)]
                self.first.setdefault(key, (t, rel))
                if ctx.memo.claim(key, t, rel):
                    self.futures[(t.index, rel)] = ctx.submit(self.run_one, t, Service(rel))

    def run_one(self, tree: Tree, svc: Service) -> tuple:
        began = time.monotonic()
        reads = None
        if self.plugin:
            reads = os.path.join(self.plugin, f"{PLUGIN}-{tree.index}-{abs(hash(svc.rel))}")
        try:
            with self.venv_lock:
                choose_python(self.ctx, tree, svc)
            if not svc.error:
                prepare_database(self.ctx, tree, svc, self.templates)
            result = run_pytest(self.ctx, tree, svc, reads)
        except Exception as e:  # noqa: BLE001 - e.g. an unreadable pyproject.toml: that service fails alone
            result = 1, f"cannot run its tests: {type(e).__name__}: {e}"
        if reads:
            self.reads[(tree.index, svc.rel)] = read_reads(reads + ".out", tree)
        if os.environ.get("CONFORMANCE_TIMING") == "1":
            print(f"[timing] background pytest {tree.target(svc.rel)} {time.monotonic() - began:.2f}s", file=sys.stderr)
        return result

    def result(self, tree: Tree, rel: str) -> tuple:
        future = self.futures.get((tree.index, rel))
        if future is None:  # a copy whose first's reads differ in its tree
            future = self.futures[(tree.index, rel)] = self.ctx.submit(self.run_one, tree, Service(rel))
        return future.result()

    def same_reads(self, tree: Tree, rel: str) -> bool:
        """For a service that did not run: did the first one with its key read the same things in its tree as
        there are in this one? (Each key's first unit was reported, hence finished, before.)"""
        first, first_rel = self.first[self.keys[(tree.index, rel)]]
        reads = self.reads.get((first.index, first_rel))
        if reads is None:
            return False
        digests = self.ctx.memo.digests
        return all(seen_as(digests, first, kind, p) == seen_as(digests, tree, kind, p) for kind, p in reads)

    def stop(self) -> None:
        pass  # the shared worker pool is shut down by the context


def start(ctx: Context) -> None:
    if ctx.enabled("pytest") and any(t.py_services for t in ctx.trees):
        ctx.jobs["pytest"] = PytestRuns(ctx)


def pytest(ctx: Context, tree: Tree) -> None:
    if not tree.py_services:  # a system of existing images only: no generated code to test
        ctx.skipped("pytest", tree, ".", "no generated Python service")
        return
    runs = ctx.jobs["pytest"]

    def report(rel: str) -> None:
        status, detail = runs.result(tree, rel)
        ctx.verdict("pytest", tree, rel, [detail] if status else [], detail)

    for rel in tree.py_services:
        key = runs.keys[(tree.index, rel)]
        if ctx.memo.claim(key, tree, rel) or runs.same_reads(tree, rel):
            ctx.once(key, tree, rel, lambda rel=rel: report(rel))
        else:
            report(rel)  # same inputs as an earlier service, but its tests read something that differs here
