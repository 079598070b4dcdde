{{ header }}
// The DynamoDB store itself, against DynamoDB (moto's server): every write is conditional, so a
// create never overwrites a row with the same key (409), and an update or a delete of a key whose
// row is gone (deleted between the read and the write) is 404 and writes nothing; DynamoDB out of
// reach is a 503.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, test } from "node:test";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { buildApp } from "../src/app.js";
import { Table } from "../src/crud.js";
import { entities, type EntitySpec } from "../src/entities.js";
import { HttpError } from "../src/errors.js";
import { tables } from "../src/tables.js";
import { admin, config, db, prepareSchema, verify } from "./support.js";

before(prepareSchema);
after(async () => {
  await db.end();
});

/** A key no row has, of the table's key type. */
const unknownKey = (keyType: "S" | "N"): string | number => (keyType === "N" ? 2147483000 : randomUUID());
const status = (code: number) => (err: unknown) => err instanceof HttpError && err.status === code;

for (const design of tables.filter((t) => t.own)) {
  const spec = entities.find((e) => e.name === design.entity) as EntitySpec;
  const column = spec.columns.find((c) => c !== design.key && !design.indexes.some((i) => i.key === c));

  test(`${design.entity}: a create whose key exists is refused with 409, the row kept`, async () => {
    // Keys given, not generated: two creates of one key, as two racing requests would make.
    const table = new Table(db, spec, { ...design, generated: [], checks: [] });
    const key = unknownKey(design.keyType);
    await table.create({ [design.key]: key, ...(column ? { [column]: "first" } : {}) });
    await assert.rejects(table.create({ [design.key]: key, ...(column ? { [column]: "second" } : {}) }), status(409));
    const kept = await table.get(key);
    assert.equal(kept?.[column ?? design.key], column ? "first" : key);
    await table.delete(key);
  });

  test(`${design.entity}: an update or a delete of a row that is gone is 404 and writes nothing`, async () => {
    const table = new Table(db, spec, design);
    const key = unknownKey(design.keyType);
    if (column !== undefined) {
      await assert.rejects(table.update(key, { [column]: "changed" }), status(404));
    }
    await assert.rejects(table.delete(key), status(404));
    assert.equal(await table.get(key), undefined, "no item was made");
  });
}

test("DynamoDB out of reach is a 503 (retryable), not a 500", async () => {
  // A port nothing listens on, one attempt: the call fails as an unreachable endpoint does.
  const client = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: "http://127.0.0.1:9", maxAttempts: 1 }));
  const app = buildApp({ config, verify, db: { ...db, client, end: async () => client.destroy() }, cacheStore: null });
  try {
    const spec = entities[0] as EntitySpec;
    const res = await app.inject({ method: "GET", url: spec.path, headers: await admin() });
    assert.equal(res.statusCode, 503, res.body);
  } finally {
    await app.close();
  }
});
