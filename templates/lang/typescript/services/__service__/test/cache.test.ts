{%- set svc = service %}{{ header }}
// Cache-aside for reads by id, with an in-memory stand-in for Redis: hit, miss, invalidation,
// and a failing cache that only costs a database read{% if svc.cache %}; a dead Redis gives up fast, and the
// cloud's Redis is reached over TLS with its user and password{% endif %}.
import assert from "node:assert/strict";
{%- if svc.cache %}
import { createServer } from "node:net";
{%- endif %}
{%- set cached = svc.ts.has_cached %}
import { {% if cached and svc.database %}after, before, {% endif %}afterEach, test } from "node:test";
{%- if cached and svc.database %}
import { randomUUID } from "node:crypto";
import { buildApp } from "../src/app.js";
{%- endif %}
import { {% if svc.cache %}connect, {% endif %}reset, RowCache, type Store } from "../src/cache.js";
import { registry } from "../src/health.js";
{%- if cached and svc.database %}
import { admin, config, db, prepareSchema, verify } from "./support.js";

before(prepareSchema);
after(async () => {
  await db?.end();
});

/** A fresh value for a unique text field. */
{% include "lang/typescript/_partials/fresh.tera" %}
{%- endif %}

/** The part of Redis the cache uses, in memory; `down` makes every call fail. */
class FakeRedis implements Store {
  data = new Map<string, string>();
  ttl = new Map<string, number>();
  down = false;

  private check(): void {
    if (this.down) {
      throw new Error("redis is down");
    }
  }

  async get(key: string): Promise<string | null> {
    this.check();
    return this.data.get(key) ?? null;
  }

  async set(key: string, value: string, _mode: "EX", seconds: number): Promise<unknown> {
    this.check();
    this.data.set(key, value);
    this.ttl.set(key, seconds);
    return "OK";
  }

  async del(key: string): Promise<unknown> {
    this.check();
    return this.data.delete(key) ? 1 : 0;
  }

  async ping(): Promise<unknown> {
    this.check();
    return "PONG";
  }
}

const quiet = { warn: () => undefined };

async function count(result: string): Promise<number> {
  const metric = await registry.getSingleMetric("cache_requests_total")?.get();
  return metric?.values.find((v) => v.labels.result === result)?.value ?? 0;
}

afterEach(reset);

test("a miss fills the cache and the next read hits", async () => {
  const redis = new FakeRedis();
  const rows = new RowCache(redis, "svc:things", 30, quiet);
  const [misses, hits] = [await count("miss"), await count("hit")];
  assert.equal(await rows.get(7), null);
  await rows.put(7, { id: 7 });
  assert.equal(redis.data.get("svc:things:7"), '{"id":7}');
  assert.equal(redis.ttl.get("svc:things:7"), 30);
  assert.deepEqual(await rows.get(7), { id: 7 });
  assert.deepEqual([await count("miss"), await count("hit")], [misses + 1, hits + 1]);
  await rows.invalidate(7);
  assert.equal(redis.data.has("svc:things:7"), false);
});

test("a failing cache is counted and skipped for a while", async () => {
  const redis = new FakeRedis();
  const rows = new RowCache(redis, "svc:things", 30, quiet);
  redis.down = true;
  const errors = await count("error");
  assert.equal(await rows.get(1), null);
  await rows.put(1, {});
  assert.equal(await count("error"), errors + 1);
  redis.down = false;
  assert.equal(await rows.get(1), null, "cooling down: Redis is not asked");
  assert.equal(await count("error"), errors + 2);
  assert.equal(redis.data.size, 0);
});
{%- if svc.cache %}

test("a Redis that never answers costs a read one short timeout, not a hang", async () => {
  const server = createServer(() => undefined);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  const redis = connect(`redis://127.0.0.1:${port}/0`, "", "");
  try {
    const rows = new RowCache(redis, "svc:things", 30, quiet);
    const errors = await count("error");
    assert.equal(await rows.get(1), null);
    await rows.put(1, { id: 1 });
    assert.equal(await count("error"), errors + 1);
  } finally {
    redis.disconnect();
    server.close();
  }
});

