{%- set svc = service %}{%- set mq = m.messaging %}{%- set ev = svc.events %}{{ header }}
// Events of the {{ svc.name.raw }} service through RabbitMQ, with the Python services' semantics
// (ADR 0009: docs/adr/0009-event-delivery.md).
//
// Publishes: {% if svc.publishes %}{% for t in svc.publishes %}`{{ t.raw }}`{% if not loop.last %}, {% endif %}{% endfor %}{% else %}nothing{% endif %}.
// Consumes: {% if svc.consumes %}{% for t in svc.consumes %}`{{ t.raw }}`{% if not loop.last %}, {% endif %}{% endfor %}{% else %}nothing{% endif %}.
//
// Publishing is a transactional outbox: `enqueue` adds the event to the `outbox` table in the
// transaction of the row it describes, so the event exists exactly when the row does, whether
// the broker is up or not. The relay (one background loop) sends unsent rows in order, marks
// them sent, and on a failure stops and retries with capped backoff: at-least-once, in order.
//
// Every event is an envelope `{"event_id", "topic", "key", "occurred_at", "data"}`; consumers
// remember handled `event_id`s{% if ev.inbox %} in `processed_events` (in the transaction of the handler's
// own writes){% else %} in memory{% endif %}, so a redelivered event has no second effect. A handler is tried
// {{ ev.max_attempts }} times with capped backoff; then, or at once for a message that is not a valid
// envelope of its topic's schema, the message goes to `<topic>.dlq` (with the error and the
// attempt count as headers) and the consumer moves on.
//
// The broker may be down when the service starts, or go away later: the publisher and the
// consumer each connect in a background loop, retrying with capped exponential backoff (0.5 s
// doubling to 30 s), so start-up never waits for the broker; `/readyz` reports
// `broker: unreachable` meanwhile.
import { randomUUID } from "node:crypto";
import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import amqp, { type ChannelModel, type ConfirmChannel } from "amqplib";
import type { FastifyBaseLogger } from "fastify";
import client from "prom-client";
import type { Settings } from "./config.js";
import type { Db, Query, Row } from "./db.js";
import { schemas } from "./event-schemas.js";
import { registry } from "./health.js";

export const PUBLISHES: readonly string[] = [{% for t in svc.publishes %}"{{ t.raw }}"{% if not loop.last %}, {% endif %}{% endfor %}];
export const CONSUMES: readonly string[] = [{% for t in svc.consumes %}"{{ t.raw }}"{% if not loop.last %}, {% endif %}{% endfor %}];
export const DEAD_LETTER_SUFFIX = ".dlq";
// The topic exchange every service publishes to, and the one dead letters go to (by `<topic>.dlq`).
const EXCHANGE = "events";
const DEAD_LETTER_EXCHANGE = "events.dlx";
const DEFAULT_PORT = {{ mq.port }};

const BACKOFF_START_MS = 500;
const BACKOFF_MAX_MS = 30_000;
// How long a readiness probe of the broker may take.
const PROBE_TIMEOUT_MS = 1000;
// Tries of a handler before its event is dead-lettered (the `{{ m.scale }}` scale preset), with a
// delay doubling from RETRY_START_MS up to RETRY_MAX_MS between them.
export const MAX_ATTEMPTS = {{ ev.max_attempts }};
const RETRY_START_MS = 200;
const RETRY_MAX_MS = 5000;
// Handled event ids are forgotten after this many days; sent outbox rows are deleted then too.
const RETENTION_DAYS = {{ ev.retention_days }};
// Outbox rows sent per relay transaction, and how often the relay looks when not woken.
const RELAY_BATCH = 100;
const RELAY_IDLE_MS = 1000;
// The relay retries a failed send sooner than a connection (a try is one cheap query).
const RELAY_BACKOFF_MAX_MS = 5000;
// Only one relay per database sends at a time (a transaction-scoped advisory lock), so events
// leave in outbox order even with several replicas. The same key as the Python services'.
const RELAY_LOCK = 7_346_001;
// Unacknowledged messages a consumer holds at once.
const PREFETCH = 10;

