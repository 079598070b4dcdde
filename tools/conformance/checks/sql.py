"""SQL: pglast (PostgreSQL's own parser) on every .sql file, then every migration set applied to a fresh
database on a real server: ups in version order, then downs in reverse to an empty schema, then ups again.
A dbmate migration (`-- migrate:up` and `-- migrate:down` blocks in one file) is its up block on the way up and
its down block on the way down.

The database work starts on worker threads at the beginning of the run; the two steps report it. A migration
set with the same scripts (names and contents) as one before it is applied once: its results are copied.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, field

from .context import Context
from .dedup import digest
from .postgres import PostgresError, PostgresServer, apply_script
from .tree import MigrationSet, Tree, dbmate_blocks

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


def read(tree: Tree, rel: str) -> str:
    with open(tree.path(rel), encoding="utf-8", errors="replace") as fh:
        return fh.read()


def script(tree: Tree, rel: str, direction: str) -> str:
    """What a migration runs in `direction` ("up" or "down"): a dbmate file's block, a plain script whole."""
    text = read(tree, rel)
    blocks = dbmate_blocks(text)
    if blocks is None:
        return text
    return blocks[0] if direction == "up" else blocks[1]


def mysql_files(tree: Tree) -> set:
    return {rel for ms in tree.migration_sets if ms.dialect == "mysql" for rel in ms.ups + ms.downs}


def pglast(ctx: Context, tree: Tree) -> None:
    import pglast as pg

    major = pg.parser.get_postgresql_version()[0]
    mysql = mysql_files(tree)
    for rel in tree.sql_files:
        if rel in mysql:
            ctx.skipped("pglast", tree, rel, "MySQL dialect: mysql-migrate applies it to MariaDB")
            continue
        text = read(tree, rel)
        try:
            statements = pg.parse_sql(text)
            errors = []
        except pg.parser.ParseError as e:
            where = e.args[1] if len(e.args) > 1 and isinstance(e.args[1], int) else None
            line = f" (line {text.count(chr(10), 0, where) + 1})" if where is not None else ""
            errors, statements = [f"{e.args[0]}{line}"], []
        ctx.verdict("pglast", tree, rel, errors, f"{len(statements)} statement(s), PostgreSQL {major} parser")


# ---------------------------------------------------------------- the database work


def apply_ups(conn, tree: Tree, ms: MigrationSet) -> list:
    """[(file, error or None)] of the up scripts in order, up to the first that fails."""
    applied = []
    for rel in ms.ups:
        error = apply_script(conn, script(tree, rel, "up"))
        applied.append((rel, error))
        if error:
            break
    return applied


def roundtrip_errors(conn, tree: Tree, ms: MigrationSet) -> list:
    """After the ups: the downs in reverse must leave an empty schema, and the ups must apply again."""
    for rel in ms.downs:
        error = apply_script(conn, script(tree, rel, "down"))
        if error:
            return [f"{rel}: {error}"]
    left = [row[0] for row in conn.execute(LEFTOVERS).fetchall()]
    if left:
        return ["left after every down script: " + ", ".join(left[:8])]
    failed = [f"{rel}: {error}" for rel, error in apply_ups(conn, tree, ms) if error]
    return [f"after the downs, {failed[0]}"] if failed else []


@dataclass
class SetOutcome:
    ups: list = field(default_factory=list)  # [(file, error or None)]
    roundtrip: list | None = None  # errors; None when it did not run
    error: str = ""  # the database could not be had at all


def run_set(server: PostgresServer, tree: Tree, ms: MigrationSet, roundtrip: bool) -> SetOutcome:
    import psycopg

    outcome = SetOutcome()
    if not server.ready():
        outcome.error = server.error or "PostgreSQL did not start"
        return outcome
    db = database_name(tree, "mig", ms.rel)
    try:
        server.create_database(db)
        with server.connect(db, autocommit=True) as conn:
            outcome.ups = apply_ups(conn, tree, ms)
            if roundtrip and ms.downs and not any(error for _, error in outcome.ups):
                outcome.roundtrip = roundtrip_errors(conn, tree, ms)
    except (PostgresError, psycopg.Error) as e:
        outcome.error = str(e)
    return outcome


