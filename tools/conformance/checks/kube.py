"""Kubernetes objects: kubernetes-validate's strict schemas, and the API server's own rules (apirules).

kubernetes-validate loads two schema files from disk for every object it checks; here the same bundled
schemas are loaded once per (version, kind) and every error of an object is reported, not only the first.
"""

from __future__ import annotations

import functools
import json
import os
import re

from . import apirules, crds
from .context import Context
from .tree import Tree, api_group, doc_role


def k8s_versions() -> list:
    from kubernetes_validate import utils

    latest = utils.major_minor(utils.latest_version())
    wanted = os.environ.get("CONFORMANCE_K8S_VERSIONS") or f"1.30 {latest}"
    return list(dict.fromkeys(v for v in re.split(r"[ ,]+", wanted) if v))


@functools.cache
def schema_dir(version: str) -> str:
    """Folder of the newest bundled strict schemas not newer than `version`."""
    import importlib.resources as resources

    from kubernetes_validate import utils

    def key(v: str) -> tuple:
        return tuple(int(p) for p in utils.major_minor(v).split("."))

    candidates = [v for v in utils.all_versions() if key(v) <= key(version)]
    if not candidates:
        raise ValueError(f"kubernetes-validate has no schemas for Kubernetes {version}")
    base = resources.files("kubernetes_validate") / "kubernetes-json-schema" / f"v{candidates[-1]}-local-strict"
    return str(base)


@functools.cache
def definitions(version: str):
    from referencing import Registry, Resource

    with open(os.path.join(schema_dir(version), "_definitions.json"), encoding="utf-8") as fh:
        return Resource.from_contents(json.load(fh)) @ Registry()


@functools.cache
def validator_for(version: str, kind: str, api_version: str):
    """A strict validator for kind/apiVersion at `version`, or None when that API has no schema there."""
    import jsonschema

    mangled = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    path = os.path.join(schema_dir(version), f"{kind.lower()}-{mangled}.json")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as fh:
        schema = json.load(fh)
    return jsonschema.Draft202012Validator(schema, registry=definitions(version))


@functools.cache
def object_meta_validator():
    import jsonschema
    from kubernetes_validate import utils

    registry = definitions(utils.latest_version())
    ref = {"$ref": "https://kubernetes.io/api/_definitions.json#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}
    return jsonschema.Draft202012Validator(ref, registry=registry)


def is_builtin_group(group: str) -> bool:
    return group == "" or "." not in group or group.endswith(".k8s.io")


def ident(doc: dict) -> str:
    return f"{doc.get('kind')}/{(doc.get('metadata') or {}).get('name')}"


def custom_resource_errors(doc: dict, schemas_root: str) -> tuple:
    """(errors, skip note) for a custom resource: against its CRD's saved schema, strict, with ObjectMeta."""
    api, kind = str(doc["apiVersion"]), str(doc["kind"])
    group, _, version = api.partition("/")
    path = crds.saved_schema_path(schemas_root, group, kind, version)
    found = crds.strict_validator(path) if path else None
    if found is None:
        return [], f"{ident(doc)}: custom resource {kind} of {api}, no schema saved"
    doc = crds.drop_nulls(doc)
    errors = sorted(found[1].iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    errors += object_meta_validator().iter_errors(doc.get("metadata") or {})
    return [f"{ident(doc)} ({api} CRD schema): {path_of(e)}: {e.message}" for e in errors], None


def schema_errors(doc: dict, versions: list, schemas_root: str) -> tuple:
    """(errors, skip note) for one object, against every wanted Kubernetes version."""
    api, kind = str(doc["apiVersion"]), str(doc["kind"])
    for version in versions:
        validator = validator_for(version, kind, api)
        if validator is None:
            if is_builtin_group(api_group(doc)):
                reason = f"{api} {kind} is not served by Kubernetes {version} (removed or unknown API)"
                return [f"{ident(doc)}: {reason}"], None
            return custom_resource_errors(doc, schemas_root)
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
        if errors:
            return [f"{ident(doc)} (k8s {version}): {path_of(e)}: {e.message}" for e in errors[:5]], None
    return [], None


def path_of(error) -> str:
    return ".".join(str(p) for p in error.absolute_path) or "(root)"


def k8s_objects(docs: list, roles: tuple = ("k8s",)) -> list:
    return [d for d in docs if doc_role(d) in roles]


def check_schemas(ctx: Context, tree: Tree, target: str, objects: list) -> None:
    versions = k8s_versions()
    schemas_root = os.path.join(ctx.here, "schemas")
    errors, skips, checked, custom = [], [], 0, 0
    for doc in objects:
        errs, skip = schema_errors(doc, versions, schemas_root)
        errors += errs
        if skip:
            skips.append(skip)
        else:
            checked += 1
            custom += not is_builtin_group(api_group(doc))
    if errors or checked:
        against_crds = f", {custom} custom resource(s) against their CRD schemas" if custom else ""
        ctx.verdict(
            "kubernetes-validate",
            tree,
            target,
            errors,
            f"{checked} object(s), strict, Kubernetes {' and '.join(versions)}{against_crds}",
        )
    if skips:
        ctx.skipped("kubernetes-validate", tree, target, "; ".join(skips))


def api_problems(doc: dict) -> list:
    try:
        return apirules.object_problems(doc)
    except (AttributeError, TypeError) as e:  # a shape the schema check reports already
        return [f"cannot apply the API rules ({type(e).__name__}: {e})"]


def check_api_rules(ctx: Context, tree: Tree, target: str, objects: list) -> None:
    errors = [f"{ident(d)}: {p}" for d in objects for p in api_problems(d)]
    ctx.verdict(
        "k8s-api-rules",
        tree,
        target,
        errors,
        f"{len(objects)} object(s): names, labels, selectors, ports, volumes, resources",
    )


def kubernetes_validate(ctx: Context, tree: Tree) -> None:
    versions = tuple(k8s_versions())
    for rel in tree.files("k8s"):
        ctx.once(
            ctx.file_key("kubernetes-validate", tree, rel, versions),
            tree,
            rel,
            lambda rel=rel: check_schemas(ctx, tree, rel, k8s_objects(tree.docs[rel])),
        )


def k8s_api_rules(ctx: Context, tree: Tree) -> None:
    for rel in sorted(set(tree.files("k8s")) | set(tree.files("promrule"))):
        ctx.once(
            ctx.file_key("k8s-api-rules", tree, rel),
            tree,
            rel,
            lambda rel=rel: check_api_rules(ctx, tree, rel, k8s_objects(tree.docs[rel], ("k8s", "promrule"))),
        )
