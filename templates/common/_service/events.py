{{ header }}
{%- set mq = m.messaging %}
{%- set ev = svc.events %}
"""Events of the {{ svc.name.raw }} service{% if mq %} through {{ mq.broker }}{% endif %}.

Publishes: {% if svc.publishes %}{% for t in svc.publishes %}`{{ t.raw }}`{% if not loop.last %}, {% endif %}{% endfor %}{% else %}nothing{% endif %}.
Consumes: {% if svc.consumes %}{% for t in svc.consumes %}`{{ t.raw }}`{% if not loop.last %}, {% endif %}{% endfor %}{% else %}nothing{% endif %}.
{%- if ev.in_process %}
Delivered in-process (published and consumed by this app's modules): {% for t in ev.in_process %}`{{ t.raw }}`{% if not loop.last %}, {% endif %}{% endfor %}.
{%- endif %}

Publishing is a transactional outbox: `enqueue` adds the event to the `outbox` table in the
transaction of the row it describes, so the event exists exactly when the row does, whether
the broker is up or not. The relay (one background task) sends unsent rows in order
{%- if ev.in_process %} (or hands the in-process topics to their handlers){% endif %}, marks
them sent, and on a failure stops and retries with capped backoff: at-least-once, in order.

Every event is an envelope `{"event_id", "topic", "key", "occurred_at", "data"}`; consumers
remember handled `event_id`s{% if ev.inbox %} in `processed_events` (in the transaction of the handler's
own writes){% else %} in memory{% endif %}, so a redelivered event has no second effect. A handler is tried
{{ ev.max_attempts }} times with capped backoff; then, or at once for a message that is not a valid
envelope, the message goes to the dead letters ({% if mq and mq.is_sqs %}this service's dead-letter queue of the topic{% else %}`<topic>.dlq`{% endif %}, with the error and the attempt
count) and the consumer moves on.
{%- if mq and mq.is_sqs %}

Through SNS and SQS (ADR 0004): each sent topic is an SNS FIFO topic, and this service reads
each consumed topic from a FIFO queue of its own subscribed to it (raw delivery), so every
consuming service gets every event; the message group is the aggregate key, so one
aggregate's events arrive in order. The queue's redrive policy moves a message received
{{ ev.max_attempts }} times without being deleted (its consumer crashed on it) to the dead-letter queue.
{%- endif %}

The broker may be down when the service starts, or go away later: the publisher and the
consumer each connect in one background task, retrying with capped exponential backoff
(0.5 s doubling to 30 s) and closing what a failed attempt opened, so start-up never waits
for the broker; `/readyz` reports `broker: unreachable` meanwhile.
"""

import asyncio
import json
import logging
import uuid
{%- if not ev.inbox %}
from collections import OrderedDict
{%- endif %}
from collections.abc import Callable
from datetime import UTC, datetime{% if ev.outbox or ev.inbox %}, timedelta{% endif %}
from pathlib import Path
from typing import Any
{%- if mq and mq.is_sqs %}
from urllib.parse import urlsplit
{%- endif %}
{% if ev.outbox or ev.inbox %}
import sqlalchemy as sa
{%- endif %}
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from prometheus_client import Counter, Gauge
{%- if ev.inbox %}
from sqlalchemy.dialects.{% if svc.database.mysql %}mysql{% else %}postgresql{% endif %} import insert
{%- endif %}
{%- if ev.outbox or ev.inbox %}
from sqlalchemy.orm import Mapped, Session, mapped_column
{%- endif %}

from app.config import get_settings
{%- if ev.outbox or ev.inbox %}
from app.db import Base, SessionLocal{% if ev.outbox and svc.database.mysql %}, engine{% endif %}
{%- endif %}

log = logging.getLogger(__name__)

PUBLISHED = Counter("events_published_total", "Events sent by the relay", ["topic"])
PUBLISH_FAILURES = Counter(
    "events_publish_failures_total", "Relay sends that failed (retried)", ["topic"]
)
OUTBOX_BACKLOG = Gauge("events_outbox_backlog", "Outbox events not sent yet")
# outcome: handled, duplicate (a redelivery, no second effect), error (one failed try),
# dead_lettered.
CONSUMED = Counter("events_consumed_total", "Events consumed", ["topic", "outcome"])
CONSUMER_LAG = Gauge(
    "events_consumer_lag", "Messages not consumed yet", ["topic", "partition"]
)