// The same metric names and labels as the Python services'.
const published = new client.Counter({
  name: "events_published_total",
  help: "Events sent by the relay",
  labelNames: ["topic"],
  registers: [registry],
});
const publishFailures = new client.Counter({
  name: "events_publish_failures_total",
  help: "Relay sends that failed (retried)",
  labelNames: ["topic"],
  registers: [registry],
});
export const outboxBacklog = new client.Gauge({
  name: "events_outbox_backlog",
  help: "Outbox events not sent yet",
  registers: [registry],
});
// outcome: handled, duplicate (a redelivery, no second effect), error (one failed try),
// dead_lettered.
export const consumed = new client.Counter({
  name: "events_consumed_total",
  help: "Events consumed",
  labelNames: ["topic", "outcome"],
  registers: [registry],
});
const consumerLag = new client.Gauge({
  name: "events_consumer_lag",
  help: "Messages not consumed yet",
  labelNames: ["topic", "partition"],
  registers: [registry],
});

const tracer = trace.getTracer("{{ svc.name.kebab }}.events");

/** The event could not be handed to the broker (it is down or not connected yet). */
export class BrokerUnavailable extends Error {}

/** A message that is not a valid event envelope: retrying cannot help. */
export class PoisonMessage extends Error {}

export interface Event {
  event_id: string;
  topic: string;
  key: string;
  occurred_at: string;
  data: Row;
}

/** A new event: its own id (the consumers' idempotency key), its topic and key. The row is
 * taken as the API writes it (instants as ISO 8601 text). */
export function envelope(topic: string, key: string, data: Row): Event {
  return {
    event_id: randomUUID(),
    topic,
    key,
    occurred_at: new Date().toISOString(),
    data: JSON.parse(JSON.stringify(data)) as Row,
  };
}

const ajv = new Ajv2020({ strict: false, allErrors: false });
addFormats.default(ajv);
// A decimal travels as a string of digits (exact).
ajv.addFormat("decimal", /^-?\d+(\.\d+)?$/);
// Compiled once per topic, not per message.
const validators = new Map<string, ValidateFunction>(
  Object.entries(schemas).map(([topic, schema]) => [topic, ajv.compile(schema)]),
);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The envelope in a message, or PoisonMessage (not JSON, no envelope, or not what the topic's
 * schema says). */
