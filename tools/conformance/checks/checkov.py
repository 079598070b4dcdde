"""checkov (Terraform, Kubernetes, Dockerfile and GitHub Actions policies), run once over every tree.

checkov starts slowly, so one process (checkov_fork.py: checkov imported once, a forked child per tree) covers
all trees and runs in the background from the start. Only in-file annotations (`#checkov:skip=ID:reason`) skip a
check.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

from .background import stop_group
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


def checkov_args() -> list:
    return [
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


class CheckovRuns:
    """checkov_fork.py over every tree, in the background from the start; results arrive tree by tree."""

    def __init__(self, ctx: Context, trees: list):
        self.out_dir = ctx.scratch("checkov")
        self.slot = {tree.index: n for n, tree in enumerate(trees)}
        self.labels = {n: tree.label for n, tree in enumerate(trees)}
        self.done: dict = {}  # slot -> exit status
        self.cond = threading.Condition()
        self.finished = False
        driver = os.path.join(os.path.dirname(os.path.abspath(__file__)), "checkov_fork.py")
        python = os.path.join(os.path.dirname(checkov_binary(ctx)), "python")
        cmd = [python, driver, self.out_dir, *checkov_args(), "--", *(t.root for t in trees)]
        env = {
            **os.environ,
            "BC_SKIP_MAPPING": "TRUE",
            "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false",
            # checkov's own parallelism forks its whole (large) process per framework and per group of files:
            # sequential is the same work with less CPU; trees run side by side instead (CHECKOV_FORK_JOBS)
            "CHECKOV_PARALLELIZATION_TYPE": "none",
            "CHECKOV_FORK_JOBS": str(max(1, min(2, os.cpu_count() or 1))),
        }
        env.pop("PYTHONPATH", None)
        self.err_path = os.path.join(self.out_dir, "driver.err")
        try:
            with open(self.err_path, "w") as err:
                self.proc = subprocess.Popen(
                    cmd,
                    cwd=ctx.work,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=err,
                    text=True,
                    start_new_session=True,
                )
        except OSError as e:
            self.proc, self.error = None, f"cannot run checkov: {e.strerror}"
            self.finished = True
            return
        self.error = None
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            words = line.split()
            if len(words) >= 2 and words[0].isdigit():
                if len(words) == 4 and os.environ.get("CONFORMANCE_TIMING") == "1":
                    label = self.labels.get(int(words[0]), words[0])
                    print(f"[timing] background checkov {label} cpu {words[2]}s, {words[3]}s", file=sys.stderr)
                with self.cond:
                    self.done[int(words[0])] = int(words[1]) if words[1].lstrip("-").isdigit() else 2
                    self.cond.notify_all()
        self.proc.wait()
        with self.cond:
            self.finished = True
            self.cond.notify_all()

    def result(self, tree: Tree, timeout: int = 1800) -> tuple:
        """(exit status, stdout, stderr) of checkov over one tree; waits for it."""
        n = self.slot[tree.index]
        with self.cond:
            if not self.cond.wait_for(lambda: n in self.done or self.finished, timeout=timeout):
                return 124, "", f"checkov timed out after {timeout}s"
            if n not in self.done:
                return 127, "", self.error or f"checkov stopped early: {read_tail(self.err_path)}"
            status = self.done[n]
        base = os.path.join(self.out_dir, str(n))
        return status, read_text(base + ".json"), read_text(base + ".err")

    def stop(self) -> None:
        stop_group(self.proc)


def read_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError:
        return ""


def read_tail(path: str) -> str:
    return " ".join(read_text(path).strip().splitlines()[-3:])[-300:]


def tree_key(ctx: Context, tree: Tree) -> tuple:
    """checkov builds one graph per tree (Terraform modules and variables, Kubernetes objects across files): its
    result for a file depends on the whole tree, so only a tree identical to an earlier one (every file, none
    skipped) is not scanned again."""
    return ("checkov", ctx.memo.digests.folder(tree.root))


def start(ctx: Context) -> None:
    trees = [t for t in ctx.trees if has_input(t) and ctx.memo.claim(tree_key(ctx, t), t, ".")]
    if not trees or not ctx.enabled("checkov") or not os.access(checkov_binary(ctx), os.X_OK):
        return
    ctx.jobs["checkov"] = CheckovRuns(ctx, trees)


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

    def report() -> None:
        status, out, err = ctx.jobs["checkov"].result(tree)
        try:
            files = parse_report(out)
        except (ValueError, KeyError) as e:
            ctx.failed("checkov", tree, ".", f"no usable report (exit {status}, {e}): {err.strip()[-300:]}")
            return
        prefix = tree.root + os.sep
        for path in sorted(p for p in files if p.startswith(prefix)):
            file_verdict(ctx, tree, os.path.relpath(path, tree.root), files[path])

    ctx.once(tree_key(ctx, tree), tree, ".", report)
