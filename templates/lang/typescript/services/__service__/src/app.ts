{%- set svc = service %}{{ header }}
// The Fastify app: JSON logs (pino; one line per request received and answered) with trace ids, one span and one metric sample per
// request named by its route template, the health endpoints and the CRUD routes{% if svc.ts.has_events %}, and the events
// (src/events.ts){% endif %}.
import { randomUUID } from "node:crypto";
import { trace } from "@opentelemetry/api";
import Fastify, { LogController, type FastifyInstance } from "fastify";
import { remoteKeys, verifier, type Verifier } from "./auth.js";
import { {% if svc.cache %}connect, {% endif %}RowCache, type Store } from "./cache.js";
import { createClients, type Clients } from "./clients.js";
import type { Settings } from "./config.js";
import { registerCrud } from "./crud.js";
import { {% if svc.database %}createDb, {% endif %}timedOut, unavailable, type Db } from "./db.js";
import { entities } from "./entities.js";
import { HttpError } from "./errors.js";
{%- if svc.ts.has_events %}
import { Events } from "./events.js";
{%- endif %}
import { latency, registerHealth, requests } from "./health.js";

export interface AppOptions {
  config: Settings;
  /** Overrides for tests: the token check, the database, the clients and the cache's store
   * (null: no cache). */
  verify?: Verifier;
  db?: Db;
  clients?: Clients;
  cacheStore?: Store | null;
{%- if svc.ts.has_events %}
  /** The outbox, relay and consumers (tests give their own). */
  events?: Events;
  /** Start the relay, the publisher and the consumer once the server is ready (main.ts). */
  background?: boolean;
{%- endif %}
}

/** A route as the OpenAPI contract writes it (`/api/items/{id}`), for span names and metrics. */
function template(url: string | undefined): string {
  return url === undefined ? "unmatched" : url.replace(/:(\w+)/g, "{$1}");
}

export function buildApp(options: AppOptions): FastifyInstance {
  const { config } = options;
  const app = Fastify({
    logger: {
      level: config.LOG_LEVEL.toLowerCase(),
      // Every line carries the active trace and span ids.
      mixin() {
        const span = trace.getActiveSpan()?.spanContext();
        return span ? { trace_id: span.traceId, span_id: span.spanId } : {};
      },
    },
    ajv: { customOptions: { removeAdditional: false } },
    // The caller's X-Request-ID (else a new one) names the request in logs, the response and
    // the calls it makes to other services.
    requestIdHeader: "x-request-id",
    genReqId: () => randomUUID(),
    // Logged as `request_id`, the name the Python services' lines use.
    logController: new LogController({ requestIdLogLabel: "request_id" }),
  });
  // A pooled connection the server closed (restart, outage) must not stop the process:
  // readiness reports the database, requests answer 503 until it is back.
  const db = options.db ?? {% if svc.database %}createDb(config, (err) => app.log.warn({ err }, "database connection lost")){% else %}null{% endif %};
{%- if svc.cache %}
  const redis = options.cacheStore === undefined && config.REDIS_URL
    ? connect(config.REDIS_URL, config.REDIS_USERNAME, config.REDIS_PASSWORD)
    : null;
  const store = options.cacheStore !== undefined ? options.cacheStore : redis;
{%- else %}
  const store = options.cacheStore ?? null;
{%- endif %}
  const verify = options.verify ?? verifier(config, remoteKeys(config));
  const clients = options.clients ?? createClients(config);

  app.addHook("onRequest", async (req, reply) => {
    const route = template(req.routeOptions.url);
    trace.getActiveSpan()?.updateName(`${req.method} ${route}`);
    trace.getActiveSpan()?.setAttribute("http.route", route);
    reply.header("x-request-id", req.id);
  });
  app.addHook("onResponse", async (req, reply) => {
    const route = template(req.routeOptions.url);
    requests.inc({ method: req.method, route, status: String(reply.statusCode) });
    latency.observe({ method: req.method, route }, reply.elapsedTime / 1000);
  });
  app.setErrorHandler((err: unknown, req, reply) => {
    if (err instanceof HttpError) {
      return reply.code(err.status).headers(err.headers).send({ detail: err.detail });
    }
    const e = err as { validation?: unknown; statusCode?: number; message?: string; code?: unknown };
    if (unavailable(err)) {
      // The database unreachable, the pool exhausted, or a statement over the statement
      // timeout: 503 (retryable), not 500.
      const detail = timedOut(err) ? "database statement timeout" : "database unavailable";
      req.log.warn({ method: req.method, url: req.url }, detail);
      return reply.code(503).send({ detail });
    }
    if (e.validation) {
      return reply.code(422).send({ detail: e.validation });
    }
    if (e.statusCode !== undefined && e.statusCode < 500) {
      return reply.code(e.statusCode).send({ detail: e.message });
    }
    req.log.error({ err }, "unhandled error");
    return reply.code(500).send({ detail: "internal error" });
  });

{%- if svc.ts.has_events %}
  const events = options.events ?? new Events(config, db, app.log);
  if (options.background === true) {
    app.addHook("onReady", async () => events.start());
  }
  app.addHook("onClose", async () => events.stop());
  registerHealth(app, config, db, store, () => events.brokerStatus());
{%- else %}
  registerHealth(app, config, db, store);
{%- endif %}
  if (db !== null) {
    for (const spec of entities) {
      const cache = store !== null && spec.cachePrefix !== null
        ? new RowCache(store, spec.cachePrefix, config.CACHE_TTL_SECONDS, app.log)
        : null;
      registerCrud(app, spec, { db, verify, clients, cache, outbox: {% if svc.ts.has_events %}events{% else %}null{% endif %} });
    }
    if (options.db === undefined) {
      app.addHook("onClose", async () => db.end());
    }
  }
{%- if svc.cache %}
  if (redis !== null) {
    app.addHook("onClose", async () => {
      redis.disconnect();
    });
  }
{%- endif %}
  return app;
}
