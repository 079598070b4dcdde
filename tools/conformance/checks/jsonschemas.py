"""check-jsonschema over compose files (compose-spec schema) and workflows (github-workflows schema).

One check-jsonschema process per schema covers the files of every tree; it starts in the background.
"""

from __future__ import annotations

import json
import os

from .background import BackgroundJob
from .context import Context
from .tree import Tree

KINDS = {
    "compose-schema": ("compose_files", "compose-spec schema"),
    "gha-schema": ("workflows", "github-workflows schema"),
}


def schema_args(ctx: Context, validator: str) -> list:
    if validator == "compose-schema":
        return ["--schemafile", os.path.join(ctx.here, "schemas", "compose", "compose-spec.json")]
    return ["--builtin-schema", "vendor.github-workflows"]


def file_key(ctx: Context, validator: str, tree: Tree, rel: str) -> tuple:
    # check-jsonschema picks the parser by the file's extension
    return ctx.file_key(validator, tree, rel, os.path.splitext(rel)[1].lower())


def start(ctx: Context) -> None:
    tool = ctx.find_tool("check-jsonschema")
    for validator, (attr, _) in KINDS.items():
        files = [
            t.path(f)
            for t in ctx.trees
            for f in getattr(t, attr)
            if ctx.memo.claim(file_key(ctx, validator, t, f), t, f)  # copies of an earlier file are not checked
        ]
        if files and tool and ctx.enabled(validator):
            cmd = [tool, "--output-format", "json", "--color", "never", *schema_args(ctx, validator), *files]
            ctx.jobs[validator] = BackgroundJob(validator, cmd, ctx.work)


def errors_by_file(ctx: Context, validator: str) -> tuple:
    """({absolute file: [messages]}, problem with the run itself or None)."""
    status, out, err = ctx.jobs[validator].result()
    try:
        report = json.loads(out)
    except ValueError:
        return {}, f"check-jsonschema exited {status}: {err or out}"
    found: dict = {}
    for e in report.get("errors", []):
        shown = e.get("best_deep_match") or e  # an anyOf/oneOf failure names the whole object otherwise
        found.setdefault(e["filename"], []).append(f"{shown.get('path', '$')}: {shown.get('message')}")
    for e in report.get("parse_errors", []):
        found.setdefault(e["filename"], []).append(e.get("message", "does not parse"))
    return found, None


def check(ctx: Context, tree: Tree, validator: str) -> None:
    attr, label = KINDS[validator]
    files = getattr(tree, attr)
    if not files or not ctx.require(ctx.find_tool("check-jsonschema"), "check-jsonschema", validator, tree):
        return
    found, problem = errors_by_file(ctx, validator)

    def report(rel: str) -> None:
        errors = [problem] if problem else found.get(tree.path(rel), [])
        ctx.verdict(validator, tree, rel, errors, f"valid against the {label}")

    for rel in files:
        ctx.once(file_key(ctx, validator, tree, rel), tree, rel, lambda rel=rel: report(rel))


def compose_schema(ctx: Context, tree: Tree) -> None:
    check(ctx, tree, "compose-schema")


def gha_schema(ctx: Context, tree: Tree) -> None:
    check(ctx, tree, "gha-schema")
