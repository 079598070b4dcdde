{{ header }}
"""Calls to the services a function depends on, and the references checked through them.

A function calls another service the way a client does: through the HTTP API's URL (the
variable named below, which Terraform sets to the API endpoint), on the callee's route, with
the caller's `Authorization` header (the API's JWT authorizer checks it again). `call` is the
way to do it from a route of your own; `verify` uses it before a write.
{% for c in m.serverless.callees %}
- {{ c.service }}: `{{ c.env_var }}`
{%- endfor %}
{% for s in m.services %}{% if not s.is_typescript %}{% for r in s.references %}
- `{{ r.entity }}.{{ r.field }}` → {{ r.target }}: `GET {{ "{" }}{{ r.env_var }}{{ "}" }}{{ r.path }}/{id}` on {{ r.service }}
{%- endfor %}{% endif %}{% endfor %}

An unknown id is a 422 naming the field; the owner down, slow or failing is a 503. Either way
the request writes nothing: the check runs before the row is added.
"""

from collections.abc import Mapping
from typing import Any, NamedTuple

import httpx
from fastapi import HTTPException, Request

from app.config import get_settings

# Service → the settings field holding the URL its calls go through.
ADDRESSES: dict[str, str] = {% if m.serverless.callees %}{
{%- for c in m.serverless.callees %}
    {{ c.service | py_str }}: {{ c.field | py_str }},
{%- endfor %}
}{% else %}{}{% endif %}
# (service, operation) → (collection path on the callee, the caller's time budget in seconds).
LOOKUPS: dict[tuple[str, str], tuple[str, float]] = {% if m.serverless.lookups %}{
{%- for l in m.serverless.lookups %}
    ({{ l.service | py_str }}, {{ l.operation | py_str }}): ({{ l.path | py_str }}, {{ l.timeout_seconds }}),
{%- endfor %}
}{% else %}{}{% endif %}
FORWARDED = ("authorization", "x-request-id", "traceparent")

# Replaced by tests with an httpx.MockTransport.
transport: httpx.BaseTransport | None = None


class Ref(NamedTuple):
    """A field holding the key of `entity`, owned by `service`, looked up with `operation`."""

    field: str
    entity: str
    service: str
    operation: str


def call(
    service: str,
    method: str,
    path: str,
    headers: dict[str, str],
    timeout: float,
    **kwargs: Any,
) -> httpx.Response:
    """One request to `service` through the HTTP API; HTTPException 503 when it cannot answer."""
    base = getattr(get_settings(), ADDRESSES[service])
    try:
        with httpx.Client(base_url=base, timeout=timeout, transport=transport) as http:
            response = http.request(method, path, headers=headers, **kwargs)
    except httpx.HTTPError as exc:
        raise HTTPException(503, f"{service} unavailable") from exc
    if response.status_code >= 500:
        raise HTTPException(503, f"{service} unavailable")
    return response


def lookup(ref: Ref, key: Any, headers: dict[str, str]) -> bool:
    """Whether the owner has the row; HTTPException 503 when it cannot say."""
    path, timeout = LOOKUPS[(ref.service, ref.operation)]
    response = call(ref.service, "GET", f"{path}/{key}", headers, timeout)
    if response.status_code == 404:
        return False
    if response.status_code >= 400:
        detail = f"{ref.service} refused the lookup ({response.status_code})"
        raise HTTPException(502, detail)
    return True


def verify(refs: tuple[Ref, ...], values: Mapping[str, Any], request: Request) -> None:
    """Raise the HTTP error for the first reference in `values` that cannot be confirmed."""
    headers = {k: v for k in FORWARDED if (v := request.headers.get(k))}
    for ref in refs:
        key = values.get(ref.field)
        if key is None or lookup(ref, key, headers):
            continue
        raise HTTPException(
            422,
            [
                {
                    "loc": ["body", ref.field],
                    "msg": f"{ref.entity} {key} does not exist",
                    "type": "reference.unknown",
                }
            ],
        )
