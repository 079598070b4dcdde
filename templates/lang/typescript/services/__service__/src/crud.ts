{{ header }}
// Generic CRUD over one table, for each entity of src/entities.ts.
//
// Errors map to HTTP: a missing row is 404, invalid input 422, a unique violation or deleting
// a row that is still referenced 409, another constraint violation 422. Lists are pages in
// primary-key order: `?limit=&after=<key>` → `{"items": [...], "next": <key or null>}` (keyset
// pagination: no OFFSET, no COUNT). References to another service's rows are checked through
// its API before a write (unknown 422, owner unavailable 503). When rows belong to users
// (`owner`), a user lists, reads, changes and deletes their own rows only and creates rows for
// themselves only (403 otherwise); the admin role sees and changes every row. Reads by id go
// through the cache when the service has one (src/cache.ts); a write removes the row's key.
// A new row of an entity that publishes events adds them to the outbox in its own transaction
// (functions, which have no outbox yet, put them on their bus once the row is written).
import type { FastifyInstance, FastifyRequest } from "fastify";
import { require, type Caller, type Verifier } from "./auth.js";
import type { RowCache } from "./cache.js";
import { DependencyUnavailable, forwarded, type Clients } from "./clients.js";
import { encode, ident, param, refusal, textEquals, type Db, type Query, type Row } from "./db.js";
import type { EntitySpec } from "./entities.js";
import { HttpError } from "./errors.js";

export interface CrudDeps {
  db: Db;
  verify: Verifier;
  clients: Clients;
  /** Cache-aside for reads by id (null: every read goes to the database). */
  cache: RowCache | null;
  /** Where a new row's events go (null: the service publishes nothing, or through `bus`). */
  outbox: Outbox | null;
  /** Functions: the bus a new row's events are put on once it is written (no outbox yet). */
  bus?: Bus;
}

/** The transactional outbox (src/events.ts). */
export interface Outbox {
  /** Add one event through `q`, in the transaction of the row it describes. */
  enqueue(q: Query, topic: string, key: string, data: Row): Promise<void>;
  /** Tell the relay that events were committed. */
  wake(): void;
}

/** An event bus taking one event at a time (src/events.ts of a service's functions). */
export interface Bus {
  /** Put `data` on the bus as an event of `topic`; throws when the bus refuses it. */
  publish(topic: string, data: Row): Promise<void>;
}

/** The HTTP error for a statement the database refused (a constraint or a value). */
function databaseError(err: unknown, deleting: boolean): unknown {
  const refused = refusal(err);
  if (refused === "duplicate") {
    return new HttpError(409, "a row with the same unique value already exists");
  }
  if (deleting && (refused === "missing" || refused === "referenced")) {
    return new HttpError(409, "the row is still referenced by other rows");
  }
  if (refused === "missing") {
    return new HttpError(422, "a referenced row does not exist");
  }
  if (refused !== null) {
    return new HttpError(422, "the row violates a database constraint");
  }
  return err;
}