test("Redis checks TLS and signs in with the configured user in the cloud, not locally", () => {
  const local = connect("redis://127.0.0.1:6379/0", "", "");
  const cloud = connect("rediss://cache.example.com:6379/0", "app-user", "s3cret");
  try {
    assert.ok(!local.options.username && !local.options.password, "no user locally");
    assert.ok(!local.options.tls, "plain locally");
    assert.equal(cloud.options.username, "app-user");
    assert.equal(cloud.options.password, "s3cret");
    assert.ok(cloud.options.tls, "rediss:// is TLS");
    assert.notEqual((cloud.options.tls as { rejectUnauthorized?: boolean }).rejectUnauthorized, false);
  } finally {
    local.disconnect();
    cloud.disconnect();
  }
});
{%- endif %}
{%- if svc.database %}
{%- for e in svc.ts.entities %}{% if e.cache_prefix and e.sample %}

test("{{ e.name }}: reads by id go through the cache; a write removes the key", async () => {
  const redis = new FakeRedis();
  const app = buildApp({ config, verify, db, cacheStore: redis });
  try {
    const headers = await admin();
    const payload: Record<string, unknown> = {{ e.sample }};
{%- for u in e.unique %}
    payload["{{ u.name }}"] = fresh("{{ u.form }}", {{ u.max_length }});
{%- endfor %}
    const created = await app.inject({ method: "POST", url: "{{ e.api_path }}", headers, payload });
    assert.equal(created.statusCode, 201, created.body);
    const row = created.json() as Record<string, unknown>;
    const url = `{{ e.api_path }}/${String(row["{{ e.pk }}"])}`;
    const key = `{{ e.cache_prefix }}:${String(row["{{ e.pk }}"])}`;
    const [misses, hits] = [await count("miss"), await count("hit")];
    assert.deepEqual((await app.inject({ method: "GET", url, headers })).json(), row);
    assert.deepEqual(JSON.parse(redis.data.get(key) ?? "null"), row);
    assert.equal(redis.ttl.get(key), config.CACHE_TTL_SECONDS);
    assert.deepEqual((await app.inject({ method: "GET", url, headers })).json(), row);
    assert.deepEqual([await count("miss"), await count("hit")], [misses + 1, hits + 1]);
{%- if e.patch_column %}

    // A hit is served from the cache, not the database.
    const change = { {{ e.patch_column }}: "changed" };
    redis.data.set(key, JSON.stringify({ ...row, ...change }));
    assert.deepEqual((await app.inject({ method: "GET", url, headers })).json(), { ...row, ...change });
    redis.data.set(key, JSON.stringify(row));

    // An update removes the key; the next read sees the new row.
    assert.equal((await app.inject({ method: "PATCH", url, headers, payload: change })).statusCode, 200);
    assert.equal(redis.data.has(key), false);
    assert.deepEqual((await app.inject({ method: "GET", url, headers })).json(), { ...row, ...change });
    assert.equal(redis.data.has(key), true);
{%- endif %}

    // A delete removes the key.
    assert.equal((await app.inject({ method: "DELETE", url, headers })).statusCode, 204);
    assert.equal(redis.data.has(key), false);
    assert.equal((await app.inject({ method: "GET", url, headers })).statusCode, 404);

    // A failing cache costs a database read, not the answer.
    const again = await app.inject({ method: "POST", url: "{{ e.api_path }}", headers, payload });
    assert.equal(again.statusCode, 201, again.body);
    redis.down = true;
    const errors = await count("error");
    const read = await app.inject({ method: "GET", url: `{{ e.api_path }}/${String((again.json() as Record<string, unknown>)["{{ e.pk }}"])}`, headers });
    assert.equal(read.statusCode, 200);
    assert.equal(await count("error"), errors + 1);
  } finally {
    await app.close();
  }
});
{%- endif %}{% endfor %}
{%- endif %}
