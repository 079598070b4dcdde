{{ header }}
"""Events between functions: one SQS queue per topic (`<prefix><topic>`, e.g. `order-created`).

With no queue prefix configured (tests, local runs) events are kept in `publisher.sent`.
"""

import json
import logging
from typing import Any

from app.config import get_settings

log = logging.getLogger(__name__)


def queue_name(topic: str) -> str:
    """`order.created` → `<prefix>order-created`."""
    prefix = get_settings().events_queue_prefix
    return prefix + topic.replace(".", "-").replace("_", "-")


class Publisher:
    """Sends events to SQS with boto3 (part of the Lambda runtime)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self._sqs: Any = None

    def publish(self, topic: str, payload: dict[str, Any]) -> None:
        settings = get_settings()
        if not settings.events_queue_prefix:
            self.sent.append((topic, payload))
            log.info("event %s kept in memory (no queue prefix configured)", topic)
            return
        if self._sqs is None:
            import boto3

            self._sqs = boto3.client("sqs", region_name=settings.aws_region)
        url = self._sqs.get_queue_url(QueueName=queue_name(topic))["QueueUrl"]
        self._sqs.send_message(QueueUrl=url, MessageBody=json.dumps(payload))


publisher = Publisher()


def enqueue(session: Any, topic: str, key: str, data: dict[str, Any]) -> None:
    """Publish `data` once `session` commits (the shared CRUD router's hook; functions have
    no outbox table yet, so an event can still be lost if SQS fails after the commit)."""
    from sqlalchemy import event

    def send(_: Any) -> None:
        publisher.publish(topic, data)

    event.listen(session, "after_commit", send, once=True)
