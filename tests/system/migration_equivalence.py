"""Migrations from one source (issue 22): a history of migrations builds the schema a fresh first
migration builds.

For seeded random sequences of blueprint edits (add a field, a reference among them, add an entity with an integer or
UUID key, enums, bounds, references and indexes), each step regenerates the project, so every
change lands as a new `00N_*.sql`. Then, on a real PostgreSQL: database A gets the whole history
(`dbmate up`), database B a fresh generation of the final blueprint; their `pg_dump --schema-only`
must be equal. Stops every process it started.

    python migration_equivalence.py --bin codex-system-design --venv VENV [--seeds 3] [--steps 6]
"""

from __future__ import annotations

import argparse
import difflib
import random
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import backing
from procs import Supervisor

FIELD_KINDS = ["string(80)", "int", "decimal(10,2) min 0", "bool default true", "timestamp default now",
               "enum(new, done)", "string(40) unique", "int min 1 max 9",
               # A foreign key within a database, a commented logical reference across two.
               "ref User", "ref Product"]
DATABASES = {"users": "users-db", "products": "products-db", "orders": "orders-db"}


def add_field(text: str, rng: random.Random, n: int) -> tuple[str, str]:
    """A new field at the end of an existing entity's fields (where ADD COLUMN puts it)."""
    entity = rng.choice(["User", "Product", "Order"])
    kind = rng.choice(FIELD_KINDS)
    nullable = "" if "default" in kind or "unique" in kind else rng.choice(["", " nullable"])
    field = f"      extra_{n}: {kind}{nullable}\n"
    block = re.search(rf"\n  {entity}:\n    fields:\n(?:      .*\n)+", text)
    assert block, entity
    return text[: block.end()] + field + text[block.end():], f"{entity}.extra_{n}: {kind}{nullable}"


def add_entity(text: str, rng: random.Random, n: int) -> tuple[str, str]:
    """A new entity owned by an existing service, with a key, an enum and sometimes a reference."""
    service = rng.choice(list(DATABASES))
    name = f"Thing{n}"
    key = rng.choice(["uuid pk", "int pk", "bigint pk"])
    lines = [f"  {name}:", "    fields:", f"      id: {key}", f"      state: enum(a{n}, b{n})",
             f"      label: string(60) default 'x{n}'", "      seen_at: timestamp default now"]
    if rng.random() < 0.6:
        target = rng.choice(["User", "Product", "Order"])
        lines.append(f"      owner_id: ref {target}")
    lines.append("    indexes: [[seen_at]]")
    text = re.sub(rf"(\n  {service}:\n(?:    .*\n)*?    entities: \[)([^\]]*)\]",
                  lambda m: f"{m.group(1)}{m.group(2)}, {name}]", text, count=1)
    text = text.replace("\nentities:\n", "\nentities:\n" + "\n".join(lines) + "\n", 1)
    return text, f"{name} ({key}) in {service}"


def schema(pg: backing.Postgres, db: str) -> str:
    out = subprocess.run(
        [str(backing.PG_BIN / "pg_dump"), "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres",
         "--schema-only", "--no-owner", "--no-privileges", "--exclude-table=schema_migrations", db],
        capture_output=True, text=True, check=True, timeout=60,
    )
    keep = [line for line in out.stdout.splitlines()
            if line and not line.startswith(("--", "SET ", "SELECT pg_catalog", "\\restrict", "\\unrestrict"))]
    return "\n".join(keep)


def migrate(venv: Path, pg: backing.Postgres, db: str, folder: Path) -> None:
    pg.psql(f'CREATE DATABASE "{db}"')
    url = f"postgres://postgres@127.0.0.1:{pg.port}/{db}?sslmode=disable"
    out = subprocess.run([str(venv / "bin" / "dbmate"), "--url", url, "--migrations-dir", str(folder),
                          "--no-dump-schema", "up"], capture_output=True, text=True, timeout=120)
    if out.returncode:
        raise RuntimeError(f"dbmate up {folder}: {out.stderr.strip()[-800:]}")


def run_seed(binary: str, venv: Path, pg: backing.Postgres, work: Path, seed: int, steps: int) -> list[str]:
    rng = random.Random(seed)
    project = work / f"seed{seed}"
    subprocess.run([binary, "--example", "ecommerce", "-q", "--out", str(project)], check=True)
    story = []
    for n in range(steps):
        path = project / "blueprint.yaml"
        text, what = (add_entity if rng.random() < 0.4 else add_field)(path.read_text(), rng, n)
        path.write_text(text)
        story.append(what)
        out = subprocess.run([binary, "generate", "-q"], cwd=project, capture_output=True, text=True)
        if out.returncode:
            raise RuntimeError(f"seed {seed} step {n} ({what}): generate exit {out.returncode}: {out.stderr[-800:]}")
    fresh = work / f"seed{seed}-fresh"
    subprocess.run([binary, "--blueprint", str(project / "blueprint.yaml"), "-q", "--out", str(fresh)], check=True)
    problems = []
    for db in sorted(set(DATABASES.values()) | {"payments-db"}):
        history, first = f"s{seed}_{db.replace('-', '_')}_history", f"s{seed}_{db.replace('-', '_')}_fresh"
        migrate(venv, pg, history, project / "migrations" / db)
        migrate(venv, pg, first, fresh / "migrations" / db)
        a, b = schema(pg, history), schema(pg, first)
        if a != b:
            diff = "\n".join(difflib.unified_diff(b.splitlines(), a.splitlines(), "fresh 001", "history", lineterm=""))
            problems.append(f"seed {seed}, {db}: the history differs from a fresh 001 after {story}:\n{diff[:3000]}")
        versions = len(list((project / "migrations" / db).glob("*.sql")))
        print(f"  seed {seed} {db}: {versions} migration(s) applied, schema equal to a fresh 001: {a == b}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--venv", required=True, type=Path)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=6)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="migeq-"))
    sup = Supervisor()
    problems: list[str] = []
    try:
        pg = backing.start_postgres(sup, work / "run")
        for seed in range(args.seeds):
            problems += run_seed(args.bin, args.venv, pg, work, seed, args.steps)
    finally:
        sup.stop_all()
        shutil.rmtree(work, ignore_errors=True)
    for p in problems:
        print(f"FAIL migration-equivalence: {p}")
    print(f"{'FAIL' if problems else 'PASS'} migration-equivalence: {args.seeds} seeds × {args.steps} edits")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
