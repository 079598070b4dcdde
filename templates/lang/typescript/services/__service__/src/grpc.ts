{%- set svc = service %}{%- set g = svc.ts.grpc %}{{ header }}
// The gRPC API on GRPC_PORT: {{ g.proto_file }} (the same file as proto/ at the root of the
// repository) and the standard health service (grpc.health.v1.Health/Check, SERVING while
// {{ svc.ready_path }} is ready).
//
// Each RPC is answered by the HTTP route it stands for, in process (Fastify's inject): the same
// validation, access rules, checked references, cache and events as over HTTP, written once. The
// caller's JWT comes in the `authorization` metadata (`Bearer <token>`), its request id in
// `x-request-id`, its trace in `traceparent`. HTTP statuses become gRPC codes (401
// UNAUTHENTICATED, 403 PERMISSION_DENIED, 404 NOT_FOUND, 409 ALREADY_EXISTS or
// FAILED_PRECONDITION, 422 INVALID_ARGUMENT, 503 UNAVAILABLE). Every RPC is a span, a log line
// and a sample of grpc_server_handled_total and grpc_server_handling_seconds (the route it
// calls is counted under the HTTP metrics too).
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { context, propagation, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import client from "prom-client";
import { registry } from "./health.js";

export const PROTO = fileURLToPath(new URL("../../{{ g.proto_file }}", import.meta.url));
export const SERVICE = "{{ g.service }}";
// Field names as in the .proto, 64-bit integers as numbers (as the HTTP API writes them), enums by
// name; proto3 `optional` fields that are not set stay unset.
export const LOADER: protoLoader.Options = { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true };

const handled = new client.Counter({
  name: "grpc_server_handled_total",
  help: "RPCs completed by service, method and status code.",
  labelNames: ["grpc_service", "grpc_method", "grpc_code"],
  registers: [registry],
});
const handling = new client.Histogram({
  name: "grpc_server_handling_seconds",
  help: "RPC duration by service and method.",
  labelNames: ["grpc_service", "grpc_method"],
  registers: [registry],
});

type Message = Record<string, unknown>;
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** How one entity's message differs from its JSON row. */
interface Shape {
  timestamps: readonly string[];
  structs: readonly string[];
  /** Per enum column: proto value name -> JSON value. */
  enums: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/** The RPCs of one entity and the HTTP route each stands for. */
interface Rpcs extends Shape {
  path: string;
  pk: string;
  field: string;
  get: string;
  list: string;
  create: string;
  delete: string;
}

export const RPCS: readonly Rpcs[] = [
{%- for r in g.entities %}
  {
    path: "{{ r.path }}",
    pk: "{{ r.pk }}",
    field: "{{ r.field }}",
    get: "{{ r.get }}",
    list: "{{ r.list }}",
    create: "{{ r.create }}",
    delete: "{{ r.delete }}",
    timestamps: [{% for c in r.timestamps %}"{{ c }}"{% if not loop.last %}, {% endif %}{% endfor %}],
    structs: [{% for c in r.structs %}"{{ c }}"{% if not loop.last %}, {% endif %}{% endfor %}],
    enums: {
{%- for en in r.enums %}
      {{ en.column }}: { {% for v in en.values %}{{ v[0] }}: {{ v[1] | json }}{% if not loop.last %}, {% endif %}{% endfor %} },
{%- endfor %}
    },
  },
{%- endfor %}
];

/** An RPC's failure: a gRPC status code and its message. */
class RpcError extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
  }
}

function codeOf(status: number, creating: boolean): grpc.status {
  switch (status) {
    case 400:
    case 422:
      return grpc.status.INVALID_ARGUMENT;
    case 401:
      return grpc.status.UNAUTHENTICATED;
    case 403:
      return grpc.status.PERMISSION_DENIED;
    case 404:
      return grpc.status.NOT_FOUND;
    case 409:
      return creating ? grpc.status.ALREADY_EXISTS : grpc.status.FAILED_PRECONDITION;
    case 502:
    case 503:
      return grpc.status.UNAVAILABLE;
    case 504:
      return grpc.status.DEADLINE_EXCEEDED;
    default:
      return grpc.status.INTERNAL;
  }
}

/** The HTTP answer's body, or the RpcError its status stands for. */
function answer(res: LightMyRequestResponse, creating = false): Message {
  if (res.statusCode < 300) {
    return res.statusCode === 204 ? {} : (res.json() as Message);
  }
  let detail: unknown = res.body;
  try {
    detail = (res.json() as { detail?: unknown }).detail ?? res.body;
  } catch {
    // Not JSON: the body as it is.
  }
  throw new RpcError(codeOf(res.statusCode, creating), typeof detail === "string" ? detail : JSON.stringify(detail));
}

