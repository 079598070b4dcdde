{{ header }}
{%- set mq = m.messaging %}
"""Events of the {{ svc.name.raw }} service{% if mq %} through {{ mq.broker }}{% endif %}.

Publishes: {% if svc.publishes %}{% for t in svc.publishes %}`{{ t.raw }}`{% if not loop.last %}, {% endif %}{% endfor %}{% else %}nothing{% endif %}.
Consumes: {% if svc.consumes %}{% for t in svc.consumes %}`{{ t.raw }}`{% if not loop.last %}, {% endif %}{% endfor %}{% else %}nothing{% endif %}.

With no broker address configured (tests, a local run without a broker) nothing connects:
published events are kept in `publisher.sent` and logged, and no consumer runs.

The broker may be down when the service starts, or go away later: the publisher and the
consumer each connect in one background task, retrying with capped exponential backoff
(0.5 s doubling to 30 s) and closing what a failed attempt opened, so
start-up never waits for the broker. Until the publisher is connected, `publish` raises
`BrokerUnavailable` at once (the app answers 503); `/readyz` reports `broker: unreachable`.
"""

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any
{%- if mq and mq.is_sqs %}
from urllib.parse import urlsplit
{%- endif %}

from prometheus_client import Counter

from app.config import get_settings

log = logging.getLogger(__name__)

PUBLISHED = Counter("events_published_total", "Events published", ["topic"])
CONSUMED = Counter("events_consumed_total", "Events consumed", ["topic", "outcome"])

PUBLISHES: tuple[str, ...] = ({% for t in svc.publishes %}"{{ t.raw }}"{% if not loop.last %}, {% endif %}{% endfor %}{% if svc.publishes | length == 1 %},{% endif %})
CONSUMES: tuple[str, ...] = ({% for t in svc.consumes %}"{{ t.raw }}"{% if not loop.last %}, {% endif %}{% endfor %}{% if svc.consumes | length == 1 %},{% endif %})

BACKOFF_START = 0.5
BACKOFF_MAX = 30.0
# How long a readiness probe of the broker may take.
PROBE_TIMEOUT = 1.0


class BrokerUnavailable(Exception):
    """The event could not be handed to the broker (it is down or not connected yet)."""


def broker_address() -> str:
    """Where the broker is; empty means no broker."""
{%- if mq %}
    return get_settings().{{ mq.env_var | lower }}
{%- else %}
    return ""
{%- endif %}


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


class Backoff:
    """Capped exponential delays between connection attempts."""

    def __init__(self) -> None:
        self.delay = BACKOFF_START

    def reset(self) -> None:
        self.delay = BACKOFF_START

    async def wait(self) -> None:
        await asyncio.sleep(self.delay)
        self.delay = min(self.delay * 2, BACKOFF_MAX)
{%- if mq and mq.is_kafka %}


def endpoints(address: str) -> list[tuple[str, int]]:
    """(host, port) of each bootstrap server (`host:port,host:port`)."""
    found = []
    for server in address.split(","):
        host, _, port = server.strip().rpartition(":")
        found.append((host or server.strip(), int(port or {{ mq.port }})))
    return found
{%- elif mq and mq.is_rabbitmq %}


def amqp_url(address: str) -> str:
    """`AMQP_HOST` is a host (`rabbitmq`), `host:port`, or a whole `amqp://` URL."""
    if "://" in address:
        return address
    host, _, port = address.rpartition(":") if ":" in address else (address, "", "")
    return f"amqp://guest:guest@{host}:{port or {{ mq.port }}}/"


def endpoints(address: str) -> list[tuple[str, int]]:
    from yarl import URL

    url = URL(amqp_url(address))
    return [(url.host or "localhost", url.port or {{ mq.port }})]


async def exchange(channel: Any) -> Any:
    """The topic exchange every service publishes to."""
    import aio_pika

    return await channel.declare_exchange(
        "events", aio_pika.ExchangeType.TOPIC, durable=True
    )


async def connect_rabbitmq(address: str) -> Any:
    """A robust connection (it reconnects by itself once established); closed on failure."""
    import aio_pika
    from yarl import URL

    connection = aio_pika.RobustConnection(URL(amqp_url(address)))
    try:
        await connection.connect(timeout=5)
    except BaseException:
        await connection.close()
        raise
    return connection
{%- elif mq and mq.is_sqs %}