PUBLISHES: tuple[str, ...] = ({% for t in svc.publishes %}"{{ t.raw }}"{% if not loop.last %}, {% endif %}{% endfor %}{% if svc.publishes | length == 1 %},{% endif %})
CONSUMES: tuple[str, ...] = ({% for t in svc.consumes %}"{{ t.raw }}"{% if not loop.last %}, {% endif %}{% endfor %}{% if svc.consumes | length == 1 %},{% endif %})
# Published and consumed here: the relay hands them to the handlers, never to the broker.
IN_PROCESS: tuple[str, ...] = ({% for t in ev.in_process %}"{{ t.raw }}"{% if not loop.last %}, {% endif %}{% endfor %}{% if ev.in_process | length == 1 %},{% endif %})
FROM_BROKER: tuple[str, ...] = ({% for t in ev.from_broker %}"{{ t.raw }}"{% if not loop.last %}, {% endif %}{% endfor %}{% if ev.from_broker | length == 1 %},{% endif %})
DEAD_LETTER_SUFFIX = ".dlq"

BACKOFF_START = 0.5
BACKOFF_MAX = 30.0
# How long a readiness probe of the broker may take.
PROBE_TIMEOUT = 1.0
# How long stopping one background task may take at shutdown.
SHUTDOWN_SECONDS = 5.0
# Tries of a handler before its event is dead-lettered (the `{{ m.scale }}` scale preset),
# with a delay doubling from RETRY_START up to RETRY_MAX between them.
MAX_ATTEMPTS = {{ ev.max_attempts }}
RETRY_START = 0.2
RETRY_MAX = 5.0
# Handled event ids are forgotten after this many days; sent outbox rows are deleted then too.
RETENTION_DAYS = {{ ev.retention_days }}
# Outbox rows sent per relay transaction, and how often the relay looks when not woken.
RELAY_BATCH = 100
RELAY_IDLE_SECONDS = 1.0
# The relay retries a failed send sooner than a connection (a try is one cheap query), so
# the outbox empties within seconds of the broker's return.
RELAY_BACKOFF_MAX = 5.0
{%- if svc.database.mysql %}
# Only one relay per database sends at a time (MySQL's named lock, held by the relay's
# connection for one batch), so events leave in outbox order even with several replicas.
# Lock names belong to the server, not the database: the name ends with the database's, so
# services sharing a server do not wait on each other's relays.
RELAY_LOCK = sa.func.left(
    sa.func.concat("outbox-relay-7346001-", sa.func.database()), 64
)
{%- else %}
# Only one relay per database sends at a time (a transaction-scoped advisory lock), so events
# leave in outbox order even with several replicas.
RELAY_LOCK = 7_346_001
{%- endif %}


class BrokerUnavailable(Exception):
    """The event could not be handed to the broker (it is down or not connected yet)."""


class PoisonMessage(ValueError):
    """A message that is not a valid event envelope: retrying cannot help."""


def broker_address() -> str:
    """Where the broker is; empty means no broker."""
{%- if mq %}
    return get_settings().{{ mq.setting }}
{%- else %}
    return ""
{%- endif %}


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


def envelope(topic: str, key: str, data: dict[str, Any]) -> dict[str, Any]:
    """A new event: its own id (the consumers' idempotency key), its topic and key."""
    return {
        "event_id": str(uuid.uuid4()),
        "topic": topic,
        "key": key,
        "occurred_at": datetime.now(UTC).isoformat(),
        "data": data,
    }


def decode(body: bytes | str, topic: str = "") -> dict[str, Any]:
    """The envelope in a message, or PoisonMessage (not JSON, no envelope, or not what the
    topic's schema in event_schemas.json says)."""
    try:
        event = json.loads(body)
    except ValueError as exc:
        raise PoisonMessage(f"not JSON: {exc}") from exc
    if not isinstance(event, dict) or not isinstance(event.get("data"), dict):
        raise PoisonMessage("not an event envelope (no `data` object)")
    try:
        uuid.UUID(str(event.get("event_id")))
    except ValueError as exc:
        raise PoisonMessage("the envelope has no valid `event_id`") from exc
    problem = first_error(VALIDATORS[topic], event) if topic in VALIDATORS else None
    if problem:
        raise PoisonMessage(f"does not match the {topic} schema: {problem}")
    return event


# The JSON Schema of each consumed topic's envelope (events/schemas/ at the root of the tree).
SCHEMAS: dict[str, dict[str, Any]] = json.loads(
    Path(__file__).with_name("event_schemas.json").read_text()
)
FORMATS = Draft202012Validator.FORMAT_CHECKER
# Built once per topic, not per message.
VALIDATORS = {
    topic: Draft202012Validator(schema, format_checker=FORMATS)
    for topic, schema in SCHEMAS.items()
}


