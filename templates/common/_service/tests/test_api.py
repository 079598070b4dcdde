{{ header }}
"""CRUD round trips against the real database, validation and error responses."""
{%- set_global any = false %}
{%- for i in svc.entity_ids %}{% set e = m.entities[i] %}{% set_global any = true %}{% endfor %}
{%- if any %}

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient


def unique_text(length: int) -> str:
    return uuid.uuid4().hex[:length]


def create(client: TestClient, path: str, payload: dict[str, Any]) -> dict[str, Any]:
    response = client.post(path, json=payload)
    assert response.status_code == 201, response.text
    return response.json()


@contextmanager
def statements() -> Iterator[list[str]]:
    """The SQL the app sends while the block runs (not the event tables' statements of
    the outbox relay and the handlers, which run in the background)."""
    from sqlalchemy import event

    from app.db import engine

    sent: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "outbox" not in statement and "processed_events" not in statement:
            sent.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)
{%- for i in svc.entity_ids %}{% set e = m.entities[i] %}


def {{ e.name.snake }}_payload(client: TestClient) -> dict[str, Any]:
    """A valid body for `POST {{ e.code.api_path }}`."""
    return {
{%- for c in e.columns %}{% if c.code.writable %}
{%- set_global parent = "" %}
{%- for p in e.code.parents %}{% if p.column == c.name %}{% set_global parent = p.snake %}{% endif %}{% endfor %}
{%- if parent %}
        "{{ c.name }}": {{ parent }}_id(client),
{%- else %}
        "{{ c.name }}": {{ c.code.sample }},
{%- endif %}
{%- endif %}{% endfor %}
    }


def {{ e.name.snake }}_id(client: TestClient) -> Any:
    """The key of a new {{ e.name.raw }} row."""
    path = "{{ e.code.api_path }}"
    return create(client, path, {{ e.name.snake }}_payload(client))["{{ e.pk }}"]


def test_{{ e.name.snake }}_crud_round_trip(client: TestClient) -> None:
    path = "{{ e.code.api_path }}"
    payload = {{ e.name.snake }}_payload(client)
    created = create(client, path, payload)
{%- for c in e.columns %}{% if c.code.writable and c.code.comparable %}
    assert created["{{ c.name }}"] == payload["{{ c.name }}"]
{%- endif %}{% endfor %}
    url = f"{path}/{created['{{ e.pk }}']}"
    assert client.get(url).json() == created

    page = client.get(path, params={"limit": 1})
    assert page.status_code == 200
    assert set(page.json()) == {"items", "next"}
    assert len(page.json()["items"]) == 1
{%- if e.code.patch_column %}

    change = {"{{ e.code.patch_column }}": {{ e.code.patch_value }}}
    updated = client.patch(url, json=change)
    assert updated.status_code == 200, updated.text
    assert updated.json()["{{ e.code.patch_column }}"] == change["{{ e.code.patch_column }}"]
    assert client.get(url).json()["{{ e.code.patch_column }}"] == change["{{ e.code.patch_column }}"]
{%- endif %}

    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404
    assert client.delete(url).status_code == 404
{%- if e.code.publishes %}


def test_{{ e.name.snake }}_events_commit_with_the_row(client: TestClient) -> None:
    """The events commit with the row (transactional outbox), each with its own id."""
    import json

    import sqlalchemy as sa

    from app.db import SessionLocal
    from app.events import OutboxEvent

    created = create(client, "{{ e.code.api_path }}", {{ e.name.snake }}_payload(client))
    key = str(created["{{ e.pk }}"])
    with SessionLocal() as session:
        query = sa.select(OutboxEvent).where(OutboxEvent.aggregate_key == key)
        rows = session.scalars(query.order_by(OutboxEvent.id)).all()
    assert [row.topic for row in rows] == [{% for t in e.code.publishes %}"{{ t.raw }}"{% if not loop.last %}, {% endif %}{% endfor %}]
    for row in rows:
        event = json.loads(row.payload)
        assert event["event_id"] == str(row.event_id)
        assert event["data"]["{{ e.pk }}"] == created["{{ e.pk }}"]
{%- endif %}


def test_{{ e.name.snake }}_list_pages_through_every_row_by_key(client: TestClient) -> None:
    path = "{{ e.code.api_path }}"
    created = set()
    for _ in range(3):
        payload = {{ e.name.snake }}_payload(client)
        created.add(create(client, path, payload)["{{ e.pk }}"])
    seen: list[Any] = []
    after = None
    with statements() as sql:
        while True:
            params: dict[str, Any] = {"limit": 2}
            if after is not None:
                params["after"] = after
            response = client.get(path, params=params)
            assert response.status_code == 200, response.text
            page = response.json()
            assert len(page["items"]) <= 2
            seen += [row["{{ e.pk }}"] for row in page["items"]]
            after = page["next"]
            if after is None:
                break
            assert after == seen[-1]
    assert len(seen) == len(set(seen))
    assert created <= set(seen)
    assert not [s for s in sql if "count(" in s.lower() or "offset" in s.lower()], sql
    bad = client.get(path, params={"after": "not-a-key-{{ e.pk }}"})
{%- for c in e.columns %}{% if c.pk and c.kind in ["uuid", "int", "bigint", "ref"] %}
    assert bad.status_code == 422
{%- elif c.pk %}
    assert bad.status_code == 200
{%- endif %}{% endfor %}

