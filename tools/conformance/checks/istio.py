"""Istio objects against the openAPIV3Schema of Istio's own CRDs (schemas/istio), as the API server would.

The API server adds three things a plain JSON Schema check misses: the implicit apiVersion/kind/metadata
fields, rejection of unknown fields (it prunes them; here, as with `kubectl apply --validate=strict`, they
fail), and the CEL rules in `x-kubernetes-validations`, evaluated here with cel-python.
"""

from __future__ import annotations

import functools
import logging
import os

from . import apirules, crds, kube
from .context import Context
from .tree import Tree, api_group, doc_role

# Kinds Istio serves whose schemas are not saved here are skipped, but these must match a saved version.
SAVED_KINDS = (
    "Gateway",
    "VirtualService",
    "DestinationRule",
    "EnvoyFilter",
    "PeerAuthentication",
    "AuthorizationPolicy",
    "RequestAuthentication",
)


def crd_schema(schemas_dir: str, kind: str, api_version: str):
    """(raw schema for CEL, strict JSON Schema validator) or None when no schema is saved."""
    group, _, version = api_version.partition("/")
    return crds.strict_validator(os.path.join(schemas_dir, f"{kind.lower()}-{group}-{version}.json"))


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


def kubernetes_url_library(celtypes) -> dict:
    """The URL functions of the Kubernetes CEL library (url, isURL and the getters the CRDs use), which
    cel-python lacks. `url` accepts what Go's url.ParseRequestURI accepts: an absolute URI or an absolute path."""
    import re
    import urllib.parse

    def parse(text: str):
        absolute = re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", text) or text.startswith("/")
        if not absolute or re.search(r"[\s\x00-\x1f\x7f]", text):
            raise ValueError(f"URL parse error: {text!r}")
        return urllib.parse.urlsplit(text)

    def is_url(text) -> bool:
        try:
            parse(str(text))
        except ValueError:
            return False
        return True

    return {
        "url": lambda text: parse(str(text)),
        "isURL": lambda text: celtypes.BoolType(is_url(text)),
        "getScheme": lambda u: celtypes.StringType(u.scheme),
        "getHost": lambda u: celtypes.StringType(u.netloc.rpartition("@")[2]),
        "getHostname": lambda u: celtypes.StringType(u.hostname or ""),
        "getEscapedPath": lambda u: celtypes.StringType(u.path),
    }


class CelRules:
    """Evaluates x-kubernetes-validations rules; rules cel-python cannot compile, or that call a Kubernetes
    CEL function it lacks (other than the URL ones added here), are left out."""

    def __init__(self, cache_dir: str):
        import celpy

        logging.getLogger("celpy").setLevel(logging.CRITICAL)
        preload_cel_parser(cache_dir)
        self.celpy = celpy
        self.env = celpy.Environment()
        self.functions = kubernetes_url_library(celpy.celtypes)
        self.programs = {}

    def program(self, rule: str):
        if rule not in self.programs:
            try:
                self.programs[rule] = self.env.program(self.env.compile(rule), functions=self.functions)
            except Exception:  # noqa: BLE001 - a Kubernetes CEL extension cel-python lacks
                self.programs[rule] = None
        return self.programs[rule]

    def holds(self, rule: str, value) -> bool:
        prog = None if "oldSelf" in rule else self.program(rule)
        if prog is None:
            return True
        try:
            result = prog.evaluate({"self": self.celpy.json_to_cel(value)})
        except Exception as e:  # noqa: BLE001 - an evaluation error (e.g. a bad duration) rejects the object
            return self.lacks_function(e)
        return self.lacks_function(result) if isinstance(result, Exception) else bool(result)

    @staticmethod
    def lacks_function(error: Exception) -> bool:
        """True (the rule is left out) when the error is a call of a function cel-python does not have."""
        return "undeclared reference" in str(error.args[0] if error.args else error)

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
    doc = crds.drop_nulls(doc)
    errors = [
        f"{ident}: {kube.path_of(e)}: {e.message}"
        for e in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    ]
    errors += [
        f"{ident}: metadata.{kube.path_of(e)}: {e.message}"
        for e in kube.object_meta_validator().iter_errors(doc.get("metadata") or {})
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
        ctx.verdict("istio-schema", tree, target, errors, f"{checked} object(s), Istio CRD schemas, strict, CEL")
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
