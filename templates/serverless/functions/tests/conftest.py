{{ header }}
"""Test setup: the tables in the PostgreSQL of DATABASE_URL; events kept in memory."""

import importlib
import os

import pytest

os.environ.setdefault("DATABASE_URL", "postgresql://postgres@localhost:5432/postgres")
os.environ["EVENTS_QUEUE_PREFIX"] = ""

SERVICES = (
{%- for s in m.services %}{% if s.generated and not s.is_gateway %}
    "{{ s.name.snake }}",
{%- endif %}{% endfor %}
)


@pytest.fixture(scope="session", autouse=True)
def tables() -> None:
    """Create the tables (each service's migrations do this in a real deployment)."""
    from app.db import Base, engine

    for name in SERVICES:
        importlib.import_module(f"app.modules.{name}.models")
    Base.metadata.create_all(engine)


class LambdaContext:
    """The few attributes of the Lambda context object handlers may read."""

    function_name = "test"
    aws_request_id = "00000000-0000-0000-0000-000000000000"
    memory_limit_in_mb = 512

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


@pytest.fixture
def context() -> LambdaContext:
    return LambdaContext()