def mismatch(schema: dict[str, Any], value: Any, where: str = "event") -> str | None:
    """The most relevant way `value` breaks `schema` (JSON Schema 2020-12, formats such as
    `uuid` checked), or None."""
    validator = Draft202012Validator(schema, format_checker=FORMATS)
    return first_error(validator, value, where)


def first_error(
    validator: Draft202012Validator, value: Any, where: str = "event"
) -> str | None:
    error = best_match(validator.iter_errors(value))
    if error is None:
        return None
    path = "".join(
        f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path
    )
    return f"{where}{path}: {error.message}"


def raise_if_cancelled() -> None:
    """Stop a background loop whose cancellation was swallowed. On Python 3.11 a client
    library (or asyncio's own timeouts) can turn a cancel that lands with a timeout into a
    TimeoutError; the task then stays "cancelling" and, without this, a shutdown that
    cancelled it would wait for it forever. Called where every loop waits."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


class Backoff:
    """Capped exponential delays between connection attempts."""

    def __init__(self, cap: float | None = None) -> None:
        self.delay = BACKOFF_START
        self.cap = cap

    def reset(self) -> None:
        self.delay = BACKOFF_START

    async def wait(self) -> None:
        raise_if_cancelled()
        await asyncio.sleep(self.delay)
        self.delay = min(self.delay * 2, self.cap or BACKOFF_MAX)
{%- if ev.outbox or ev.inbox %}


class OutboxEvent(Base):
    """Table `outbox` (migrations): events waiting for the relay, then sent."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
{%- if svc.database.mysql %}
    event_id: Mapped[uuid.UUID] = mapped_column(
        sa.{{ svc.database.uuid_type }}, nullable=False, unique=True
    )
{%- else %}
    event_id: Mapped[uuid.UUID] = mapped_column(sa.{{ svc.database.uuid_type }}, nullable=False, unique=True)
{%- endif %}
    topic: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    aggregate_key: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    payload: Mapped[str] = mapped_column(sa.Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    )
    sent_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)


class ProcessedEvent(Base):
    """Table `processed_events` (migrations): event ids already handled, per topic."""

    __tablename__ = "processed_events"

{%- if svc.database.mysql %}
    event_id: Mapped[uuid.UUID] = mapped_column(
        sa.{{ svc.database.uuid_type }}, primary_key=True
    )
{%- else %}
    event_id: Mapped[uuid.UUID] = mapped_column(sa.{{ svc.database.uuid_type }}, primary_key=True)
{%- endif %}
    topic: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    )
{%- endif %}


def enqueue(session: Any, topic: str, key: str, data: dict[str, Any]) -> None:
    """Add one event to the outbox in `session`'s transaction: it commits with the row."""
{%- if ev.outbox %}
    event = envelope(topic, key, data)
    session.add(
        OutboxEvent(
            event_id=uuid.UUID(event["event_id"]),
            topic=topic,
            aggregate_key=key,
            payload=encode(event).decode(),
        )
    )
    session.info["events_enqueued"] = True
{%- else %}
    raise RuntimeError(f"{topic}: this service has no outbox (no database)")
{%- endif %}
{%- if mq and mq.is_kafka %}


def endpoints(address: str) -> list[tuple[str, int]]:
    """(host, port) of each bootstrap server (`host:port,host:port`)."""
    found = []
    for server in address.split(","):
        host, _, port = server.strip().rpartition(":")
        found.append((host or server.strip(), int(port or {{ mq.port }})))
    return found


def kafka_security() -> dict[str, Any]:
    """Client options for the broker's listener: none locally (PLAINTEXT); in the cloud TLS
    (SASL_SSL, the server's certificate checked) and MSK IAM sign-in (OAUTHBEARER tokens signed
    with the workload's AWS role), as Terraform's MSK accepts on its IAM port."""
    settings = get_settings()
    if settings.kafka_security_protocol == "PLAINTEXT":
        return {}
    from aiokafka.helpers import create_ssl_context

    options: dict[str, Any] = {
        "security_protocol": settings.kafka_security_protocol,
        "ssl_context": create_ssl_context(),
    }
    if settings.kafka_sasl_mechanism == "OAUTHBEARER":
        options["sasl_mechanism"] = "OAUTHBEARER"
        options["sasl_oauth_token_provider"] = msk_iam_tokens(settings.aws_region)
    return options


def msk_iam_tokens(region: str) -> Any:
    """An aiokafka token provider handing out MSK IAM tokens (one per authentication)."""
    from aiokafka.abc import AbstractTokenProvider
    from aws_msk_iam_sasl_signer import MSKAuthTokenProvider

    class MskIamTokens(AbstractTokenProvider):
        async def token(self) -> str:
            # Signing reads credentials (IRSA's web identity file): off the event loop.
            token, _ = await asyncio.to_thread(
                MSKAuthTokenProvider.generate_auth_token, region
            )
            return token

    return MskIamTokens()
{%- elif mq and mq.is_rabbitmq %}


