{{ header }}
"""Events: declared topics, idempotent handling, retries and dead letters, the outbox."""

{%- set mq = m.messaging %}
{%- set ev = svc.events %}
{%- set uses_broker = mq and (svc.publishes or svc.consumes) %}
{%- set_global publishing = -1 %}
{%- for i in svc.entity_ids %}{% if publishing < 0 and m.entities[i].code.publishes %}{% set_global publishing = i %}{% endif %}{% endfor %}

import asyncio
{% if uses_broker %}import gc
import socket
import time
{% endif %}import uuid
{% if uses_broker %}import warnings
{% endif %}
import pytest
{% if uses_broker or svc.consumes %}from fastapi.testclient import TestClient
{% endif %}{% if svc.consumes %}from prometheus_client import REGISTRY
{% endif %}
from app import events


def test_declared_topics_match_the_blueprint() -> None:
    assert events.PUBLISHES == ({% for t in svc.publishes %}"{{ t.raw }}"{% if not loop.last %}, {% endif %}{% endfor %}{% if svc.publishes | length == 1 %},{% endif %})
    assert set(events.HANDLERS) == set(events.CONSUMES)
    assert set(events.IN_PROCESS) | set(events.FROM_BROKER) == set(events.CONSUMES)


def test_an_event_is_an_envelope_with_its_own_id() -> None:
    first = events.envelope("test.topic", "k", {"id": "1"})
    second = events.decode(events.encode(first))
    assert second == first
    assert events.envelope("test.topic", "k", {})["event_id"] != first["event_id"]
    with pytest.raises(events.PoisonMessage):
        events.decode(b"{not json")
    with pytest.raises(events.PoisonMessage):
        events.decode(b'{"event_id": "x", "data": {}}')
    # Schemas are checked by a JSON Schema validator: bounds and formats too.
    uuids = {"type": "string", "format": "uuid"}
    assert events.mismatch({"type": "integer", "minimum": 0}, -1) is not None
    assert events.mismatch(uuids, "not-a-uuid") is not None
    assert events.mismatch(uuids, str(uuid.uuid4())) is None


async def swallow_a_cancel() -> None:
    """Cancel the running task and swallow the CancelledError, as a client library (or
    Python 3.11's timeouts) can: the task stays "cancelling"."""
    task = asyncio.current_task()
    assert task is not None
    task.cancel()
    try:
        await asyncio.sleep(0)
    except asyncio.CancelledError:
        pass


def test_a_swallowed_cancel_still_stops_the_background_loops() -> None:
    """Each loop waits through Backoff{% if ev.outbox %} or idle{% endif %}; there a swallowed cancel
    stops it, so a shutdown never waits forever for a relay or a broker client."""

    async def retry() -> None:
        await swallow_a_cancel()
        await events.Backoff().wait()

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(retry())
{%- if ev.outbox %}

    async def wait_idle() -> None:
        await swallow_a_cancel()
        await events.idle(asyncio.Event(), 0.01)

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(wait_idle())
{%- endif %}
{%- if svc.consumes %}


def consumed(topic: str, outcome: str) -> float:
    labels = {"topic": topic, "outcome": outcome}
    return REGISTRY.get_sample_value("events_consumed_total", labels) or 0


def valid_body(topic: str, key: str) -> bytes:
    """An event of `topic` whose data matches the topic's schema (when it has one)."""
    samples = {
        "uuid": key,
        "date-time": "2026-01-01T00:00:00+00:00",
        "date": "2026-01-01",
        "email": "someone@example.com",
    }
    by_type = {"string": "x", "integer": 1, "number": 1, "boolean": True}
    data = {}
    schema = events.SCHEMAS.get(topic, {}).get("properties", {}).get("data", {})
    for name, prop in schema.get("properties", {}).items():
        kinds = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
        data[name] = samples.get(prop.get("format", ""), by_type.get(kinds[0]))
    data.setdefault("id", key)
    return events.encode(events.envelope(topic, key, data))
{%- endif %}
{%- for t in svc.consumes %}


def test_{{ t.snake }}_is_handled_once(client: TestClient) -> None:
    """A redelivered event (same id) has no second effect."""
    body = valid_body("{{ t.raw }}", str(uuid.uuid4()))
    handled = consumed("{{ t.raw }}", "handled")
    duplicate = consumed("{{ t.raw }}", "duplicate")
    assert asyncio.run(events.handle("{{ t.raw }}", body)) == "handled"
    assert asyncio.run(events.handle("{{ t.raw }}", body)) == "duplicate"
    assert consumed("{{ t.raw }}", "handled") == handled + 1
    assert consumed("{{ t.raw }}", "duplicate") == duplicate + 1


