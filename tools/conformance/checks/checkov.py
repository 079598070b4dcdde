"""checkov (Terraform, Kubernetes, Dockerfile and GitHub Actions policies), run once over every tree.

checkov starts slowly, so one process covers all trees and runs in the background from the start. Only
in-file annotations (`#checkov:skip=ID:reason`) skip a check. With several -d folders checkov prints one
JSON report per folder and each one repeats the earlier ones' results: results are deduplicated.
"""

from __future__ import annotations

import json
import os

from .background import BackgroundJob
from .context import Context
from .tree import Tree

FRAMEWORKS = ("terraform", "kubernetes", "dockerfile", "github_actions")


def checkov_binary(ctx: Context) -> str:
    return os.path.join(ctx.venv, "checkov", "bin", "checkov")


def has_input(tree: Tree) -> bool:
    return bool(
        tree.hcl_files
        or tree.files("k8s")
        or tree.files("istio")
        or tree.dockerfiles
        or tree.workflows
        or tree.kustomize_dirs
    )


def start(ctx: Context) -> None:
    trees = [t for t in ctx.trees if has_input(t)]
    if not trees or not ctx.enabled("checkov") or not os.access(checkov_binary(ctx), os.X_OK):
        return
    cmd = [
        checkov_binary(ctx),
        "--framework",
        *FRAMEWORKS,
        "--compact",
        "--skip-download",
        "--output",
        "json",
        "--skip-path",
        r"(^|/)\.venv",
        "--skip-path",
        "node_modules",
        "--skip-path",
        r"\.codex-system-design",
        "--skip-path",
        r"\.terraform",
    ]
    for tree in trees:
        cmd += ["--directory", tree.root]
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}
    ctx.jobs["checkov"] = BackgroundJob("checkov", cmd, ctx.work, cwd=ctx.work, env=env)


def json_documents(text: str):
    decoder, i = json.JSONDecoder(), 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return
        doc, i = decoder.raw_decode(text, i)
        yield from (doc if isinstance(doc, list) else [doc])


def parse_report(text: str) -> dict:
    """{absolute file: {"failed": set, "passed": set, "skipped": set, "unparsed": bool}}."""
    files: dict = {}
    for report in json_documents(text):
        results = report.get("results") or {}
        for kind in ("failed", "passed", "skipped"):
            for check in results.get(f"{kind}_checks") or []:
                entry = files.setdefault(check["file_abs_path"], {"failed": set(), "passed": set(), "skipped": set()})
                entry[kind].add((check["check_id"], check.get("resource", "")))
        for path in results.get("parsing_errors") or []:
            files.setdefault(path, {"failed": set(), "passed": set(), "skipped": set()})["unparsed"] = True
    return files


def file_verdict(ctx: Context, tree: Tree, rel: str, entry: dict) -> None:
    if entry.get("unparsed"):
        ctx.failed("checkov", tree, rel, "checkov could not parse the file")
        return
    failed = sorted(entry["failed"])
    errors = [f"{check_id} {resource}" for check_id, resource in failed]
    skipped = f", {len(entry['skipped'])} skipped in the file" if entry["skipped"] else ""
    ctx.verdict("checkov", tree, rel, errors, f"{len(entry['passed'])} check(s) passed{skipped}")


def checkov(ctx: Context, tree: Tree) -> None:
    if not has_input(tree) or not ctx.require(checkov_binary(ctx), "checkov", "checkov", tree):
        return
    status, out, err = ctx.jobs["checkov"].result()
    try:
        files = parse_report(out)
    except (ValueError, KeyError) as e:
        ctx.failed("checkov", tree, ".", f"no usable report (exit {status}, {e}): {err.strip()[-300:]}")
        return
    prefix = tree.root + os.sep
    for path in sorted(p for p in files if p.startswith(prefix)):
        file_verdict(ctx, tree, os.path.relpath(path, tree.root), files[path])
