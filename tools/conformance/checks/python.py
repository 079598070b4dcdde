"""Python: every file compiles, ruff (lint subset + format) from each project folder, requirements parse.

A project is a folder with requirements.txt or pyproject.toml; ruff runs from there so that the project's
own packages count as first-party for import sorting. Files outside any project are grouped by folder.
"""

from __future__ import annotations

import os
from pathlib import PurePosixPath

from .context import Context
from .tree import Tree


def python_groups(tree: Tree) -> dict:
    """{group folder: [files relative to the tree]}, a group being a project or a plain folder."""
    projects = sorted(tree.python_projects, key=len, reverse=True)
    groups: dict = {}
    for rel in tree.python_files:
        home = next((p for p in projects if p == "." or rel.startswith(p + "/")), None)
        groups.setdefault(home or str(PurePosixPath(rel).parent), []).append(rel)
    return dict(sorted(groups.items()))


def compile_error(path: str) -> str | None:
    try:
        with open(path, "rb") as fh:
            compile(fh.read(), path, "exec", dont_inherit=True)
    except SyntaxError as e:
        return f"line {e.lineno}: {e.msg}"
    except ValueError as e:  # null bytes
        return str(e)
    return None


def py_compile(ctx: Context, tree: Tree) -> None:
    for group, files in python_groups(tree).items():
        errors = [f"{f}: {err}" for f in files if (err := compile_error(tree.path(f)))]
        ctx.verdict("py-compile", tree, group, errors, f"{len(files)} file(s) compile")


def ruff_targets(group: str, files: list, tree: Tree) -> list:
    if group in tree.python_projects:
        return ["."]
    return [os.path.relpath(f, group) for f in files]


def ruff_config(tree: Tree, group: str) -> list:
    """The tree's own ruff settings (nearest ruff.toml, .ruff.toml or pyproject.toml with [tool.ruff] between
    the group and the tree root) or none at all: settings outside the tree must not change the verdict."""
    folder = PurePosixPath(group)
    while True:
        for name in ("ruff.toml", ".ruff.toml", "pyproject.toml"):
            path = tree.path(str(folder / name))
            if os.path.isfile(path) and (name != "pyproject.toml" or has_ruff_table(path)):
                return ["--config", path]
        if str(folder) in (".", ""):
            return ["--isolated"]
        folder = folder.parent


def has_ruff_table(path: str) -> bool:
    with open(path, encoding="utf-8", errors="replace") as fh:
        return "[tool.ruff" in fh.read()


IGNORE_FILES = (".gitignore", ".ignore")


def ruff_key(ctx: Context, tree: Tree, validator: str, cmd: list, group: str, config: list) -> tuple:
    """ruff reads the group's folder, its settings file (with --config, the project root is that file's folder,
    where first-party packages are looked for) and the ignore files of the folders above (respect-gitignore)."""
    digests = ctx.memo.digests
    folder = tree.path(group)
    if config[0] == "--config":
        settings = os.path.dirname(config[1])
        inputs = [group, digests.folder(folder), os.path.relpath(settings, folder), digests.folder(settings)]
    else:
        inputs = [group, digests.folder(folder)]
    above, path = [], os.path.abspath(folder)
    while path != os.path.dirname(path):
        path = os.path.dirname(path)
        above += [digests.file(os.path.join(path, name)) for name in IGNORE_FILES]
    return (validator, tuple(cmd), tuple(inputs), tuple(above))


def run_ruff(ctx: Context, tree: Tree, validator: str, args: list, ok: str) -> None:
    tool = ctx.find_tool("ruff")
    if not tree.python_files or not ctx.require(tool, "ruff", validator, tree):
        return

    def ruff(group: str, cmd: list) -> None:
        status, out = ctx.run(cmd, cwd=tree.path(group), timeout=120)
        ctx.verdict(validator, tree, group, [out] if status else [], ok)

    for group, files in python_groups(tree).items():
        config = ruff_config(tree, group)
        cmd = [tool, *args, "--no-cache", *config, *ruff_targets(group, files, tree)]
        key = ruff_key(ctx, tree, validator, [c.replace(tree.root, "<tree>") for c in cmd], group, config)
        ctx.once(key, tree, group, lambda group=group, cmd=cmd: ruff(group, cmd))


def ruff_check(ctx: Context, tree: Tree) -> None:
    select = os.environ.get("CONFORMANCE_RUFF_SELECT", "E4,E7,E9,F,I")
    run_ruff(
        ctx,
        tree,
        "ruff-check",
        ["check", "--quiet", "--output-format", "concise", "--select", select],
        f"ruff check --select {select}",
    )


def ruff_format(ctx: Context, tree: Tree) -> None:
    run_ruff(ctx, tree, "ruff-format", ["format", "--check", "--quiet"], "ruff format --check")


def requirement_lines(path: str):
    """(line number, requirement or option) of a requirements file, comments and blanks left out."""
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            text = line.split(" #", 1)[0].strip()
            if text and not text.startswith("#"):
                yield n, text


def requirements(ctx: Context, tree: Tree) -> None:
    from packaging.requirements import InvalidRequirement, Requirement

    for rel in tree.requirements_files:
        errors, count = [], 0
        for n, text in requirement_lines(tree.path(rel)):
            if text.startswith("-"):
                continue  # pip options: -r, -c, --index-url ...
            try:
                Requirement(text)
                count += 1
            except InvalidRequirement as e:
                errors.append(f"line {n}: {e}")
        ctx.verdict("requirements", tree, rel, errors, f"{count} requirement(s) parse (PEP 508)")
