"""What every validator needs: the options, the tools of the venv, a scratch folder, and the reporter."""

from __future__ import annotations

import fnmatch
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from . import procs
from .dedup import Memo
from .report import Reporter, UsageError
from .tree import Tree

# Every validator, in the order they run; these names appear in the output and in CONFORMANCE_SKIP/ONLY.
VALIDATORS = (
    "yamllint",
    "json-parse",
    "kubernetes-validate",
    "k8s-api-rules",
    "istio-schema",
    "k8s-refs",
    "kustomize",
    "compose-schema",
    "docker-compose-config",
    "actionlint",
    "gha-schema",
    "openapi-spec-validator",
    "promtool",
    "grafana-dashboard",
    "grafana-promql",
    "terraform-fmt",
    "python-hcl2",
    "terraform-validate",
    "terraform-test",
    "hadolint",
    "protoc",
    "buf-lint",
    "pglast",
    "postgres-migrate",
    "postgres-roundtrip",
    "mysql-migrate",
    "py-compile",
    "ruff-check",
    "ruff-format",
    "requirements",
    "pytest",
    "tsc",
    "eslint",
    "node-test",
    "checkov",
)
# Shorthands accepted in CONFORMANCE_SKIP/ONLY.
GROUPS = {
    "k8s": ("kubernetes-validate", "k8s-api-rules", "istio-schema", "k8s-refs", "kustomize"),
    "istio": ("istio-schema",),
    "compose": ("compose-schema", "docker-compose-config"),
    "gha": ("actionlint", "gha-schema"),
    "openapi": ("openapi-spec-validator",),
    "prometheus": ("promtool", "grafana-promql"),
    "grafana": ("grafana-dashboard", "grafana-promql"),
    "terraform": ("terraform-fmt", "python-hcl2", "terraform-validate", "terraform-test"),
    "proto": ("protoc", "buf-lint"),
    "sql": ("pglast", "postgres-migrate", "postgres-roundtrip", "mysql-migrate"),
    "mysql": ("mysql-migrate",),
    "postgres": ("postgres-migrate", "postgres-roundtrip"),
    "python": ("py-compile", "ruff-check", "ruff-format", "requirements", "pytest"),
    "typescript": ("tsc", "eslint", "node-test"),
    "ruff": ("ruff-check", "ruff-format"),
}


def parse_selection(text: str) -> set:
    names = set()
    for word in filter(None, (w.strip() for w in text.split(","))):
        if word in GROUPS:
            names.update(GROUPS[word])
        elif word in VALIDATORS:
            names.add(word)
        else:
            raise UsageError(
                f"unknown validator {word!r}; known: {', '.join(VALIDATORS)} (groups: {', '.join(GROUPS)})"
            )
    return names


