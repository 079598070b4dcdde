{%- set svc = service %}{{ header }}
// The PostgreSQL pool: size and statement timeout from the settings (the scale preset).
import pg from "pg";
import type { Settings } from "./config.js";

// DATE stays the calendar day it is (not a Date at local midnight); BIGINT and NUMERIC
// columns keep their exact text unless they fit a JavaScript number (BIGINT keys do).
pg.types.setTypeParser(pg.types.builtins.DATE, (value: string) => value);
pg.types.setTypeParser(pg.types.builtins.INT8, (value: string) => Number(value));

/** SQLSTATE of a statement cancelled by `statement_timeout`. */
export const QUERY_CANCELED = "57014";

/** An error meaning the database cannot serve now: connection refused or lost, the pool's wait
 * ran out, a statement cancelled (timeout), the server shutting down (SQLSTATE class 57, 08). */
export function unavailable(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string") {
    return code.startsWith("57") || code.startsWith("08") || ["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT"].includes(code);
  }
  const message = err instanceof Error ? err.message : "";
  return /timeout exceeded when trying to connect|Connection terminated/i.test(message);
}

export function createPool(config: Settings): pg.Pool {
{%- if svc.database %}
  return new pg.Pool({
    connectionString: config.{{ svc.database.env_var }},
    max: config.DB_POOL_SIZE,
    statement_timeout: config.DB_STATEMENT_TIMEOUT_MS,
    connectionTimeoutMillis: 5000,
  });
{%- else %}
  void config;
  throw new Error("this service has no database");
{%- endif %}
}

/** The first table or column the entities need that the live database lacks, or null. */
export async function schemaBehind(
  pool: pg.Pool,
  tables: ReadonlyArray<{ table: string; columns: readonly string[] }>,
): Promise<string | null> {
  for (const t of tables) {
    const { rows } = await pool.query<{ column_name: string }>(
      "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1",
      [t.table],
    );
    if (rows.length === 0) {
      return `table ${t.table} missing`;
    }
    const have = new Set(rows.map((r) => r.column_name));
    const missing = t.columns.find((c) => !have.has(c));
    if (missing) {
      return `column ${t.table}.${missing} missing`;
    }
  }
  return null;
}
