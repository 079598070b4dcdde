{%- set svc = service %}{%- set mq = m.messaging %}{%- set ev = svc.events %}{%- set mysql = svc.database and svc.database.mysql %}{{ header }}
// Events of the {{ svc.name.raw }} service through {{ mq.broker }} (src/broker.ts), with the Python services'
// semantics (ADR 0009: docs/adr/0009-event-delivery.md).
//
// Publishes: {% if svc.publishes %}{% for t in svc.publishes %}`{{ t.raw }}`{% if not loop.last %}, {% endif %}{% endfor %}{% else %}nothing{% endif %}.
// Consumes: {% if svc.consumes %}{% for t in svc.consumes %}`{{ t.raw }}`{% if not loop.last %}, {% endif %}{% endfor %}{% else %}nothing{% endif %}.
{%- if ev.in_process %}
// Delivered in-process (published and consumed by this app's modules): {% for t in ev.in_process %}`{{ t.raw }}`{% if not loop.last %}, {% endif %}{% endfor %}.
{%- endif %}
//
// Publishing is a transactional outbox: `enqueue` adds the event to the `outbox` table in the
// transaction of the row it describes, so the event exists exactly when the row does, whether
// the broker is up or not. The relay (one background loop) sends unsent rows in order
{%- if ev.in_process %} (or hands the in-process topics to their handlers){% endif %}, marks
// them sent, and on a failure stops and retries with capped backoff: at-least-once, in order.
//
// Every event is an envelope `{"event_id", "topic", "key", "occurred_at", "data"}`; consumers
// remember handled `event_id`s{% if ev.inbox %} in `processed_events` (in the transaction of the handler's
// own writes){% else %} in memory{% endif %}, so a redelivered event has no second effect. A handler is tried
// {{ ev.max_attempts }} times with capped backoff; then, or at once for a message that is not a valid
// envelope of its topic's schema, the message goes to {% if mq.is_sqs %}this service's dead-letter queue of the
// topic{% else %}`<topic>.dlq`{% endif %} (with the error and the attempt count as {% if mq.is_sqs %}message attributes{% else %}headers{% endif %}) and the consumer
// moves on.
//
// The broker may be down when the service starts, or go away later: the publisher and the
// consumer each connect in a background loop, retrying with capped exponential backoff (0.5 s
// doubling to 30 s), so start-up never waits for the broker; `/readyz` reports
// `broker: unreachable` meanwhile.
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import type { FastifyBaseLogger } from "fastify";
import client from "prom-client";
import { BACKOFF_MAX_MS, Backoff, brokerAddress, BrokerUnavailable, type Consumption, consumeSession, DEAD_LETTER_SUFFIX, Publisher, reachable, type Sender } from "./broker.js";
import type { Settings } from "./config.js";
import { param, storedUuid, type Db, type Query, type Row } from "./db.js";
import { schemas } from "./event-schemas.js";
import { registry } from "./health.js";

