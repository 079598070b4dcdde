{{ header }}
"""Clients for the services {{ svc.name.raw }} calls{% if svc.depends_on %} ({% for d in svc.depends_on %}{{ d.name.raw }}{% if not loop.last %}, {% endif %}{% endfor %}){% endif %}.

Addresses come from the environment ({% for d in svc.depends_on %}`{{ d.env_var }}`{% if not loop.last %}, {% endif %}{% else %}none yet{% endfor %}).
A call has a budget of {{ svc.resilience.timeout_seconds }} s (`REQUEST_TIMEOUT_SECONDS`) and is tried at most
{{ svc.resilience.retries }} + 1 times (`REQUEST_RETRIES`); one try may take budget / (retries + 1) =
{{ svc.resilience.try_timeout_seconds }} s (`REQUEST_TRY_TIMEOUT_SECONDS`) and no try outlives the budget, so the
whole call, pauses included, ends within it. Connection errors, timeouts and 5xx answers are
retried (a POST only when it was never sent); what is still failing then raises
`DependencyUnavailable`. Each request carries the caller's `Authorization`, `X-Request-ID` and
W3C trace context (`traceparent`).
"""

import logging
import time
import uuid
from collections.abc import Mapping
from typing import Any

import httpx
from fastapi import Request
from opentelemetry import propagate

from app.config import get_settings

log = logging.getLogger(__name__)

# Headers a call passes on from the request being served.
FORWARDED = ("authorization", "x-request-id", "traceparent", "tracestate")
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


class DependencyUnavailable(Exception):
    """The dependency did not answer in time, or answered 5xx, after every try."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name} unavailable: {reason}")
        self.name = name
        self.reason = reason


class DependencyError(Exception):
    """The dependency answered with a client error (4xx) the caller cannot handle."""

    def __init__(self, name: str, response: httpx.Response) -> None:
        super().__init__(f"{name} answered {response.status_code}")
        self.name = name
        self.status_code = response.status_code


def forwarded_headers(request: Request | None) -> dict[str, str]:
    """The headers an outgoing call carries for the request being served."""
    headers: dict[str, str] = {}
    if request is not None:
        for name in FORWARDED:
            value = request.headers.get(name)
            if value:
                headers[name] = value
        state_id = getattr(request.state, "request_id", None)
        if state_id and "x-request-id" not in headers:
            headers["x-request-id"] = str(state_id)
    headers.setdefault("x-request-id", uuid.uuid4().hex)
    # With a span active, the trace context names it as the parent (same trace id).
    propagate.inject(headers)
    return headers


class ServiceClient:
    """HTTP calls to one service within a time budget, with retries."""

    def __init__(
        self,
        name: str,
        base_url: str,
        *,
        timeout: float,
        retries: int,
        try_timeout: float | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.name = name
        self.budget = timeout
        self.retries = retries
        self.try_timeout = try_timeout or timeout / (retries + 1)
        self._http = httpx.Client(
            base_url=base_url, timeout=self.try_timeout, transport=transport
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send until an answer below 500 comes back, the tries run out or the budget does."""
        deadline = time.monotonic() + self.budget
        attempt = 0
        while True:
            left = deadline - time.monotonic()
            try:
                response = self._http.request(
                    method,
                    path,
                    headers=headers,
                    timeout=max(min(self.try_timeout, left), 0.001),
                    **kwargs,
                )
                if response.status_code < 500:
                    return response
                reason = f"status {response.status_code}"
                retry = method in IDEMPOTENT
            except httpx.TransportError as exc:
                reason = type(exc).__name__
                retry = method in IDEMPOTENT or isinstance(
                    exc, httpx.ConnectError | httpx.ConnectTimeout
                )
            attempt += 1
            pause = min(0.05 * 2**attempt, 1.0)
            if (
                not retry
                or attempt > self.retries
                or time.monotonic() + pause >= deadline
            ):
                log.warning("%s %s%s failed: %s", method, self.name, path, reason)
                raise DependencyUnavailable(self.name, reason)
            log.info("%s %s%s: %s, retrying", method, self.name, path, reason)
            time.sleep(pause)

    def json(self, response: httpx.Response) -> Any:
        """The body of a successful answer; `DependencyError` for a client error."""
        if response.status_code >= 400:
            raise DependencyError(self.name, response)
        if response.status_code == 204:
            return None
        return response.json()

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def close(self) -> None:
        self._http.close()
{%- for d in svc.depends_on %}{% if d.client.class %}


