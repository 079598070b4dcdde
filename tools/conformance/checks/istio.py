"""Istio objects against the openAPIV3Schema of Istio's own CRDs (schemas/istio), as the API server would.

The API server adds three things a plain JSON Schema check misses: the implicit apiVersion/kind/metadata
fields, rejection of unknown fields (it prunes them; here, as with `kubectl apply --validate=strict`, they
fail), and the CEL rules in `x-kubernetes-validations`, evaluated here with cel-python.
"""

from __future__ import annotations

import copy
import functools
import json
import logging
import os

from . import apirules, kube
from .context import Context
from .tree import Tree, api_group, doc_role

# Kinds Istio serves whose schemas are not saved here are skipped, but these must match a saved version.
SAVED_KINDS = ("Gateway", "VirtualService", "DestinationRule", "PeerAuthentication", "AuthorizationPolicy")


def forbid_unknown_fields(node):
    if isinstance(node, dict):
        if (
            "properties" in node
            and "additionalProperties" not in node
            and not node.get("x-kubernetes-preserve-unknown-fields")
        ):
            node["additionalProperties"] = False
        for value in node.values():
            forbid_unknown_fields(value)
    elif isinstance(node, list):
        for value in node:
            forbid_unknown_fields(value)
    return node


def drop_nulls(value):
    """The API server prunes null fields that the schema does not declare nullable."""
    if isinstance(value, dict):
        return {k: drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_nulls(v) for v in value]
    return value


@functools.cache
def crd_schema(schemas_dir: str, kind: str, api_version: str):
    """(raw schema for CEL, strict JSON Schema validator) or None when no schema is saved."""
    import jsonschema

    group, _, version = api_version.partition("/")
    path = os.path.join(schemas_dir, f"{kind.lower()}-{group}-{version}.json")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as fh:
        raw = json.load(fh)
    strict = forbid_unknown_fields(copy.deepcopy(raw))
    props = strict.setdefault("properties", {})
    props.setdefault("apiVersion", {"type": "string"})
    props.setdefault("kind", {"type": "string"})
    props.setdefault("metadata", {"type": "object"})
    return raw, jsonschema.Draft7Validator(strict)


@functools.cache
def object_meta_validator():
    import jsonschema
    from kubernetes_validate import utils

    registry = kube.definitions(utils.latest_version())
    ref = {"$ref": "https://kubernetes.io/api/_definitions.json#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}
    return jsonschema.Draft202012Validator(ref, registry=registry)


def preload_cel_parser(cache_dir: str) -> None:
    """cel-python builds its LALR parser at every start (about 2 s); build it as it does, but let lark keep
    the analysed grammar in a cache file. Any mismatch leaves cel-python to build its own."""
    import re
    from pathlib import Path

    import lark
    from celpy import celparser

    if celparser.CELParser.CEL_PARSER is not None:
        return
    try:
        os.makedirs(cache_dir, exist_ok=True)
        grammar = (Path(celparser.__file__).parent / "cel.lark").read_text()
        celparser.CELParser.CEL_PARSER = lark.Lark(
            grammar,
            parser="lalr",
            start="expr",
            debug=True,
            g_regex_flags=re.M,
            lexer_callbacks={"IDENT": celparser.CELParser.ambiguous_literals},
            propagate_positions=True,
            maybe_placeholders=False,
            priority="invert",
            tree_class=lark.Tree,
            cache=os.path.join(cache_dir, "cel-parser.lark"),
        )
    except (OSError, AttributeError, TypeError, lark.exceptions.LarkError):
        celparser.CELParser.CEL_PARSER = None


class CelRules:
    """Evaluates x-kubernetes-validations rules; rules cel-python cannot compile are left out."""

    def __init__(self, cache_dir: str):
        import celpy

        logging.getLogger("celpy").setLevel(logging.CRITICAL)
        preload_cel_parser(cache_dir)
        self.celpy = celpy
        self.env = celpy.Environment()
        self.programs = {}

    def program(self, rule: str):
        if rule not in self.programs:
            try:
                self.programs[rule] = self.env.program(self.env.compile(rule))
            except Exception:  # noqa: BLE001 - a Kubernetes CEL extension cel-python lacks
                self.programs[rule] = None
        return self.programs[rule]

    def holds(self, rule: str, value) -> bool:
        prog = None if "oldSelf" in rule else self.program(rule)
        if prog is None:
            return True
        try:
            result = prog.evaluate({"self": self.celpy.json_to_cel(value)})
        except Exception:  # noqa: BLE001 - an evaluation error (e.g. a bad duration) rejects the object
            return False
        return not isinstance(result, Exception) and bool(result)

    def violations(self, schema, value, path: str = "") -> list:
        if not isinstance(schema, dict):
            return []
        found = [
            f"{path or '(root)'}: {r.get('message') or r['rule']} (CEL)"
            for r in schema.get("x-kubernetes-validations") or []
            if not self.holds(r["rule"], value)
        ]
        for child_path, child_schema, child in children(schema, value, path):
            found += self.violations(child_schema, child, child_path)
        return found


@functools.cache
def shared_cel(cache_dir: str) -> CelRules:
    return CelRules(cache_dir)


def children(schema: dict, value, path: str):
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        for key, child in value.items():
            sub = props.get(key, extra if isinstance(extra, dict) else None)
            if sub is not None:
                yield (f"{path}.{key}" if path else key), sub, child
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, child in enumerate(value):
            yield f"{path}[{i}]", schema["items"], child


def object_errors(doc: dict, schemas_dir: str, cel: CelRules) -> tuple:
    """(errors, skip note) for one Istio object."""
    api, kind = str(doc.get("apiVersion")), str(doc.get("kind"))
    ident = kube.ident(doc)
    found = crd_schema(schemas_dir, kind, api)
    if found is None:
        if kind in SAVED_KINDS:
            return [f"{ident}: {api} is not a served version of {kind}"], None
        return [], f"{ident}: no schema saved for {kind} {api_group(doc)}"
    raw, validator = found
    doc = drop_nulls(doc)
    errors = [
        f"{ident}: {kube.path_of(e)}: {e.message}"
        for e in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    ]
    errors += [
        f"{ident}: metadata.{kube.path_of(e)}: {e.message}"
        for e in object_meta_validator().iter_errors(doc.get("metadata") or {})
    ]
    errors += [f"{ident}: {p}" for p in apirules.metadata_problems(doc)]
    errors += [f"{ident}: {p}" for p in cel.violations(raw, doc)]
    return errors, None


def check_objects(ctx: Context, tree: Tree, target: str, objects: list) -> None:
    schemas_dir = os.path.join(ctx.here, "schemas", "istio")
    cel = shared_cel(os.path.join(ctx.venv, "cache"))
    errors, skips, checked = [], [], 0
    for doc in objects:
        errs, skip = object_errors(doc, schemas_dir, cel)
        errors += errs
        if skip:
            skips.append(skip)
        else:
            checked += 1
    if errors or checked:
        ctx.verdict("istio-schema", tree, target, errors, f"{checked} object(s), Istio 1.30 CRD schemas, strict, CEL")
    if skips:
        ctx.skipped("istio-schema", tree, target, "; ".join(skips))


def istio_objects(docs: list) -> list:
    return [d for d in docs if doc_role(d) == "istio"]


def istio_schema(ctx: Context, tree: Tree) -> None:
    for rel in tree.files("istio"):
        ctx.once(
            ctx.file_key("istio-schema", tree, rel),
            tree,
            rel,
            lambda rel=rel: check_objects(ctx, tree, rel, istio_objects(tree.docs[rel])),
        )
