{%- set svc = service %}{{ header }}
// Publishing from the functions: a new row is put on the EventBridge bus once written (EventBridge
// here is the fake of test/support.ts); a put EventBridge refuses fails the request, the row stays.
import assert from "node:assert/strict";
{%- if svc.ts.has_published_sample %}
import { randomUUID } from "node:crypto";
{%- endif %}
import { after, before, test } from "node:test";
{%- if svc.ts.has_published_sample %}
import { buildApp } from "../src/app.js";
{%- endif %}
import { publisher, PublishError } from "../src/events.js";
import { {% if svc.ts.has_published_sample %}admin, {% endif %}bus, {% if svc.ts.has_published_sample %}config, {% endif %}{% if svc.ts.has_published_sample and svc.ts.functions.store == "dynamodb" %}countRows, {% endif %}db, prepareSchema{% if svc.ts.has_published_sample %}, verify{% endif %} } from "./support.js";
{%- if svc.ts.has_published_sample %}

const app = buildApp({ config, verify, db, cacheStore: null });
{%- endif %}
before(prepareSchema);
after(async () => {
{%- if svc.ts.has_published_sample %}
  await app.close();
{%- endif %}
  await db?.end();
});
{%- if svc.ts.has_published_sample %}

/** A value for a unique column that no earlier run used (as test/api.test.ts makes them). */
{% include "lang/typescript/_partials/fresh.tera" %}
void fresh;
{%- endif %}

test("an entry EventBridge refuses is an error naming the topic", async () => {
  bus.refusing = true;
  try {
    await assert.rejects(publisher.publish("{{ svc.publishes[0].raw }}", { id: "x" }), (err: unknown) =>
      err instanceof PublishError && err.message.startsWith("{{ svc.publishes[0].raw }}: InternalFailure"));
  } finally {
    bus.refusing = false;
  }
});
{%- for e in svc.ts.entities %}{% if e.publishes and e.sample and not e.references %}
{%- for t in e.publishes %}

test("{{ e.name }}: a new row is put on the bus as one {{ t }} event, once written", async () => {
  const payload: Record<string, unknown> = {{ e.sample }};
{%- for u in e.unique %}
  payload["{{ u.name }}"] = fresh("{{ u.form }}", {{ u.max_length }});
{%- endfor %}
  const before = bus.put.length;
  const created = await app.inject({ method: "POST", url: "{{ e.api_path }}", headers: await admin(), payload });
  assert.equal(created.statusCode, 201, created.body);
  const row = created.json() as Record<string, unknown>;
  const put = bus.put.slice(before).filter((entry) => entry.DetailType === "{{ t }}");
  assert.equal(put.length, 1, "one event per new row and topic");
  assert.equal(put[0]?.EventBusName, config.EVENT_BUS_NAME);
  assert.equal(put[0]?.Source, config.SERVICE_NAME);
  assert.deepEqual(JSON.parse(String(put[0]?.Detail)), row);
});

test("{{ e.name }}: a {{ t }} event EventBridge refuses fails the request; the row stays written", async () => {
  const payload: Record<string, unknown> = {{ e.sample }};
{%- for u in e.unique %}
  payload["{{ u.name }}"] = fresh("{{ u.form }}", {{ u.max_length }});
{%- endfor %}
{%- if svc.ts.functions.store == "dynamodb" %}
  const count = async () => countRows({{ e.name | json }});
{%- else %}
  const count = async () => Number((await db.query(null, 'SELECT COUNT(*) AS n FROM "{{ e.table }}"'))[0]?.n);
{%- endif %}
  const rows = await count();
  bus.refusing = true;
  try {
    const created = await app.inject({ method: "POST", url: "{{ e.api_path }}", headers: await admin(), payload });
    assert.equal(created.statusCode, 500, created.body);
  } finally {
    bus.refusing = false;
  }
  assert.equal(await count(), rows + 1, "the row is written before its event is put");
});
{%- endfor %}
{%- endif %}{% endfor %}
