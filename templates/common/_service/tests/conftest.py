{{ header }}
"""Test setup: the real PostgreSQL in DATABASE_URL; no broker, no cache, no trace export."""

import os
from collections.abc import Iterator
{%- if svc.database %}
from pathlib import Path
{%- endif %}

import httpx
import pytest
from fastapi.testclient import TestClient

{% if svc.database -%}
LOCAL_DATABASE = "postgresql://postgres@localhost:5432/{{ svc.database.db_name }}"
os.environ.setdefault("DATABASE_URL", LOCAL_DATABASE)
{% endif -%}
{% if m.messaging -%}
os.environ["{{ m.messaging.env_var }}"] = ""
{% endif -%}
os.environ["REDIS_URL"] = ""
os.environ["OTEL_SDK_DISABLED"] = "true"


{% if svc.database -%}
def prepare_schema() -> None:
    """Apply this database's migrations unless the tables exist already (CI applies them).

    The files are dbmate's (`NNN_name.sql`, a `-- migrate:up` then a `-- migrate:down` block):
    the up blocks run in version order, as `dbmate up` runs them. Without the migrations folder
    (e.g. inside the image) the models create the tables.
    """
    from sqlalchemy import inspect

    from app.db import Base, engine

    if inspect(engine).get_table_names():
        return
    root = Path(__file__).resolve().parents[3]
    folder = root / "{{ svc.database.migrations_dir }}"
    versions = sorted(
        (int(p.name.split("_", 1)[0]), p)
        for p in folder.glob("[0-9]*_*.sql")
        if p.name.split("_", 1)[0].isdigit()
    )
    if not versions:
        Base.metadata.create_all(engine)
        return
    with engine.begin() as conn:
        for _, script in versions:
            text = script.read_text()
            up = text.split("-- migrate:up", 1)[-1].split("-- migrate:down", 1)[0]
            conn.exec_driver_sql(up)


{% endif -%}
@pytest.fixture(scope="session")
def client() -> Iterator[TestClient]:
    """The app, started once (lifespan included)."""
{%- if svc.database %}
    prepare_schema()
{%- endif %}
    from app.main import app

    with TestClient(app) as test_client:
        yield test_client


class FakeService:
    """A service this one calls, answering from memory through `httpx.MockTransport`.

    Every id exists unless it is in `missing`; while `down`, connections are refused. The
    requests it received are kept in `requests`.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.missing: set[str] = set()
        self.down = False
        self.requests: list[httpx.Request] = []

    def answer(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        key = request.url.path.rsplit("/", 1)[-1]
        if key in self.missing:
            return httpx.Response(404, json={"detail": f"{key} not found"})
        return httpx.Response(200, json={"id": key})


@pytest.fixture(scope="session")
def fake_services() -> dict[str, FakeService]:
    """One fake per dependency for the whole run (tests reset what they change)."""
    from app import clients

    return {name: FakeService(name) for name in clients.CLIENT_TYPES}


@pytest.fixture(autouse=True)
def dependencies(fake_services: dict[str, FakeService]) -> dict[str, FakeService]:
    """Each dependency's typed client, with its real budget and retries, talks to a fake.

    Installed before every test: the app's shutdown (a TestClient leaving its block) closes
    and drops every client, and a later test would otherwise call the real addresses.
    """
    from app import clients
    from app.config import get_settings

    settings = get_settings()
    fakes = fake_services
    for name, kind in clients.CLIENT_TYPES.items():
        transport = httpx.MockTransport(fakes[name].answer)
        clients.install(
            name,
            kind(
                name,
                f"http://{name}",
                timeout=settings.request_timeout_seconds,
                retries=settings.request_retries,
                try_timeout=settings.request_try_timeout_seconds,
                transport=transport,
            ),
        )
    return fakes
