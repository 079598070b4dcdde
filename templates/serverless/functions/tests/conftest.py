{{ header }}
"""Test setup: the variables Terraform sets, the tables in the PostgreSQL of DATABASE_URL,
EventBridge and the other services' APIs replaced by fakes that record what they were asked."""

import importlib
import os
from typing import Any

import httpx
import pytest

os.environ.setdefault("DATABASE_URL", "postgresql://postgres@localhost:5432/postgres")
# Every variable some function requires (placeholders: DATABASE_URL wins over DB_*).
{%- for s in m.serverless.settings %}{% if s.name != "DATABASE_URL" %}
os.environ.setdefault({{ s.name | py_str }}, {{ s.test_value | py_str }})
{%- endif %}{% endfor %}

SERVICES = (
{%- for s in m.services %}{% if s.generated and not s.is_gateway %}
    "{{ s.name.snake }}",
{%- endif %}{% endfor %}
)
# Ids the fake owner services answer 404 for.
UNKNOWN_IDS: set[str] = set()


class FakeEvents:
    """EventBridge's put_events, accepting every entry."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.entries.extend(Entries)
        return {"FailedEntryCount": 0, "Entries": [{"EventId": "1"} for _ in Entries]}


def owner_api(request: httpx.Request) -> httpx.Response:
    """Another service's API: every row exists but those in UNKNOWN_IDS."""
    key = request.url.path.rsplit("/", 1)[-1]
    if key in UNKNOWN_IDS:
        return httpx.Response(404, json={"detail": "not found"})
    return httpx.Response(200, json={"id": key})


@pytest.fixture(scope="session", autouse=True)
def tables() -> None:
    """Create the tables (the deploy workflow's migrations do this in a real deployment)."""
    from app.db import Base, engine

    for name in SERVICES:
        importlib.import_module(f"app.modules.{name}.models")
    Base.metadata.create_all(engine)


@pytest.fixture(autouse=True)
def fakes() -> Any:
    from app import events, references

    events.publisher.client = FakeEvents()
    references.transport = httpx.MockTransport(owner_api)
    yield events.publisher.client
    UNKNOWN_IDS.clear()


@pytest.fixture
def unknown() -> set[str]:
    """Ids the other services' APIs answer 404 for, during one test."""
    return UNKNOWN_IDS


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
