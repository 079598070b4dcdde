"""yamllint over every YAML file, and a JSON syntax check over every JSON file."""

from __future__ import annotations

import os

from .context import Context
from .tree import Tree

# Errors (syntax, duplicate keys, indentation, ...) fail; style rules that generated files need not follow
# are off, the rest stay warnings and are only counted.
YAMLLINT_CONFIG = """
extends: default
rules:
  line-length: disable
  document-start: disable
  truthy:
    check-keys: false
  comments:
    min-spaces-from-content: 1
  braces:
    max-spaces-inside: 1
  brackets:
    max-spaces-inside: 1
  indentation:
    spaces: consistent
    indent-sequences: consistent
"""


def yamllint(ctx: Context, tree: Tree) -> None:
    from yamllint import linter
    from yamllint.config import YamlLintConfig

    custom = os.environ.get("CONFORMANCE_YAMLLINT_CONFIG")
    conf = YamlLintConfig(custom or YAMLLINT_CONFIG)

    def lint(rel: str) -> None:
        with open(tree.path(rel), encoding="utf-8", errors="replace") as fh:
            problems = list(linter.run(fh.read(), conf, rel))
        errors = [f"{p.line}:{p.column} {p.desc} ({p.rule or 'syntax'})" for p in problems if p.level == "error"]
        warnings = len(problems) - len(errors)
        ctx.verdict("yamllint", tree, rel, errors, f"no errors, {warnings} warning(s)" if warnings else "no errors")

    for rel in tree.yaml_files:
        # the path only matters to `ignore` patterns, which only a custom configuration can have
        key = ctx.file_key("yamllint", tree, rel, custom or "", rel if custom else "")
        ctx.once(key, tree, rel, lambda rel=rel: lint(rel))


def json_parse(ctx: Context, tree: Tree) -> None:
    for rel in tree.json_files:
        error = tree.json_errors.get(rel)
        ctx.verdict("json-parse", tree, rel, [error] if error else [], "valid JSON")