def set_key(ctx: Context, tree: Tree, ms: MigrationSet) -> str:
    """Digest of a migration set: its scripts' names (their order comes from the names) and contents."""
    digests = ctx.memo.digests
    return digest(
        [(os.path.relpath(rel, ms.rel), digests.tree_file(tree, rel)) for rel in ms.ups],
        [(os.path.relpath(rel, ms.rel), digests.tree_file(tree, rel)) for rel in ms.downs],
    )


class MigrationRuns:
    """Each migration set applied on a worker thread from the start; a set with the same scripts as one
    before it is not applied again (its results are copied when reported)."""

    def __init__(self, ctx: Context):
        roundtrip = ctx.enabled("postgres-roundtrip")
        self.futures = {
            (t.index, ms.rel): ctx.submit(run_set, ctx.postgres, t, ms, roundtrip)
            for t in ctx.trees
            for ms in t.migration_sets
            if ms.ups and ms.dialect == "postgres" and ctx.memo.claim(("postgres-set", set_key(ctx, t, ms)), t, ms.rel)
        }

    def result(self, tree: Tree, ms: MigrationSet) -> SetOutcome:
        return self.futures[(tree.index, ms.rel)].result()

    def stop(self) -> None:
        pass  # the shared worker pool is shut down by the context


class Templates:
    """One template database per distinct migration set, with its up scripts applied: a service's test
    database is a copy of it (CREATE DATABASE ... TEMPLATE) instead of a fresh database where the same scripts
    run again."""

    def __init__(self):
        self.lock = threading.Lock()
        self.locks: dict = {}  # set digest -> lock held while its template is made
        self.made: dict = {}  # set digest -> (template name, error)

    def database_from(self, ctx: Context, tree: Tree, ms: MigrationSet, db: str) -> None:
        """Creates `db` holding the set's up scripts (applied up to the first that fails, like postgres-migrate:
        that one reports the errors)."""
        import psycopg

        server = ctx.postgres
        key = set_key(ctx, tree, ms)
        with self.lock:
            lock = self.locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self.made:
                name = f"tpl_{key[:40]}"
                try:
                    server.create_database(name)
                    with server.connect(name, autocommit=True) as conn:
                        apply_ups(conn, tree, ms)
                    self.made[key] = (name, "")
                except (PostgresError, psycopg.Error) as e:
                    self.made[key] = (name, str(e))
            name, error = self.made[key]
        if error:
            raise PostgresError(f"cannot make the template database of {ms.rel}: {error}")
        server.create_database(db, template=name)


def start(ctx: Context) -> None:
    if ctx.postgres is not None and (ctx.enabled("postgres-migrate") or ctx.enabled("postgres-roundtrip")):
        ctx.jobs["migrations"] = MigrationRuns(ctx)


# ---------------------------------------------------------------- the two steps


def unavailable(ctx: Context, tree: Tree, validator: str, ms: MigrationSet, outcome: SetOutcome) -> bool:
    """Reports a set whose database could not be had; True when it did so."""
    if not outcome.error:
        return False
    not_installed = not ctx.postgres.bin  # a missing tool; anything else is a failure
    ctx.emit("SKIP" if not_installed and not ctx.strict_tools else "FAIL", validator, tree, ms.rel, outcome.error)
    return True


def dbmate_layout_errors(tree: Tree, ms: MigrationSet) -> dict:
    """In a folder of dbmate migrations, what dbmate would not run as the tree means it: a file whose name does
    not start with its version (dbmate skips it silently), a migration without its `-- migrate:down` block
    (dbmate refuses it). {file: [error]}"""
    dbmate = [rel for rel in ms.ups if rel in ms.downs]
    if not dbmate:
        return {}
    errors: dict = {}
    for rel in dict.fromkeys(ms.ups + ms.downs):
        name = os.path.basename(rel)
        if not name[:1].isdigit():
            errors.setdefault(rel, []).append("dbmate ignores this file: its name does not start with its version")
        elif rel in dbmate and not re.search(r"^--\s*migrate:down\b", read(tree, rel), re.MULTILINE):
            errors.setdefault(rel, []).append("no `-- migrate:down` block: dbmate refuses the migration")
    return errors


