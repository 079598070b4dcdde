{{ header }}
// Generic CRUD over one DynamoDB table, for each entity of src/entities.ts (its table in
// src/tables.ts), with the contract of the Python functions on DynamoDB (functions/app/crud.py).
//
// A missing row is 404, invalid input 422, creating a row whose key exists or deleting a row that
// is still referenced 409, a reference to a row of the same database that does not exist 422.
// References to another service's rows are checked through its API before a write (unknown 422,
// owner unavailable 503). When rows belong to users (`owner`), a user lists, reads, changes and
// deletes their own rows only and creates rows for themselves only (403 otherwise); the admin
// role sees and changes every row.
//
// Writes are conditional (create: the key does not exist yet; update and delete: it does), so two
// requests never overwrite each other's row. Lists are pages: `?limit=&after=<key>` →
// `{"items": [...], "next": <key or null>}`; a table is scanned in DynamoDB's order (not key
// order), a user's rows are queried on the owner's index. A new row's events are put on the bus
// once it is written (a put the bus refuses fails the request; the row stays).
import { randomUUID } from "node:crypto";
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
  type QueryCommandOutput,
  type ScanCommandOutput,
} from "@aws-sdk/lib-dynamodb";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { require, type Caller, type Verifier } from "./auth.js";
import { DependencyUnavailable, forwarded, type Clients } from "./clients.js";
import { conditionFailed, type Db, type Row } from "./db.js";
import type { EntitySpec } from "./entities.js";
import { HttpError } from "./errors.js";
import { designOf, type Index, type TableDesign } from "./tables.js";

export interface CrudDeps {
  db: Db;
  verify: Verifier;
  clients: Clients;
  /** Functions have no row cache (src/cache.ts). */
  cache: null;
  /** Functions have no outbox: a new row's events go to `bus`. */
  outbox: null;
  /** The bus a new row's events are put on once it is written. */
  bus?: Bus;
}

/** An event bus taking one event at a time (src/events.ts). */
export interface Bus {
  /** Put `data` on the bus as an event of `topic`; throws when the bus refuses it. */
  publish(topic: string, data: Row): Promise<void>;
}

{% include "lang/typescript/_partials/crud_checks.tera" %}
/** A row's values as an item: absent (null) values left out, as an index key may not be NULL. */
function toItem(values: Row): Row {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== null && v !== undefined));
}

/** Create, read, update, delete and page through one entity's table. */
export class Table {
  constructor(
    private readonly db: Db,
    private readonly spec: EntitySpec,
    private readonly design: TableDesign,
  ) {}

  private get name(): string {
    return this.db.table(this.design.setting);
  }

  /** A stored item as the API answers it: every column present (absent ones null). */
  private row(item: Row): Row {
    return Object.fromEntries(this.spec.columns.map((c) => [c, item[c] ?? null]));
  }

  async get(key: unknown): Promise<Row | undefined> {
    const out = await this.db.client.send(new GetCommand({ TableName: this.name, Key: { [this.design.key]: key } }));
    return out.Item === undefined ? undefined : this.row(out.Item);
  }

  /** Up to `limit` items after the item keyed `after`; with `index`, only those whose index key
   * is `value`. DynamoDB stops a call at its own size limit: calls go on until the page is full
   * or the table ends. */
  async page(limit: number, after: unknown, index?: Index, value?: string): Promise<Row[]> {
    const items: Row[] = [];
    let start: Row | undefined =
      after === undefined ? undefined : { [this.design.key]: after, ...(index ? { [index.key]: value } : {}) };
    while (items.length < limit) {
      const page = { TableName: this.name, Limit: limit - items.length, ExclusiveStartKey: start };
      const out: QueryCommandOutput | ScanCommandOutput = index === undefined
        ? await this.db.client.send(new ScanCommand(page))
        : await this.db.client.send(new QueryCommand({
            ...page,
            IndexName: index.name,
            KeyConditionExpression: "#k = :v",
            ExpressionAttributeNames: { "#k": index.key },
            ExpressionAttributeValues: { ":v": value },
          }));
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
      if (start === undefined) {
        break;
      }
    }
    return items.map((item) => this.row(item));
  }

  /** Store a new row (generated key and timestamps filled in); 409 when the key exists. */
  async create(values: Row): Promise<Row> {
    const row: Row = { ...values };
    for (const g of this.design.generated) {
      row[g.column] = g.how === "uuid" ? randomUUID() : new Date().toISOString();
    }
    await this.checkReferences(row);
    try {
      await this.db.client.send(new PutCommand({
        TableName: this.name,
        Item: toItem(row),
        ConditionExpression: "attribute_not_exists(#key)",
        ExpressionAttributeNames: { "#key": this.design.key },
      }));
    } catch (err) {
      if (conditionFailed(err)) {
        throw new HttpError(409, "a row with the same key already exists");
      }
      throw err;
    }
    return this.row(row);
  }

