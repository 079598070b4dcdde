{%- set svc = service %}{{ header }}
// References to rows of the services this one calls, checked through their API before a
// write: unknown → 422 naming the field, owner down → 503, nothing written either way. The
// owner is played by a local HTTP server answering each lookup with `answer`.
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { buildApp } from "../src/app.js";
import { createClients } from "../src/clients.js";
import { admin, config, db, prepareSchema, token, verify } from "./support.js";

// Used by the owner tests, which only entities with an owner have.
void token;

let answer = 200;
const owner = http.createServer((_req, res) => {
  res.writeHead(answer, { "content-type": "application/json" });
  res.end(JSON.stringify(answer === 200 ? {} : { detail: "not found" }));
});
let ownerUrl = "";
const down = "http://127.0.0.1:1";

before(async () => {
  await prepareSchema();
  await new Promise<void>((resolve) => owner.listen(0, "127.0.0.1", resolve));
  ownerUrl = `http://127.0.0.1:${(owner.address() as AddressInfo).port}`;
});
after(async () => {
  await new Promise<void>((resolve) => owner.close(() => resolve()));
  await db?.end();
});

function appWith(url: string) {
  const clients = createClients({
    ...config,
{%- for c in svc.ts.clients %}
    {{ c.env_var }}: url,
{%- endfor %}
  });
  return buildApp({ config, verify, db, clients, cacheStore: null });
}
{%- for e in svc.ts.entities %}{% if e.references and e.sample %}

test("{{ e.name }}: references are checked through their owner", async () => {
  const headers = await admin();
  const payload = {{ e.sample }};
  const app = appWith(ownerUrl);
  try {
    answer = 404;
    const unknown = await app.inject({ method: "POST", url: "{{ e.api_path }}", headers, payload });
    assert.equal(unknown.statusCode, 422, unknown.body);
    assert.ok(unknown.body.includes("{{ e.references[0].field }}") || unknown.body.includes("does not exist"));
    answer = 200;
    const known = await app.inject({ method: "POST", url: "{{ e.api_path }}", headers, payload });
    assert.equal(known.statusCode, 201, known.body);
    const id = String((known.json() as Record<string, unknown>)["{{ e.pk }}"]);
    const removed = await app.inject({ method: "DELETE", url: `{{ e.api_path }}/${id}`, headers });
    assert.equal(removed.statusCode, 204);
  } finally {
    await app.close();
  }
});

test("{{ e.name }}: the owner down is a 503 and nothing is written", async () => {
  const app = appWith(down);
  try {
    const res = await app.inject({ method: "POST", url: "{{ e.api_path }}", headers: await admin(), payload: {{ e.sample }} });
    assert.equal(res.statusCode, 503, res.body);
  } finally {
    await app.close();
  }
});
{%- if e.owner %}

test("{{ e.name }}: a user creates rows for themselves only", async () => {
  const app = appWith(ownerUrl);
  try {
    answer = 200;
    const headers = { authorization: `Bearer ${await token("00000000-0000-4000-8000-00000000beef")}` };
    const res = await app.inject({ method: "POST", url: "{{ e.api_path }}", headers, payload: {{ e.sample }} });
    assert.equal(res.statusCode, 403, res.body);
  } finally {
    await app.close();
  }
});
{%- endif %}
{%- endif %}{% endfor %}
