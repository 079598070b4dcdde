"""`kubectl kustomize` on every folder with a kustomization; what it renders is checked again.

A kustomization whose inputs (inputs_key) are the same as an earlier one's is not built again: its results,
rendered checks included, are copied (dedup.py).
"""

from __future__ import annotations

import os
import re

import yaml

from . import istio, kube, refs
from .context import Context
from .tree import KUSTOMIZATION_NAMES, Tree
from .yamlload import load_docs


def rendered_checks(ctx: Context, tree: Tree, target: str, docs: list) -> None:
    if ctx.enabled("kubernetes-validate"):
        kube.check_schemas(ctx, tree, target, kube.k8s_objects(docs))
    if ctx.enabled("k8s-api-rules"):
        kube.check_api_rules(ctx, tree, target, kube.k8s_objects(docs, ("k8s", "promrule")))
    if ctx.enabled("istio-schema") and istio.istio_objects(docs):
        istio.check_objects(ctx, tree, target, istio.istio_objects(docs))
    if ctx.enabled("k8s-refs"):
        refs.check_scope(ctx, tree, target, kube.k8s_objects(docs, ("k8s", "istio")))


def kustomize(ctx: Context, tree: Tree) -> None:
    if not tree.kustomize_dirs:
        return
    kubectl = ctx.require(ctx.find_tool("kubectl"), "kubectl", "kustomize", tree)
    if not kubectl:
        return

    def build(rel: str) -> None:
        status, output, errors = ctx.run_split([kubectl, "kustomize", rel], cwd=tree.root, timeout=120)
        if status != 0:
            ctx.failed("kustomize", tree, rel, errors or output)
            return
        try:
            docs = load_docs(output)
        except yaml.YAMLError as e:
            ctx.failed("kustomize", tree, rel, f"rendered output does not parse: {e}")
            return
        ctx.passed("kustomize", tree, rel, f"kubectl kustomize renders {len(docs)} object(s)")
        rendered_checks(ctx, tree, f"{rel}:rendered", docs)

    for rel in tree.kustomize_dirs:
        ctx.once(inputs_key(ctx, tree, rel), tree, rel, lambda rel=rel: build(rel))


REMOTE = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*://|git@|github\.com/|gitlab\.com/|bitbucket\.org/)")


def strings(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value)


def within(rel: str, folder: str) -> bool:
    if folder == ".":
        return rel != ".." and not rel.startswith("../")
    return rel == folder or rel.startswith(folder + "/")


def inputs_key(ctx: Context, tree: Tree, rel: str):
    """What `kubectl kustomize rel` can read: every file under the kustomization's folder, and, followed from
    every string of its kustomization that names an existing path (resources, components, patches, generator
    files, `key=path`...), those files and folders and the same again for the kustomizations found there. None
    (always run) when a kustomization names a remote resource or a path outside the tree."""
    digests = ctx.memo.digests
    seen, parts, pending = set(), [], [rel]
    while pending:
        folder = pending.pop()
        if folder in seen:
            continue
        seen.add(folder)
        parts.append((folder, digests.folder(tree.path(folder))))
        for name in KUSTOMIZATION_NAMES:
            try:
                with open(tree.path(os.path.join(folder, name)), encoding="utf-8") as fh:
                    docs = list(yaml.safe_load_all(fh))
            except (OSError, UnicodeDecodeError, yaml.YAMLError):
                continue  # absent, or kustomize reports it (the file is in the folder's digest)
            for text in strings(docs):
                if REMOTE.match(text):
                    return None
                for candidate in (text, text.split("=", 1)[1] if "=" in text else ""):
                    if not candidate or "\n" in candidate or "\0" in candidate:
                        continue
                    if os.path.isabs(candidate):
                        if os.path.exists(candidate):
                            return None
                        continue
                    target = os.path.normpath(os.path.join(folder, candidate))
                    if not within(target, "."):
                        if os.path.exists(tree.path(target)):
                            return None
                        continue
                    if os.path.isdir(tree.path(target)):
                        pending.append(target)  # its own kustomization may lead further
                    elif not within(target, folder):
                        parts.append((target, digests.tree_file(tree, target)))
    return ("kustomize", rel, tuple(sorted(parts)))
