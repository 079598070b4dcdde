{{ header }}
"""Test setup: the real PostgreSQL in DATABASE_URL; no broker, no cache, no trace export."""

import os
from collections.abc import Iterator
{%- if svc.database %}
from pathlib import Path
{%- endif %}

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
