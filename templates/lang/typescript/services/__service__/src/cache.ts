{%- set svc = service %}{{ header }}
// Cache-aside for reads by id{% if svc.cache %} in Redis (`{{ svc.cache.env_var }}`){% endif %}, as the Python services do it.
//
// A read looks up `<service>:<table>:<id>` first and, on a miss, reads the database and stores
// the row (its JSON) for CACHE_TTL_SECONDS (the scale preset); an update or a delete removes the
// key. The cache is optional: when Redis fails, reads go to the database, a warning is logged and
// `cache_requests_total{result="error"}` counts it; for a second after a failure Redis is not
// tried again, so a dead Redis costs a request at most one short timeout (0.1 s to connect or
// to answer).
import { Redis } from "ioredis";
import client from "prom-client";
import { registry } from "./health.js";

const TIMEOUT_MS = 100;
const COOLDOWN_MS = 1000;

const requests = new client.Counter({
  name: "cache_requests_total",
  help: "Cache lookups by result (hit, miss, error)",
  labelNames: ["result"],
  registers: [registry],
});
for (const result of ["hit", "miss", "error"]) {
  requests.inc({ result }, 0);
}

/** The part of Redis the cache uses (a test passes an in-memory stand-in). */
export interface Store {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, mode: "EX", seconds: number): Promise<unknown>;
  del(key: string): Promise<unknown>;
  ping(): Promise<unknown>;
}

export interface Warn {
  warn(fields: object, message: string): void;
}

/** A Redis client that gives up fast: short connect and command timeouts, no retries of a
 * command and no queue while disconnected (it reconnects in the background). `rediss://`
 * (cloud) verifies the server's certificate; the user and password sign in (Redis AUTH) and
 * stay out of the URL and the ConfigMap. */
export function connect(url: string, username: string, password: string): Redis {
  const redis = new Redis(url, {
    username: username || undefined,
    password: password || undefined,
    connectTimeout: TIMEOUT_MS,
    commandTimeout: TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: (times) => Math.min(times * 100, COOLDOWN_MS),
  });
  // Failures are counted and logged where a command fails; the client's own events are noise.
  redis.on("error", () => undefined);
  return redis;
}

/** The failure cool-down, shared by every table's cache of the process. */
let downUntil = 0;

/** Forget an earlier failure (tests). */
export function reset(): void {
  downUntil = 0;
}

/** Rows of one table, by primary key, under `<prefix>:<id>`. */
export class RowCache {
  constructor(
    private readonly store: Store,
    private readonly prefix: string,
    private readonly ttlSeconds: number,
    private readonly log: Warn,
  ) {}

  key(id: unknown): string {
    return `${this.prefix}:${String(id)}`;
  }

  private failed(action: string, id: unknown, err: unknown): void {
    downUntil = Date.now() + COOLDOWN_MS;
    this.log.warn({ key: this.key(id), error: String(err) }, `cache ${action} failed: using the database`);
  }

  /** The cached row, or null on a miss or while the cache fails. */
  async get(id: unknown): Promise<Record<string, unknown> | null> {
    if (Date.now() < downUntil) {
      requests.inc({ result: "error" });
      return null;
    }
    let value: string | null;
    try {
      value = await this.store.get(this.key(id));
    } catch (err) {
      // The cache is optional: any failure means "read the database".
      requests.inc({ result: "error" });
      this.failed("get", id, err);
      return null;
    }
    requests.inc({ result: value === null ? "miss" : "hit" });
    return value === null ? null : (JSON.parse(value) as Record<string, unknown>);
  }

  async put(id: unknown, row: Record<string, unknown>): Promise<void> {
    if (Date.now() < downUntil) {
      return;
    }
    try {
      await this.store.set(this.key(id), JSON.stringify(row), "EX", this.ttlSeconds);
    } catch (err) {
      // A failed fill only costs the next read a miss.
      this.failed("set", id, err);
    }
  }

  /** Remove the row after a write (tried even while failing: a stale row is worse). */
  async invalidate(id: unknown): Promise<void> {
    try {
      await this.store.del(this.key(id));
    } catch (err) {
      // The TTL bounds how long a stale row can live.
      this.failed("delete", id, err);
    }
  }
}
