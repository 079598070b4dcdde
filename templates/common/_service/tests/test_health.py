{{ header }}
"""Liveness, readiness, metrics, request ids, spans and log fields."""
{%- set_global first = -1 %}
{%- for i in svc.entity_ids %}{% if first < 0 %}{% set_global first = i %}{% endif %}{% endfor %}

import json
import logging
import socket
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from app import health, observability
from app.config import get_settings


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def requests_counted(method: str, route: str, status: str) -> float:
    labels = {
        "service": get_settings().service_name,
        "method": method,
        "route": route,
        "status": status,
    }
    return REGISTRY.get_sample_value("http_requests_total", labels) or 0


def test_healthz_answers_ok(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_ready_with_its_database(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready"
{%- if svc.database %}
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["schema"] == "ok"
{%- endif %}
{%- if svc.database %}


def test_readyz_is_503_naming_the_database_when_it_is_unreachable(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import create_engine

    from app import db

    url = f"{{ svc.database.sa_driver }}://app@127.0.0.1:{closed_port()}/app"
    monkeypatch.setattr(db, "engine", create_engine(url))
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"].startswith("unreachable: ")
    assert client.get("/healthz").status_code == 200


def test_readyz_is_503_naming_a_table_the_database_lacks(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlalchemy as sa

    from app.db import Base

    monkeypatch.setattr(health.schema_check, "ok", False)
    table = sa.Table("readiness_missing", Base.metadata, sa.Column("id", sa.Integer))
    try:
        response = client.get("/readyz")
    finally:
        Base.metadata.remove(table)
    assert response.status_code == 503
    behind = response.json()["checks"]["schema"]
    assert behind == "behind: table readiness_missing missing"
    assert client.get("/readyz").json()["checks"]["schema"] == "ok"
{%- if first >= 0 %}{% set e = m.entities[first] %}


def test_schema_check_names_a_column_the_database_lacks(client: TestClient) -> None:
    import sqlalchemy as sa

    from app.db import Base, engine

    metadata = sa.MetaData()
    table = Base.metadata.tables["{{ e.table }}"].to_metadata(metadata)
    table.append_column(sa.Column("readiness_note", sa.Text))
    behind = health.schema_behind(engine, metadata)
    assert behind == "column {{ e.table }}.readiness_note missing"
{%- endif %}
{%- endif %}


def test_cache_outage_is_reported_but_keeps_it_ready(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"redis://127.0.0.1:{closed_port()}/0"
    monkeypatch.setattr(get_settings(), "redis_url", url)
    response = client.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json()["checks"]["cache"].startswith("degraded: ")
{%- if svc.cache %}


def test_cache_probe_signs_in_like_the_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    import redis

    seen: dict[str, Any] = {}

    class Answering:
        def ping(self) -> bool:
            return True

        def close(self) -> None:
            seen["closed"] = True

    def from_url(url: str, **options: Any) -> Answering:
        seen.update(options, url=url)
        return Answering()

    monkeypatch.setattr(get_settings(), "redis_username", "reader")
    monkeypatch.setattr(get_settings(), "redis_password", "s3cret")
    monkeypatch.setattr(redis.Redis, "from_url", from_url)
    health.cache_ping("rediss://cache.example:6379/0")
    assert (seen["username"], seen["password"]) == ("reader", "s3cret")
    assert seen["url"] == "rediss://cache.example:6379/0" and seen["closed"]
{%- endif %}
{%- if svc.depends_on %}


def test_dependencies_are_reported_but_do_not_flip_readiness(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    for attribute, protocol in health.DEPENDENCIES.values():
        down = f"127.0.0.1:{closed_port()}"
        address = f"http://{down}" if protocol == "http" else down
        monkeypatch.setattr(get_settings(), attribute, address)
    response = client.get("/readyz")
    assert response.status_code == 200, response.text
    checks = response.json()["checks"]
{%- for d in svc.depends_on %}
    assert checks["{{ d.ready_key }}"] == "unreachable"
{%- endfor %}
{%- endif %}


def test_metrics_are_exposed_in_prometheus_format(client: TestClient) -> None:
    client.get("/healthz")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert "http_requests_total" in response.text


def test_unknown_paths_are_counted_as_unmatched(client: TestClient) -> None:
    before = requests_counted("GET", "unmatched", "404")
    assert client.get("/no/such/path/42").status_code == 404
    assert requests_counted("GET", "unmatched", "404") == before + 1


def test_unhandled_errors_are_counted_as_500(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken() -> dict[str, str]:
        raise RuntimeError("boom")

    monkeypatch.setattr(health, "collect_checks", broken)
    before = requests_counted("GET", "/readyz", "500")
    failing = TestClient(client.app, raise_server_exceptions=False)
    assert failing.get("/readyz").status_code == 500
    assert requests_counted("GET", "/readyz", "500") == before + 1


def test_request_id_is_echoed_or_made_up(client: TestClient) -> None:
    given = client.get("/healthz", headers={"X-Request-ID": "req-123"})
    assert given.headers["X-Request-ID"] == "req-123"
    made = client.get("/healthz").headers["X-Request-ID"]
    assert len(made) == 32 and made != client.get("/healthz").headers["X-Request-ID"]
    hostile = client.get("/healthz", headers={"X-Request-ID": "a b<x>"})
    assert hostile.headers["X-Request-ID"] != "a b<x>"


@pytest.fixture
def spans(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Finished spans of the requests made while the test runs."""
    monkeypatch.setenv("OTEL_SDK_DISABLED", "false")
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
        InMemorySpanExporter,
    )

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(observability, "tracer", provider.get_tracer("test"))
    return exporter


def test_one_server_span_per_request_named_by_route_template(
    client: TestClient, spans: Any
) -> None:
    parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    client.get("/readyz", headers={"traceparent": parent})
    client.get("/no/such/path")
{%- if first >= 0 %}{% set e = m.entities[first] %}
    client.get("{{ e.code.api_path }}/{% for c in e.columns %}{% if c.pk %}{% if c.kind == "uuid" %}00000000-0000-4000-8000-000000000000{% elif c.kind in ["int", "bigint", "ref"] %}987654321{% else %}missing{% endif %}{% endif %}{% endfor %}")
{%- endif %}
    finished = spans.get_finished_spans()
    names = [span.name for span in finished]
    assert names == [
        "GET /readyz",
        "GET",
{%- if first >= 0 %}{% set e = m.entities[first] %}
        "GET {{ e.code.api_path }}/{id}",
{%- endif %}
    ]
    assert finished[0].context.trace_id == int("0af7651916cd43dd8448eb211c80319c", 16)
    assert finished[0].attributes["http.route"] == "/readyz"


def test_log_lines_carry_request_and_trace_ids(spans: Any) -> None:
    record = logging.LogRecord("app", logging.INFO, __file__, 1, "hello", None, None)
    token = observability.REQUEST_ID.set("req-9")
    try:
        with observability.tracer.start_as_current_span("work") as span:
            line = json.loads(observability.JsonFormatter().format(record))
            context = span.get_span_context()
    finally:
        observability.REQUEST_ID.reset(token)
    assert line["request_id"] == "req-9"
    assert line["trace_id"] == f"{context.trace_id:032x}"
    assert line["span_id"] == f"{context.span_id:016x}"
    assert line["message"] == "hello"
