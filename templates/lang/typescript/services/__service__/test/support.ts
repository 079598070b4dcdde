{%- set svc = service %}{{ header }}
// Test setup: the real {% if svc.database and svc.database.mysql %}MySQL (MariaDB){% else %}PostgreSQL{% endif %} in DATABASE_URL (its migrations applied as dbmate applies
// them), a test issuer whose tokens the app verifies, no trace export.
{%- if svc.database %}
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
{%- endif %}
import { generateKeyPair, SignJWT } from "jose";
import { ROLES_CLAIM, verifier, type Verifier } from "../src/auth.js";
import { settings } from "../src/config.js";
{%- if svc.database %}
import { createDb } from "../src/db.js";
{%- else %}
import type { Db } from "../src/db.js";
{%- endif %}

process.env.OTEL_SDK_DISABLED = "true";
process.env.LOG_LEVEL ??= "warn";
{%- if svc.database %}
process.env.{{ svc.database.env_var }} ??= "{{ svc.database.test_url }}";
{%- endif %}
export const config = settings();

const keys = await generateKeyPair("RS256");
export const verify: Verifier = verifier(config, async () => keys.publicKey);

export async function token(sub: string, roles: string[] = []): Promise<string> {
  return new SignJWT({ [ROLES_CLAIM]: roles })
    .setProtectedHeader({ alg: "RS256", kid: "test" })
    .setIssuer(config.AUTH_ISSUER)
    .setAudience(config.AUTH_AUDIENCE)
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime("1h")
    .sign(keys.privateKey);
}

/** The default token's roles: the admin role (every row) and each role a route requires. */
const TEST_ROLES: string[] = {{ m.security.test_roles | json }};

export async function admin(): Promise<Record<string, string>> {
  return { authorization: `Bearer ${await token("admin", TEST_ROLES)}` };
}
{%- if svc.database %}

export const db = createDb(config);

/** Apply the database's migrations (the `-- migrate:up` blocks, in version order) unless the
 * tables exist already (CI applies them). */
export async function prepareSchema(): Promise<void> {
  const rows = await db.query(
    null,
    "SELECT 1 FROM information_schema.tables WHERE table_schema = {% if svc.database.mysql %}DATABASE(){% else %}current_schema(){% endif %} LIMIT 1",
  );
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

/** No database: the app is built without one. */
export const db: Db | undefined = undefined;

export async function prepareSchema(): Promise<void> {}
{%- endif %}
