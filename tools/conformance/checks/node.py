"""TypeScript services: every `services/<name>/` folder with package.json, package-lock.json and tsconfig.json.

`npm ci` runs once per locked dependency set: node_modules is installed under
~/.cache/codex-system-design/node-modules/<hash of the lockfile without the package's own name> and linked
into the service folder (every generated service locks the same set, so one install serves them all). Then
`tsc --noEmit` (tsc), `eslint .` (eslint) and `npm test` (node-test: compile, `node --test`) against a fresh
PostgreSQL database holding the service's migrations, or a fresh MariaDB database for a service on MySQL; the
functions of a serverless system on DynamoDB (a package with src/tables.ts) run theirs against a moto server of
their own (AWS_ENDPOINT_URL), from a venv built once. The link and the compiled output are removed afterwards.
A service whose folder and migrations are the same as one already checked is not checked again (dedup.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import threading
import time
from contextlib import contextmanager

from . import procs
from .context import Context
from .postgres import PostgresError, free_port
from .pytest_run import service_set, service_venv
from .sql import Templates, database_name
from .tree import Tree

CACHE = os.path.join(os.path.expanduser("~"), ".cache", "codex-system-design", "node-modules")
_lock = threading.Lock()
# moto's server plays DynamoDB for TypeScript functions on DynamoDB: the version the Python
# functions' tests use (templates/serverless/functions/requirements-dev.txt), with its server.
MOTO = "moto[server]==5.1.18"
_moto_lock = threading.Lock()
_templates = Templates()


def node_services(tree: Tree) -> list:
    """Relative folders of the TypeScript services of a tree."""
    root = tree.path("services")
    if not os.path.isdir(root):
        return []
    out = []
    for name in sorted(os.listdir(root)):
        folder = os.path.join(root, name)
        if all(os.path.exists(os.path.join(folder, f)) for f in ("package.json", "package-lock.json", "tsconfig.json")):
            out.append(f"services/{name}")
    return out


def lock_key(folder: str) -> str:
    """The lockfile's hash with the root package's name left out."""
    with open(os.path.join(folder, "package-lock.json"), encoding="utf-8") as fh:
        lock = json.load(fh)
    lock.pop("name", None)
    lock.get("packages", {}).get("", {}).pop("name", None)
    return hashlib.sha256(json.dumps(lock, sort_keys=True).encode()).hexdigest()[:16]


def installed(ctx: Context, folder: str) -> tuple:
    """(node_modules folder for this lockfile, error)."""
    target = os.path.join(CACHE, lock_key(folder))
    with _lock:
        if os.path.exists(os.path.join(target, ".complete")):
            return os.path.join(target, "node_modules"), ""
        shutil.rmtree(target, ignore_errors=True)
        os.makedirs(target)
        for name in ("package.json", "package-lock.json"):
            shutil.copy(os.path.join(folder, name), target)
        status, out = ctx.run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=target, timeout=900)
        if status:
            return "", f"npm ci failed: {out.strip()[-300:]}"
        open(os.path.join(target, ".complete"), "w").close()
        return os.path.join(target, "node_modules"), ""


def run_service(ctx: Context, tree: Tree, rel: str) -> None:
    if not any(ctx.enabled(v) for v in ("tsc", "eslint", "node-test")):
        return
    folder = tree.path(rel)
    modules, error = installed(ctx, folder)
    if error:
        for validator in ("tsc", "eslint", "node-test"):
            if ctx.enabled(validator):
                ctx.failed(validator, tree, rel, error)
        return
    link = os.path.join(folder, "node_modules")
    os.symlink(modules, link)
    try:
        bin_dir = os.path.join(modules, ".bin")
        if ctx.enabled("tsc"):
            status, out = ctx.run([os.path.join(bin_dir, "tsc"), "--noEmit"], cwd=folder)
            ctx.verdict("tsc", tree, rel, [out.strip()[-600:]] if status else [], "tsc --noEmit clean")
        if ctx.enabled("eslint"):
            status, out = ctx.run([os.path.join(bin_dir, "eslint"), "."], cwd=folder)
            ctx.verdict("eslint", tree, rel, [out.strip()[-600:]] if status else [], "eslint clean")
        if ctx.enabled("node-test"):
            node_test(ctx, tree, rel)
    finally:
        os.unlink(link)
        shutil.rmtree(os.path.join(folder, "dist"), ignore_errors=True)


def mysql_url(ctx: Context, tree: Tree, rel: str) -> tuple:
    """(DATABASE_URL of a fresh MariaDB database, error): the service's own test setup applies its
    migrations, as its Python neighbours' conftest does."""
    from .mariadb import MariaDBError

    server = ctx.mariadb
    if server is None or not server.ready():
        return "", "no MariaDB for a service on MySQL"
    db = database_name(tree, "node", rel)
    try:
        server.create_database(db)
    except MariaDBError as e:
        return "", f"cannot prepare its database: {e}"
    return server.url(db), ""


