{{ header }}
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { buildApp } from "../src/app.js";
import { config, db, prepareSchema, verify } from "./support.js";

const app = buildApp({ config, verify, db, cacheStore: null });
before(prepareSchema);
after(async () => {
  await app.close();
  await db?.end();
});

test("liveness answers without checking anything", async () => {
  const res = await app.inject({ method: "GET", url: "{{ service.health_path }}" });
  assert.equal(res.statusCode, 200);
});

test("readiness names its checks", async () => {
  const res = await app.inject({ method: "GET", url: "{{ service.ready_path }}" });
  const body = res.json() as { status: string; checks: Record<string, string> };
  assert.ok(["ready", "unavailable"].includes(body.status));
{%- if service.database %}
  assert.equal(body.checks.database, "ok");
  assert.equal(body.checks.schema, "ok");
{%- endif %}
});

test("metrics count requests by route template", async () => {
  await app.inject({ method: "GET", url: "{{ service.health_path }}" });
  const res = await app.inject({ method: "GET", url: "{{ service.metrics_path }}" });
  assert.equal(res.statusCode, 200);
  assert.ok(res.body.includes('http_requests_total{method="GET",route="{{ service.health_path }}",status="200"}'));
});