@dataclass
class Context:
    venv: str
    here: str
    work: str
    reporter: Reporter
    trees: list = field(default_factory=list)
    only: set = field(default_factory=set)
    skip: set = field(default_factory=set)
    strict_tools: bool = False
    jobs: dict = field(default_factory=dict)
    postgres: object = None
    mariadb: object = None
    memo: Memo = field(default_factory=lambda: Memo(True))
    _pool: object = None
    _tool_notes: set = field(default_factory=set)
    _values: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, venv: str, here: str, work: str, reporter: Reporter) -> Context:
        env = os.environ
        return cls(
            venv=venv,
            here=here,
            work=work,
            reporter=reporter,
            only=parse_selection(env.get("CONFORMANCE_ONLY", "")),
            skip=parse_selection(env.get("CONFORMANCE_SKIP", "")),
            strict_tools=env.get("CONFORMANCE_STRICT_TOOLS", "0") == "1",
            memo=Memo(env.get("CONFORMANCE_DEDUP", "1") != "0"),
        )

    # ------------------------------------------------------------------ selection
    def enabled(self, validator: str) -> bool:
        return (not self.only or validator in self.only) and validator not in self.skip

    def enabled_glob(self, pattern: str) -> bool:
        return any(self.enabled(v) for v in VALIDATORS if fnmatch.fnmatchcase(v, pattern))

    # ------------------------------------------------------------------ results
    def emit(self, status: str, validator: str, tree: Tree, rel: str, detail: str = "", copy: bool = False) -> None:
        detail = str(detail).replace(tree.root + os.sep, "").replace(tree.root, ".")
        self.memo.note(status, validator, rel, detail)
        self.reporter.emit(status, validator, tree.target(rel), detail, aliases=(rel,), copy=copy)

    def file_key(self, validator: str, tree: Tree, rel: str, *extra) -> tuple:
        """The dedup key of a check that reads one file and nothing else of the tree."""
        return (validator, self.memo.digests.tree_file(tree, rel), *extra)

    def once(self, key, tree: Tree, anchor: str, run) -> None:
        """run() emits the results of one check unit (a file, a folder...) anchored at `anchor`; with dedup on,
        a unit whose key an earlier unit had does not run: that unit's results are emitted again for this one
        (see dedup.py). `key` is (validator, ...) over everything the check reads, or None to always run."""
        if self.memo.claim(key, tree, anchor):
            with self.memo.recording(key, tree, anchor):
                run()
            return
        lines = self.memo.copies(key, tree, anchor)
        if lines is None:  # the first unit was never reported
            run()
            return
        for status, validator, rel, detail in lines:
            self.emit(status, validator, tree, rel, detail, copy=True)

    def passed(self, validator: str, tree: Tree, rel: str, detail: str = "") -> None:
        self.emit("PASS", validator, tree, rel, detail)

    def failed(self, validator: str, tree: Tree, rel: str, detail: str = "") -> None:
        self.emit("FAIL", validator, tree, rel, detail)

    def skipped(self, validator: str, tree: Tree, rel: str, detail: str = "") -> None:
        self.emit("SKIP", validator, tree, rel, detail)

    def verdict(self, validator: str, tree: Tree, rel: str, errors: list, ok_detail: str) -> None:
        """PASS with ok_detail when errors is empty, else FAIL listing them."""
        if errors:
            more = f" (+{len(errors) - 10} more)" if len(errors) > 10 else ""
            self.failed(validator, tree, rel, "; ".join(map(str, errors[:10])) + more)
        else:
            self.passed(validator, tree, rel, ok_detail)

    def memo_value(self, name: str, compute):
        """compute() once per run (e.g. a tool's version)."""
        if name not in self._values:
            self._values[name] = compute()
        return self._values[name]

    # ------------------------------------------------------------------ tools
    def venv_bin(self, name: str) -> str:
        return os.path.join(self.venv, "bin", name)

    def find_tool(self, name: str) -> str | None:
        """A tool from the venv first, then from PATH."""
        for candidate in (self.venv_bin(name), os.path.join(self.venv, "libexec", name)):
            if os.access(candidate, os.X_OK):
                return candidate
        return shutil.which(name)

    def require(self, tool: str | None, name: str, validator: str, tree: Tree) -> str | None:
        """Returns the tool path; else reports it missing (SKIP, or FAIL when strict) once per tree."""
        if tool and os.access(tool, os.X_OK):
            return tool
        key = (validator, tree.root, name)
        if key not in self._tool_notes:
            self._tool_notes.add(key)
            status = "FAIL" if self.strict_tools else "SKIP"
            self.emit(status, validator, tree, ".", f"{name} not installed (run tools/conformance/install.sh)")
        return None

    # ------------------------------------------------------------------ processes
    def run(self, cmd: list, cwd: str | None = None, timeout: int = 300, env: dict | None = None) -> tuple:
        """Runs a command; returns (exit status, stdout and stderr together). A timeout is status 124."""
        status, out, _ = self.run_split(cmd, cwd, timeout, env, merge=True)
        return status, out

    def run_split(
        self, cmd: list, cwd: str | None = None, timeout: int = 300, env: dict | None = None, merge: bool = False
    ) -> tuple:
        """Runs a command; returns (exit status, stdout, stderr)."""
        return procs.run(cmd, cwd, env, timeout, merge)

    def submit(self, fn, *args):
        """Runs fn(*args) on a worker thread (for work that waits on subprocesses or the database)."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 1))
        return self._pool.submit(fn, *args)

    def stop_jobs(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        for job in self.jobs.values():
            job.stop()
        procs.kill_all()

    def scratch(self, name: str) -> str:
        path = os.path.join(self.work, name)
        os.makedirs(path, exist_ok=True)
        return path
