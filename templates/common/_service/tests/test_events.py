{{ header }}
"""Consumed events reach their handlers; published ones are recorded without a broker."""

{% if svc.consumes -%}
import asyncio

from prometheus_client import REGISTRY

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