def test_{{ t.snake }}_poison_and_failing_events_go_to_the_dead_letters(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Invalid JSON is dead-lettered at once; a failing handler after MAX_ATTEMPTS tries."""
    dead = consumed("{{ t.raw }}", "dead_lettered")
    poison = asyncio.run(events.handle("{{ t.raw }}", b"{not json"))
    assert poison == "dead_lettered"

    def broken(*_: object) -> None:
        raise RuntimeError("handler bug")

    monkeypatch.setitem(events.HANDLERS, "{{ t.raw }}", broken)
    monkeypatch.setattr(events, "RETRY_START", 0.0)
    errors = consumed("{{ t.raw }}", "error")
    body = valid_body("{{ t.raw }}", str(uuid.uuid4()))
    assert asyncio.run(events.handle("{{ t.raw }}", body)) == "dead_lettered"
    assert consumed("{{ t.raw }}", "error") == errors + events.MAX_ATTEMPTS
    assert consumed("{{ t.raw }}", "dead_lettered") == dead + 2
{%- if t.raw in svc.events.schema_topics %}

    wrong = events.envelope("{{ t.raw }}", "k", {})
    assert events.mismatch(events.SCHEMAS["{{ t.raw }}"], wrong) is not None
    outcome = asyncio.run(events.handle("{{ t.raw }}", events.encode(wrong)))
    assert outcome == "dead_lettered", "an event that breaks the schema is not handled"
{%- endif %}
{%- endfor %}
{%- if ev.outbox and ev.in_process %}


def test_the_relay_delivers_in_process_events_without_a_broker(
    client: TestClient,
) -> None:
    """The outbox is drained in-process: a module's event reaches the handlers."""
    import sqlalchemy as sa

    from app.db import SessionLocal
{% set first = ev.in_process | first %}
    topic = "{{ first.raw }}"
    with SessionLocal() as session, session.begin():
        events.enqueue(session, topic, "k", {"id": "in-process"})
    deadline = time.monotonic() + 20
    pending = sa.select(sa.func.count()).where(events.OutboxEvent.sent_at.is_(None))
    while time.monotonic() < deadline:
        with SessionLocal() as session:
            if not session.scalar(pending):
                break
        time.sleep(0.05)
    with SessionLocal() as session:
        assert session.scalar(pending) == 0
{%- endif %}
{%- if uses_broker %}


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_starts_without_its_broker_and_reports_it(
    monkeypatch: pytest.MonkeyPatch,
    admin_headers: dict[str, str],
) -> None:
    """Broker down: start-up and /healthz at once, /readyz 503 naming the broker, one
    background task per client retrying with backoff, nothing leaked by failed attempts{% if publishing >= 0 %},
    and a write that publishes still succeeds at once (its events wait in the outbox){% endif %}."""
    from app.config import get_settings
    from app.main import app

    address = "{% if mq.is_sqs %}http://{% endif %}127.0.0.1:%d" % closed_port()
    monkeypatch.setattr(get_settings(), "{{ mq.setting }}", address)
{%- if mq.is_sqs %}
    monkeypatch.setattr(get_settings(), "aws_endpoint_url", address)
{%- endif %}
    monkeypatch.setattr(events, "BACKOFF_START", 0.01)
    monkeypatch.setattr(events, "BACKOFF_MAX", 0.05)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        started = time.monotonic()
        with TestClient(app, headers=admin_headers) as down:
            assert down.get("/healthz").status_code == 200
            assert time.monotonic() - started < 2
            ready = down.get("/readyz")
            assert ready.status_code == 503, ready.text
            assert ready.json()["checks"]["broker"] == "unreachable"
{%- if publishing >= 0 %}{% set e = m.entities[publishing] %}
            from tests.test_api import {{ e.name.snake }}_payload

            began = time.monotonic()
            path = "{{ e.code.api_path }}"
            posted = down.post(path, json={{ e.name.snake }}_payload(down))
            assert posted.status_code == 201, posted.text
            assert time.monotonic() - began < 2
{%- endif %}
            deadline = time.monotonic() + 5
            clients = [c for c in (events.publisher, events.consumer) if c.enabled]
            while min(c.attempts for c in clients) < 3 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert min(c.attempts for c in clients) >= 3
        gc.collect()
    leaked = [str(w.message) for w in caught if "Unclosed" in str(w.message)]
    assert not leaked, leaked
{%- endif %}
{%- if uses_broker and mq.is_kafka %}


def test_kafka_is_plaintext_locally_and_tls_with_msk_iam_in_the_cloud(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Local settings add nothing; the cloud's SASL_SSL + OAUTHBEARER checks the broker's
    certificate and signs in with MSK IAM tokens made for the configured region."""
    import asyncio as aio

    from aiokafka.abc import AbstractTokenProvider
    from aws_msk_iam_sasl_signer import MSKAuthTokenProvider

    from app.config import get_settings

    assert events.kafka_security() == {}
    cloud = get_settings().model_copy(
        update={
            "kafka_security_protocol": "SASL_SSL",
            "kafka_sasl_mechanism": "OAUTHBEARER",
            "aws_region": "eu-central-1",
        }
    )
    monkeypatch.setattr(events, "get_settings", lambda: cloud)
    signed = []

    def sign(region: str) -> tuple[str, int]:
        signed.append(region)
        return "signed-token", 900

    monkeypatch.setattr(MSKAuthTokenProvider, "generate_auth_token", sign)
    options = events.kafka_security()
    assert options["security_protocol"] == "SASL_SSL"
    assert options["ssl_context"].verify_mode.name == "CERT_REQUIRED"
    assert options["ssl_context"].check_hostname
    assert options["sasl_mechanism"] == "OAUTHBEARER"
    provider = options["sasl_oauth_token_provider"]
    assert isinstance(provider, AbstractTokenProvider)
    assert aio.run(provider.token()) == "signed-token"
    assert signed == ["eu-central-1"]
{%- endif %}
{%- if uses_broker and mq.is_rabbitmq %}


def test_amqp_signs_in_with_the_configured_user(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Locally no user is named (the broker's default); in the cloud the Amazon MQ user
    from Secrets Manager signs in over the `amqps://` endpoint."""
    from app.config import get_settings

    assert events.amqp_url("rabbitmq") == "amqp://rabbitmq:{{ mq.port }}/"
    cloud = get_settings().model_copy(
        update={"amqp_username": "app", "amqp_password": "s3cr/t"}
    )
    monkeypatch.setattr(events, "get_settings", lambda: cloud)
    url = events.amqp_url("amqps://b-1.mq.example.com:5671")
    assert url.startswith("amqps://app:")
    from yarl import URL

    assert URL(url).password == "s3cr/t"
    assert URL(url).port == 5671
{%- endif %}
