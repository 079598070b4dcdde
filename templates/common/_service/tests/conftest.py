{{ header }}
"""Test setup: the real PostgreSQL in DATABASE_URL; no broker, no cache, no trace export."""

import os
from collections.abc import Iterator

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


@pytest.fixture(scope="session")
def client() -> Iterator[TestClient]:
    """The app, started once (lifespan included)."""
{%- if svc.database %}
    from app.db import Base, engine
    from app.main import app

    # The migrations create the tables; this only fills in when run without them.
    Base.metadata.create_all(engine)
{%- else %}
    from app.main import app
{%- endif %}

    with TestClient(app) as test_client:
        yield test_client