  /** Change the given columns of an existing row (null removes the value); 404 when gone. */
  async update(key: unknown, values: Row): Promise<Row> {
    await this.checkReferences(values);
    const names: Record<string, string> = { "#key": this.design.key };
    const stored: Row = {};
    const setting: string[] = [];
    const removing: string[] = [];
    Object.entries(values).forEach(([column, value], i) => {
      names[`#c${i}`] = column;
      if (value === null) {
        removing.push(`#c${i}`);
      } else {
        stored[`:v${i}`] = value;
        setting.push(`#c${i} = :v${i}`);
      }
    });
    const expression = [setting.length ? `SET ${setting.join(", ")}` : "", removing.length ? `REMOVE ${removing.join(", ")}` : ""]
      .filter(Boolean)
      .join(" ");
    try {
      const out = await this.db.client.send(new UpdateCommand({
        TableName: this.name,
        Key: { [this.design.key]: key },
        UpdateExpression: expression,
        ConditionExpression: "attribute_exists(#key)",
        ExpressionAttributeNames: names,
        ...(setting.length ? { ExpressionAttributeValues: stored } : {}),
        ReturnValues: "ALL_NEW",
      }));
      return this.row(out.Attributes ?? {});
    } catch (err) {
      if (conditionFailed(err)) {
        throw new HttpError(404, `${String(key)} not found`);
      }
      throw err;
    }
  }

  /** Remove a row; 409 while other rows refer to it, 404 when it is gone. */
  async delete(key: unknown): Promise<void> {
    for (const r of this.design.referencedBy) {
      const hit = await this.db.client.send(new QueryCommand({
        TableName: this.db.table(r.setting),
        IndexName: r.index,
        KeyConditionExpression: "#c = :v",
        ExpressionAttributeNames: { "#c": r.column },
        ExpressionAttributeValues: { ":v": key },
        Limit: 1,
      }));
      if ((hit.Items ?? []).length > 0) {
        throw new HttpError(409, "the row is still referenced by other rows");
      }
    }
    try {
      await this.db.client.send(new DeleteCommand({
        TableName: this.name,
        Key: { [this.design.key]: key },
        ConditionExpression: "attribute_exists(#key)",
        ExpressionAttributeNames: { "#key": this.design.key },
      }));
    } catch (err) {
      if (conditionFailed(err)) {
        throw new HttpError(404, `${String(key)} not found`);
      }
      throw err;
    }
  }

  /** References to rows of the same database: the row must exist (a foreign key's 422). */
  private async checkReferences(values: Row): Promise<void> {
    for (const c of this.design.checks) {
      const value = values[c.column];
      if (value === undefined || value === null) {
        continue;
      }
      const out = await this.db.client.send(new GetCommand({ TableName: this.db.table(c.setting), Key: { [c.key]: value } }));
      if (out.Item === undefined) {
        throw new HttpError(422, "a referenced row does not exist");
      }
    }
  }
}

export function registerCrud(app: FastifyInstance, spec: EntitySpec, deps: CrudDeps): void {
  if (spec.publishes.length > 0 && deps.bus === undefined) {
    throw new Error(`${spec.name} publishes ${spec.publishes.join(", ")} but the app has no bus`);
  }
  const design = designOf(spec.name);
  const table = new Table(deps.db, spec, design);
  const ownerIndex = design.indexes.find((i) => i.owner);
  const restricted = (who: Caller | null): who is Caller => spec.owner !== null && who !== null && !who.isAdmin;
  const own = (who: Caller | null, value: unknown): void => {
    if (restricted(who) && value !== undefined && value !== null && String(value) !== who.subject) {
      throw new HttpError(403, `${spec.name} belongs to another user`);
    }
  };
  const reader = (req: FastifyRequest) => require(spec.readRule, req.headers.authorization, deps.verify);
  const writer = (req: FastifyRequest) => require(spec.writeRule, req.headers.authorization, deps.verify);
  // A UUID key is stored in its canonical (lowercase) form, as the API writes it.
  const key = (id: unknown): unknown =>
    typeof id === "string" && spec.kinds.uuid.includes(spec.pk) ? id.toLowerCase() : id;
  const found = async (id: unknown): Promise<Row> => {
    const row = await table.get(key(id));
    if (row === undefined) {
      throw new HttpError(404, `${spec.name} ${String(id)} not found`);
    }
    return row;
  };
  /** The rows `who` may list: a plain user's own rows only. */
  const rows = async (who: Caller | null, limit: number, after: unknown): Promise<Row[]> => {
    if (!restricted(who)) {
      return table.page(limit, after);
    }
    if (ownerIndex !== undefined) {
      return table.page(limit, after, ownerIndex, who.subject);
    }
    // The owner column is the key: a user's own row is the one keyed by their subject.
    const mine = after === undefined ? await table.get(who.subject) : undefined;
    return mine === undefined ? [] : [mine];
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
    const listed = await rows(who, limit + 1, after === undefined ? undefined : key(after));
    const items = listed.slice(0, limit);
    const next = listed.length > limit ? (items[items.length - 1]?.[spec.pk] ?? null) : null;
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
    const created = await table.create(values);
    if (deps.bus !== undefined) {
      // Written: a put the bus refuses fails the request, the row stays (at most once).
      for (const topic of spec.publishes) {
        await deps.bus.publish(topic, created);
      }
    }
    return reply.code(201).send(created);
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
    checkText(values);
    checkDecimals(spec, values);
    await checkReferences(spec, values, deps, req);
    if (Object.keys(values).length === 0) {
      return row;
    }
    return table.update(key(id), values);
  });

  app.delete(`${spec.path}/:id`, { schema: { operationId: `delete_${spec.name}`, params: item } }, async (req, reply) => {
    const who = await writer(req);
    const id = (req.params as { id: unknown }).id;
    const row = await found(id);
    if (spec.owner !== null) {
      own(who, row[spec.owner]);
    }
    await table.delete(key(id));
    return reply.code(204).send();
  });
}
