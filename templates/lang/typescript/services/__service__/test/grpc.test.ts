{%- set svc = service %}{%- set g = svc.ts.grpc %}{{ header }}
// The gRPC API against the real database: the health service, the token in the metadata, and
// each entity's RPCs through a client built from the same .proto.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, test } from "node:test";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { buildApp } from "../src/app.js";
import { HEALTH, HEALTH_SERVICE, LOADER, PROTO, RPCS, SERVICE, startGrpc, toMessage } from "../src/grpc.js";
import { admin, config, db, prepareSchema, verify } from "./support.js";

const app = buildApp({ config, verify, db, cacheStore: null });
const api = protoLoader.loadSync(PROTO, LOADER)[SERVICE] as grpc.ServiceDefinition;
let server: grpc.Server;
let client: grpc.Client;

before(async () => {
  await prepareSchema();
  await app.ready();
  const started = await startGrpc(app, 0);
  server = started.server;
  const Client = grpc.makeGenericClientConstructor(api, SERVICE);
  client = new Client(`127.0.0.1:${started.port}`, grpc.credentials.createInsecure());
});
after(async () => {
  client.close();
  server.forceShutdown();
  await app.close();
  await db?.end();
});

type Message = Record<string, unknown>;
type Reply = (err: grpc.ServiceError | null, reply: Message) => void;
type Unary = (this: grpc.Client, request: Message, metadata: grpc.Metadata, callback: Reply) => void;

/** The client's method for an RPC (makeGenericClientConstructor adds one per RPC). */
function method(c: grpc.Client, name: string): Unary {
  const fn = (c as unknown as Record<string, Unary | undefined>)[name];
  if (fn === undefined) throw new Error(`no RPC ${name}`);
  return fn;
}

/** One unary call: its reply, or the error with its gRPC status code. */
function call(rpc: string, request: Message, headers: Record<string, string> = {}): Promise<Message> {
  const metadata = new grpc.Metadata();
  for (const [k, v] of Object.entries(headers)) metadata.set(k, v);
  return new Promise((resolve, reject) => {
    method(client, rpc).call(client, request, metadata, (err, reply) => (err ? reject(err) : resolve(reply)));
  });
}

async function code(p: Promise<unknown>): Promise<grpc.status> {
  try {
    await p;
    return grpc.status.OK;
  } catch (err) {
    return (err as grpc.ServiceError).code;
  }
}

/** The fields a decoded message has set: an unset message field (a null `json`) decodes as null,
 * where toMessage leaves it out. */
function setFields(m: Message): Message {
  return Object.fromEntries(Object.entries(m).filter(([, v]) => v !== null));
}

/** A fresh value for a unique text field. */
{% include "lang/typescript/_partials/fresh.tera" %}
void fresh;

test("the standard health service answers SERVING once the service is ready", async () => {
  const health = HEALTH[HEALTH_SERVICE] as grpc.ServiceDefinition;
  const Health = grpc.makeGenericClientConstructor(health, HEALTH_SERVICE);
  const checker = new Health(client.getChannel().getTarget().replace(/^dns:/, ""), grpc.credentials.createInsecure());
  const check = (service: string) =>
    new Promise<Message>((resolve, reject) => {
      method(checker, "Check").call(checker, { service }, new grpc.Metadata(), (err, reply) => (err ? reject(err) : resolve(reply)));
    });
  try {
    assert.equal((await check("")).status, "SERVING");
    assert.equal((await check(SERVICE)).status, "SERVING");
    assert.equal(await code(check("no.such.Service")), grpc.status.NOT_FOUND);
  } finally {
    checker.close();
  }
});
{%- for e in svc.ts.entities %}{% set r = g.entities[loop.index0] %}

test("{{ e.name }} over gRPC: an unknown key is NOT_FOUND{% if e.read_rule.kind != "public" %}, a call without a token UNAUTHENTICATED{% endif %}", async () => {
  const key = {% if e.int_key %}2147483000{% else %}"00000000-0000-4000-8000-00000000dead"{% endif %};
  assert.equal(await code(call("{{ r.get }}", { {{ r.pk }}: key }, await admin())), grpc.status.NOT_FOUND);
{%- if e.read_rule.kind != "public" %}
  assert.equal(await code(call("{{ r.list }}", {})), grpc.status.UNAUTHENTICATED);
{%- endif %}
});
{%- if e.sample and not e.references %}

test("{{ e.name }} over gRPC: create, read, list and delete", async () => {
  const headers = await admin();
  const payload: Record<string, unknown> = {{ e.sample }};
{%- for u in e.unique %}
  payload["{{ u.name }}"] = fresh("{{ u.form }}", {{ u.max_length }});
{%- endfor %}
  const shape = RPCS[{{ loop.index0 }}]!;
  const created = (await call("{{ r.create }}", toMessage(shape, payload), headers)).{{ r.field }} as Message;
  const key = created["{{ r.pk }}"];
  assert.ok(key !== undefined && key !== "");
  const read = await call("{{ r.get }}", { {{ r.pk }}: key }, headers);
  assert.deepEqual(read.{{ r.field }}, created);
  const http = await app.inject({ method: "GET", url: `{{ e.api_path }}/${String(key)}`, headers });
  assert.equal(http.statusCode, 200, "a row made over gRPC is the HTTP API's row");
  assert.deepEqual(toMessage(shape, http.json() as Message), setFields(created));
  const page = await call("{{ r.list }}", { page_size: 1 }, headers);
  assert.equal((page.items as unknown[]).length, 1);
  await call("{{ r.delete }}", { {{ r.pk }}: key }, headers);
  assert.equal(await code(call("{{ r.get }}", { {{ r.pk }}: key }, headers)), grpc.status.NOT_FOUND);
});
{%- endif %}
{%- endfor %}