{%- if svc.database %}


def test_{{ e.name.snake }}_statement_over_the_timeout_is_503(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A statement PostgreSQL cancels (statement_timeout) answers 503, not 500 or a hang."""
    from sqlalchemy.orm import sessionmaker

    from app import db
    from app.config import get_settings

    assert get_settings().db_statement_timeout_ms == {{ svc.database.statement_timeout_ms }}
    with db.engine.connect() as conn:
{%- if svc.database.mysql %}
        server = conn.exec_driver_sql("SELECT VERSION()").scalar()
        if "MariaDB" in server:
            limit = conn.exec_driver_sql("SELECT @@SESSION.max_statement_time").scalar()
            assert round(float(limit) * 1000) == {{ svc.database.statement_timeout_ms }}
        else:
            limit = conn.exec_driver_sql("SELECT @@SESSION.max_execution_time").scalar()
            assert int(limit) == {{ svc.database.statement_timeout_ms }}
        assert conn.exec_driver_sql("SELECT @@SESSION.time_zone").scalar() == "+00:00"
{%- else %}
        setting = "SELECT setting FROM pg_settings WHERE name = 'statement_timeout'"
        assert conn.exec_driver_sql(setting).scalar() == "{{ svc.database.statement_timeout_ms }}"
{%- endif %}
    assert db.engine.pool.size() == {{ svc.database.pool_size }}

    short = get_settings().model_copy(update={"db_statement_timeout_ms": 200})
    quick = db.create_db_engine(short)
    monkeypatch.setattr(db, "SessionLocal", sessionmaker(bind=quick))
    try:
        with db.engine.connect() as locker, locker.begin():
{%- if svc.database.mysql %}
            # A write lock makes the app's read wait, until the server's limit stops it.
            locker.exec_driver_sql("LOCK TABLES `{{ e.table }}` WRITE")
{%- else %}
            locker.exec_driver_sql('LOCK TABLE "{{ e.table }}" IN ACCESS EXCLUSIVE MODE')
{%- endif %}
            started = time.monotonic()
            response = client.get("{{ e.code.api_path }}")
            elapsed = time.monotonic() - started
{%- if svc.database.mysql %}
            locker.exec_driver_sql("UNLOCK TABLES")
{%- endif %}
    finally:
        quick.dispose()
    assert response.status_code == 503, response.text
    assert response.json() == {"detail": "database statement timeout"}
    assert elapsed < 3
{%- endif %}


def test_{{ e.name.snake }}_unhandled_error_is_counted_as_500(
    monkeypatch: pytest.MonkeyPatch,
    admin_headers: dict[str, str],
) -> None:
    from fastapi.testclient import TestClient as Client
    from prometheus_client import REGISTRY

    from app.config import get_settings
    from app.crud import Repository
    from app.main import app

    def broken(*args: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(Repository, "page", broken)
    labels = {
        "service": get_settings().service_name,
        "method": "GET",
        "route": "{{ e.code.api_path }}",
        "status": "500",
    }
    before = REGISTRY.get_sample_value("http_requests_total", labels) or 0
    failing = Client(app, raise_server_exceptions=False, headers=admin_headers)
    assert failing.get("{{ e.code.api_path }}").status_code == 500
    assert REGISTRY.get_sample_value("http_requests_total", labels) == before + 1


def test_{{ e.name.snake }}_rejects_invalid_input(client: TestClient) -> None:
    path = "{{ e.code.api_path }}"
    payload = {{ e.name.snake }}_payload(client)
    response = client.post(path, json={**payload, "unexpected_field": 1})
    assert response.status_code == 422
{%- for c in e.columns %}{% if c.code.writable and c.kind == "string" %}
    too_long = {**payload, "{{ c.name }}": "x" * {{ c.max_length + 1 }}}
    assert client.post(path, json=too_long).status_code == 422
{%- endif %}{% endfor %}
{%- for c in e.columns %}{% if c.code.writable and c.kind == "enum" %}
    not_listed = {**payload, "{{ c.name }}": "not-a-{{ c.name }}"}
    assert client.post(path, json=not_listed).status_code == 422
{%- endif %}{% endfor %}
    assert client.get(path, params={"limit": 0}).status_code == 422
    assert client.get(path, params={"limit": 201}).status_code == 422
{%- for c in e.columns %}{% if c.pk and c.kind == "uuid" %}
    assert client.get(f"{path}/not-a-uuid").status_code == 422
    assert client.get(f"{path}/{uuid.uuid4()}").status_code == 404
{%- endif %}{% endfor %}
{%- if e.code.unique_columns %}


def test_{{ e.name.snake }}_duplicate_unique_value_is_a_conflict(client: TestClient) -> None:
    path = "{{ e.code.api_path }}"
    payload = {{ e.name.snake }}_payload(client)
    create(client, path, payload)
    response = client.post(path, json=payload)
    assert response.status_code == 409, response.text
{%- endif %}
{%- endfor %}
{%- else %}

from fastapi.testclient import TestClient


def test_unknown_api_paths_are_404(client: TestClient) -> None:
    assert client.get("/api/unknown").status_code == 404
{%- endif %}