def amqp_url(address: str) -> str:
    """`AMQP_HOST` is a host (`rabbitmq`), `host:port`, or a whole `amqp://` / `amqps://` URL.

    AMQP_USERNAME and AMQP_PASSWORD (cloud: from Secrets Manager) sign in; without them the
    client uses the local broker's default user.
    """
    from yarl import URL

    if "://" in address:
        url = URL(address)
    else:
        host, _, port = address.rpartition(":") if ":" in address else (address, "", "")
        url = URL.build(scheme="amqp", host=host, port=int(port or {{ mq.port }}), path="/")
    settings = get_settings()
    if settings.amqp_username:
        user = url.with_user(settings.amqp_username)
        url = user.with_password(settings.amqp_password)
    return str(url)


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


async def dead_letter_exchange(channel: Any) -> Any:
    """The exchange dead letters go to, routed by `<topic>.dlq`."""
    import aio_pika

    return await channel.declare_exchange(
        "events.dlx", aio_pika.ExchangeType.TOPIC, durable=True
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


# The SNS FIFO topic each sent topic goes to, the SQS FIFO queue (subscribed to it, raw
# delivery) each consumed topic comes from, and the dead-letter queue of each consumed topic:
# the setting holding each name (the environment; Terraform creates them in the cloud).
{% for table in [["SNS_TOPICS", ev.sns_topics], ["QUEUES", ev.sqs_queues], ["DEAD_LETTER_QUEUES", ev.sqs_dead_letter_queues]] %}
{%- if table[1] -%}
{{ table[0] }}: dict[str, str] = {
{%- for n in table[1] %}
    "{{ n.topic }}": "{{ n.setting }}",
{%- endfor %}
}
{%- else -%}
{{ table[0] }}: dict[str, str] = {}
{%- endif %}{% if not loop.last %}
{% endif %}{% endfor %}
# Seconds one receive waits for messages (long polling).
RECEIVE_WAIT_SECONDS = 5


def setting(name: str) -> str:
    return str(getattr(get_settings(), name))


async def aws_client(service: str, endpoint: str | None = None) -> Any:
    """A boto3 client: the local emulator (AWS_ENDPOINT_URL) when set, else AWS's endpoint
    of the region. Long polls fit within its read timeout; one try per call (the caller
    retries with backoff). Made in a worker thread with a session of its own: making one
    loads service models (the event loop must not wait for that) and boto3's default
    session is not thread-safe."""
    return await asyncio.to_thread(_aws_client, service, endpoint)


def _aws_client(service: str, endpoint: str | None) -> Any:
    import boto3
    from botocore.config import Config

    settings = get_settings()
    config = Config(
        connect_timeout=PROBE_TIMEOUT,
        read_timeout=RECEIVE_WAIT_SECONDS + settings.request_timeout_seconds,
        retries={"max_attempts": 1},
    )
    return boto3.session.Session().client(
        service,
        endpoint_url=endpoint or settings.aws_endpoint_url or None,
        region_name=settings.aws_region,
        config=config,
    )


async def queue_url(client: Any, setting_name: str) -> str:
    name = setting(setting_name)
    reply = await asyncio.to_thread(client.get_queue_url, QueueName=name)
    return str(reply["QueueUrl"])


def attributes(headers: dict[str, str]) -> dict[str, Any]:
    """Message attributes carrying what Kafka headers carry (error, attempts, topic)."""
    return {
        name: {"DataType": "String", "StringValue": value}
        for name, value in headers.items()
    }


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
    """The broker client that sends events (for the relay) and dead letters (for consumers)."""

    def __init__(self) -> None:
        self.attempts = 0
        self._client: Any = None
        self._task: asyncio.Task[None] | None = None

    @property
    def enabled(self) -> bool:
        """Whether this service sends anything to a broker."""
        to_broker = set(PUBLISHES) - set(IN_PROCESS)
        return bool(broker_address()) and bool(to_broker or CONSUMES)

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
            bootstrap_servers=address,
            acks="all",
            request_timeout_ms=timeout_ms,
            **kafka_security(),
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
            events = await exchange(channel)
            return connection, events, await dead_letter_exchange(channel)
        except BaseException:
            await connection.close()
            raise
{%- elif mq and mq.is_sqs %}
        # A topic's ARN is AWS's `arn:<partition>:sns:<region>:<account>:<name>`: the account
        # is the caller's (GetCallerIdentity needs no permission).
        sts = await aws_client("sts")
        identity = await asyncio.to_thread(sts.get_caller_identity)
        partition = str(identity["Arn"]).split(":")[1]
        region, account = get_settings().aws_region, identity["Account"]
        arns = {
            topic: f"arn:{partition}:sns:{region}:{account}:{setting(name)}"
            for topic, name in SNS_TOPICS.items()
        }
        sqs = await aws_client("sqs", address)
        letters = {
            topic + DEAD_LETTER_SUFFIX: await queue_url(sqs, name)
            for topic, name in DEAD_LETTER_QUEUES.items()
        }
        return await aws_client("sns"), arns, sqs, letters
{%- else %}
        raise BrokerUnavailable("no broker in the blueprint")
{%- endif %}

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            # Bounded: a client library stuck closing must not hold up the shutdown.
            await asyncio.wait([task], timeout=SHUTDOWN_SECONDS)
        client, self._client = self._client, None
        if client is None:
            return
{%- if mq and mq.is_kafka %}
        await client.stop()
{%- elif mq and mq.is_rabbitmq %}
        await client[0].close()
{%- endif %}

    async def send(
        self, topic: str, key: str, body: bytes, headers: dict[str, str] | None = None
    ) -> None:
        """Hand one message to the broker and wait for its acknowledgement, or raise
        BrokerUnavailable (within the request timeout)."""
        if not self.connected:
            raise BrokerUnavailable(topic)
        timeout = get_settings().request_timeout_seconds
        try:
            await asyncio.wait_for(self._send(topic, key, body, headers or {}), timeout)
        except Exception as exc:
            raise BrokerUnavailable(topic) from exc

    async def _send(
        self, topic: str, key: str, body: bytes, headers: dict[str, str]
    ) -> None:
{%- if mq and mq.is_kafka %}
        await self._client.send_and_wait(
            topic,
            body,
            key=key.encode(),
            headers=[(name, value.encode()) for name, value in headers.items()],
        )
{%- elif mq and mq.is_rabbitmq %}
        import aio_pika

        message = aio_pika.Message(
            body,
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            headers=dict(headers),
        )
        target = 2 if topic.endswith(DEAD_LETTER_SUFFIX) else 1
        await self._client[target].publish(message, routing_key=topic)
{%- elif mq and mq.is_sqs %}
        sns, arns, sqs, letters = self._client
        # FIFO: the aggregate's events stay in order (one message group per key). Each send
        # has its own deduplication id: SNS's five-minute deduplication is not relied on, the
        # consumers' processed event ids are (as with the other brokers).
        message = {
            "MessageGroupId": key or topic,
            "MessageDeduplicationId": str(uuid.uuid4()),
        }
        if headers:
            message["MessageAttributes"] = attributes(headers)
        if topic in letters:
            await asyncio.to_thread(
                sqs.send_message,
                QueueUrl=letters[topic],
                MessageBody=body.decode(errors="replace"),
                **message,
            )
        else:
            await asyncio.to_thread(
                sns.publish, TopicArn=arns[topic], Message=body.decode(), **message
            )
{%- else %}
        raise BrokerUnavailable(f"{topic}: no broker in the blueprint")
{%- endif %}


publisher = Publisher()
{% for t in svc.consumes %}

{% if ev.inbox -%}
def on_{{ t.snake }}(event: dict[str, Any], session: Session) -> None:
    """React to `{{ t.raw }}` (the row is `event["data"]`). Put the business rule here and write
    through `session`: it commits with the record that this event was handled, so a redelivery
    has no second effect. Raising rolls both back and the event is tried again."""
{%- else -%}
def on_{{ t.snake }}(event: dict[str, Any]) -> None:
    """React to `{{ t.raw }}` (the row is `event["data"]`). Put the business rule here; raising
    makes it tried again."""
{%- endif %}
    log.info("{{ t.raw }} received: %s", event["event_id"])
{% endfor %}

{% if svc.consumes -%}
HANDLERS: dict[str, Callable[..., None]] = {
{%- for t in svc.consumes %}
    "{{ t.raw }}": on_{{ t.snake }},
{%- endfor %}
}
{%- else -%}
HANDLERS: dict[str, Callable[..., None]] = {}
{%- endif %}
{%- if ev.inbox %}


def process(topic: str, event: dict[str, Any]) -> bool:
    """Record the event id and run its handler in one transaction; False when it was
    handled before (the insert finds the id)."""
    with SessionLocal() as session, session.begin():
{%- if svc.database.mysql %}
        # INSERT IGNORE: a duplicate key inserts nothing (0 rows) instead of failing.
        record = (
            insert(ProcessedEvent)
            .values(event_id=uuid.UUID(event["event_id"]), topic=topic)
            .prefix_with("IGNORE")
        )
        if session.execute(record).rowcount == 0:
            return False
{%- else %}
        record = (
            insert(ProcessedEvent)
            .values(event_id=uuid.UUID(event["event_id"]), topic=topic)
            .on_conflict_do_nothing()
            .returning(ProcessedEvent.event_id)
        )
        if session.execute(record).first() is None:
            return False
{%- endif %}
        HANDLERS[topic](event, session)
    return True


def forget_old() -> int:
    """Drop handled ids and sent outbox rows older than RETENTION_DAYS."""
    cutoff = datetime.now(UTC) - timedelta(days=RETENTION_DAYS)
    with SessionLocal() as session, session.begin():
        gone = session.execute(
            sa.delete(ProcessedEvent).where(ProcessedEvent.processed_at < cutoff)
        ).rowcount
        gone += session.execute(
            sa.delete(OutboxEvent).where(OutboxEvent.sent_at < cutoff)
        ).rowcount
    return gone
{%- else %}

# Handled event ids (no database here): the most recent ones, in memory.
SEEN_LIMIT = 100_000
_seen: OrderedDict[tuple[str, str], None] = OrderedDict()


def process(topic: str, event: dict[str, Any]) -> bool:
    """Run the handler unless this event id was handled before (False then)."""
    key = (topic, event["event_id"])
    if key in _seen:
        return False
    HANDLERS[topic](event)
    _seen[key] = None
    while len(_seen) > SEEN_LIMIT:
        _seen.popitem(last=False)
    return True
{%- if ev.outbox %}


def forget_old() -> int:
    """Drop sent outbox rows older than RETENTION_DAYS."""
    cutoff = datetime.now(UTC) - timedelta(days=RETENTION_DAYS)
    with SessionLocal() as session, session.begin():
        return session.execute(
            sa.delete(OutboxEvent).where(OutboxEvent.sent_at < cutoff)
        ).rowcount
{%- endif %}
{%- endif %}


async def dead_letter(topic: str, body: bytes, error: str, attempts: int) -> None:
    """Send a message its handler could not take to `<topic>.dlq`, with why and how often
    it was tried. Without a broker it is logged. Raises BrokerUnavailable when the broker
    cannot take it (the message is then not acknowledged, and comes again)."""
    CONSUMED.labels(topic, "dead_lettered").inc()
    if not publisher.enabled:
        log.error("dead letter on %s after %d tries: %s", topic, attempts, error)
        return
    headers = {"error": error[:1000], "attempts": str(attempts), "topic": topic}
    await publisher.send(topic + DEAD_LETTER_SUFFIX, topic, body, headers)
    log.warning("dead-lettered %s after %d tries: %s", topic, attempts, error)


async def handle(topic: str, body: bytes | str) -> str:
    """Take one message: handled, duplicate or dead_lettered. Raises only when a dead letter
    cannot be sent (the caller must not acknowledge the message then)."""
    raw = body.encode() if isinstance(body, str) else body
    try:
        event = decode(raw, topic)
    except PoisonMessage as exc:
        await dead_letter(topic, raw, str(exc), 1)
        return "dead_lettered"
    delay = RETRY_START
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            fresh = await asyncio.to_thread(process, topic, event)
        except Exception as exc:
            CONSUMED.labels(topic, "error").inc()
            log.warning("%s: try %d failed: %r", topic, attempt, exc)
            if attempt == MAX_ATTEMPTS:
                await dead_letter(topic, raw, repr(exc), attempt)
                return "dead_lettered"
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX)
            continue
        outcome = "handled" if fresh else "duplicate"
        CONSUMED.labels(topic, outcome).inc()
        return outcome
    return "dead_lettered"


