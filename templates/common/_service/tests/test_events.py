{{ header }}
"""Consumed events reach their handlers; published ones are recorded without a broker."""

{%- set mq = m.messaging %}
{%- set uses_broker = mq and (svc.publishes or svc.consumes) %}
{%- set_global publishing = -1 %}
{%- for i in svc.entity_ids %}{% if publishing < 0 and m.entities[i].code.publishes %}{% set_global publishing = i %}{% endif %}{% endfor %}

{% if svc.consumes or uses_broker -%}
{% if svc.consumes %}import asyncio
{% endif %}{% if uses_broker %}import gc
import socket
import time
import warnings
{% endif %}
{% if uses_broker %}import pytest
from fastapi.testclient import TestClient
{% endif %}{% if svc.consumes %}from prometheus_client import REGISTRY
{% endif %}
{% endif -%}
from app import events


def test_declared_topics_match_the_blueprint() -> None:
    assert events.PUBLISHES == ({% for t in svc.publishes %}"{{ t.raw }}"{% if not loop.last %}, {% endif %}{% endfor %}{% if svc.publishes | length == 1 %},{% endif %})
    assert set(events.HANDLERS) == set(events.CONSUMES)


def test_publisher_keeps_events_in_memory_without_a_broker() -> None:
    events.publisher.publish("test.topic", {"id": "1"})
    assert ("test.topic", {"id": "1"}) in events.publisher.sent
{% for t in svc.consumes %}

def test_{{ t.snake }}_is_handled() -> None:
    labels = {"topic": "{{ t.raw }}", "outcome": "ok"}
    before = REGISTRY.get_sample_value("events_consumed_total", labels) or 0
    asyncio.run(events.handle("{{ t.raw }}", {"id": "42"}))
    assert REGISTRY.get_sample_value("events_consumed_total", labels) == before + 1
{% endfor %}
{%- if uses_broker %}

def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_starts_without_its_broker_and_reports_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Broker down: start-up and /healthz at once, /readyz 503 naming the broker, one
    background task per client retrying with backoff, nothing leaked by failed attempts{% if publishing >= 0 %},
    and publishing fails fast with 503{% endif %}."""
    from app.config import get_settings
    from app.main import app

    address = "{% if mq.is_sqs %}http://{% endif %}127.0.0.1:%d" % closed_port()
    monkeypatch.setattr(get_settings(), "{{ mq.env_var | lower }}", address)
    monkeypatch.setattr(events, "BACKOFF_START", 0.01)
    monkeypatch.setattr(events, "BACKOFF_MAX", 0.05)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        started = time.monotonic()
        with TestClient(app) as down:
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
            assert posted.status_code == 503, posted.text
            assert posted.json() == {"detail": "broker unavailable"}
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
