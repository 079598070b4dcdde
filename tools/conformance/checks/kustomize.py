"""`kubectl kustomize` on every folder with a kustomization; what it renders is checked again."""

from __future__ import annotations

import yaml

from . import istio, kube, refs
from .context import Context
from .tree import Tree
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
    for rel in tree.kustomize_dirs:
        status, output, errors = ctx.run_split([kubectl, "kustomize", rel], cwd=tree.root, timeout=120)
        if status != 0:
            ctx.failed("kustomize", tree, rel, errors or output)
            continue
        try:
            docs = load_docs(output)
        except yaml.YAMLError as e:
            ctx.failed("kustomize", tree, rel, f"rendered output does not parse: {e}")
            continue
        ctx.passed("kustomize", tree, rel, f"kubectl kustomize renders {len(docs)} object(s)")
        rendered_checks(ctx, tree, f"{rel}:rendered", docs)
