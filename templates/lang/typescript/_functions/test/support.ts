{%- set svc = service %}{{ header }}
{%- if svc.ts.functions.store == "dynamodb" %}
// Test setup: DynamoDB at AWS_ENDPOINT_URL (moto's server; the tables created as Terraform
// declares them) and callers as the HTTP API's authorizer passes them on (verified claims).
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
{%- if svc.ts.has_events %}
import type { PutEventsRequestEntry } from "@aws-sdk/client-eventbridge";
{%- endif %}
import { ScanCommand } from "@aws-sdk/lib-dynamodb";
{%- elif svc.ts.functions.store == "sql" %}
// Test setup: the real PostgreSQL in DATABASE_URL (its migrations applied as dbmate applies
// them) and callers as the HTTP API's authorizer passes them on (verified claims).
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
{%- if svc.ts.has_events %}
import type { PutEventsRequestEntry } from "@aws-sdk/client-eventbridge";
{%- endif %}
{%- else %}
// Test setup: no database (the service keeps no rows), and callers as the HTTP API's authorizer
// passes them on (verified claims).
{%- if svc.ts.has_events %}
import type { PutEventsRequestEntry } from "@aws-sdk/client-eventbridge";
{%- endif %}
{%- endif %}
import { callerOf, ROLES_CLAIM, type Claims, type Verifier } from "../src/auth.js";
import { settings } from "../src/config.js";
{%- if svc.database %}
import { createDb } from "../src/db.js";
{%- else %}
import type { Db } from "../src/db.js";
{%- endif %}
{%- if svc.ts.has_events %}
import { publisher } from "../src/events.js";
{%- endif %}
{%- if svc.ts.functions.store == "dynamodb" %}
import { designOf, tables } from "../src/tables.js";
{%- endif %}

process.env.LOG_LEVEL ??= "warn";
{%- if svc.ts.functions.store == "sql" %}
process.env.DATABASE_URL ??= "{{ svc.database.test_url }}";
{%- elif svc.ts.functions.store == "dynamodb" %}
process.env.AWS_ACCESS_KEY_ID ??= "testing";
process.env.AWS_SECRET_ACCESS_KEY ??= "testing";
process.env.AWS_REGION ??= {{ m.cloud.region | json }};
{%- endif %}
export const config = settings();

/** The default caller's roles: the admin role (every row) and each role a route requires. */
const TEST_ROLES: string[] = {{ m.security.test_roles | json }};
/** The claims of that caller, as the authorizer passes a list claim (`[a b]`). */
export const ADMIN_CLAIMS: Claims = { sub: "admin", [ROLES_CLAIM]: `[${TEST_ROLES.join(" ")}]` };
const ADMIN_HEADER = "Bearer admin";

/** For `app.inject`: the admin's header stands for the admin's claims; anything else, none. */
export const verify: Verifier = async (authorization) =>
  callerOf(authorization === ADMIN_HEADER ? ADMIN_CLAIMS : undefined);

export async function admin(): Promise<Record<string, string>> {
  return { authorization: ADMIN_HEADER };
}
{%- if svc.ts.has_events %}

/** EventBridge's PutEvents for the tests: the entries put, in order; `refusing` refuses each. */
export const bus = { put: [] as PutEventsRequestEntry[], refusing: false };
publisher.client = {
  send: async (command) => {
    const entries = command.input.Entries ?? [];
    if (bus.refusing) {
      return { FailedEntryCount: entries.length, Entries: entries.map(() => ({ ErrorCode: "InternalFailure", ErrorMessage: "refused by the test" })) };
    }
    bus.put.push(...entries);
    return { FailedEntryCount: 0, Entries: entries.map((_, i) => ({ EventId: String(bus.put.length - entries.length + i) })) };
  },
};
{%- endif %}
{%- if svc.ts.functions.store == "dynamodb" %}

export const db = createDb(config);
// The tables' names as a local run gives them, for the functions the tests start too.
for (const t of tables) {
  process.env[t.setting] ??= db.table(t.setting);
}

/** Create every table the functions use, as the Terraform declares it, unless it exists. */
export async function prepareSchema(): Promise<void> {
  if (!process.env.AWS_ENDPOINT_URL && !process.env.AWS_ENDPOINT_URL_DYNAMODB) {
    throw new Error("the tests need DynamoDB: run moto's server (`moto_server -p 5000`) and set AWS_ENDPOINT_URL=http://127.0.0.1:5000");
  }
  const client = new DynamoDBClient({});
  try {
    for (const t of tables) {
      const keys = new Map<string, "S" | "N">([[t.key, t.keyType], ...t.indexes.map((i): [string, "S" | "N"] => [i.key, i.keyType])]);
      const indexes = t.indexes.map((i) => ({
        IndexName: i.name,
        KeySchema: [{ AttributeName: i.key, KeyType: "HASH" as const }, { AttributeName: t.key, KeyType: "RANGE" as const }],
        Projection: { ProjectionType: "ALL" as const },
      }));
      try {
        await client.send(new CreateTableCommand({
          TableName: db.table(t.setting),
          BillingMode: "PAY_PER_REQUEST",
          KeySchema: [{ AttributeName: t.key, KeyType: "HASH" }],
          AttributeDefinitions: [...keys].map(([name, type]) => ({ AttributeName: name, AttributeType: type })),
          ...(indexes.length > 0 ? { GlobalSecondaryIndexes: indexes } : {}),
        }));
      } catch (err) {
        if ((err as { name?: unknown }).name !== "ResourceInUseException") {
          throw err;
        }
      }
    }
  } finally {
    client.destroy();
  }
}

/** How many rows an entity's table holds. */
export async function countRows(entity: string): Promise<number> {
  let count = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const out = await db.client.send(new ScanCommand({ TableName: db.table(designOf(entity).setting), Select: "COUNT", ExclusiveStartKey: start }));
    count += out.Count ?? 0;
    start = out.LastEvaluatedKey;
  } while (start !== undefined);
  return count;
}
{%- elif svc.database %}

export const db = createDb(config);

/** Apply the database's migrations (the `-- migrate:up` blocks, in version order) unless the
 * tables exist already (CI applies them). */
export async function prepareSchema(): Promise<void> {
  const rows = await db.query(null, "SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() LIMIT 1");
  if (rows.length > 0) {
    return;
  }
  const folder = path.resolve(process.cwd(), "../..", "{{ svc.database.migrations_dir }}");
  const files = readdirSync(folder).filter((f) => /^\d+_.*\.sql$/.test(f)).sort();
  for (const f of files) {
    const text = readFileSync(path.join(folder, f), "utf8");
    const up = (text.split("-- migrate:up")[1] ?? "").split("-- migrate:down")[0] ?? "";
    await db.script(up);
  }
}
{%- else %}

export const db: Db | undefined = undefined;

export async function prepareSchema(): Promise<void> {}
{%- endif %}
