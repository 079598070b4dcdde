{{ header }}
"""Test setup: the variables Terraform sets, the tables{% if m.serverless.data_store != "dynamodb" %} in the PostgreSQL of DATABASE_URL{% else %} (DynamoDB, in moto){% endif %},
EventBridge and the other services' APIs replaced by fakes that record what they were asked."""

import importlib
import os
from typing import Any

import httpx
import pytest
{%- if m.serverless.data_store == "dynamodb" %}
from moto import mock_aws

# DynamoDB in process (moto): every AWS call of the tests stays here.
for name, value in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": {{ m.cloud.region | py_str }},
}.items():
    os.environ[name] = value
os.environ.pop("AWS_ENDPOINT_URL", None)
AWS = mock_aws()
AWS.start()
# Every variable some function requires.
{%- else %}

os.environ.setdefault("DATABASE_URL", "postgresql://postgres@localhost:5432/postgres")
# Every variable some function requires (placeholders: DATABASE_URL wins over DB_*).
{%- endif %}
{%- for s in m.serverless.settings %}{% if s.name != "DATABASE_URL" %}
os.environ.setdefault({{ s.name | py_str }}, {{ s.test_value | py_str }})
{%- endif %}{% endfor %}

{% if m.serverless.python_modules | length == 1 %}SERVICES = ("{{ m.serverless.python_modules[0] }}",){% else %}SERVICES = (
{%- for s in m.serverless.python_modules %}
    "{{ s }}",
{%- endfor %}
){% endif %}
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


{% if m.serverless.data_store == "dynamodb" -%}
@pytest.fixture(scope="session", autouse=True)
def tables() -> None:
    """Create every table its models describe, in moto (Terraform does this in a deployment)."""
    from app import db
    from app.config import get_settings

    for name in SERVICES:
        models = importlib.import_module(f"app.modules.{name}.models")
        for spec in vars(models).values():
            if not isinstance(spec, db.Table):
                continue
            keys = [spec.key, *(i.key for i in spec.indexes)]
            args: dict[str, Any] = {
                "TableName": getattr(get_settings(), spec.setting),
                "BillingMode": "PAY_PER_REQUEST",
                "KeySchema": [{"AttributeName": spec.key, "KeyType": "HASH"}],
                "AttributeDefinitions": [
                    {"AttributeName": k, "AttributeType": "S"} for k in keys
                ],
            }
            if spec.indexes:
                args["GlobalSecondaryIndexes"] = [
                    {
                        "IndexName": i.name,
                        "KeySchema": [
                            {"AttributeName": i.key, "KeyType": "HASH"},
                            {"AttributeName": spec.key, "KeyType": "RANGE"},
                        ],
                        "Projection": {"ProjectionType": "ALL"},
                    }
                    for i in spec.indexes
                ]
            db.resource().create_table(**args)
{%- else -%}
@pytest.fixture(scope="session", autouse=True)
def tables() -> None:
    """Create the tables (the deploy workflow's migrations do this in a real deployment)."""
    from app.db import Base, engine

    for name in SERVICES:
        importlib.import_module(f"app.modules.{name}.models")
    Base.metadata.create_all(engine)
{%- endif %}


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
