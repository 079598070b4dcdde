"""Custom resources against the saved openAPIV3Schema of their CRDs (schemas/), as the API server would.

Istio's schemas are checked by istio.py; the other saved groups are checked here, inside kubernetes-validate,
so that their objects are no longer SKIPs. Both read the schemas through `strict_validator`.
"""

from __future__ import annotations

import copy
import functools
import json
import os

# API group -> (folder under schemas/, file name of kind and version). The External Secrets files keep the
# CRDs catalog's own names.
SAVED_GROUPS = {
    "external-secrets.io": ("external-secrets", "{kind}_{version}.json"),
}


def forbid_unknown_fields(node):
    """Strict mode: a node that lists `properties` refuses any other field, unless the schema preserves them."""
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
def strict_validator(path: str):
    """(raw schema for CEL, strict JSON Schema validator) of a saved schema file, or None when there is none.

    The API server knows apiVersion, kind and metadata without the CRD schema naming them."""
    import jsonschema

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


def saved_schema_path(schemas_root: str, group: str, kind: str, version: str) -> str | None:
    """Where the schema of kind/version of a saved group lives (the file may not exist), or None."""
    if group not in SAVED_GROUPS:
        return None
    folder, pattern = SAVED_GROUPS[group]
    return os.path.join(schemas_root, folder, pattern.format(kind=kind.lower(), version=version))
