{{ header }}
"""Dependency clients: retries, the time budget, forwarded headers{% if svc.depends_on %}, and each typed client
against the OpenAPI contract of the service it calls{% endif %}."""

import socket
import time
{%- if svc.depends_on %}
from collections.abc import Callable
from pathlib import Path
from typing import Any
{%- endif %}

import httpx
import pytest
{%- if svc.depends_on %}
import yaml
{%- endif %}
from starlette.requests import Request

from app import clients
from app.clients import DependencyUnavailable, ServiceClient
from app.config import get_settings


def flaky(failures: int) -> tuple[httpx.MockTransport, list[int]]:
    calls: list[int] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        status = 503 if len(calls) <= failures else 200
        return httpx.Response(status, json={"path": request.url.path})

    return httpx.MockTransport(answer), calls


def test_client_retries_unavailable_answers() -> None:
    transport, calls = flaky(2)
    client = ServiceClient("x", "http://x", timeout=2, retries=3, transport=transport)
    response = client.get("/api/things")
    assert response.status_code == 200
    assert len(calls) == 3


def test_client_gives_up_after_its_retries() -> None:
    transport, calls = flaky(10)
    client = ServiceClient("x", "http://x", timeout=2, retries=1, transport=transport)
    with pytest.raises(DependencyUnavailable) as failure:
        client.get("/")
    assert failure.value.name == "x"
    assert len(calls) == 2


def test_a_post_that_was_answered_is_not_sent_twice() -> None:
    transport, calls = flaky(10)
    client = ServiceClient("x", "http://x", timeout=2, retries=3, transport=transport)
    with pytest.raises(DependencyUnavailable):
        client.post("/api/things", json={})
    assert len(calls) == 1


def test_client_errors_are_answers_not_retries() -> None:
    calls: list[int] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(404, json={})

    transport = httpx.MockTransport(answer)
    client = ServiceClient("x", "http://x", timeout=2, retries=3, transport=transport)
    assert client.get("/").status_code == 404
    assert len(calls) == 1


def test_each_try_gets_its_share_of_the_budget() -> None:
    settings = get_settings()
    tries = settings.request_retries + 1
    budget = settings.request_timeout_seconds
    one_try = settings.request_try_timeout_seconds
    assert one_try * tries <= budget
    assert one_try > budget / tries - 0.01
    client = ServiceClient("x", "http://x", timeout=3, retries=2)
    assert client.try_timeout == 1


def test_a_silent_service_costs_at_most_the_budget() -> None:
    """A server that accepts connections and never answers: every try times out."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        url = f"http://127.0.0.1:{server.getsockname()[1]}"
        budget = 0.6
        client = ServiceClient("silent", url, timeout=budget, retries=2)
        start = time.monotonic()
        with pytest.raises(DependencyUnavailable) as failure:
            client.get("/api/things/1")
        elapsed = time.monotonic() - start
    assert "Timeout" in failure.value.reason
    assert budget * 0.5 <= elapsed <= budget + 0.25


def test_a_service_that_is_not_listening_is_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = ServiceClient("gone", f"http://127.0.0.1:{port}", timeout=1, retries=1)
    with pytest.raises(DependencyUnavailable):
        client.get("/api/things/1")


def test_calls_carry_the_callers_identity_request_id_and_trace() -> None:
    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    incoming = [
        (b"authorization", b"Bearer token-1"),
        (b"x-request-id", b"req-1"),
        (b"traceparent", traceparent.encode()),
        (b"cookie", b"session=secret"),
    ]
    scope = {"type": "http", "method": "POST", "path": "/", "headers": incoming}
    request = Request(scope)
    headers = clients.forwarded_headers(request)
    assert headers["authorization"] == "Bearer token-1"
    assert headers["x-request-id"] == "req-1"
    assert headers["traceparent"].split("-")[1] == "0af7651916cd43dd8448eb211c80319c"
    assert "cookie" not in headers
    fresh = clients.forwarded_headers(None)
    assert len(fresh["x-request-id"]) == 32
{%- if svc.depends_on %}


SERVICES = Path(__file__).resolve().parents[2]
METHODS = {"get", "put", "post", "patch", "delete"}
KEY = "00000000-0000-4000-8000-000000000001"


def contract(service: str) -> dict[tuple[str, str], str]:
    """(METHOD, path template) → operationId, from the callee's generated openapi.yaml."""
    spec = yaml.safe_load((SERVICES / service / "openapi.yaml").read_text())
    return {
        (method.upper(), path): operation.get("operationId", "")
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    }


def matches(path: str, template: str) -> bool:
    parts, pattern = path.strip("/").split("/"), template.strip("/").split("/")
    return len(parts) == len(pattern) and all(
        p == t or (t.startswith("{") and t.endswith("}"))
        for p, t in zip(parts, pattern)
    )


def sent(kind: type[ServiceClient], call: Callable[[Any], Any]) -> httpx.Request:
    """The one request a typed client method sends."""
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    transport = httpx.MockTransport(answer)
    call(kind("callee", "http://callee", timeout=1, retries=0, transport=transport))
    assert len(seen) == 1
    return seen[0]


def check_against_contract(
    kind: type[ServiceClient], service: str, calls: dict[str, Callable[[Any], Any]]
) -> None:
    operations = contract(service)
    for name, call in calls.items():
        request = sent(kind, call)
        found = [
            operation
            for (method, template), operation in operations.items()
            if method == request.method and matches(request.url.path, template)
        ]
        called = f"{request.method} {request.url.path}"
        assert found, f"{name}: {called} is not in {service}'s API"
        assert name in found, f"{name}: {service} calls that operation {found}"
{%- endif %}
{%- for d in svc.depends_on %}{% if d.client.class %}


def test_{{ d.name.snake }}_client_matches_the_{{ d.name.snake }}_contract() -> None:
    check_against_contract(
        clients.{{ d.client.class }},
        "{{ d.name.kebab }}",
        {
{%- for o in d.client.operations %}
{%- if o.kind == "list" %}
            "{{ o.name }}": lambda c: c.{{ o.name }}(params={"limit": 1}),
{%- elif o.kind == "create" %}
            "{{ o.name }}": lambda c: c.{{ o.name }}({}),
{%- elif o.kind == "update" %}
            "{{ o.name }}": lambda c: c.{{ o.name }}(KEY, {}),
{%- else %}
            "{{ o.name }}": lambda c: c.{{ o.name }}(KEY),
{%- endif %}
{%- endfor %}
        },
    )
    assert isinstance(clients.{{ d.client.provider }}(), clients.{{ d.client.class }})
{%- endif %}{% endfor %}
