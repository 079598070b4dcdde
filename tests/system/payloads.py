"""Valid and invalid request bodies, built from a service's own OpenAPI document.

The system test talks to the public API only, so it learns what a valid body is the way a client
would: from `openapi.yaml` (types, formats, enums, lengths, bounds). References to other entities
are filled by the caller (`refs`), which creates the referenced row first.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml


@dataclass
class Resource:
    """One entity's collection as the API exposes it."""

    entity: str
    path: str  # collection path, e.g. /api/orders
    service: str  # the workload serving it
    create: dict  # JSON schema of the create body
    update: dict  # JSON schema of the update body
    spec: dict = field(repr=False, default_factory=dict)


def resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        schema = spec["components"]["schemas"][name]
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return resolve(spec, schema["allOf"][0])
    return schema


def non_null(spec: dict, schema: dict) -> dict:
    schema = resolve(spec, schema)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [resolve(spec, s) for s in schema[key] if resolve(spec, s).get("type") != "null"]
            if options:
                return options[0]
    return schema


def resources(service: str, openapi: Path) -> list[Resource]:
    spec = yaml.safe_load(openapi.read_text())
    out = []
    for path, ops in spec.get("paths", {}).items():
        post = ops.get("post") if isinstance(ops, dict) else None
        if not post or "{" in path:
            continue
        body = post.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        if not body or "$ref" not in body:
            continue
        name = body["$ref"].rsplit("/", 1)[1]
        if not name.endswith("Create"):
            continue
        entity = name[: -len("Create")]
        item = spec["paths"].get(path + "/{id}", {})
        patch = item.get("patch", {}).get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
        out.append(Resource(entity, path, service, resolve(spec, body), resolve(spec, patch) if patch else {}, spec))
    return out


def matching(pattern: str | None, length: int) -> str | None:
    """A fresh text of one character class that `pattern` accepts (`^[A-Z]+$`, `^[a-z0-9]{2,8}$`),
    or None for any other pattern (a blueprint's pattern is the portable subset of E0147)."""
    if not pattern:
        return None
    m = re.fullmatch(r"\^\[([^\]]+)\](?:[+*]|\{(\d+)(?:,(\d*))?\})\$", pattern)
    if not m:
        return None
    alphabet = ""
    for a, b in re.findall(r"(.)(?:-(.))?", m.group(1)):
        alphabet += "".join(chr(c) for c in range(ord(a), ord(b or a) + 1))
    lo = int(m.group(2) or 1)
    hi = int(m.group(3)) if m.group(3) else (lo if m.group(2) and m.group(3) is None else length)
    size = max(lo, min(hi, length))
    text = "".join(alphabet[d % len(alphabet)] for d in uuid.uuid4().bytes)[:size]
    return text if re.fullmatch(pattern, text) else None


def sample(spec: dict, schema: dict, name: str, nonce: int) -> Any:
    """A value the schema accepts (unique per `nonce`, for unique columns)."""
    s = non_null(spec, schema)
    if "enum" in s:
        return s["enum"][0]
    if "const" in s:
        return s["const"]
    kind, fmt = s.get("type"), s.get("format")
    if kind == "boolean":
        return True
    if kind == "integer":
        lo = s.get("minimum", 1 if s.get("exclusiveMinimum") is None else s["exclusiveMinimum"] + 1)
        hi = s.get("maximum", lo + 1000)
        return max(lo, min(hi, lo + (nonce % 7)))
    if kind == "number" or fmt == "decimal":
        lo = Decimal(str(s.get("minimum", 1)))
        hi = Decimal(str(s.get("maximum", lo + 1000)))
        value = min(hi, max(lo, lo + Decimal("1.25")))
        return str(value) if kind == "string" or fmt == "decimal" else float(value)
    if fmt == "uuid":
        return str(uuid.uuid4())
    if fmt == "date-time":
        return dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc).isoformat()
    if fmt == "date":
        return "2026-01-02"
    if fmt == "email":
        return f"user{nonce}-{uuid.uuid4().hex[:8]}@example.com"
    if fmt in ("uri", "url"):
        return f"https://example.com/{name}/{nonce}"
    if kind == "string":
        limit = s.get("maxLength", 32)
        text = f"{name[:6]}{nonce}{uuid.uuid4().hex}"[: max(1, min(limit, 24))]
        return matching(s.get("pattern"), min(limit, 12)) or text
    if kind == "object":
        return {}
    if kind == "array":
        return []
    return f"{name}{nonce}"


def body(res: Resource, nonce: int, refs: dict[str, Any]) -> dict[str, Any]:
    """A valid create body: every required field, plus optional ones the caller supplies as refs."""
    schema = res.create
    required = set(schema.get("required", []))
    out: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        if name in refs:
            out[name] = refs[name]
        elif name in required:
            out[name] = sample(res.spec, prop, name, nonce)
    return out


def string_fields(res: Resource) -> list[str]:
    """Required string fields without a format or enum (free text)."""
    out = []
    for name, prop in res.create.get("properties", {}).items():
        s = non_null(res.spec, prop)
        if name in res.create.get("required", []) and s.get("type") == "string" and not s.get("format") and "enum" not in s:
            out.append(name)
    return out


def bounded_fields(res: Resource) -> list[tuple[str, Any]]:
    """Fields with a lower bound, and a value just below it."""
    out = []
    for name, prop in res.create.get("properties", {}).items():
        s = non_null(res.spec, prop)
        if "minimum" in s:
            below = Decimal(str(s["minimum"])) - 1
            out.append((name, int(below) if s.get("type") == "integer" else str(below)))
        elif "exclusiveMinimum" in s:
            at = Decimal(str(s["exclusiveMinimum"]))
            out.append((name, int(at) if s.get("type") == "integer" else str(at)))
    return out