def endpoints(address: str) -> list[tuple[str, int]]:
    parts = urlsplit(address)
    default = 443 if parts.scheme == "https" else 80
    return [(parts.hostname or "localhost", parts.port or default)]


def queue_name(topic: str) -> str:
    """The SQS queue of a topic (`order.created` → `order-created`)."""
    return topic.replace(".", "-").replace("_", "-")


def sqs_client(endpoint: str) -> Any:
    import boto3
    from botocore.config import Config

    timeout = get_settings().request_timeout_seconds
    config = Config(
        connect_timeout=PROBE_TIMEOUT,
        read_timeout=max(timeout, 6),
        retries={"max_attempts": 1},
    )
    return boto3.client(
        "sqs",
        endpoint_url=endpoint or None,
        region_name=get_settings().aws_region,
        config=config,
    )
{%- endif %}
{%- if mq %}


async def reachable(address: str) -> bool:
    """Whether one of the broker's endpoints accepts a connection within PROBE_TIMEOUT."""
    for host, port in endpoints(address):
        try:
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(host, port), PROBE_TIMEOUT
            )
        except (OSError, TimeoutError, ValueError):
            continue
        writer.close()
        return True
    return False
{%- endif %}


class Publisher:
    """Sends events; called from request handlers running in worker threads."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.attempts = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: Any = None
        self._task: asyncio.Task[None] | None = None

    @property
    def enabled(self) -> bool:
        """Whether events go to a broker (else they are kept in `sent`)."""
        return bool(broker_address()) and bool(PUBLISHES)

    @property
    def connected(self) -> bool:
{%- if mq and mq.is_rabbitmq %}
        return self._client is not None and self._client[0].connected.is_set()
{%- else %}
        return self._client is not None
{%- endif %}

    async def start(self) -> None:
        """Connect in the background: start-up neither waits for nor fails on the broker."""
        if not self.enabled:
            return
        self._loop = asyncio.get_running_loop()
        connect = self._connect_forever()
        self._task = asyncio.create_task(connect, name="event-publisher")

    async def _connect_forever(self) -> None:
        backoff = Backoff()
        while True:
            self.attempts += 1
            try:
                self._client = await self._connect(broker_address())
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning(
                    "broker unreachable (%s); the publisher retries in %.1f s",
                    type(exc).__name__,
                    backoff.delay,
                )
                await backoff.wait()
                continue
            log.info("publisher connected to the broker")
            return

    async def _connect(self, address: str) -> Any:
        """One connection attempt; whatever it opened is closed when it fails."""
{%- if mq and mq.is_kafka %}
        from aiokafka import AIOKafkaProducer

        timeout_ms = int(get_settings().request_timeout_seconds * 1000)
        producer = AIOKafkaProducer(
            bootstrap_servers=address, acks="all", request_timeout_ms=timeout_ms
        )
        try:
            await producer.start()
        except BaseException:
            await producer.stop()
            raise
        return producer
{%- elif mq and mq.is_rabbitmq %}
        connection = await connect_rabbitmq(address)
        try:
            channel = await connection.channel(publisher_confirms=True)
            return connection, await exchange(channel)
        except BaseException:
            await connection.close()
            raise
{%- elif mq and mq.is_sqs %}
        client = sqs_client(address)
        urls = {}
        for topic in PUBLISHES:
            reply = await asyncio.to_thread(
                client.get_queue_url, QueueName=queue_name(topic)
            )
            urls[topic] = reply["QueueUrl"]
        return client, urls
{%- else %}
        raise BrokerUnavailable("no broker in the blueprint")
{%- endif %}

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        client, self._client = self._client, None
        if client is None:
            return
{%- if mq and mq.is_kafka %}
        await client.stop()
{%- elif mq and mq.is_rabbitmq %}
        await client[0].close()
{%- endif %}

    def publish(self, topic: str, payload: dict[str, Any]) -> None:
        """Hand one event to the broker, or raise BrokerUnavailable (never waits longer
        than the request timeout)."""
        if not self.enabled:
            self.sent.append((topic, payload))
            log.info("event %s kept in memory (no broker configured)", topic)
            PUBLISHED.labels(topic).inc()
            return
        if not self.connected or self._loop is None:
            raise BrokerUnavailable(topic)
{%- if mq and mq.is_sqs %}
        client, urls = self._client
        try:
            client.send_message(QueueUrl=urls[topic], MessageBody=encode(payload).decode())
        except Exception as exc:
            raise BrokerUnavailable(topic) from exc
{%- else %}
        send = self._send(topic, payload)
        future = asyncio.run_coroutine_threadsafe(send, self._loop)
        try:
            future.result(timeout=get_settings().request_timeout_seconds)
        except Exception as exc:
            future.cancel()
            raise BrokerUnavailable(topic) from exc
{%- endif %}
        PUBLISHED.labels(topic).inc()
{%- if not (mq and mq.is_sqs) %}

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


class Consumer:
    """Receives the consumed topics in one background task: each session connects, consumes
    until it fails, and closes what it opened; the next one starts after a backoff."""

    def __init__(self) -> None:
        self.attempts = 0
        self.connected = False
        self._task: asyncio.Task[None] | None = None

    @property
    def enabled(self) -> bool:
        return bool(broker_address()) and bool(CONSUMES)

    async def start(self) -> None:
        if self.enabled:
            self._task = asyncio.create_task(self._run(), name="event-consumer")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _run(self) -> None:
        backoff = Backoff()
        while True:
            self.attempts += 1
            try:
                await self._session(broker_address(), backoff)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning(
                    "event consumer stopped (%s); reconnecting in %.1f s",
                    type(exc).__name__,
                    backoff.delay,
                )
            finally:
                self.connected = False
            await backoff.wait()

    async def _session(self, address: str, backoff: Backoff) -> None:
{%- if not (mq and mq.is_sqs) %}
        group = get_settings().service_name
{%- endif %}
{%- if mq and mq.is_kafka %}
        from aiokafka import AIOKafkaConsumer

        consumer = AIOKafkaConsumer(
            *CONSUMES,
            bootstrap_servers=address,
            group_id=group,
            enable_auto_commit=False,
        )
        try:
            await consumer.start()
            self.connected = True
            backoff.reset()
            log.info("event consumer connected (group %s)", group)
            async for message in consumer:
                await handle(message.topic, json.loads(message.value))
                await consumer.commit()
        finally:
            await consumer.stop()
{%- elif mq and mq.is_rabbitmq %}
        connection = await connect_rabbitmq(address)
        try:
            channel = await connection.channel()
            await channel.set_qos(prefetch_count=10)
            events = await exchange(channel)
            for topic in CONSUMES:
                queue = await channel.declare_queue(f"{group}.{topic}", durable=True)
                await queue.bind(events, routing_key=topic)
                await queue.consume(self._callback(topic))
            self.connected = True
            backoff.reset()
            log.info("event consumer connected (group %s)", group)
            # The robust connection restores the consumers after a broker outage.
            while True:
                await asyncio.sleep(PROBE_TIMEOUT)
                self.connected = connection.connected.is_set()
        finally:
            await connection.close()

    def _callback(self, topic: str) -> Callable[[Any], Any]:
        async def on_message(message: Any) -> None:
            async with message.process(requeue=True):
                await handle(topic, json.loads(message.body))

        return on_message
{%- elif mq and mq.is_sqs %}
        client = sqs_client(address)
        urls = {}
        for topic in CONSUMES:
            reply = await asyncio.to_thread(
                client.get_queue_url, QueueName=queue_name(topic)
            )
            urls[topic] = reply["QueueUrl"]
        self.connected = True
        backoff.reset()
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
                    await asyncio.to_thread(
                        client.delete_message,
                        QueueUrl=url,
                        ReceiptHandle=message["ReceiptHandle"],
                    )
{%- else %}
        log.info("group %s: no broker in the blueprint", group)
        await asyncio.Event().wait()
{%- endif %}


consumer = Consumer()


async def broker_status() -> str | None:
    """`/readyz`'s broker check: None when this service uses no broker, else "ok" when its
    publisher and consumer are connected and the broker answers now, or "unreachable"."""
    if not broker_address() or not (PUBLISHES or CONSUMES):
        return None
    if publisher.enabled and not publisher.connected:
        return "unreachable"
    if consumer.enabled and not consumer.connected:
        return "unreachable"
{%- if mq %}
    return "ok" if await reachable(broker_address()) else "unreachable"
{%- else %}
    return "ok"
{%- endif %}
