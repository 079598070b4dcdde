{%- set svc = service %}{{ header }}
// CRUD round trips against the real database, and the access rules of each entity.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, test } from "node:test";
import { buildApp } from "../src/app.js";
import { admin, config, db, prepareSchema, verify } from "./support.js";

const app = buildApp({ config, verify, db, cacheStore: null });
before(prepareSchema);
after(async () => {
  await app.close();
  await db?.end();
});

/** A fresh value for a unique text field. */
{% include "lang/typescript/_partials/fresh.tera" %}
void fresh;
{%- if svc.ts.entities | length == 0 %}

test("no entities: no CRUD routes are served", async () => {
  const res = await app.inject({ method: "GET", url: "/api", headers: await admin() });
  assert.equal(res.statusCode, 404);
});
{%- endif %}
{%- for e in svc.ts.entities %}

test("{{ e.name }}: anonymous calls need a token unless the route is public", async () => {
  const res = await app.inject({ method: "GET", url: "{{ e.api_path }}" });
  assert.equal(res.statusCode, {% if e.read_rule.kind == "public" %}200{% else %}401{% endif %});
});

test("{{ e.name }}: an unknown key is a 404", async () => {
  const res = await app.inject({
    method: "GET",
    url: "{{ e.api_path }}/{% if e.int_key %}2147483000{% else %}00000000-0000-4000-8000-00000000dead{% endif %}",
    headers: await admin(),
  });
  assert.equal(res.statusCode, 404);
});

test("{{ e.name }}: an unknown field is refused with 422", async () => {
  const res = await app.inject({
    method: "POST",
    url: "{{ e.api_path }}",
    headers: await admin(),
    payload: { not_a_field: 1 },
  });
  assert.equal(res.statusCode, 422);
});
{%- if e.sample and not e.references %}

test("{{ e.name }}: create, read, list and delete", async () => {
  const headers = await admin();
  const payload: Record<string, unknown> = {{ e.sample }};
{%- for u in e.unique %}
  payload["{{ u.name }}"] = fresh("{{ u.form }}", {{ u.max_length }});
{%- endfor %}
  const created = await app.inject({ method: "POST", url: "{{ e.api_path }}", headers, payload });
  assert.equal(created.statusCode, 201, created.body);
  const row = created.json() as Record<string, unknown>;
  const id = String(row["{{ e.pk }}"]);
  const read = await app.inject({ method: "GET", url: `{{ e.api_path }}/${id}`, headers });
  assert.equal(read.statusCode, 200);
  assert.deepEqual(read.json(), row);
  const page = await app.inject({ method: "GET", url: "{{ e.api_path }}?limit=200", headers });
  assert.equal(page.statusCode, 200);
  assert.ok(Array.isArray((page.json() as { items: unknown[] }).items));
  const removed = await app.inject({ method: "DELETE", url: `{{ e.api_path }}/${id}`, headers });
  assert.equal(removed.statusCode, 204);
  const gone = await app.inject({ method: "GET", url: `{{ e.api_path }}/${id}`, headers });
  assert.equal(gone.statusCode, 404);
});
{%- endif %}
{%- if e.linked_sample %}

test("{{ e.name }}: {% for p in e.parents %}`{{ p.field }}` names an existing {{ p.entity }}{% if not loop.last %}, {% endif %}{% endfor %} (a foreign key)", async () => {
  const headers = await admin();
  const payload: Record<string, unknown> = {{ e.linked_sample }};
{%- for u in e.unique %}
  payload["{{ u.name }}"] = fresh("{{ u.form }}", {{ u.max_length }});
{%- endfor %}
  // The rows it refers to first, through their own routes.
  const parents: string[] = [];
{%- for p in e.parents %}
  const parent{{ loop.index }}: Record<string, unknown> = {{ p.sample }};
{%- for u in p.unique %}
  parent{{ loop.index }}["{{ u.name }}"] = fresh("{{ u.form }}", {{ u.max_length }});
{%- endfor %}
  const made{{ loop.index }} = await app.inject({ method: "POST", url: "{{ p.path }}", headers, payload: parent{{ loop.index }} });
  assert.equal(made{{ loop.index }}.statusCode, 201, made{{ loop.index }}.body);
  payload["{{ p.field }}"] = (made{{ loop.index }}.json() as Record<string, unknown>)["{{ p.pk }}"];
  parents.push(`{{ p.path }}/${String(payload["{{ p.field }}"])}`);
{%- endfor %}
{%- set first = e.parents | first %}

  // A key no row has is refused by the foreign key.
  const unknown = await app.inject({
    method: "POST",
    url: "{{ e.api_path }}",
    headers,
    payload: { ...payload, {{ first.field }}: {{ first.unknown_key }} },
  });
  assert.equal(unknown.statusCode, 422, unknown.body);

  const created = await app.inject({ method: "POST", url: "{{ e.api_path }}", headers, payload });
  assert.equal(created.statusCode, 201, created.body);
  const row = created.json() as Record<string, unknown>;
  const id = String(row["{{ e.pk }}"]);
  const read = await app.inject({ method: "GET", url: `{{ e.api_path }}/${id}`, headers });
  assert.equal(read.statusCode, 200);
  assert.deepEqual(read.json(), row);

  // A row still referred to cannot be deleted; once the referring row is gone it can.
  const blocked = await app.inject({ method: "DELETE", url: parents[0] ?? "", headers });
  assert.equal(blocked.statusCode, 409, blocked.body);
  assert.equal((await app.inject({ method: "DELETE", url: `{{ e.api_path }}/${id}`, headers })).statusCode, 204);
  for (const url of parents) {
    assert.equal((await app.inject({ method: "DELETE", url, headers })).statusCode, 204);
  }
});
{%- endif %}
{%- endfor %}
