{{ header }}
"""References to rows another service owns, checked through its API before a write.
{% if svc.references %}
{% for r in svc.references %}- `{{ r.entity }}.{{ r.field }}` → {{ r.target }}: `GET {{ "{" }}{{ r.env_var }}{{ "}" }}{{ r.path }}/{id}` on {{ r.service }}
{% endfor %}{% else %}
No field of {{ svc.name.raw }} refers to another service's entities{% if svc.modules %} (a monolith's references are
foreign keys){% endif %}: nothing is checked here.
{% endif %}
An unknown id is a 422 naming the field; the owner down, slow or failing is a 503. Either way
the request writes nothing: the check runs before the row is added.
"""

from collections.abc import Mapping
from typing import Any, NamedTuple

from fastapi import HTTPException, Request

from app import clients


class Ref(NamedTuple):
    """A field holding the key of `entity`, owned by `service`, looked up with `operation`."""

    field: str
    entity: str
    service: str
    operation: str


def verify(refs: tuple[Ref, ...], values: Mapping[str, Any], request: Request) -> None:
    """Raise the HTTP error for the first reference in `values` that cannot be confirmed."""
    headers: dict[str, str] | None = None
    for ref in refs:
        key = values.get(ref.field)
        if key is None:
            continue
        headers = headers if headers is not None else clients.forwarded_headers(request)
        lookup = getattr(clients.client(ref.service), ref.operation)
        try:
            row = lookup(key, headers=headers)
        except clients.DependencyUnavailable as exc:
            raise HTTPException(503, f"{ref.service} unavailable") from exc
        except clients.DependencyError as exc:
            detail = f"{ref.service} refused the lookup ({exc.status_code})"
            raise HTTPException(502, detail) from exc
        if row is None:
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