class {{ d.client.class }}(ServiceClient):
    """Typed client of `{{ d.name.raw }}`, one method per endpoint of its API (contract:
    services/{{ d.client.openapi }}, checked by tests/test_clients.py).
{%- if d.client.verifies %} Verifies {% for v in d.client.verifies %}`{{ v }}`{% if not loop.last %}, {% endif %}{% endfor %} on create and update.
{%- else %} No field refers to its entities yet:
    inject it with `Depends({{ d.client.provider }})` where {{ svc.name.raw }} calls it.
{%- endif %}
    """
{%- for o in d.client.operations %}
{%- set url = o.path | replace(from="{id}", to="{key}") %}
{%- if o.kind == "list" %}

    def {{ o.name }}(
        self,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """`{{ o.method }} {{ o.path }}`: one page of {{ o.entity }} rows."""
        response = self.request(
            "{{ o.method }}",
            "{{ o.path }}",
            params=params,
            headers=headers,
        )
        return self.json(response)
{%- elif o.kind == "create" %}

    def {{ o.name }}(
        self,
        body: Mapping[str, Any],
        *,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """`{{ o.method }} {{ o.path }}`: the new {{ o.entity }} row."""
        response = self.request(
            "{{ o.method }}",
            "{{ o.path }}",
            json=body,
            headers=headers,
        )
        return self.json(response)
{%- elif o.kind == "get" %}

    def {{ o.name }}(
        self,
        key: Any,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> Any | None:
        """`{{ o.method }} {{ o.path }}`: the {{ o.entity }} row, None when there is none (404)."""
        response = self.request(
            "{{ o.method }}",
            f"{{ url }}",
            headers=headers,
        )
        return None if response.status_code == 404 else self.json(response)
{%- elif o.kind == "update" %}

    def {{ o.name }}(
        self,
        key: Any,
        body: Mapping[str, Any],
        *,
        headers: Mapping[str, str] | None = None,
    ) -> Any | None:
        """`{{ o.method }} {{ o.path }}`: the changed {{ o.entity }} row, None when there is none."""
        response = self.request(
            "{{ o.method }}",
            f"{{ url }}",
            json=body,
            headers=headers,
        )
        return None if response.status_code == 404 else self.json(response)
{%- elif o.kind == "delete" %}

    def {{ o.name }}(
        self,
        key: Any,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> bool:
        """`{{ o.method }} {{ o.path }}`: False when there was no such {{ o.entity }} row."""
        response = self.request(
            "{{ o.method }}",
            f"{{ url }}",
            headers=headers,
        )
        if response.status_code == 404:
            return False
        self.json(response)
        return True
{%- endif %}
{%- endfor %}
{%- endif %}{% endfor %}
{%- set_global typed = false %}
{%- for d in svc.depends_on %}{% if d.client.class %}{% set_global typed = true %}{% endif %}{% endfor %}


{% if typed -%}
CLIENT_TYPES: dict[str, type[ServiceClient]] = {
{%- for d in svc.depends_on %}{% if d.client.class %}
    "{{ d.name.raw }}": {{ d.client.class }},
{%- endif %}{% endfor %}
}
{%- else -%}
CLIENT_TYPES: dict[str, type[ServiceClient]] = {}
{%- endif %}

_clients: dict[str, ServiceClient] = {}


def client(name: str) -> ServiceClient:
    """The client of a dependency, created on first use."""
    if name not in _clients:
        settings = get_settings()
{%- set_global over_http = false %}
{%- for d in svc.depends_on %}{% if d.protocol == "http" %}{% set_global over_http = true %}{% endif %}{% endfor %}
{%- if over_http %}
        urls: dict[str, str] = {
{%- for d in svc.depends_on %}{% if d.protocol == "http" %}
            "{{ d.name.raw }}": settings.{{ d.setting }},
{%- endif %}{% endfor %}
        }
{%- else %}
        urls: dict[str, str] = {}
{%- endif %}
        _clients[name] = CLIENT_TYPES.get(name, ServiceClient)(
            name,
            urls[name],
            timeout=settings.request_timeout_seconds,
            retries=settings.request_retries,
            try_timeout=settings.request_try_timeout_seconds,
        )
    return _clients[name]


def install(name: str, instance: ServiceClient) -> None:
    """Use `instance` for calls to `name` (tests; a client with another transport)."""
    previous = _clients.pop(name, None)
    if previous is not None and previous is not instance:
        previous.close()
    _clients[name] = instance
{%- for d in svc.depends_on %}{% if d.client.class %}


def {{ d.client.provider }}() -> {{ d.client.class }}:
    """FastAPI dependency: the client of `{{ d.name.raw }}` (`Depends({{ d.client.provider }})`)."""
    instance = client("{{ d.name.raw }}")
    assert isinstance(instance, {{ d.client.class }})
    return instance
{%- endif %}{% endfor %}


def close_all() -> None:
    """Close every client (graceful shutdown)."""
    while _clients:
        _clients.popitem()[1].close()