def postgres_migrate(ctx: Context, tree: Tree) -> None:
    def report(ms: MigrationSet) -> None:
        if ms.dialect != "postgres":
            ctx.skipped("postgres-migrate", tree, ms.rel, "a MySQL database: see mysql-migrate")
            return
        outcome = ctx.jobs["migrations"].result(tree, ms)
        if unavailable(ctx, tree, "postgres-migrate", ms, outcome):
            return
        layout = dbmate_layout_errors(tree, ms)
        for rel, error in outcome.ups:
            ctx.verdict(
                "postgres-migrate",
                tree,
                rel,
                ([error] if error else []) + layout.pop(rel, []),
                f"applied in order to a fresh database, PostgreSQL {ctx.postgres.version}",
            )
        for rel, errors in layout.items():
            ctx.verdict("postgres-migrate", tree, rel, errors, "")

    for ms in (m for m in tree.migration_sets if m.ups):
        ctx.once(("postgres-migrate", set_key(ctx, tree, ms)), tree, ms.rel, lambda ms=ms: report(ms))


def postgres_roundtrip(ctx: Context, tree: Tree) -> None:
    def report(ms: MigrationSet) -> None:
        if ms.dialect != "postgres":
            ctx.skipped("postgres-roundtrip", tree, ms.rel, "a MySQL database: see mysql-migrate")
            return
        if not ms.downs:
            ctx.skipped("postgres-roundtrip", tree, ms.rel, "no down scripts")
            return
        outcome = ctx.jobs["migrations"].result(tree, ms)
        if unavailable(ctx, tree, "postgres-roundtrip", ms, outcome):
            return
        errors = (
            outcome.roundtrip
            if outcome.roundtrip is not None
            else ["the up scripts do not apply (see postgres-migrate)"]
        )
        ctx.verdict(
            "postgres-roundtrip",
            tree,
            ms.rel,
            errors,
            f"{len(ms.ups)} up, {len(ms.downs)} down (reverse) to an empty schema, up again",
        )

    for ms in (m for m in tree.migration_sets if m.ups):
        ctx.once(("postgres-roundtrip", set_key(ctx, tree, ms)), tree, ms.rel, lambda ms=ms: report(ms))


# ---------------------------------------------------------------- MySQL (MariaDB)


def mysql_errors(server, tree: Tree, ms: MigrationSet) -> list:
    """Every up script applied in order to a fresh database, then (when every migration has a down block) the
    downs in reverse to an empty schema and the ups again, as postgres-migrate and postgres-roundtrip do."""
    from .mariadb import LEFTOVERS, apply_script

    db = database_name(tree, "mig", ms.rel)
    server.create_database(db)
    with server.connect(db, multi=True) as conn:
        for rel in ms.ups:
            error = apply_script(conn, script(tree, rel, "up"))
            if error:
                return [f"{rel}: {error}"]
        for rel in ms.downs:
            error = apply_script(conn, script(tree, rel, "down"))
            if error:
                return [f"{rel} (down): {error}"]
        with conn.cursor() as cur:
            cur.execute(LEFTOVERS)
            left = [row[0] for row in cur.fetchall()]
        if left:
            return ["left after every down script: " + ", ".join(left[:8])]
        for rel in ms.ups:
            error = apply_script(conn, script(tree, rel, "up"))
            if error:
                return [f"after the downs, {rel}: {error}"]
    return []


def mysql_migrate(ctx: Context, tree: Tree) -> None:
    from .mariadb import MariaDBError

    for ms in tree.migration_sets:
        if ms.dialect != "mysql" or not ms.ups:
            continue
        server = ctx.mariadb
        if server is None or not server.ready():
            why = (server.error if server else None) or "MariaDB did not start"
            missing = server is None or not server.bin
            ctx.emit("SKIP" if missing and not ctx.strict_tools else "FAIL", "mysql-migrate", tree, ms.rel, why)
            continue
        layout = dbmate_layout_errors(tree, ms)
        try:
            errors = [e for es in layout.values() for e in es] + mysql_errors(server, tree, ms)
        except MariaDBError as e:
            errors = [str(e)]
        note = f"applied, rolled back and applied again on MariaDB {server.version}"
        ctx.verdict("mysql-migrate", tree, ms.rel, errors, note)