export const PUBLISHES: readonly string[] = [{% for t in svc.publishes %}"{{ t.raw }}"{% if not loop.last %}, {% endif %}{% endfor %}];
export const CONSUMES: readonly string[] = [{% for t in svc.consumes %}"{{ t.raw }}"{% if not loop.last %}, {% endif %}{% endfor %}];
export { BrokerUnavailable, DEAD_LETTER_SUFFIX, type Sender };
// A monolith's own topics (its modules publish and consume them): the relay hands them to the
// handlers, with or without a broker. The other consumed topics come from the broker.
export const IN_PROCESS: readonly string[] = [{% for t in ev.in_process %}"{{ t.raw }}"{% if not loop.last %}, {% endif %}{% endfor %}];
const FROM_BROKER: readonly string[] = [{% for t in ev.from_broker %}"{{ t.raw }}"{% if not loop.last %}, {% endif %}{% endfor %}];
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
{%- if mysql %}
// Only one relay per database sends at a time (MySQL's named lock, held by the relay's connection
// for one batch), so events leave in outbox order even with several replicas. The same key as the
// Python services', with the database's name: the names are the server's, not the database's.
const RELAY_LOCK = "outbox-relay-7346001-";
{%- else %}
// Only one relay per database sends at a time (a transaction-scoped advisory lock), so events
// leave in outbox order even with several replicas. The same key as the Python services'.
const RELAY_LOCK = 7_346_001;
{%- endif %}

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
    this.address = brokerAddress(config);
    this.handlers = options.handlers ?? handlers;
    this.publisher = options.sender === undefined && this.address
      ? new Publisher(this.address, config, log, this.stopping.signal)
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
    if (this.address && FROM_BROKER.length > 0) {
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
    if (FROM_BROKER.length > 0 && !this.consumerConnected) {
      return "unreachable";
    }
    return (await reachable(this.address)) ? "ok" : "unreachable";
  }

  /** Add one event to the outbox through `q`, in the transaction of the row it describes. */
  async enqueue(q: Query, topic: string, key: string, data: Row): Promise<void> {
    const event = envelope(topic, key, data);
    await q(`INSERT INTO outbox (event_id, topic, aggregate_key, payload) VALUES (${param(1)}, ${param(2)}, ${param(3)}, ${param(4)})`, [
      storedUuid(event.event_id),
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
{%- if mysql %}
    // MySQL's named lock belongs to the connection, not the transaction: the batch runs on the
    // transaction's one connection, which gives the lock back before it returns to the pool.
    return db.transaction(async (q) => {
      // A lock name is at most 64 characters.
      const [lock] = await q("SELECT GET_LOCK(LEFT(CONCAT(?, DATABASE()), 64), 0) AS locked", [RELAY_LOCK]);
      if (Number(lock?.locked) !== 1) {
        return { sent: 0, failed: false };
      }
      try {
        return await this.sendBatch(q);
      } finally {
        await q("SELECT RELEASE_LOCK(LEFT(CONCAT(?, DATABASE()), 64))", [RELAY_LOCK]);
      }
    });
{%- else %}
    return db.transaction(async (q) => {
      const [lock] = await q("SELECT pg_try_advisory_xact_lock($1) AS locked", [RELAY_LOCK]);
      if (lock?.locked !== true) {
        return { sent: 0, failed: false };
      }
      return this.sendBatch(q);
    });
{%- endif %}
  }

  /** The batch of `drain`, in its transaction: each row sent (or handed over) and marked sent. */
  private async sendBatch(q: Query): Promise<{ sent: number; failed: boolean }> {
    const rows = await q(
      `SELECT id, topic, aggregate_key, payload FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT ${param(1)}`,
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
        await q(`UPDATE outbox SET attempts = attempts + 1, last_error = ${param(1)} WHERE id = ${param(2)}`, [
          String(err).slice(0, 1000),
          row.id,
        ]);
        failed = true;
        break;
      }
      await q(`UPDATE outbox SET sent_at = now() WHERE id = ${param(1)}`, [row.id]);
      published.inc({ topic });
      sent += 1;
    }
    const [waiting] = await q("SELECT count(*) AS n FROM outbox WHERE sent_at IS NULL");
    outboxBacklog.set(Number(waiting?.n ?? 0));
    return { sent, failed };
  }

  private async deliver(topic: string, key: string, payload: string): Promise<void> {
    if (IN_PROCESS.includes(topic)) {
      // This app's own topic: its handlers take it here (their idempotency, retries and dead
      // letters included), whether the broker is up or not.
      if ((await this.handle(topic, Buffer.from(payload))) === "dead_lettered") {
        this.log.error(`in-process ${topic} event dead-lettered`);
      }
      return;
    }
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
      await q(`DELETE FROM processed_events WHERE processed_at < ${param(1)}`, [cutoff]);
      await q(`DELETE FROM outbox WHERE sent_at < ${param(1)}`, [cutoff]);
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
{%- if mysql %}
      // INSERT IGNORE: a known id inserts nothing (no row counted) instead of failing.
      await q("INSERT IGNORE INTO processed_events (event_id, topic) VALUES (?, ?)", [storedUuid(event.event_id), topic]);
      const [recorded] = await q("SELECT ROW_COUNT() AS n");
      if (Number(recorded?.n) === 0) {
        return false;
      }
{%- else %}
      const recorded = await q(
        "INSERT INTO processed_events (event_id, topic) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING event_id",
        [event.event_id, topic],
      );
      if (recorded.length === 0) {
        return false;
      }
{%- endif %}
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
    const consumption: Consumption = {
      topics: FROM_BROKER,
      take: (topic, body) => this.handle(topic, body),
      ready: () => {
        this.consumerConnected = true;
        backoff.reset();
      },
      lag: (topic, partition, count) => consumerLag.set({ topic, partition }, count),
    };
    try {
      await consumeSession(this.address, this.config, this.log, this.stopping.signal, consumption);
    } finally {
      this.consumerConnected = false;
    }
  }
}
