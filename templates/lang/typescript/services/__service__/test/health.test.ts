{{ header }}
{%- set tcp = service.ts.connected %}
import assert from "node:assert/strict";
{%- if tcp %}
import { createServer, type AddressInfo } from "node:net";
{%- endif %}
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
{%- if tcp %}

test("a service reached over gRPC or TCP is checked by a connection to its address", async () => {
  const listener = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  const address = `127.0.0.1:${(listener.address() as AddressInfo).port}`;
  const probed = buildApp({ config: { ...config{% for d in tcp %}, {{ d.env_var }}: address{% endfor %} }, verify, db, cacheStore: null });
  try {
    const up = (await probed.inject({ method: "GET", url: "{{ service.ready_path }}" })).json() as { checks: Record<string, string> };
{%- for d in tcp %}
    assert.equal(up.checks["{{ d.ready_key }}"], "ok");
{%- endfor %}
    await new Promise((resolve) => listener.close(resolve));
    const down = (await probed.inject({ method: "GET", url: "{{ service.ready_path }}" })).json() as { checks: Record<string, string> };
{%- for d in tcp %}
    assert.match(down.checks["{{ d.ready_key }}"] ?? "", /^unavailable/);
{%- endfor %}
  } finally {
    listener.close();
    await probed.close();
  }
});
{%- endif %}
