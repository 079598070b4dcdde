{%- set svc = service %}{{ header }}
// Test setup: the real PostgreSQL in DATABASE_URL (its migrations applied as dbmate applies
// them) and callers as the HTTP API's authorizer passes them on (verified claims).
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
{%- if svc.ts.has_events %}
import type { PutEventsRequestEntry } from "@aws-sdk/client-eventbridge";
{%- endif %}
import { callerOf, ROLES_CLAIM, type Claims, type Verifier } from "../src/auth.js";
import { settings } from "../src/config.js";
{%- if svc.database %}
import { createDb } from "../src/db.js";
{%- endif %}
{%- if svc.ts.has_events %}
import { publisher } from "../src/events.js";
{%- endif %}

process.env.LOG_LEVEL ??= "warn";
{%- if svc.database %}
process.env.DATABASE_URL ??= "{{ svc.database.test_url }}";
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
{%- if svc.database %}

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

export const db = undefined;

export async function prepareSchema(): Promise<void> {}
{%- endif %}
