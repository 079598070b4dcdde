{{ header }}
"""Events between functions: put on the EventBridge bus EVENT_BUS_NAME, one event per message.

The event's `detail-type` is the topic (`order.created`), its `source` the publishing service and
its `detail` the payload. One EventBridge rule per topic routes it to the SQS queue of each
consuming function. A failed put raises, so the request that caused it fails too.
"""

import json
import logging
from typing import Any

from app.config import get_settings

log = logging.getLogger(__name__)


class PublishError(Exception):
    """EventBridge refused the event."""


class Publisher:
    """Puts events with boto3 (part of the Lambda runtime). `sent` lists what was put."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.client: Any = None

    def publish(self, topic: str, payload: dict[str, Any]) -> None:
        settings = get_settings()
        if self.client is None:
            import boto3

            self.client = boto3.client("events")
        response = self.client.put_events(
            Entries=[
                {
                    "EventBusName": settings.event_bus_name,
                    "Source": settings.service_name,
                    "DetailType": topic,
                    "Detail": json.dumps(payload),
                }
            ]
        )
        if response.get("FailedEntryCount"):
            entry = response["Entries"][0]
            reason = f"{entry.get('ErrorCode')} {entry.get('ErrorMessage')}"
            raise PublishError(f"{topic}: {reason}")
        self.sent.append((topic, payload))
        log.info("event %s put on %s", topic, settings.event_bus_name)


publisher = Publisher()


def enqueue(session: Any, topic: str, key: str, data: dict[str, Any]) -> None:
    """Publish `data` once `session` commits (the shared CRUD router's hook; functions have
    no outbox table yet, so an event can still be lost if SQS fails after the commit)."""
    from sqlalchemy import event

    def send(_: Any) -> None:
        publisher.publish(topic, data)

    event.listen(session, "after_commit", send, once=True)
