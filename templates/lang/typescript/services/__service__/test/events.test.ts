{%- set svc = service %}{%- set ev = svc.events %}{{ header }}
// The events against the real database: {% if ev.outbox %}the outbox written in the row's transaction and sent
// in order by the relay, kept while the broker is down{% endif %}{% if ev.outbox and svc.consumes %}; {% endif %}{% if svc.consumes %}each consumed event handled once, a
// redelivery a duplicate, a failing handler retried, then dead-lettered with a poison message{% endif %}.
// A recording sender stands in for the broker (the system test runs the real one).
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, test } from "node:test";
import Fastify from "fastify";
import { buildApp } from "../src/app.js";
import { CONSUMES, {% if svc.consumes %}envelope, {% endif %}Events, {% if svc.ts.has_consumed_sample %}MAX_ATTEMPTS, {% endif %}{% if ev.outbox and svc.ts.sent %}outboxBacklog, {% endif %}type Event, type Handler, type Sender } from "../src/events.js";
{%- if ev.outbox or (ev.inbox and svc.ts.has_consumed_sample) %}
import { param{% if (ev.outbox and svc.ts.has_published_sample) or (ev.inbox and svc.ts.has_consumed_sample) %}, storedUuid{% endif %} } from "../src/db.js";
{%- endif %}
import { {% if ev.outbox and svc.ts.has_published_sample %}admin, {% endif %}config, db, prepareSchema, verify } from "./support.js";

class Recorder implements Sender {
  connected = true;
  failing = false;
  sent: Array<{ topic: string; key: string; body: string; headers: Record<string, string> }> = [];
  async send(topic: string, key: string, body: Buffer, headers: Record<string, string> = {}): Promise<void> {
    if (this.failing) {
      throw new Error("broker down");
    }
    this.sent.push({ topic, key, body: body.toString(), headers });
  }
}

const sender = new Recorder();
// Handler runs by event id; `failing` makes every handler throw.
const runs = new Map<string, number>();
const handlerState = { failing: false };
const counting: Handler = async (event: Event) => {
  if (handlerState.failing) {
    throw new Error("the handler failed");
  }
  runs.set(event.event_id, (runs.get(event.event_id) ?? 0) + 1);
};
const handlers = Object.fromEntries(CONSUMES.map((topic) => [topic, counting]));
const events = new Events(config, db ?? null, Fastify({ logger: false }).log, { sender, handlers });
const app = buildApp({ config, verify, db, cacheStore: null, events });
before(prepareSchema);
after(async () => {
  await app.close();
  await db?.end();
});

/** A fresh value for a unique text field. */
{% include "lang/typescript/_partials/fresh.tera" %}
void fresh;

/** Run the relay until the outbox is empty (or a send fails). */
async function drainAll(): Promise<void> {
  for (;;) {
    const { sent, failed } = await events.drain();
    if (sent === 0 || failed) {
      return;
    }
  }
}
void drainAll;

test("readiness reports the broker and is not ready until it is connected", async () => {
  const unstarted = buildApp({ config, verify, db, cacheStore: null });
  try {
    const res = await unstarted.inject({ method: "GET", url: "{{ svc.ready_path }}" });
    const body = res.json() as { checks: Record<string, string> };
    assert.equal(res.statusCode, 503);
    assert.equal(body.checks.broker, "unreachable");
  } finally {
    await unstarted.close();
  }
});
{%- if ev.outbox %}
{%- for e in svc.ts.entities %}{% if e.publishes and e.sample and not e.references %}
{%- for t in e.publishes %}{% if t in svc.ts.sent %}

test("{{ e.name }}: a new row writes its {{ t }} event to the outbox, and the relay sends it", async () => {
  const payload: Record<string, unknown> = {{ e.sample }};
{%- for u in e.unique %}
  payload["{{ u.name }}"] = fresh("{{ u.form }}", {{ u.max_length }});
{%- endfor %}
  const created = await app.inject({ method: "POST", url: "{{ e.api_path }}", headers: await admin(), payload });
  assert.equal(created.statusCode, 201, created.body);
  const row = created.json() as Record<string, unknown>;
  const key = String(row["{{ e.pk }}"]);
  const [stored] = await db.query(null, `SELECT event_id, payload, sent_at FROM outbox WHERE topic = ${param(1)} AND aggregate_key = ${param(2)}`, ["{{ t }}", key]);
  assert.ok(stored, "no outbox row for the new row");
  assert.equal(stored.sent_at, null);
  const event = JSON.parse(String(stored.payload)) as Event;
  assert.equal(event.topic, "{{ t }}");
  assert.deepEqual(event.data, row);
  await drainAll();
  const message = sender.sent.find((m) => m.topic === "{{ t }}" && m.key === key);
  assert.ok(message, "the relay did not send the event");
  assert.equal(storedUuid((JSON.parse(message.body) as Event).event_id), String(stored.event_id));
  const [marked] = await db.query(null, `SELECT sent_at FROM outbox WHERE event_id = ${param(1)}`, [stored.event_id]);
  assert.notEqual(marked?.sent_at, null);
});
{%- endif %}{% endfor %}
{%- endif %}{% endfor %}

test("an event enqueued in a transaction that rolls back is never written", async () => {
  const key = randomUUID();
  await assert.rejects(
    db.transaction(async (q) => {
      await events.enqueue(q, "{{ svc.publishes[0].raw }}", key, { id: key });
      throw new Error("the row's write failed");
    }),
  );
  const rows = await db.query(null, `SELECT 1 FROM outbox WHERE aggregate_key = ${param(1)}`, [key]);
  assert.equal(rows.length, 0);
});
{%- if svc.ts.sent %}

