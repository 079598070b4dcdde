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

    Without the migrations folder (e.g. inside the image) the models create the tables.
    """
    from sqlalchemy import inspect

    from app.db import Base, engine

    if inspect(engine).get_table_names():
        return
    root = Path(__file__).resolve().parents[3]
    folder = root / "{{ svc.database.migrations_dir }}"
    ups = sorted(p for p in folder.glob("V*.sql") if not p.name.endswith(".down.sql"))
    if not ups:
        Base.metadata.create_all(engine)
        return
    with engine.begin() as conn:
        for script in ups:
            conn.exec_driver_sql(script.read_text())


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
