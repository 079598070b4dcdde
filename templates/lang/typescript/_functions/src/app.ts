{%- set svc = service %}{{ header }}
// The Fastify app of the {{ svc.name.raw }} HTTP function: JSON logs, the CRUD routes of its
// entities and the same error answers as the service's OpenAPI contract. src/lambda.ts hands it
// API Gateway's events.
import Fastify, { type FastifyInstance } from "fastify";
import { fromAuthorizer, require, type Verifier } from "./auth.js";
import { createClients, type Clients } from "./clients.js";
import type { Settings } from "./config.js";
import { registerCrud } from "./crud.js";
import { {% if svc.ts.functions.store != "none" %}createDb, {% endif %}timedOut, unavailable, type Db } from "./db.js";
import { entities } from "./entities.js";
import { HttpError } from "./errors.js";
{%- if svc.ts.has_events %}
import { publisher } from "./events.js";
{%- endif %}

export interface AppOptions {
  config: Settings;
  /** Overrides for tests: who the caller is, the database and the clients. */
  verify?: Verifier;
  db?: Db;
  clients?: Clients;
  /** Accepted for the shared tests; functions have no row cache (src/cache.ts). */
  cacheStore?: null;
}

export function buildApp(options: AppOptions): FastifyInstance {
  const { config } = options;
  const app = Fastify({
    logger: { level: config.LOG_LEVEL.toLowerCase(), base: { service: config.SERVICE_NAME } },
    ajv: { customOptions: { removeAdditional: false } },
  });
  const db = options.db ?? {% if svc.ts.functions.store == "sql" %}createDb(config, (err) => app.log.warn({ err }, "database connection lost")){% elif svc.ts.functions.store == "dynamodb" %}createDb(config){% else %}null{% endif %};
  const verify = options.verify ?? fromAuthorizer;
  const clients = options.clients ?? createClients(config);

  app.setErrorHandler((err: unknown, req, reply) => {
    if (err instanceof HttpError) {
      return reply.code(err.status).headers(err.headers).send({ detail: err.detail });
    }
    const e = err as { validation?: unknown; statusCode?: number; message?: string };
    if (unavailable(err)) {
{%- if svc.ts.functions.store == "dynamodb" %}
      // DynamoDB throttling, failing or unreachable: 503 (retryable).
{%- else %}
      // The proxy unreachable or a statement over the statement timeout: 503 (retryable).
{%- endif %}
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

  // Who may call is answered before what they sent is checked: a request without a verified
  // caller on a protected route is a 401 (a caller without the role a 403), never a 422.
  app.addHook("preValidation", async (req) => {
    const route = req.routeOptions.url;
    const spec = entities.find((e) => route === e.path || route === `${e.path}/:id`);
    if (spec !== undefined) {
      await require(req.method === "GET" ? spec.readRule : spec.writeRule, req.headers.authorization, verify);
    }
  });
  app.get("/healthz", async () => ({ status: "ok" }));
  if (db !== null) {
    for (const spec of entities) {
{%- if svc.ts.has_events %}
      // No outbox table yet: a new row's events are put on the bus once it is written.
      registerCrud(app, spec, { db, verify, clients, cache: null, outbox: null, bus: publisher });
{%- else %}
      registerCrud(app, spec, { db, verify, clients, cache: null, outbox: null });
{%- endif %}
    }
    if (options.db === undefined) {
      app.addHook("onClose", async () => db.end());
    }
  }
  return app;
}