test("an event the broker does not take stays in the outbox, counted, and is sent once it is back", async () => {
  const key = randomUUID();
  await db.transaction((q) => events.enqueue(q, "{{ svc.ts.sent[0] }}", key, { id: key }));
  sender.failing = true;
  try {
    const { failed } = await events.drain();
    assert.equal(failed, true);
    const [waiting] = await db.query(null, `SELECT sent_at, attempts, last_error FROM outbox WHERE aggregate_key = ${param(1)}`, [key]);
    assert.equal(waiting?.sent_at, null);
    assert.ok(Number(waiting?.attempts) >= 1);
    assert.match(String(waiting?.last_error), /broker down/);
    const backlog = await outboxBacklog.get();
    assert.ok((backlog.values[0]?.value ?? 0) >= 1);
  } finally {
    sender.failing = false;
  }
  await drainAll();
  const [sent] = await db.query(null, `SELECT sent_at FROM outbox WHERE aggregate_key = ${param(1)}`, [key]);
  assert.notEqual(sent?.sent_at, null);
  assert.ok(sender.sent.some((m) => m.key === key));
});
{%- endif %}
{%- endif %}
{%- for c in svc.ts.consumed %}

test("{{ c.topic }}: a message that is not an event goes to {{ c.topic }}.dlq with the error", async () => {
  const outcome = await events.handle("{{ c.topic }}", Buffer.from("{not json"));
  assert.equal(outcome, "dead_lettered");
  const letter = sender.sent.find((m) => m.topic === "{{ c.topic }}.dlq" && m.body === "{not json");
  assert.ok(letter, "no dead letter sent");
  assert.equal(letter.headers.attempts, "1");
  assert.match(letter.headers.error ?? "", /not JSON/);
});

test("{{ c.topic }}: an envelope that breaks the topic's schema is dead-lettered, not handled", async () => {
  const event = envelope("{{ c.topic }}", "k", { unexpected: true });
  const outcome = await events.handle("{{ c.topic }}", Buffer.from(JSON.stringify(event)));
  assert.equal(outcome, "dead_lettered");
  assert.equal(runs.get(event.event_id), undefined);
});
{%- if c.sample %}

test("{{ c.topic }}: an event is handled once; its redelivery is a duplicate", async () => {
  const event = envelope("{{ c.topic }}", "k", {{ c.sample }});
  const body = Buffer.from(JSON.stringify(event));
  assert.equal(await events.handle("{{ c.topic }}", body), "handled");
  assert.equal(await events.handle("{{ c.topic }}", body), "duplicate");
  assert.equal(runs.get(event.event_id), 1);
{%- if ev.inbox %}
  const recorded = await db.query(null, `SELECT 1 FROM processed_events WHERE event_id = ${param(1)} AND topic = ${param(2)}`, [
    storedUuid(event.event_id),
    "{{ c.topic }}",
  ]);
  assert.equal(recorded.length, 1);
{%- endif %}
});

test("{{ c.topic }}: a failing handler is tried {{ ev.max_attempts }} times, then its event is dead-lettered", async () => {
  const event = envelope("{{ c.topic }}", "k", {{ c.sample }});
  handlerState.failing = true;
  try {
    assert.equal(await events.handle("{{ c.topic }}", Buffer.from(JSON.stringify(event))), "dead_lettered");
  } finally {
    handlerState.failing = false;
  }
  const letter = sender.sent.find((m) => m.topic === "{{ c.topic }}.dlq" && m.body.includes(event.event_id));
  assert.equal(letter?.headers.attempts, String(MAX_ATTEMPTS));
{%- if ev.inbox %}
  // Rolled back with the handler: the event is not recorded as handled.
  const recorded = await db.query(null, `SELECT 1 FROM processed_events WHERE event_id = ${param(1)}`, [storedUuid(event.event_id)]);
  assert.equal(recorded.length, 0);
{%- endif %}
});
{%- if c.in_process %}

test("{{ c.topic }}: this app's own event goes from the outbox to its handler once, never to the broker", async () => {
  const key = randomUUID();
  await db.transaction((q) => events.enqueue(q, "{{ c.topic }}", key, {{ c.sample }}));
  const [stored] = await db.query(null, `SELECT event_id, payload FROM outbox WHERE aggregate_key = ${param(1)}`, [key]);
  assert.ok(stored, "no outbox row");
  const eventId = (JSON.parse(String(stored.payload)) as Event).event_id;
  await drainAll();
  assert.equal(runs.get(eventId), 1, "the relay did not hand the event to its handler");
  const [marked] = await db.query(null, `SELECT sent_at FROM outbox WHERE event_id = ${param(1)}`, [stored.event_id]);
  assert.notEqual(marked?.sent_at, null);
  // Handed over again (as after a crash before it was marked sent): a duplicate, no second run.
  await db.query(null, `UPDATE outbox SET sent_at = NULL WHERE event_id = ${param(1)}`, [stored.event_id]);
  await drainAll();
  assert.equal(runs.get(eventId), 1);
  assert.ok(!sender.sent.some((m) => m.topic === "{{ c.topic }}" && m.key === key), "sent to the broker");
});
{%- endif %}
{%- endif %}
{%- endfor %}
