{{ header }}
// Generic CRUD over one table, for each entity of src/entities.ts.
//
// Errors map to HTTP: a missing row is 404, invalid input 422, a unique violation or deleting
// a row that is still referenced 409, another constraint violation 422. Lists are pages in
// primary-key order: `?limit=&after=<key>` → `{"items": [...], "next": <key or null>}` (keyset
// pagination: no OFFSET, no COUNT). References to another service's rows are checked through
// its API before a write (unknown 422, owner unavailable 503). When rows belong to users
// (`owner`), a user lists, reads, changes and deletes their own rows only and creates rows for
// themselves only (403 otherwise); the admin role sees and changes every row.
import type { FastifyInstance, FastifyRequest } from "fastify";
import type pg from "pg";
import { require, type Caller, type Verifier } from "./auth.js";
import { DependencyUnavailable, forwarded, type Clients } from "./clients.js";
import type { EntitySpec } from "./entities.js";
import { HttpError } from "./errors.js";

type Row = Record<string, unknown>;

export interface CrudDeps {
  pool: pg.Pool;
  verify: Verifier;
  clients: Clients;
}

const ident = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** The HTTP error for a statement the database refused (SQLSTATE class 23 or 22). */
function databaseError(err: unknown, deleting: boolean): unknown {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== "string") {
    return err;
  }
  if (code === "23505") {
    return new HttpError(409, "a row with the same unique value already exists");
  }
  if (code === "23503") {
    return deleting
      ? new HttpError(409, "the row is still referenced by other rows")
      : new HttpError(422, "a referenced row does not exist");
  }
  if (code.startsWith("23") || code.startsWith("22")) {
    return new HttpError(422, "the row violates a database constraint");
  }
  return err;
}

function checkDecimals(spec: EntitySpec, values: Row): void {
  for (const b of spec.decimalBounds) {
    const value = values[b.column];
    if (typeof value !== "string") {
      continue;
    }
    const n = Number(value);
    if ((b.minimum !== undefined && n < Number(b.minimum)) || (b.maximum !== undefined && n > Number(b.maximum))) {
      throw new HttpError(422, [
        { loc: ["body", b.column], msg: `out of bounds [${b.minimum ?? ""}, ${b.maximum ?? ""}]`, type: "value_error" },
      ]);
    }
  }
}

async function checkReferences(spec: EntitySpec, values: Row, deps: CrudDeps, req: FastifyRequest): Promise<void> {
  for (const ref of spec.references) {
    const key = values[ref.field];
    if (key === undefined || key === null) {
      continue;
    }
    let exists: boolean;
    try {
      exists = await ref.exists(deps.clients, key, forwarded(req.headers, req.id));
    } catch (err) {
      if (err instanceof DependencyUnavailable) {
        throw new HttpError(503, `${ref.target} owner unavailable`);
      }
      throw new HttpError(502, `${ref.target} owner refused the lookup`);
    }
    if (!exists) {
      throw new HttpError(422, [
        { loc: ["body", ref.field], msg: `${ref.target} ${String(key)} does not exist`, type: "reference.unknown" },
      ]);
    }
  }
}

export function registerCrud(app: FastifyInstance, spec: EntitySpec, deps: CrudDeps): void {
  const { pool } = deps;
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
    const { rows } = await pool.query<Row>(`SELECT ${columns} FROM ${table} WHERE ${pk} = $1`, [id]);
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
      params.push(after);
      where.push(`${pk} > $${params.length}`);
    }
    if (restricted(who) && spec.owner !== null) {
      params.push(who.subject);
      where.push(`${ident(spec.owner)}::text = $${params.length}`);
    }
    params.push(limit + 1);
    const filter = where.length ? `WHERE ${where.join(" AND ")}` : "";
    const { rows } = await pool.query<Row>(
      `SELECT ${columns} FROM ${table} ${filter} ORDER BY ${pk} LIMIT $${params.length}`,
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
    checkDecimals(spec, values);
    await checkReferences(spec, values, deps, req);
    const names = Object.keys(values);
    const sql = names.length
      ? `INSERT INTO ${table} (${names.map(ident).join(", ")}) VALUES (${names.map((_, i) => `$${i + 1}`).join(", ")}) RETURNING ${columns}`
      : `INSERT INTO ${table} DEFAULT VALUES RETURNING ${columns}`;
    try {
      const { rows } = await pool.query<Row>(sql, names.map((n) => values[n]));
      return reply.code(201).send(rows[0]);
    } catch (err) {
      throw databaseError(err, false);
    }
  });

  app.get(`${spec.path}/:id`, { schema: { operationId: `get_${spec.name}`, params: item } }, async (req) => {
    const who = await reader(req);
    const row = await found((req.params as { id: unknown }).id);
    if (spec.owner !== null) {
      own(who, row[spec.owner]);
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
    checkDecimals(spec, values);
    await checkReferences(spec, values, deps, req);
    const names = Object.keys(values);
    if (names.length === 0) {
      return row;
    }
    const sets = names.map((n, i) => `${ident(n)} = $${i + 2}`).join(", ");
    try {
      const { rows } = await pool.query<Row>(
        `UPDATE ${table} SET ${sets} WHERE ${pk} = $1 RETURNING ${columns}`,
        [id, ...names.map((n) => values[n])],
      );
      return rows[0];
    } catch (err) {
      throw databaseError(err, false);
    }
  });

  app.delete(`${spec.path}/:id`, { schema: { operationId: `delete_${spec.name}`, params: item } }, async (req, reply) => {
    const who = await writer(req);
    const id = (req.params as { id: unknown }).id;
    const row = await found(id);
    if (spec.owner !== null) {
      own(who, row[spec.owner]);
    }
    try {
      await pool.query(`DELETE FROM ${table} WHERE ${pk} = $1`, [id]);
    } catch (err) {
      throw databaseError(err, true);
    }
    return reply.code(204).send();
  });
}