def uses_dynamodb(folder: str) -> bool:
    """A function package on DynamoDB: its tables are in src/tables.ts."""
    return os.path.exists(os.path.join(folder, "src", "tables.ts"))


@contextmanager
def dynamodb(ctx: Context, folder: str):
    """(the variables pointing the AWS SDK at a moto server running for the block, error)."""
    with _moto_lock:
        python, error = service_venv(ctx, folder, [MOTO], None)
    if error:
        yield {}, error
        return
    port = free_port()
    server = [os.path.join(os.path.dirname(python), "moto_server"), "-H", "127.0.0.1", "-p", str(port)]
    with procs.background(server) as proc:
        deadline = time.monotonic() + 30
        while proc is not None and proc.poll() is None and time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    url = f"http://127.0.0.1:{port}"
                    yield (
                        {"AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"},
                        "",
                    )
                    return
            time.sleep(0.2)
        yield {}, "moto_server did not start"


def node_test(ctx: Context, tree: Tree, rel: str) -> None:
    if uses_dynamodb(tree.path(rel)):
        with dynamodb(ctx, tree.path(rel)) as (aws, error):
            if error:
                ctx.failed("node-test", tree, rel, f"no DynamoDB for its tests: {error}")
                return
            npm_test(ctx, tree, rel, {**os.environ, **aws})
        return
    server = ctx.postgres
    env = dict(os.environ)
    ms = service_set(tree, rel)
    if ms is not None and ms.dialect == "mysql":
        url, error = mysql_url(ctx, tree, rel)
        if error:
            ctx.failed("node-test", tree, rel, error)
            return
        env["DATABASE_URL"] = url
    elif server is not None and server.ready():
        db = database_name(tree, "node", rel)
        ms = service_set(tree, rel)
        try:
            if ms is not None and ms.ups:
                _templates.database_from(ctx, tree, ms, db)
            else:
                server.create_database(db)
        except (PostgresError, OSError) as e:
            ctx.failed("node-test", tree, rel, f"cannot prepare its database: {e}")
            return
        env["DATABASE_URL"] = server.url(db)
    npm_test(ctx, tree, rel, env)


def npm_test(ctx: Context, tree: Tree, rel: str, env: dict) -> None:
    status, out = ctx.run(["npm", "test"], cwd=tree.path(rel), timeout=600, env=env)
    lines = out.splitlines()
    summary = " ".join(ln.lstrip("# ") for ln in lines if ln.startswith(("# pass", "# fail")))
    failures = [ln for ln in lines if ln.startswith("not ok")][:6]
    ctx.verdict("node-test", tree, rel, [summary, *failures] if status else [], summary or "passed")


def check(ctx: Context, tree: Tree) -> None:
    services = node_services(tree)
    if not services:
        for validator in ("tsc", "eslint", "node-test"):
            if ctx.enabled(validator):
                ctx.skipped(validator, tree, ".", "no TypeScript service")
        return
    if not shutil.which("npm"):
        ctx.require(None, "npm", "node-test", tree)
        return
    for rel in services:
        ctx.once(node_key(ctx, tree, rel), tree, rel, lambda rel=rel: run_service(ctx, tree, rel))


def node_key(ctx: Context, tree: Tree, rel: str) -> tuple:
    """What tsc, eslint and node-test read: the service folder (before node_modules is linked in) and
    the migrations its test database holds, with their dialect."""
    ms = service_set(tree, rel)
    migrations = [] if ms is None else [ms.dialect, [ctx.memo.digests.tree_file(tree, u) for u in ms.ups]]
    return ("node-test", ctx.memo.digests.folder(tree.path(rel)), migrations)