{% if ev.outbox -%}
async def idle(wake: asyncio.Event, seconds: float) -> None:
    """Wait until `wake` is set or `seconds` pass (a cancellation is never taken for the
    timeout: see raise_if_cancelled)."""
    try:
        async with asyncio.timeout(seconds):
            await wake.wait()
    except TimeoutError:
        raise_if_cancelled()


class Relay:
    """Sends the outbox: one background task, woken by each commit that enqueued events."""

    def __init__(self) -> None:
        self.attempts = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run(self._wake), name="event-relay")

    async def stop(self) -> None:
        self._loop = None
        task, self._task = self._task, None
        if task is not None and task.get_loop() is asyncio.get_running_loop():
            task.cancel()
            await asyncio.wait([task], timeout=SHUTDOWN_SECONDS)

    def wake(self) -> None:
        """Called after a commit that enqueued events (from any thread); the relay also
        looks every RELAY_IDLE_SECONDS, so a wake-up lost at shutdown loses nothing."""
        loop, wake = self._loop, self._wake
        if loop is None or wake is None:
            return
        try:
            loop.call_soon_threadsafe(wake.set)
        except RuntimeError:
            pass  # the loop closed meanwhile (shutdown)

    async def _run(self, wake: asyncio.Event) -> None:
        backoff = Backoff(RELAY_BACKOFF_MAX)
        loop = asyncio.get_running_loop()
        swept = loop.time()
        while True:
            self.attempts += 1
            try:
                sent, failed = await self.drain()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("outbox relay failed (%s)", type(exc).__name__)
                sent, failed = 0, True
            if failed:
                await backoff.wait()
                continue
            backoff.reset()
            if sent:
                continue
            if loop.time() - swept > 3600:
                swept = loop.time()
                await asyncio.to_thread(forget_old)
            wake.clear()
            await idle(wake, RELAY_IDLE_SECONDS)

    async def drain(self) -> tuple[int, bool]:
        """Send one batch in outbox order: (events sent, whether one failed). A failure stops
        the batch, so nothing overtakes an event that is still waiting."""
{%- if svc.database.mysql %}
        # MySQL's named lock (GET_LOCK) belongs to a connection, not a transaction: the whole
        # drain runs on one connection, which gives the lock back before it returns to the pool.
        connection = await asyncio.to_thread(engine.connect)
        session = Session(bind=connection, expire_on_commit=False)
        locked = False
{%- else %}
        session = SessionLocal()
{%- endif %}
        sent, failed = 0, False
        try:
{%- if svc.database.mysql %}
            lock = sa.select(sa.func.get_lock(RELAY_LOCK, 0))
            locked = bool(await asyncio.to_thread(session.scalar, lock))
            if not locked:
                return 0, False
{%- else %}
            lock = sa.select(sa.func.pg_try_advisory_xact_lock(RELAY_LOCK))
            if not await asyncio.to_thread(session.scalar, lock):
                return 0, False
{%- endif %}
            pending = (
                sa.select(OutboxEvent)
                .where(OutboxEvent.sent_at.is_(None))
                .order_by(OutboxEvent.id)
                .limit(RELAY_BATCH)
            )
            rows = (await asyncio.to_thread(session.scalars, pending)).all()
            for row in rows:
                try:
                    await self.deliver(row)
                except Exception as exc:
                    PUBLISH_FAILURES.labels(row.topic).inc()
                    row.attempts += 1
                    row.last_error = repr(exc)[:1000]
                    failed = True
                    break
                row.sent_at = datetime.now(UTC)
                PUBLISHED.labels(row.topic).inc()
                sent += 1
            await asyncio.to_thread(session.commit)
            backlog = sa.select(sa.func.count()).where(OutboxEvent.sent_at.is_(None))
            OUTBOX_BACKLOG.set(await asyncio.to_thread(session.scalar, backlog) or 0)
            await asyncio.to_thread(session.commit)
        finally:
            await asyncio.to_thread(session.close)
{%- if svc.database.mysql %}
            if locked:
                release = sa.select(sa.func.release_lock(RELAY_LOCK))
                await asyncio.to_thread(connection.execute, release)
            await asyncio.to_thread(connection.close)
{%- endif %}
        return sent, failed

    async def deliver(self, row: Any) -> None:
        if row.topic in IN_PROCESS:
            if await handle(row.topic, row.payload) == "dead_lettered":
                log.error("in-process event %s dead-lettered", row.event_id)
            return
        if not broker_address():
            raise BrokerUnavailable(f"{row.topic}: no broker address configured")
        await publisher.send(row.topic, row.aggregate_key, row.payload.encode())


