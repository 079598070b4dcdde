{%- set svc = service %}{{ header }}
// Liveness (`/healthz`), readiness (`/readyz`) and Prometheus metrics (`/metrics`).
//
// `/healthz` answers as long as the process runs: it checks nothing. `/readyz` is 503 unless
// {% if svc.database %}the database answers and its schema has every table and column the entities need{% else %}the process runs{% endif %}{% if svc.ts.has_events %}, and the
// event broker is connected{% endif %}.
// The cache and the services this one calls are reported but do not make it unready: the cache
// is optional, and a dependency outage must not cascade (its calls answer 503 instead). Every probe gives up after PROBE_TIMEOUT_MS.
{%- set tcp = svc.ts.connected %}
{%- if tcp %}
import { connect } from "node:net";
{%- endif %}
import type { FastifyInstance } from "fastify";
import client from "prom-client";
import type { Store } from "./cache.js";
import type { Settings } from "./config.js";
import { schemaBehind, type Db } from "./db.js";
import { entities } from "./entities.js";

const PROBE_TIMEOUT_MS = 1000;
// The checks that make the service not ready; the others are informational.
const REQUIRED = new Set(["database", "schema", "broker"]);
// Services this one calls: readiness key -> settings name of its address.
const DEPENDENCIES: Record<string, keyof Settings> = {
{%- for d in svc.depends_on %}{% if d.check == "http" %}
  "{{ d.ready_key }}": "{{ d.env_var }}",
{%- endif %}{% endfor %}
};
{%- if tcp %}
// Services reached over gRPC or plain TCP (`host:port`): a connection to their port is the check.
const TCP_DEPENDENCIES: Record<string, keyof Settings> = {
{%- for d in tcp %}
  "{{ d.ready_key }}": "{{ d.env_var }}",
{%- endfor %}
};
{%- endif %}

export const registry = new client.Registry();
client.collectDefaultMetrics({ register: registry });
export const requests = new client.Counter({
  name: "http_requests_total",
  help: "HTTP requests by method, route template and status.",
  labelNames: ["method", "route", "status"],
  registers: [registry],
});
export const latency = new client.Histogram({
  name: "http_request_duration_seconds",
  help: "HTTP request duration by method and route template.",
  labelNames: ["method", "route"],
  registers: [registry],
});

async function bounded<T>(probe: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("timed out")), PROBE_TIMEOUT_MS);
  });
  try {
    return await Promise.race([probe, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function probeDependency(address: string): Promise<string> {
  const response = await fetch(new URL("{{ svc.health_path }}", address), {
    signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
  });
  return response.ok ? "ok" : `status ${response.status}`;
}
{%- if tcp %}

async function probeConnection(address: string): Promise<string> {
  const at = address.lastIndexOf(":");
  return new Promise((resolve, reject) => {
    const socket = connect({ host: address.slice(0, at), port: Number(address.slice(at + 1)), timeout: PROBE_TIMEOUT_MS });
    socket.once("connect", () => {
      socket.destroy();
      resolve("ok");
    });
    socket.once("timeout", () => {
      socket.destroy();
      reject(new Error("timed out"));
    });
    socket.once("error", reject);
  });
}
{%- endif %}

/** `broker` says whether the event broker is connected (null: no events, no broker check). */
export function registerHealth(
  app: FastifyInstance,
  config: Settings,
  db: Db | null,
  cache: Store | null,
  broker: (() => Promise<string | null>) | null = null,
): void {
  let schemaOk = false;
  // Probes and scrapes write no access lines (warnings and errors only), as in the Python services.
  const quiet = { logLevel: "warn" } as const;
  app.get("{{ svc.health_path }}", quiet, async () => ({ status: "ok" }));
  app.get("{{ svc.ready_path }}", quiet, async (_req, reply) => {
    const checks: Record<string, string> = {};
    if (db !== null) {
      try {
        await bounded(db.query(null, "SELECT 1"));
        checks.database = "ok";
        if (!schemaOk) {
          const behind = await bounded(schemaBehind(db, entities));
          schemaOk = behind === null;
          checks.schema = behind ?? "ok";
        } else {
          checks.schema = "ok";
        }
      } catch (err) {
        checks.database ??= `unavailable: ${err instanceof Error ? err.message : String(err)}`;
        checks.schema ??= "unknown";
      }
    }
    if (cache !== null) {
      try {
        await bounded(cache.ping());
        checks.cache = "ok";
      } catch (err) {
        checks.cache = `degraded: ${err instanceof Error ? err.message : String(err)}`;
      }
    }
    if (broker !== null) {
      const status = await bounded(broker()).catch((err: unknown) => `unreachable: ${err instanceof Error ? err.message : String(err)}`);
      if (status !== null) {
        checks.broker = status;
      }
    }
    for (const [key, name] of Object.entries(DEPENDENCIES)) {
      try {
        checks[key] = await probeDependency(String(config[name]));
      } catch (err) {
        checks[key] = `unavailable: ${err instanceof Error ? err.message : String(err)}`;
      }
    }
{%- if tcp %}
    for (const [key, name] of Object.entries(TCP_DEPENDENCIES)) {
      try {
        checks[key] = await probeConnection(String(config[name]));
      } catch (err) {
        checks[key] = `unavailable: ${err instanceof Error ? err.message : String(err)}`;
      }
    }
{%- endif %}
    const ready = Object.entries(checks).every(([k, v]) => !REQUIRED.has(k) || v === "ok");
    return reply.code(ready ? 200 : 503).send({ status: ready ? "ready" : "unavailable", checks });
  });
  app.get("{{ svc.metrics_path }}", quiet, async (_req, reply) =>
    reply.type(registry.contentType).send(await registry.metrics()),
  );
}
