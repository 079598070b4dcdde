"""terraform validate and terraform test (an offline plan with a mocked AWS provider) per Terraform root.

Both need the providers' schemas. The AWS provider comes from a local plugin folder (CONFORMANCE_TF_PLUGINS,
default /opt/tf-plugins; `terraform init -plugin-dir`), shared by every root: init links it, nothing is copied.
A root whose `terraform test` passes is not validated again: each of its plans validated it first.
Without that folder init asks the registry; when that fails too, the checks are a SKIP naming the reason, or a
FAIL under CI (env CI set). Each root is copied to the scratch folder first, so that `.terraform/` and the lock
file never land in the checked tree. Roots run in the background from the start, two at a time.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from .context import Context
from .terraform import terraform_binary, terraform_env
from .tree import Tree

VALIDATORS = ("terraform-validate", "terraform-test")
ON_LINE = re.compile(r"^\s*on (\S+) line (\d+)")


def plugin_dir() -> str:
    return os.environ.get("CONFORMANCE_TF_PLUGINS", "/opt/tf-plugins")


def roots(tree: Tree) -> list:
    """Folders with .tf files that are not inside another such folder (modules are checked through them)."""
    found = []
    for rel in tree.tf_dirs:
        if not any(rel.startswith(r + "/") for r in found) and any(
            f.endswith(".tf") and f.rsplit("/", 1)[0] == rel for f in tree.hcl_files
        ):
            found.append(rel)
    return found


class TerraformRuns:
    def __init__(self, ctx: Context, tool: str):
        self.ctx = ctx
        self.tool = tool
        self.pool = ThreadPoolExecutor(max_workers=max(1, min(2, os.cpu_count() or 1)))
        self.futures: dict = {}
        self.keys: dict = {}
        for tree in ctx.trees:
            for rel in roots(tree):
                key = ("terraform-plan", ctx.memo.digests.folder(tree.path(rel)))
                self.keys[(tree.index, rel)] = key
                if key not in self.futures:
                    self.futures[key] = self.pool.submit(self.run_one, tree, rel)

    def result(self, tree: Tree, rel: str) -> dict:
        return self.futures[self.keys[(tree.index, rel)]].result()

    def run_one(self, tree: Tree, rel: str) -> dict:
        began = time.monotonic()
        work = os.path.join(self.ctx.scratch("terraform"), f"{tree.index}-{rel.replace('/', '_')}")
        shutil.copytree(tree.path(rel), work, symlinks=True, ignore=shutil.ignore_patterns(".terraform*"))
        env = terraform_env(self.ctx)
        result = {"rel": rel, "times": {}}
        status, out = self.init(work, env)
        result["times"]["init"] = time.monotonic() - began
        if status:
            result["init"] = (status, out)
            return result
        tests = os.path.isdir(os.path.join(work, "tests")) or any(f.endswith(".tftest.hcl") for f in os.listdir(work))
        if tests and self.ctx.enabled("terraform-test"):
            step = time.monotonic()
            result["test"] = self.ctx.run([self.tool, "test", "-no-color"], cwd=work, env=env, timeout=900)
            result["times"]["test"] = time.monotonic() - step
        # Every plan of a passing `terraform test` validated the whole configuration first (the same static
        # checks against the providers' schemas), so validate runs again only to locate what a failing or
        # absent test did not: it costs as much CPU as loading the AWS provider's schema once more.
        if result.get("test", (1, ""))[0] == 0:
            result["validated_by_test"] = True
        else:
            step = time.monotonic()
            result["validate"] = self.ctx.run([self.tool, "validate", "-json", "-no-color"], cwd=work, env=env)
            result["times"]["validate"] = time.monotonic() - step
        if os.environ.get("CONFORMANCE_TIMING") == "1":
            spent = " ".join(f"{k} {v:.1f}s" for k, v in result["times"].items())
            print(f"[timing] terraform {tree.label}/{rel} {spent}", file=sys.stderr, flush=True)
        return result

    def init(self, work: str, env: dict) -> tuple:
        cmd = [self.tool, "init", "-backend=false", "-input=false", "-no-color"]
        if os.path.isdir(plugin_dir()):
            cmd.append(f"-plugin-dir={plugin_dir()}")
        return self.ctx.run(cmd, cwd=work, env=env)

    def stop(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


def start(ctx: Context) -> None:
    if not any(ctx.enabled(v) for v in VALIDATORS) or not any(roots(t) for t in ctx.trees):
        return
    tool = terraform_binary(ctx)
    if tool:
        ctx.jobs["terraform-plan"] = TerraformRuns(ctx, tool)


def validate_errors(rel: str, out: str) -> list:
    """`terraform validate -json` diagnostics as `file:line: summary: detail` (file relative to the tree)."""
    try:
        report = json.loads(out)
    except json.JSONDecodeError:
        return [out.strip()[-2000:] or "terraform validate printed nothing"]
    errors = []
    for d in report.get("diagnostics", []):
        if d.get("severity") != "error":
            continue
        where = d.get("range") or {}
        place = f"{rel}/{where['filename']}:{where['start']['line']}: " if where.get("filename") else ""
        detail = f": {d['detail']}" if d.get("detail") else ""
        error = f"{place}{d.get('summary', '')}{detail}".replace("\n", " ")
        if error not in errors:  # a module called twice reports its errors twice
            errors.append(error)
    return errors or ([] if report.get("valid") else ["terraform validate failed without diagnostics"])


def text_errors(rel: str, out: str) -> list:
    """Errors of terraform's human output (init, test): `file:line: summary`, the line when one is given."""
    errors, lines = [], out.splitlines()
    for i, line in enumerate(lines):
        if not line.startswith("Error: "):
            continue
        summary = line[len("Error: ") :].strip()
        place = ""
        for follow in lines[i + 1 : i + 4]:
            m = ON_LINE.match(follow)
            if m:
                place = f"{rel}/{m.group(1)}:{m.group(2)}: "
                break
        message = next((x.strip() for x in lines[i + 4 : i + 12] if x.strip() and "│" not in x), "")
        error = f"{place}{summary}" + (f" ({message})" if message and "Test assertion" in summary else "")
        if error not in errors:  # each run of a test file repeats the module's errors
            errors.append(error)
    return errors