relay = Relay()


def _wake_relay(session: Session) -> None:
    if session.info.pop("events_enqueued", False):
        relay.wake()


sa.event.listen(SessionLocal, "after_commit", _wake_relay)
{%- else -%}
class Relay:
    """This service has no outbox: nothing to relay."""

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


relay = Relay()
{%- endif %}


class Consumer:
    """Receives the consumed topics in one background task: each session connects, consumes
    until it fails, and closes what it opened; the next one starts after a backoff."""

    def __init__(self) -> None:
        self.attempts = 0
        self.connected = False
        self._task: asyncio.Task[None] | None = None

    @property
    def enabled(self) -> bool:
        return bool(broker_address()) and bool(FROM_BROKER)

    async def start(self) -> None:
        if self.enabled:
            self._task = asyncio.create_task(self._run(), name="event-consumer")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            # Bounded: a client library stuck closing must not hold up the shutdown.
            await asyncio.wait([task], timeout=SHUTDOWN_SECONDS)

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
            *FROM_BROKER,
            bootstrap_servers=address,
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            **kafka_security(),
        )
        try:
            await consumer.start()
            self.connected = True
            backoff.reset()
            log.info("event consumer connected (group %s)", group)
            async for message in consumer:
                # Committed only once handled, duplicate or dead-lettered: a crash before
                # that redelivers the message, and `process` makes the redelivery harmless.
                await handle(message.topic, message.value or b"")
                await consumer.commit()
                self._record_lag(consumer, message)
        finally:
            await consumer.stop()

    @staticmethod
    def _record_lag(consumer: Any, message: Any) -> None:
        from aiokafka import TopicPartition

        part = TopicPartition(message.topic, message.partition)
        end = consumer.highwater(part)
        if end is not None:
            lag = max(end - message.offset - 1, 0)
            CONSUMER_LAG.labels(message.topic, str(message.partition)).set(lag)
{%- elif mq and mq.is_rabbitmq %}
        connection = await connect_rabbitmq(address)
        try:
            channel = await connection.channel()
            await channel.set_qos(prefetch_count=10)
            events = await exchange(channel)
            dead = await dead_letter_exchange(channel)
            queues = []
            for topic in FROM_BROKER:
                name = f"{group}.{topic}"
                # What the broker itself rejects goes to the dead-letter exchange too.
                arguments = {
                    "x-dead-letter-exchange": "events.dlx",
                    "x-dead-letter-routing-key": topic + DEAD_LETTER_SUFFIX,
                }
                queue = await channel.declare_queue(
                    name, durable=True, arguments=arguments
                )
                await queue.bind(events, routing_key=topic)
                letters = await channel.declare_queue(
                    name + DEAD_LETTER_SUFFIX, durable=True
                )
                await letters.bind(dead, routing_key=topic + DEAD_LETTER_SUFFIX)
                await queue.consume(self._callback(topic))
                queues.append((topic, queue))
            self.connected = True
            backoff.reset()
            log.info("event consumer connected (group %s)", group)
            # The robust connection restores the consumers after a broker outage.
            while True:
                await asyncio.sleep(PROBE_TIMEOUT)
                self.connected = connection.connected.is_set()
                for topic, queue in queues:
                    waiting = await queue.declare()
                    count = waiting.message_count or 0
                    CONSUMER_LAG.labels(topic, "0").set(count)
        finally:
            await connection.close()

    def _callback(self, topic: str) -> Callable[[Any], Any]:
        async def on_message(message: Any) -> None:
            # Acknowledged once handled, duplicate or dead-lettered; requeued when the
            # dead letter could not be sent.
            async with message.process(requeue=True):
                await handle(topic, message.body)

        return on_message
{%- elif mq and mq.is_sqs %}
        client = await aws_client("sqs", address)
        urls = {topic: await queue_url(client, name) for topic, name in QUEUES.items()}
        self.connected = True
        backoff.reset()
        log.info("event consumer connected (%d queues)", len(urls))
        # One long-polling loop per queue; the first to fail ends the session. Not a TaskGroup:
        # on Python 3.11 one whose child failed can leave this task "cancelling", and the
        # consumer would then stop at its next backoff instead of reconnecting.
        polls = [
            asyncio.create_task(self._poll(client, topic, url), name=f"poll {topic}")
            for topic, url in urls.items()
        ]
        try:
            done, _ = await asyncio.wait(polls, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                task.result()
        finally:
            for task in polls:
                task.cancel()
            await asyncio.wait(polls, timeout=SHUTDOWN_SECONDS)

    async def _poll(self, client: Any, topic: str, url: str) -> None:
        while True:
            raise_if_cancelled()
            reply = await asyncio.to_thread(
                client.receive_message,
                QueueUrl=url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=RECEIVE_WAIT_SECONDS,
            )
            for message in reply.get("Messages", []):
                # Deleted only once handled, duplicate or dead-lettered: a crash before that
                # redelivers it after the visibility timeout (the queue's redrive policy
                # dead-letters one that keeps coming back), and `process` makes it harmless.
                await handle(topic, message["Body"])
                await asyncio.to_thread(
                    client.delete_message,
                    QueueUrl=url,
                    ReceiptHandle=message["ReceiptHandle"],
                )
            waiting = await asyncio.to_thread(
                client.get_queue_attributes,
                QueueUrl=url,
                AttributeNames=["ApproximateNumberOfMessages"],
            )
            count = int(waiting["Attributes"]["ApproximateNumberOfMessages"])
            CONSUMER_LAG.labels(topic, "0").set(count)
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
