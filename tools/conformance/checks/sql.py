"""SQL: pglast (PostgreSQL's own parser) on every .sql file, then every migration set applied to a fresh
database on a real server: ups in version order, downs in reverse to an empty schema, ups again."""

from __future__ import annotations

import re

from .context import Context
from .postgres import PostgresError, PostgresServer
from .tree import MigrationSet, Tree

# Objects the migrations created, excluding what extensions own.
LEFTOVERS = """
WITH user_ns AS (
  SELECT oid, nspname FROM pg_namespace
  WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\\_%'
), ext AS (
  SELECT objid FROM pg_depend WHERE deptype = 'e'
)
SELECT 'relation ' || c.relname FROM pg_class c JOIN user_ns n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c') AND c.oid NOT IN (SELECT objid FROM ext)
UNION ALL
SELECT 'type ' || t.typname FROM pg_type t JOIN user_ns n ON n.oid = t.typnamespace
  WHERE t.typtype IN ('e', 'd', 'r', 'm') AND t.oid NOT IN (SELECT objid FROM ext)
UNION ALL
SELECT 'function ' || p.proname FROM pg_proc p JOIN user_ns n ON n.oid = p.pronamespace
  WHERE p.oid NOT IN (SELECT objid FROM ext)
UNION ALL
SELECT 'schema ' || n.nspname FROM user_ns n WHERE n.nspname <> 'public' AND n.oid NOT IN (SELECT objid FROM ext)
"""


def database_name(tree: Tree, purpose: str, name: str) -> str:
    return f"t{tree.index}_{purpose}_{re.sub(r'[^a-z0-9]+', '_', name.lower())}"[:63]


def pglast(ctx: Context, tree: Tree) -> None:
    import pglast as pg

    major = pg.parser.get_postgresql_version()[0]
    for rel in tree.sql_files:
        with open(tree.path(rel), encoding="utf-8", errors="replace") as fh:
            text = fh.read()
        try:
            statements = pg.parse_sql(text)
            errors = []
        except pg.parser.ParseError as e:
            where = e.args[1] if len(e.args) > 1 and isinstance(e.args[1], int) else None
            line = f" (line {text.count(chr(10), 0, where) + 1})" if where is not None else ""
            errors, statements = [f"{e.args[0]}{line}"], []
        ctx.verdict("pglast", tree, rel, errors, f"{len(statements)} statement(s), PostgreSQL {major} parser")


def server_or_report(ctx: Context, tree: Tree, validator: str, rel: str) -> PostgresServer | None:
    server = ctx.postgres
    if server is not None and server.ready():
        return server
    error = server.error if server is not None else "PostgreSQL was not started"
    ctx.emit("FAIL" if ctx.strict_tools or server is not None and server.bin else "SKIP", validator, tree, rel, error)
    return None


def apply_ups(server: PostgresServer, db: str, tree: Tree, ms: MigrationSet):
    """Applies the up scripts in order; yields (file, error or None) and stops at the first error."""
    for rel in ms.ups:
        status, out = server.apply_file(db, tree.path(rel))
        yield rel, (out or f"psql exited {status}") if status else None
        if status:
            return


def postgres_migrate(ctx: Context, tree: Tree) -> None:
    for ms in tree.migration_sets:
        if not ms.ups:
            continue
        server = server_or_report(ctx, tree, "postgres-migrate", ms.rel)
        if server is None:
            return
        db = database_name(tree, "migrate", ms.rel)
        try:
            server.create_database(db)
        except PostgresError as e:
            ctx.failed("postgres-migrate", tree, ms.rel, str(e))
            continue
        for rel, error in apply_ups(server, db, tree, ms):
            ctx.verdict("postgres-migrate", tree, rel, [error] if error else [],
                        f"applied in order to a fresh database, PostgreSQL {server.version}")


def roundtrip_errors(server: PostgresServer, db: str, tree: Tree, ms: MigrationSet) -> list:
    if any(error for _, error in apply_ups(server, db, tree, ms)):
        return ["the up scripts do not apply (see postgres-migrate)"]
    for rel in ms.downs:
        status, out = server.apply_file(db, tree.path(rel))
        if status:
            return [f"{rel}: {out}"]
    status, out = server.query(db, LEFTOVERS)
    if status:
        return [f"cannot list leftovers: {out}"]
    if out.strip():
        return ["left after every down script: " + ", ".join(out.split("\n")[:8])]
    failed = [f"{rel}: {error}" for rel, error in apply_ups(server, db, tree, ms) if error]
    return [f"after the downs, {failed[0]}"] if failed else []


def postgres_roundtrip(ctx: Context, tree: Tree) -> None:
    for ms in tree.migration_sets:
        if not ms.ups:
            continue
        if not ms.downs:
            ctx.skipped("postgres-roundtrip", tree, ms.rel, "no down scripts")
            continue
        server = server_or_report(ctx, tree, "postgres-roundtrip", ms.rel)
        if server is None:
            return
        db = database_name(tree, "roundtrip", ms.rel)
        try:
            server.create_database(db)
            errors = roundtrip_errors(server, db, tree, ms)
        except PostgresError as e:
            errors = [str(e)]
        ctx.verdict("postgres-roundtrip", tree, ms.rel, errors,
                    f"{len(ms.ups)} up, {len(ms.downs)} down (reverse) to an empty schema, up again")