def not_initialised(ctx: Context, tree: Tree, rel: str, validator: str, status: int, out: str) -> None:
    if os.path.isdir(plugin_dir()) or os.environ.get("CI"):
        ctx.verdict(
            validator, tree, rel, ["terraform init failed: " + "; ".join(text_errors(rel, out) or [out[-500:]])], ""
        )
        return
    ctx.skipped(
        validator,
        tree,
        rel,
        f"no provider plugins at {plugin_dir()} (CONFORMANCE_TF_PLUGINS) and terraform init could not fetch them"
        " from the registry (offline); a FAIL under CI",
    )


def report(ctx: Context, tree: Tree, validator: str) -> None:
    runs = ctx.jobs.get("terraform-plan")
    if not roots(tree) or not ctx.require(runs and runs.tool, "terraform", validator, tree):
        return

    def emit(rel: str) -> None:
        result = runs.result(tree, rel)
        if "init" in result:
            not_initialised(ctx, tree, rel, validator, *result["init"])
        elif validator == "terraform-validate" and result.get("validated_by_test"):
            note = f"valid (each plan of its passing terraform test validated it, {provider_note()})"
            ctx.passed(validator, tree, rel, note)
        elif validator == "terraform-validate":
            status, out = result["validate"]
            errors = validate_errors(rel, out) if status else []
            ctx.verdict(validator, tree, rel, errors, f"valid (terraform validate, {provider_note()})")
        elif "test" not in result:
            ctx.skipped(validator, tree, rel, "no tests/*.tftest.hcl")
        else:
            status, out = result["test"]
            errors = (text_errors(rel, out) or [out.strip()[-1500:]]) if status else []
            ctx.verdict(validator, tree, rel, errors, summary_line(out))

    for rel in roots(tree):
        ctx.once((validator, *runs.keys[(tree.index, rel)][1:]), tree, rel, lambda rel=rel: emit(rel))


def provider_note() -> str:
    return f"providers from {plugin_dir()}" if os.path.isdir(plugin_dir()) else "providers from the registry"


def summary_line(out: str) -> str:
    last = [x for x in out.splitlines() if x.startswith(("Success!", "Failure!"))]
    return f"terraform test (mocked AWS, plan only): {last[-1] if last else 'passed'}"


def terraform_validate(ctx: Context, tree: Tree) -> None:
    report(ctx, tree, "terraform-validate")


def terraform_test(ctx: Context, tree: Tree) -> None:
    report(ctx, tree, "terraform-test")
