{%- set svc = service %}{{ header }}
// The Lambda functions as AWS calls them: API Gateway (payload 2.0) events with the claims the
// authorizer verified, SQS batches of EventBridge events, the environment Terraform sets, and the
// bundles whose `handler` export the Terraform names.
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, test } from "node:test";
import { pathToFileURL } from "node:url";
import type { {% if svc.ts.functions.has_http %}APIGatewayProxyEventV2, {% endif %}Context{% if svc.ts.functions.has_queue %}, SQSEvent{% endif %} } from "aws-lambda";
import * as handlers from "../src/handlers.js";
import { {% if svc.ts.functions.has_http and svc.ts.entities %}ADMIN_CLAIMS, {% endif %}db, prepareSchema } from "./support.js";

const context = { functionName: "test", awsRequestId: "test" } as Context;
before(prepareSchema);
after(async () => {
  await db?.end();
});
{%- if svc.ts.functions.has_http %}

/** An HTTP API event; `claims` undefined is a route without the authorizer. */
function httpEvent(method: string, rawPath: string, body?: unknown, claims?: Record<string, unknown>): APIGatewayProxyEventV2 {
  return {
    version: "2.0",
    routeKey: `ANY ${rawPath}`,
    rawPath,
    rawQueryString: "",
    headers: { "content-type": "application/json" },
    requestContext: {
      accountId: "123456789012",
      apiId: "test",
      domainName: "localhost",
      domainPrefix: "localhost",
      http: { method, path: rawPath, protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "test" },
      requestId: "test",
      routeKey: `ANY ${rawPath}`,
      stage: "$default",
      time: "",
      timeEpoch: 0,
      ...(claims ? { authorizer: { jwt: { claims, scopes: [] } } } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    isBase64Encoded: false,
  } as APIGatewayProxyEventV2;
}
{%- endif %}

/** Set exactly `names` (the test database stands for the proxy) while `run` runs. */
async function withEnvironment(names: readonly string[], run: () => Promise<void>): Promise<void> {
  const saved = { ...process.env };
  for (const name of names) {
    process.env[name] ??= name === "DB_PORT" ? "5432" : "test";
  }
  try {
    await run();
  } finally {
    process.env = saved;
  }
}
{%- for f in svc.ts.functions.functions %}

test("{{ f.name }}: its bundle exports the handler the Terraform names ({{ f.handler }})", async () => {
  const bundle = path.resolve("dist/lambda/{{ f.module }}.mjs");
  const mod = (await import(pathToFileURL(bundle).href)) as { handler?: unknown };
  assert.equal(typeof mod.handler, "function");
});
{%- if f.env %}

test("{{ f.name }}: a variable Terraform did not set fails its cold start, naming it", async () => {
  const env = [{% for v in f.env %}"{{ v }}"{% if not loop.last %}, {% endif %}{% endfor %}];
  await withEnvironment(env.slice(1), async () => {
    delete process.env[env[0] as string];
{%- if f.trigger == "http" %}
    await assert.rejects(handlers.{{ f.module }}(httpEvent("GET", "/healthz"), context), new RegExp(env[0] as string));
{%- else %}
    await assert.rejects(handlers.{{ f.module }}({ Records: [] }, context), new RegExp(env[0] as string));
{%- endif %}
  });
});
{%- endif %}
{%- if f.trigger == "http" %}
{%- for e in svc.ts.entities %}

test("{{ f.name }}: {{ e.api_path }} answers an API Gateway event with the authorizer's claims", async () => {
  await withEnvironment([{% for v in f.env %}"{{ v }}"{% if not loop.last %}, {% endif %}{% endfor %}], async () => {
    const listed = (await handlers.{{ f.module }}(httpEvent("GET", "{{ e.api_path }}", undefined, ADMIN_CLAIMS), context));
    assert.equal(listed.statusCode, 200, String(listed.body));
    assert.ok(Array.isArray((JSON.parse(String(listed.body)) as { items: unknown }).items));
    const unknown = (await handlers.{{ f.module }}(httpEvent("POST", "{{ e.api_path }}", { not_a_field: 1 }, ADMIN_CLAIMS), context));
    assert.equal(unknown.statusCode, 422);
  });
});

test("{{ f.name }}: {{ e.api_path }} without verified claims is {% if e.write_rule.kind == "public" %}allowed (public){% else %}refused 401{% endif %} for writes", async () => {
  await withEnvironment([{% for v in f.env %}"{{ v }}"{% if not loop.last %}, {% endif %}{% endfor %}], async () => {
    const res = (await handlers.{{ f.module }}(httpEvent("POST", "{{ e.api_path }}", {}), context));
    assert.{% if e.write_rule.kind == "public" %}notEqual{% else %}equal{% endif %}(res.statusCode, 401);
  });
});
{%- endfor %}
{%- else %}

test("{{ f.name }}: a record that is not a `{{ f.topic }}` event is reported alone", async () => {
  await withEnvironment([{% for v in f.env %}"{{ v }}"{% if not loop.last %}, {% endif %}{% endfor %}], async () => {
    const good = { "detail-type": {{ f.topic | json }}, id: "e-1", detail: { id: "x" } };
    const batch = {
      Records: [
        { messageId: "m-good", body: JSON.stringify(good) },
        { messageId: "m-poison", body: "not an event" },
        { messageId: "m-other", body: JSON.stringify({ ...good, "detail-type": "other.topic" }) },
      ],
    } as SQSEvent;
    const out = await handlers.{{ f.module }}(batch, context);
    assert.deepEqual(out.batchItemFailures, [{ itemIdentifier: "m-poison" }, { itemIdentifier: "m-other" }]);
  });
});
{%- endif %}
{%- endfor %}
