"""Terraform: `terraform fmt -check` per module folder and a python-hcl2 parse per file.

`terraform validate` and `terraform test` are in terraform_plan.py (they need the providers).
"""

from __future__ import annotations

import os
import shutil

from .context import Context
from .tree import Tree


def terraform_binary(ctx: Context) -> str | None:
    """CONFORMANCE_TERRAFORM, else the machine's terraform, else the fmt-capable one install.sh fetched."""
    venv_bin = os.path.realpath(ctx.venv_bin(""))
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if os.path.realpath(p) != venv_bin)
    for candidate in (
        os.environ.get("CONFORMANCE_TERRAFORM"),
        shutil.which("terraform", path=path),
        "/usr/local/bin/terraform",
        os.path.join(ctx.venv, "libexec", "terraform"),
    ):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def terraform_env(ctx: Context) -> dict:
    config = os.path.join(ctx.work, "terraformrc")
    if not os.path.exists(config):
        open(config, "w").close()
    return {**os.environ, "TF_CLI_CONFIG_FILE": config, "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1"}


def terraform_fmt(ctx: Context, tree: Tree) -> None:
    tool = terraform_binary(ctx)
    if not tree.tf_dirs or not ctx.require(tool, "terraform", "terraform-fmt", tree):
        return
    version = ctx.memo_value("terraform-version", lambda: terraform_version(ctx, tool))

    def fmt(rel: str) -> None:
        status, out = ctx.run(
            [tool, "fmt", "-check", "-list=true", "-no-color", rel], cwd=tree.root, env=terraform_env(ctx)
        )
        if status == 3:
            out = "not formatted (run terraform fmt): " + ", ".join(out.split())
        ctx.verdict("terraform-fmt", tree, rel, [out] if status else [], f"terraform {version} fmt -check")

    for rel in tree.tf_dirs:
        # fmt without -recursive reads the files directly in the folder
        key = ("terraform-fmt", tool, ctx.memo.digests.folder(tree.path(rel), recursive=False))
        ctx.once(key, tree, rel, lambda rel=rel: fmt(rel))


def terraform_version(ctx: Context, tool: str) -> str:
    _, version = ctx.run([tool, "version"], env=terraform_env(ctx))
    return (version.split() or ["?", "?"])[1]


def python_hcl2(ctx: Context, tree: Tree) -> None:
    import hcl2

    def parse(rel: str) -> None:
        try:
            with open(tree.path(rel), encoding="utf-8") as fh:
                hcl2.load(fh)
            errors = []
        except Exception as e:  # noqa: BLE001 - lark raises several kinds of parse errors
            errors = [f"{type(e).__name__}: {e}"]
        ctx.verdict("python-hcl2", tree, rel, errors, "parses (python-hcl2)")

    for rel in tree.hcl_files:
        ctx.once(ctx.file_key("python-hcl2", tree, rel), tree, rel, lambda rel=rel: parse(rel))