{% include "lang/typescript/_partials/crud_checks.tera" %}export function registerCrud(app: FastifyInstance, spec: EntitySpec, deps: CrudDeps): void {
  const { db, cache } = deps;
  if (spec.publishes.length > 0 && deps.outbox === null && deps.bus === undefined) {
    throw new Error(`${spec.name} publishes ${spec.publishes.join(", ")} but the app has no outbox`);
  }
  const table = ident(spec.table);
  const pk = ident(spec.pk);
  const columns = spec.columns.map(ident).join(", ");
  const restricted = (who: Caller | null): who is Caller => spec.owner !== null && who !== null && !who.isAdmin;
  const own = (who: Caller | null, value: unknown): void => {
    if (restricted(who) && value !== undefined && value !== null && String(value) !== who.subject) {
      throw new HttpError(403, `${spec.name} belongs to another user`);
    }
  };
  const reader = (req: FastifyRequest) => require(spec.readRule, req.headers.authorization, deps.verify);
  const writer = (req: FastifyRequest) => require(spec.writeRule, req.headers.authorization, deps.verify);
  const found = async (id: unknown): Promise<Row> => {
    const rows = await db.query(spec, `SELECT ${columns} FROM ${table} WHERE ${pk} = ${param(1)}`, [encode(spec, spec.pk, id)]);
    const row = rows[0];
    if (row === undefined) {
      throw new HttpError(404, `${spec.name} ${String(id)} not found`);
    }
    return row;
  };
  const item = { type: "object", required: ["id"], properties: { id: spec.keySchema } };

  app.get(spec.path, {
    schema: {
      operationId: `list_${spec.name}`,
      querystring: {
        type: "object",
        properties: { limit: { type: "integer", minimum: 1, maximum: 200, default: 50 }, after: spec.keySchema },
      },
    },
  }, async (req) => {
    const who = await reader(req);
    const { limit, after } = req.query as { limit: number; after?: unknown };
    const where: string[] = [];
    const params: unknown[] = [];
    if (after !== undefined) {
      params.push(encode(spec, spec.pk, after));
      where.push(`${pk} > ${param(params.length)}`);
    }
    if (restricted(who) && spec.owner !== null) {
      params.push(encode(spec, spec.owner, who.subject));
      where.push(textEquals(spec.owner, params.length));
    }
    params.push(limit + 1);
    const filter = where.length ? `WHERE ${where.join(" AND ")}` : "";
    const rows = await db.query(
      spec,
      `SELECT ${columns} FROM ${table} ${filter} ORDER BY ${pk} LIMIT ${param(params.length)}`,
      params,
    );
    const items = rows.slice(0, limit);
    const next = rows.length > limit ? (items[items.length - 1]?.[spec.pk] ?? null) : null;
    return { items, next };
  });

  app.post(spec.path, { schema: { operationId: `create_${spec.name}`, body: spec.createSchema } }, async (req, reply) => {
    const who = await writer(req);
    const values = req.body as Row;
    if (spec.owner !== null) {
      own(who, values[spec.owner]);
    }
    checkText(values);
    checkDecimals(spec, values);
    await checkReferences(spec, values, deps, req);
    const outbox = spec.publishes.length > 0 ? deps.outbox : null;
    let created: Row;
    try {
      created = outbox === null
        ? await db.insert(spec, values)
        : await db.insert(spec, values, async (row, q) => {
            for (const topic of spec.publishes) {
              await outbox.enqueue(q, topic, String(row[spec.pk]), row);
            }
          });
    } catch (err) {
      throw databaseError(err, false);
    }
    outbox?.wake();
    if (outbox === null && deps.bus !== undefined) {
      // Committed: a put the bus refuses fails the request, the row stays (at most once).
      for (const topic of spec.publishes) {
        await deps.bus.publish(topic, created);
      }
    }
    return reply.code(201).send(created);
  });

  app.get(`${spec.path}/:id`, { schema: { operationId: `get_${spec.name}`, params: item } }, async (req) => {
    const who = await reader(req);
    const id = (req.params as { id: unknown }).id;
    // Cache-aside: a hit is served as cached (the owner checked on it too); a miss reads the
    // database and fills the cache for its TTL.
    const cached = cache === null ? null : await cache.get(id);
    const row = cached ?? (await found(id));
    if (spec.owner !== null) {
      own(who, row[spec.owner]);
    }
    if (cache !== null && cached === null) {
      await cache.put(id, row);
    }
    return row;
  });

  app.patch(`${spec.path}/:id`, {
    schema: { operationId: `update_${spec.name}`, params: item, body: spec.updateSchema },
  }, async (req) => {
    const who = await writer(req);
    const id = (req.params as { id: unknown }).id;
    const values = req.body as Row;
    const row = await found(id);
    if (spec.owner !== null) {
      own(who, row[spec.owner]);
      own(who, values[spec.owner]);
    }
    checkText(values);
    checkDecimals(spec, values);
    await checkReferences(spec, values, deps, req);
    if (Object.keys(values).length === 0) {
      return row;
    }
    let updated: Row | undefined;
    try {
      updated = await db.update(spec, id, values);
    } catch (err) {
      throw databaseError(err, false);
    }
    await cache?.invalidate(id);
    return updated ?? (await found(id));
  });

  app.delete(`${spec.path}/:id`, { schema: { operationId: `delete_${spec.name}`, params: item } }, async (req, reply) => {
    const who = await writer(req);
    const id = (req.params as { id: unknown }).id;
    const row = await found(id);
    if (spec.owner !== null) {
      own(who, row[spec.owner]);
    }
    try {
      await db.query(spec, `DELETE FROM ${table} WHERE ${pk} = ${param(1)}`, [encode(spec, spec.pk, id)]);
    } catch (err) {
      throw databaseError(err, true);
    }
    await cache?.invalidate(id);
    return reply.code(204).send();
  });
}
