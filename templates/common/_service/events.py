{{ header }}
{%- set mq = m.messaging %}
"""Events of the {{ svc.name.raw }} service{% if mq %} through {{ mq.broker }}{% endif %}.

Publishes: {% if svc.publishes %}{% for t in svc.publishes %}`{{ t.raw }}`{% if not loop.last %}, {% endif %}{% endfor %}{% else %}nothing{% endif %}.
Consumes: {% if svc.consumes %}{% for t in svc.consumes %}`{{ t.raw }}`{% if not loop.last %}, {% endif %}{% endfor %}{% else %}nothing{% endif %}.

With no broker address configured (tests, a local run without a broker) nothing connects:
published events are kept in `publisher.sent` and logged, and no consumer runs.
"""

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

from prometheus_client import Counter

from app.config import get_settings

log = logging.getLogger(__name__)

PUBLISHED = Counter("events_published_total", "Events published", ["topic"])
CONSUMED = Counter("events_consumed_total", "Events consumed", ["topic", "outcome"])

PUBLISHES: tuple[str, ...] = ({% for t in svc.publishes %}"{{ t.raw }}"{% if not loop.last %}, {% endif %}{% endfor %}{% if svc.publishes | length == 1 %},{% endif %})
CONSUMES: tuple[str, ...] = ({% for t in svc.consumes %}"{{ t.raw }}"{% if not loop.last %}, {% endif %}{% endfor %}{% if svc.consumes | length == 1 %},{% endif %})


def broker_address() -> str:
    """Where the broker is; empty means no broker."""
{%- if mq %}
    return get_settings().{{ mq.env_var | lower }}
{%- else %}
    return ""
{%- endif %}


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


class Publisher:
    """Sends events; called from request handlers running in worker threads."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: Any = None

    async def start(self) -> None:
        address = broker_address()
        if not address or not PUBLISHES:
            return
        self._loop = asyncio.get_running_loop()
{%- if mq and mq.is_kafka %}
        from aiokafka import AIOKafkaProducer

        producer = AIOKafkaProducer(bootstrap_servers=address, acks="all")
        await producer.start()
        self._client = producer
{%- elif mq and mq.is_rabbitmq %}
        import aio_pika

        connection = await aio_pika.connect_robust(host=address)
        channel = await connection.channel(publisher_confirms=True)
        self._client = (connection, await exchange(channel))
{%- elif mq and mq.is_sqs %}
        self._client = sqs_client(address)
{%- endif %}

    async def stop(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
{%- if mq and mq.is_kafka %}
        await client.stop()
{%- elif mq and mq.is_rabbitmq %}
        await client[0].close()
{%- endif %}

    def publish(self, topic: str, payload: dict[str, Any]) -> None:
        PUBLISHED.labels(topic).inc()
        if self._client is None:
            self.sent.append((topic, payload))
            log.info("event %s kept in memory (no broker configured)", topic)
            return
{%- if mq and mq.is_sqs %}
        url = self._client.get_queue_url(QueueName=queue_name(topic))["QueueUrl"]
        self._client.send_message(QueueUrl=url, MessageBody=encode(payload).decode())
{%- else %}
        assert self._loop is not None
        send = self._send(topic, payload)
        future = asyncio.run_coroutine_threadsafe(send, self._loop)
        future.result(timeout=get_settings().request_timeout_seconds)

    async def _send(self, topic: str, payload: dict[str, Any]) -> None:
{%- if mq and mq.is_kafka %}
        await self._client.send_and_wait(topic, encode(payload))
{%- elif mq and mq.is_rabbitmq %}
        import aio_pika

        message = aio_pika.Message(
            encode(payload),
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        )
        await self._client[1].publish(message, routing_key=topic)
{%- else %}
        log.info("event %s: no broker in the blueprint", topic)
{%- endif %}
{%- endif %}

{% if mq and mq.is_rabbitmq %}
async def exchange(channel: Any) -> Any:
    """The topic exchange every service publishes to."""
    import aio_pika

    return await channel.declare_exchange(
        "events", aio_pika.ExchangeType.TOPIC, durable=True
    )

{% elif mq and mq.is_sqs %}
def queue_name(topic: str) -> str:
    """The SQS queue of a topic (`order.created` → `order-created`)."""
    return topic.replace(".", "-").replace("_", "-")


def sqs_client(endpoint: str) -> Any:
    import boto3

    return boto3.client(
        "sqs", endpoint_url=endpoint or None, region_name=get_settings().aws_region
    )

{% endif %}
publisher = Publisher()
{% for t in svc.consumes %}

def on_{{ t.snake }}(event: dict[str, Any]) -> None:
    """React to `{{ t.raw }}`. Put the business rule here; raising makes it redelivered."""
    log.info("{{ t.raw }} received: %s", event.get("id"))
{% endfor %}

{% if svc.consumes -%}
HANDLERS: dict[str, Callable[[dict[str, Any]], None]] = {
{%- for t in svc.consumes %}
    "{{ t.raw }}": on_{{ t.snake }},
{%- endfor %}
}
{%- else -%}
HANDLERS: dict[str, Callable[[dict[str, Any]], None]] = {}
{%- endif %}


async def handle(topic: str, event: dict[str, Any]) -> None:
    """Dispatch one event to its handler (in a thread: handlers may block)."""
    try:
        await asyncio.to_thread(HANDLERS[topic], event)
    except Exception:
        CONSUMED.labels(topic, "error").inc()
        raise
    CONSUMED.labels(topic, "ok").inc()


async def consume_forever() -> None:
    """Keep the consumer running: a broker outage is logged and retried."""
    while True:
        try:
            await consume()
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("event consumer failed; retrying in 5 s")
            await asyncio.sleep(5)


async def consume() -> None:
    """Run until cancelled: receive consumed topics and dispatch them."""
    address = broker_address()
    if not address or not CONSUMES:
        return
{%- if not (mq and mq.is_sqs) %}
    group = get_settings().service_name
{%- endif %}
{%- if mq and mq.is_kafka %}
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        *CONSUMES, bootstrap_servers=address, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        async for message in consumer:
            await handle(message.topic, json.loads(message.value))
            await consumer.commit()
    finally:
        await consumer.stop()
{%- elif mq and mq.is_rabbitmq %}
    import aio_pika

    connection = await aio_pika.connect_robust(host=address)
    try:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=10)
        events = await exchange(channel)
        queues = []
        for topic in CONSUMES:
            queue = await channel.declare_queue(f"{group}.{topic}", durable=True)
            await queue.bind(events, routing_key=topic)
            queues.append((topic, queue))

        async def drain(topic: str, queue: Any) -> None:
            async with queue.iterator() as messages:
                async for message in messages:
                    async with message.process(requeue=True):
                        await handle(topic, json.loads(message.body))

        await asyncio.gather(*(drain(topic, queue) for topic, queue in queues))
    finally:
        await connection.close()
{%- elif mq and mq.is_sqs %}
    client = sqs_client(address)
    urls = {
        topic: client.get_queue_url(QueueName=queue_name(topic))["QueueUrl"]
        for topic in CONSUMES
    }
    while True:
        for topic, url in urls.items():
            reply = await asyncio.to_thread(
                client.receive_message,
                QueueUrl=url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=5,
            )
            for message in reply.get("Messages", []):
                await handle(topic, json.loads(message["Body"]))
                client.delete_message(
                    QueueUrl=url, ReceiptHandle=message["ReceiptHandle"]
                )
{%- else %}
    log.info("group %s: no broker in the blueprint", group)
{%- endif %}