export function decode(body: Buffer | string, topic: string): Event {
  let event: unknown;
  try {
    event = JSON.parse(body.toString());
  } catch (err) {
    throw new PoisonMessage(`not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  const e = event as Partial<Event> | null;
  if (e === null || typeof e !== "object" || typeof e.data !== "object" || e.data === null) {
    throw new PoisonMessage("not an event envelope (no `data` object)");
  }
  if (typeof e.event_id !== "string" || !UUID.test(e.event_id)) {
    throw new PoisonMessage("the envelope has no valid `event_id`");
  }
  const validate = validators.get(topic);
  if (validate !== undefined && !validate(event)) {
    const first = validate.errors?.[0];
    throw new PoisonMessage(`does not match the ${topic} schema: event${first?.instancePath ?? ""}: ${first?.message ?? "invalid"}`);
  }
  return event as Event;
}

/** The broker's URL: `{{ mq.env_var }}` is a host (`rabbitmq`), `host:port`, or a whole `amqp://` /
 * `amqps://` URL; AMQP_USERNAME and AMQP_PASSWORD (cloud: from Secrets Manager) sign in, else
 * the local broker's default user. */
export function amqpUrl(config: Settings): string {
  const address = config.{{ mq.env_var }};
  const url = new URL(address.includes("://") ? address : `amqp://${address}`);
  if (url.port === "" && url.protocol === "amqp:") {
    url.port = String(DEFAULT_PORT);
  }
  if (config.AMQP_USERNAME) {
    url.username = encodeURIComponent(config.AMQP_USERNAME);
    url.password = encodeURIComponent(config.AMQP_PASSWORD);
  }
  return url.toString();
}

/** Whether the broker accepts a TCP connection within PROBE_TIMEOUT_MS. */
function reachable(address: string): Promise<boolean> {
  const url = new URL(address);
  return new Promise((resolve) => {
    const socket = net.connect({ host: url.hostname, port: Number(url.port || (url.protocol === "amqps:" ? 5671 : DEFAULT_PORT)) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(PROBE_TIMEOUT_MS, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/** Capped exponential delays between attempts; a stop ends the wait at once. */
class Backoff {
  delay: number;
  constructor(private readonly cap: number) {
    this.delay = BACKOFF_START_MS;
  }
  reset(): void {
    this.delay = BACKOFF_START_MS;
  }
  async wait(signal: AbortSignal): Promise<void> {
    await sleep(this.delay, undefined, { signal }).catch(() => undefined);
    this.delay = Math.min(this.delay * 2, this.cap);
  }
}

/** What sends to the broker: the relay's events and the consumers' dead letters. */
export interface Sender {
  readonly connected: boolean;
  send(topic: string, key: string, body: Buffer, headers?: Record<string, string>): Promise<void>;
}

/** The RabbitMQ publisher: one connection with a confirm channel, reconnected in the background. */
class Publisher implements Sender {
  private channel: ConfirmChannel | null = null;
  private connection: ChannelModel | null = null;

  constructor(
    private readonly url: string,
    private readonly timeoutMs: number,
    private readonly log: FastifyBaseLogger,
    private readonly signal: AbortSignal,
  ) {}

  get connected(): boolean {
    return this.channel !== null;
  }

  async connectForever(): Promise<void> {
    const backoff = new Backoff(BACKOFF_MAX_MS);
    while (!this.signal.aborted) {
      let connection: ChannelModel | null = null;
      try {
        connection = await amqp.connect(this.url, { timeout: 5000 });
        // A lost connection is reported by `close` (below); `error` alone must not throw.
        connection.on("error", (err: Error) => this.log.warn({ err }, "broker connection error"));
        const channel = await connection.createConfirmChannel();
        channel.on("error", (err: Error) => this.log.warn({ err }, "broker channel error"));
        await channel.assertExchange(EXCHANGE, "topic", { durable: true });
        await channel.assertExchange(DEAD_LETTER_EXCHANGE, "topic", { durable: true });
        const opened = connection;
        connection.once("close", () => {
          this.channel = null;
          this.connection = null;
          if (!this.signal.aborted) {
            this.log.warn("publisher lost the broker; reconnecting");
            void this.connectForever();
          }
        });
        // A channel closed by the broker (not the connection) ends the connection too, so one
        // reconnect path covers both.
        channel.once("close", () => void opened.close().catch(() => undefined));
        this.connection = connection;
        this.channel = channel;
        this.log.info("publisher connected to the broker");
        return;
      } catch (err) {
        await connection?.close().catch(() => undefined);
        this.log.warn({ err: String(err) }, `broker unreachable; the publisher retries in ${backoff.delay / 1000} s`);
        await backoff.wait(this.signal);
      }
    }
  }

  async close(): Promise<void> {
    const connection = this.connection;
    this.channel = null;
    this.connection = null;
    await connection?.close().catch(() => undefined);
  }

  /** Hand one message to the broker and wait for its confirmation, or throw BrokerUnavailable
   * (within the request timeout). */
  async send(topic: string, key: string, body: Buffer, headers: Record<string, string> = {}): Promise<void> {
    const channel = this.channel;
    if (channel === null) {
      throw new BrokerUnavailable(topic);
    }
    const exchange = topic.endsWith(DEAD_LETTER_SUFFIX) ? DEAD_LETTER_EXCHANGE : EXCHANGE;
    const confirmed = new Promise<void>((resolve, reject) => {
      channel.publish(
        exchange,
        topic,
        body,
        { persistent: true, contentType: "application/json", headers: { ...headers, key } },
        (err: unknown) => (err ? reject(new BrokerUnavailable(`${topic}: ${String(err)}`)) : resolve()),
      );
    });
    const timeout = sleep(this.timeoutMs, undefined, { ref: false }).then(() => {
      throw new BrokerUnavailable(`${topic}: no confirmation within ${this.timeoutMs} ms`);
    });
    await Promise.race([confirmed, timeout]);
  }
}

/** A handler of one consumed topic: `event.data` is the row. {% if ev.inbox %}It writes through `q`, which commits
 * with the record that this event was handled{% else %}Raising makes it tried again{% endif %}. */
export type Handler = (event: Event, q: Query | null, log: FastifyBaseLogger) => Promise<void>;
{%- for t in svc.consumes %}

/** React to `{{ t.raw }}`. Put the business rule here{% if ev.inbox %} and write through `q`: it commits with the
 * record that this event was handled, so a redelivery has no second effect. Throwing rolls both
 * back and the event is tried again{% else %}; throwing makes it tried again{% endif %}. */
async function on{{ t.pascal }}(event: Event, q: Query | null, log: FastifyBaseLogger): Promise<void> {
  void q;
  log.info(`{{ t.raw }} received: ${event.event_id}`);
}
{%- endfor %}

export const handlers: Record<string, Handler> = {
{%- for t in svc.consumes %}
  "{{ t.raw }}": on{{ t.pascal }},
{%- endfor %}
};

export interface EventsOptions {
  /** Tests: a sender instead of the broker, other handlers. */
  sender?: Sender;
  handlers?: Record<string, Handler>;
}

/** The outbox, its relay, the publisher and the consumer of one service. */
export class Events {
  readonly address: string;
  private readonly stopping = new AbortController();
  private readonly publisher: Publisher | null;
  private readonly sender: Sender | null;
  private readonly handlers: Record<string, Handler>;
  private consumerConnected = false;
  private wakeRelay: (() => void) | null = null;
  private readonly loops: Promise<void>[] = [];
{%- if not ev.inbox %}
  // Handled event ids (no database here): the most recent ones, in memory.
  private readonly seen = new Set<string>();
{%- endif %}

  constructor(
    private readonly config: Settings,
    private readonly db: Db | null,
    private readonly log: FastifyBaseLogger,
    options: EventsOptions = {},
  ) {
    this.address = config.{{ mq.env_var }} ? amqpUrl(config) : "";
    this.handlers = options.handlers ?? handlers;
    const timeoutMs = config.REQUEST_TIMEOUT_SECONDS * 1000;
    this.publisher = options.sender === undefined && this.address
      ? new Publisher(this.address, timeoutMs, log, this.stopping.signal)
      : null;
    this.sender = options.sender ?? this.publisher;
  }

  /** Whether this service sends anything to a broker (events or dead letters). */
  get publishing(): boolean {
    return this.sender !== null && (PUBLISHES.length > 0 || CONSUMES.length > 0);
  }

  /** Connect and relay in the background: start-up neither waits for nor fails on the broker. */
  start(): void {
    if (this.publisher !== null && this.publishing) {
      this.loops.push(this.publisher.connectForever());
    }
    if (this.db !== null && PUBLISHES.length > 0) {
      this.loops.push(this.relay());
    }
    if (this.address && CONSUMES.length > 0) {
      this.loops.push(this.consume());
    }
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    this.wakeRelay?.();
    await Promise.allSettled(this.loops);
    await this.publisher?.close();
  }

  /** `/readyz`'s broker check: null when this service uses no broker, else "ok" when its
   * publisher and consumer are connected and the broker answers now, or "unreachable". */
  async brokerStatus(): Promise<string | null> {
    if (!this.address || (PUBLISHES.length === 0 && CONSUMES.length === 0)) {
      return null;
    }
    if (this.publishing && !(this.sender?.connected ?? false)) {
      return "unreachable";
    }
    if (CONSUMES.length > 0 && !this.consumerConnected) {
      return "unreachable";
    }
    return (await reachable(this.address)) ? "ok" : "unreachable";
  }

  /** Add one event to the outbox through `q`, in the transaction of the row it describes. */
  async enqueue(q: Query, topic: string, key: string, data: Row): Promise<void> {
    const event = envelope(topic, key, data);
    await q("INSERT INTO outbox (event_id, topic, aggregate_key, payload) VALUES ($1, $2, $3, $4)", [
      event.event_id,
      topic,
      key,
      JSON.stringify(event),
    ]);
  }

  /** Called after a commit that enqueued events; the relay also looks every RELAY_IDLE_MS. */
  wake(): void {
    this.wakeRelay?.();
  }

  private async relay(): Promise<void> {
    const backoff = new Backoff(RELAY_BACKOFF_MAX_MS);
    let swept = Date.now();
    while (!this.stopping.signal.aborted) {
      let sent = 0;
      let failed = false;
      try {
        ({ sent, failed } = await this.drain());
      } catch (err) {
        this.log.warn({ err: String(err) }, "outbox relay failed");
        failed = true;
      }
      if (failed) {
        await backoff.wait(this.stopping.signal);
        continue;
      }
      backoff.reset();
      if (sent > 0) {
        continue;
      }
      if (Date.now() - swept > 3_600_000) {
        swept = Date.now();
        await this.forgetOld().catch((err: unknown) => this.log.warn({ err: String(err) }, "forgetting old events failed"));
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, RELAY_IDLE_MS);
        this.wakeRelay = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wakeRelay = null;
    }
  }

  /** Send one batch in outbox order: the events sent, and whether one failed. A failure stops
   * the batch, so nothing overtakes an event that is still waiting. */
  async drain(): Promise<{ sent: number; failed: boolean }> {
    const db = this.db;
    if (db === null) {
      return { sent: 0, failed: false };
    }
    return db.transaction(async (q) => {
      const [lock] = await q("SELECT pg_try_advisory_xact_lock($1) AS locked", [RELAY_LOCK]);
      if (lock?.locked !== true) {
        return { sent: 0, failed: false };
      }
      const rows = await q(
        "SELECT id, topic, aggregate_key, payload FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT $1",
        [RELAY_BATCH],
      );
      let sent = 0;
      let failed = false;
      for (const row of rows) {
        const topic = String(row.topic);
        try {
          await this.deliver(topic, String(row.aggregate_key), String(row.payload));
        } catch (err) {
          publishFailures.inc({ topic });
          await q("UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1", [row.id, String(err).slice(0, 1000)]);
          failed = true;
          break;
        }
        await q("UPDATE outbox SET sent_at = now() WHERE id = $1", [row.id]);
        published.inc({ topic });
        sent += 1;
      }
      const [waiting] = await q("SELECT count(*)::int AS n FROM outbox WHERE sent_at IS NULL");
      outboxBacklog.set(Number(waiting?.n ?? 0));
      return { sent, failed };
    });
  }

  private async deliver(topic: string, key: string, payload: string): Promise<void> {
    if (this.sender === null) {
      throw new BrokerUnavailable(`${topic}: no broker address configured`);
    }
    await tracer.startActiveSpan(`publish ${topic}`, { kind: SpanKind.PRODUCER }, async (span) => {
      try {
        await this.sender?.send(topic, key, Buffer.from(payload));
      } finally {
        span.end();
      }
    });
  }

  /** Drop handled ids and sent outbox rows older than RETENTION_DAYS. */
  async forgetOld(): Promise<void> {
    const cutoff = new Date(Date.now() - RETENTION_DAYS * 86_400_000);
    await this.db?.transaction(async (q) => {
      await q("DELETE FROM processed_events WHERE processed_at < $1", [cutoff]);
      await q("DELETE FROM outbox WHERE sent_at < $1", [cutoff]);
    });
  }

  /** Record the event id and run its handler in one transaction; false when it was handled
   * before (the insert finds the id). */
  async process(topic: string, event: Event): Promise<boolean> {
    const handler = this.handlers[topic];
    if (handler === undefined) {
      throw new Error(`no handler for ${topic}`);
    }
{%- if ev.inbox %}
    const db = this.db as Db;
    return db.transaction(async (q) => {
      const recorded = await q(
        "INSERT INTO processed_events (event_id, topic) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING event_id",
        [event.event_id, topic],
      );
      if (recorded.length === 0) {
        return false;
      }
      await handler(event, q, this.log);
      return true;
    });
{%- else %}
    const key = `${topic} ${event.event_id}`;
    if (this.seen.has(key)) {
      return false;
    }
    await handler(event, null, this.log);
    this.seen.add(key);
    // Bounded: the oldest ids go first.
    for (const old of this.seen) {
      if (this.seen.size <= 100_000) {
        break;
      }
      this.seen.delete(old);
    }
    return true;
{%- endif %}
  }

  /** Send a message its handler could not take to `<topic>.dlq`, with why and how often it
   * was tried. Without a broker it is logged. Throws BrokerUnavailable when the broker cannot
   * take it (the message is then not acknowledged, and comes again). */
  async deadLetter(topic: string, body: Buffer, error: string, attempts: number): Promise<void> {
    consumed.inc({ topic, outcome: "dead_lettered" });
    if (this.sender === null) {
      this.log.error(`dead letter on ${topic} after ${attempts} tries: ${error}`);
      return;
    }
    const headers = { error: error.slice(0, 1000), attempts: String(attempts), topic };
    await this.sender.send(topic + DEAD_LETTER_SUFFIX, topic, body, headers);
    this.log.warn(`dead-lettered ${topic} after ${attempts} tries: ${error}`);
  }

  /** Take one message: handled, duplicate or dead_lettered. Throws only when a dead letter
   * cannot be sent (the caller must not acknowledge the message then). */
  async handle(topic: string, body: Buffer): Promise<"handled" | "duplicate" | "dead_lettered"> {
    return tracer.startActiveSpan(`consume ${topic}`, { kind: SpanKind.CONSUMER }, async (span) => {
      try {
        return await this.take(topic, body);
      } catch (err) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: String(err) });
        throw err;
      } finally {
        span.end();
      }
    });
  }

  private async take(topic: string, body: Buffer): Promise<"handled" | "duplicate" | "dead_lettered"> {
    let event: Event;
    try {
      event = decode(body, topic);
    } catch (err) {
      if (!(err instanceof PoisonMessage)) {
        throw err;
      }
      await this.deadLetter(topic, body, err.message, 1);
      return "dead_lettered";
    }
    let delay = RETRY_START_MS;
    for (let attempt = 1; ; attempt += 1) {
      try {
        const fresh = await this.process(topic, event);
        const outcome = fresh ? "handled" : "duplicate";
        consumed.inc({ topic, outcome });
        return outcome;
      } catch (err) {
        consumed.inc({ topic, outcome: "error" });
        this.log.warn({ err: String(err) }, `${topic}: try ${attempt} failed`);
        if (attempt >= MAX_ATTEMPTS) {
          await this.deadLetter(topic, body, String(err), attempt);
          return "dead_lettered";
        }
        await sleep(delay);
        delay = Math.min(delay * 2, RETRY_MAX_MS);
      }
    }
  }

  /** Receive the consumed topics: each session connects, consumes until the connection ends,
   * and closes what it opened; the next one starts after a backoff. */
  private async consume(): Promise<void> {
    const backoff = new Backoff(BACKOFF_MAX_MS);
    while (!this.stopping.signal.aborted) {
      try {
        await this.session(backoff);
      } catch (err) {
        this.log.warn({ err: String(err) }, `event consumer stopped; reconnecting in ${backoff.delay / 1000} s`);
      } finally {
        this.consumerConnected = false;
      }
      await backoff.wait(this.stopping.signal);
    }
  }

  private async session(backoff: Backoff): Promise<void> {
    const group = this.config.SERVICE_NAME;
    const connection = await amqp.connect(this.address, { timeout: 5000 });
    try {
      connection.on("error", (err: Error) => this.log.warn({ err }, "consumer connection error"));
      const closed = new Promise<void>((resolve) => connection.once("close", () => resolve()));
      const channel = await connection.createChannel();
      channel.on("error", (err: Error) => this.log.warn({ err }, "consumer channel error"));
      channel.once("close", () => void connection.close().catch(() => undefined));
      await channel.prefetch(PREFETCH);
      await channel.assertExchange(EXCHANGE, "topic", { durable: true });
      await channel.assertExchange(DEAD_LETTER_EXCHANGE, "topic", { durable: true });
      const queues: Array<[string, string]> = [];
      for (const topic of CONSUMES) {
        const name = `${group}.${topic}`;
        // What the broker itself rejects goes to the dead-letter exchange too.
        await channel.assertQueue(name, {
          durable: true,
          arguments: { "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE, "x-dead-letter-routing-key": topic + DEAD_LETTER_SUFFIX },
        });
        await channel.bindQueue(name, EXCHANGE, topic);
        await channel.assertQueue(name + DEAD_LETTER_SUFFIX, { durable: true });
        await channel.bindQueue(name + DEAD_LETTER_SUFFIX, DEAD_LETTER_EXCHANGE, topic + DEAD_LETTER_SUFFIX);
        await channel.consume(name, (message) => {
          if (message !== null) {
            // Acknowledged once handled, duplicate or dead-lettered; requeued when the dead
            // letter could not be sent.
            this.handle(topic, message.content).then(
              () => channel.ack(message),
              () => channel.nack(message, false, true),
            ).catch(() => undefined);
          }
        });
        queues.push([topic, name]);
      }
      this.consumerConnected = true;
      backoff.reset();
      this.log.info(`event consumer connected (group ${group})`);
      const stopped = new Promise<void>((resolve) => this.stopping.signal.addEventListener("abort", () => resolve(), { once: true }));
      for (;;) {
        const tick = sleep(PROBE_TIMEOUT_MS, "tick", { ref: false });
        const why = await Promise.race([tick, closed.then(() => "closed"), stopped.then(() => "stopped")]);
        if (why !== "tick") {
          if (why === "closed") {
            throw new Error("the broker closed the connection");
          }
          return;
        }
        for (const [topic, name] of queues) {
          const waiting = await channel.checkQueue(name);
          consumerLag.set({ topic, partition: "0" }, waiting.messageCount);
        }
      }
    } finally {
      this.consumerConnected = false;
      await connection.close().catch(() => undefined);
    }
  }
}