// --- Between proto messages and JSON rows ---

/** `2024-05-01T10:00:00.123456Z` -> a google.protobuf.Timestamp (to the microsecond). */
function toTimestamp(iso: string): Message {
  const [, fraction = ""] = /\.(\d+)/.exec(iso) ?? [];
  const seconds = Math.floor(Date.parse(iso.replace(/\.\d+/, "")) / 1000);
  return { seconds, nanos: Number(fraction.padEnd(9, "0").slice(0, 9)) };
}

function fromTimestamp(t: Message): string {
  const seconds = Number(t.seconds ?? 0);
  const nanos = Number(t.nanos ?? 0);
  const whole = new Date(seconds * 1000).toISOString().slice(0, 19);
  return `${whole}.${String(nanos).padStart(9, "0").slice(0, 6)}Z`;
}

/** A JSON value -> a google.protobuf.Value. */
function toValue(v: Json): Message {
  if (v === null) return { nullValue: "NULL_VALUE" };
  if (typeof v === "boolean") return { boolValue: v };
  if (typeof v === "number") return { numberValue: v };
  if (typeof v === "string") return { stringValue: v };
  if (Array.isArray(v)) return { listValue: { values: v.map(toValue) } };
  return { structValue: toStruct(v) };
}

function toStruct(o: { [key: string]: Json }): Message {
  return { fields: Object.fromEntries(Object.entries(o).map(([k, v]) => [k, toValue(v)])) };
}

function fromValue(v: Message): Json {
  if ("boolValue" in v && v.boolValue !== undefined) return Boolean(v.boolValue);
  if ("numberValue" in v && v.numberValue !== undefined) return Number(v.numberValue);
  if ("stringValue" in v && v.stringValue !== undefined) return String(v.stringValue);
  if ("listValue" in v && v.listValue) return ((v.listValue as Message).values as Message[] | undefined ?? []).map(fromValue);
  if ("structValue" in v && v.structValue) return fromStruct(v.structValue as Message);
  return null;
}

function fromStruct(s: Message): { [key: string]: Json } {
  const fields = (s.fields ?? {}) as Record<string, Message>;
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, fromValue(v)]));
}

/** A JSON row as its proto message: unset where the row has null. */
export function toMessage(shape: Shape, row: Message): Message {
  const out: Message = {};
  for (const [k, v] of Object.entries(row)) {
    if (v === null || v === undefined) continue;
    if (shape.timestamps.includes(k)) out[k] = toTimestamp(String(v));
    else if (shape.structs.includes(k)) out[k] = toStruct(v as { [key: string]: Json });
    else if (shape.enums[k]) out[k] = Object.entries(shape.enums[k]).find(([, j]) => j === v)?.[0] ?? v;
    else out[k] = v;
  }
  return out;
}

/** A request message as the JSON body of the HTTP route: only the fields that are set. */
function toRow(shape: Shape, message: Message): Message {
  const out: Message = {};
  for (const [k, v] of Object.entries(message)) {
    if (v === null || v === undefined) continue;
    if (shape.timestamps.includes(k)) out[k] = fromTimestamp(v as Message);
    else if (shape.structs.includes(k)) out[k] = fromStruct(v as Message);
    else if (shape.enums[k]) {
      const value = shape.enums[k][String(v)];
      if (value !== undefined) out[k] = value;
    } else out[k] = v;
  }
  return out;
}

// --- The server ---

/** The HTTP headers an RPC's metadata carries over to its route. */
function headersOf(metadata: grpc.Metadata): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of ["authorization", "x-request-id"]) {
    const value = metadata.get(name)[0];
    if (value !== undefined) headers[name] = String(value);
  }
  return headers;
}

type Handler = (request: Message, headers: Record<string, string>) => Promise<Message>;

function entityHandlers(app: FastifyInstance, r: Rpcs): Record<string, Handler> {
  const item = (key: unknown) => `${r.path}/${encodeURIComponent(String(key))}`;
  return {
    [r.get]: async (req, headers) => ({
      [r.field]: toMessage(r, answer(await app.inject({ method: "GET", url: item(req[r.pk]), headers }))),
    }),
    [r.list]: async (req, headers) => {
      const query: Record<string, string> = {};
      if (req.page_size) query.limit = String(req.page_size);
      if (req.page_token) query.after = String(req.page_token);
      const page = answer(await app.inject({ method: "GET", url: r.path, query, headers }));
      const next = page.next;
      return {
        items: (page.items as Message[]).map((row) => toMessage(r, row)),
        next_page_token: next === null || next === undefined ? "" : String(next),
      };
    },
    [r.create]: async (req, headers) => {
      const res = await app.inject({ method: "POST", url: r.path, headers, payload: toRow(r, req) });
      return { [r.field]: toMessage(r, answer(res, true)) };
    },
    [r.delete]: async (req, headers) => answer(await app.inject({ method: "DELETE", url: item(req[r.pk]), headers })),
  };
}

/** A unary handler: the RPC in its span, then its log line and metrics. */
function unary(app: FastifyInstance, method: string, handler: Handler): grpc.handleUnaryCall<Message, Message> {
  const tracer = trace.getTracer("grpc");
  return (call, callback) => {
    const started = process.hrtime.bigint();
    const parent = propagation.extract(context.active(), call.metadata.getMap());
    const headers = headersOf(call.metadata);
    const span = tracer.startSpan(`${SERVICE}/${method}`, {
      kind: SpanKind.SERVER,
      attributes: { "rpc.system": "grpc", "rpc.service": SERVICE, "rpc.method": method },
    }, parent);
    const done = (code: grpc.status, err: Error | null, reply?: Message) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      handled.inc({ grpc_service: SERVICE, grpc_method: method, grpc_code: grpc.status[code] });
      handling.observe({ grpc_service: SERVICE, grpc_method: method }, seconds);
      const ids = span.spanContext();
      app.log.info({
        grpc_method: `${SERVICE}/${method}`,
        grpc_code: grpc.status[code],
        request_id: headers["x-request-id"] ?? null,
        trace_id: ids.traceId,
        span_id: ids.spanId,
        duration_ms: Math.round(seconds * 1000),
      }, "rpc answered");
      if (code !== grpc.status.OK) span.setStatus({ code: SpanStatusCode.ERROR, message: err?.message });
      span.end();
      if (err === null) {
        callback(null, reply);
      } else {
        callback({ code, details: err.message });
      }
    };
    // The route answering the RPC runs in a child span, which the app names by its route template.
    const answered = context.with(trace.setSpan(parent, span), () =>
      tracer.startActiveSpan("route", (child) => handler(call.request, headers).finally(() => child.end())),
    );
    void answered.then(
      (reply) => done(grpc.status.OK, null, reply),
      (err: unknown) => {
        if (err instanceof RpcError) {
          done(err.code, err);
        } else {
          app.log.error({ err }, "rpc failed");
          done(grpc.status.INTERNAL, new Error("internal error"));
        }
      },
    );
  };
}

/** grpc.health.v1, defined in code: its one file would not pass this tree's proto lint rules. */
export const HEALTH = protoLoader.fromJSON({
  nested: { grpc: { nested: { health: { nested: { v1: { nested: {
    HealthCheckRequest: { fields: { service: { type: "string", id: 1 } } },
    HealthCheckResponse: {
      fields: { status: { type: "ServingStatus", id: 1 } },
      nested: { ServingStatus: { values: { UNKNOWN: 0, SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 } } },
    },
    Health: { methods: { Check: { requestType: "HealthCheckRequest", responseType: "HealthCheckResponse", comment: "" } } },
  } } } } } } },
}, LOADER);
export const HEALTH_SERVICE = "grpc.health.v1.Health";

function healthCheck(app: FastifyInstance): grpc.handleUnaryCall<Message, Message> {
  return (call, callback) => {
    const service = String(call.request.service ?? "");
    if (service !== "" && service !== SERVICE) {
      callback({ code: grpc.status.NOT_FOUND, details: `unknown service ${service}` });
      return;
    }
    app.inject({ method: "GET", url: "{{ svc.ready_path }}" }).then(
      (res) => callback(null, { status: res.statusCode === 200 ? "SERVING" : "NOT_SERVING" }),
      () => callback(null, { status: "NOT_SERVING" }),
    );
  };
}

/** The gRPC server of `app`, listening on `port` (0: any free port); resolves to the port bound. */
export async function startGrpc(app: FastifyInstance, port: number): Promise<{ server: grpc.Server; port: number }> {
  const api = protoLoader.loadSync(PROTO, LOADER)[SERVICE] as grpc.ServiceDefinition;
  const handlers: Record<string, Handler> = Object.assign({}, ...RPCS.map((r) => entityHandlers(app, r)));
  const server = new grpc.Server();
  server.addService(api, Object.fromEntries(Object.entries(handlers).map(([m, h]) => [m, unary(app, m, h)])));
  server.addService(HEALTH[HEALTH_SERVICE] as grpc.ServiceDefinition, { Check: healthCheck(app) });
  const bound = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`0.0.0.0:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
  });
  return { server, port: bound };
}
