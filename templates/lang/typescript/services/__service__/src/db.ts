{%- set svc = service %}{{ header }}
{%- if svc.database and svc.database.mysql %}
// The MySQL pool (mysql2; MySQL 8, MariaDB in tests): size and statement limit from the settings
// (the scale preset). The routes see rows as the API writes them: the driver's forms of a UUID
// (32 hex digits, as Python's services store it), a boolean (0/1) and JSON (text on MariaDB) are
// converted here, and instants are read and written in UTC.
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import mysql from "mysql2/promise";
import type { Settings } from "./config.js";
{%- else %}
// The PostgreSQL pool: size and statement timeout from the settings (the scale preset).
import pg from "pg";
import type { Settings } from "./config.js";
{%- endif %}

export type Row = Record<string, unknown>;

/** What the routes need of a table: its name, key, columns and the columns' kinds. */
export interface TableSpec {
  table: string;
  pk: string;
  columns: readonly string[];
  kinds: { uuid: readonly string[]; bool: readonly string[]; json: readonly string[]; timestamp: readonly string[] };
}

/** One statement inside a transaction: its rows as the driver reads them. */
export type Query = (sql: string, params?: readonly unknown[]) => Promise<Row[]>;

export interface Db {
  /** The rows of one statement (placeholders from `param`), as the API writes them. */
  query(spec: TableSpec | null, sql: string, params?: readonly unknown[]): Promise<Row[]>;
  /** Run `work` in one transaction on one connection: committed when it resolves, rolled back
   * when it throws. */
  transaction<T>(work: (q: Query) => Promise<T>): Promise<T>;
  /** Insert one row and read it back; `then` runs in the same transaction with the new row (an
   * event added to the outbox commits with the row, or neither does). */
  insert(spec: TableSpec, values: Row, then?: (row: Row, q: Query) => Promise<void>): Promise<Row>;
  /** Change one row by key and read it back (undefined when it is gone). */
  update(spec: TableSpec, id: unknown, values: Row): Promise<Row | undefined>;
  /** Run a script of several statements (the tests apply migrations with it). */
  script(sql: string): Promise<void>;
  end(): Promise<void>;
}

{%- if svc.database and svc.database.mysql %}

/** The RDS CA bundle a cloud pod mounts: `tls=true` in the URL checks the server against it. */
export const RDS_CA_FILE = "{{ m.transport.rds_ca_file }}";

/** Error numbers of a statement stopped for running over its limit: MariaDB's
 * `max_statement_time` (1969) and MySQL's `max_execution_time` (3024). */
const TIMED_OUT = new Set([1969, 3024]);
/** Error codes meaning the server cannot serve now (refused, lost, shutting down, full). */
const UNAVAILABLE = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "PROTOCOL_CONNECTION_LOST",
  "PROTOCOL_SEQUENCE_TIMEOUT",
  "ER_SERVER_SHUTDOWN",
  "ER_CON_COUNT_ERROR",
]);

export const ident = (name: string): string => `\`${name.replaceAll("`", "``")}\``;
/** The n-th placeholder of a statement (MySQL's are all `?`). */
export function param(n: number): string {
  void n;
  return "?";
}
/** A column compared with a text parameter (an owner column against a token's subject). */
export const textEquals = (column: string, n: number): string => `${ident(column)} = ${param(n)}`;
/** A UUID as a column stores it: 32 hex digits (MySQL has no UUID type; Python's services store
 * the same form). */
export const storedUuid = (id: string): string => id.replaceAll("-", "").toLowerCase();

export function timedOut(err: unknown): boolean {
  return TIMED_OUT.has(Number((err as { errno?: unknown }).errno));
}

/** An error meaning the database cannot serve now: connection refused or lost, the server
 * shutting down or full, a statement stopped by the server's limit. */
export function unavailable(err: unknown): boolean {
  const e = err as { code?: unknown; fatal?: unknown };
  return timedOut(err) || e.fatal === true || (typeof e.code === "string" && UNAVAILABLE.has(e.code));
}

/** What a refused statement means for the client: `duplicate` (unique key), `missing` (a
 * foreign key names no row), `referenced` (the row is still referenced), `invalid` (a check or
 * a value the column cannot hold), or null (not the client's doing). */
export function refusal(err: unknown): "duplicate" | "missing" | "referenced" | "invalid" | null {
  switch (Number((err as { errno?: unknown }).errno)) {
    case 1062:
      return "duplicate";
    case 1452:
      return "missing";
    case 1451:
      return "referenced";
    // Check constraints (MySQL 3819, MariaDB 4025), NULL in NOT NULL, values too long, out of
    // range or not of the column's type.
    case 3819:
    case 4025:
    case 1048:
    case 1264:
    case 1265:
    case 1292:
    case 1366:
    case 1406:
      return "invalid";
    default:
      return null;
  }
}

/** Pool options from a `mysql://user:password@host:port/db[?tls=true]` URL (the one dbmate reads
 * too): `tls=true` checks the server's certificate and host name against the RDS CA bundle. */
export function connectionOptions(url: string): mysql.PoolOptions {
  const u = new URL(url);
  const tls = u.searchParams.get("tls") === "true";
  return {
    host: u.hostname,
    port: Number(u.port || "3306"),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password) || undefined,
    database: decodeURIComponent(u.pathname.slice(1)),
    charset: "utf8mb4",
    // Instants are UTC both ways, as PostgreSQL's TIMESTAMPTZ; a DATE stays its calendar day.
    timezone: "Z",
    dateStrings: ["DATE"],
    connectTimeout: 3000,
    // JSON as its text (MySQL's JSON type; MariaDB's is text already): `decode` parses both.
    typeCast: (field, next) => (field.type === "JSON" ? field.string("utf8") : next()),
    ...(tls ? { ssl: { ca: readFileSync(RDS_CA_FILE, "utf8"), rejectUnauthorized: true, verifyIdentity: true } } : {}),
  };
}

/** What each new connection sets: UTC (timestamps are stored as UTC `DATETIME(6)`) and the
 * statement limit, `max_statement_time` (seconds, every statement) in MariaDB and
 * `max_execution_time` (milliseconds, read-only SELECTs) in MySQL 8. */
export function sessionSettings(server: string, timeoutMs: number): string {
  const limit = /mariadb/i.test(server)
    ? `max_statement_time = ${timeoutMs / 1000}`
    : `max_execution_time = ${timeoutMs}`;
  return `SET SESSION time_zone = '+00:00', ${limit}`;
}

const hex = (value: unknown): unknown => (typeof value === "string" ? value.replaceAll("-", "").toLowerCase() : value);
const dashed = (value: unknown): unknown =>
  typeof value === "string" && /^[0-9a-f]{32}$/.test(value)
    ? `${value.slice(0, 8)}-${value.slice(8, 12)}-${value.slice(12, 16)}-${value.slice(16, 20)}-${value.slice(20)}`
    : value;

/** A value as the column stores it. */
export function encode(spec: TableSpec, column: string, value: unknown): unknown {
  if (value === null || value === undefined) {
    return value;
  }
  if (spec.kinds.uuid.includes(column)) {
    return hex(value);
  }
  if (spec.kinds.json.includes(column)) {
    return JSON.stringify(value);
  }
  if (spec.kinds.timestamp.includes(column) && typeof value === "string") {
    return new Date(value);
  }
  return value;
}

/** A row as the API writes it. */
export function decode(spec: TableSpec | null, row: Row): Row {
  if (spec === null) {
    return row;
  }
  const out: Row = { ...row };
  for (const c of spec.kinds.uuid) {
    out[c] = dashed(out[c]);
  }
  for (const c of spec.kinds.bool) {
    if (out[c] !== null && out[c] !== undefined) {
      out[c] = Boolean(out[c]);
    }
  }
  for (const c of spec.kinds.json) {
    if (typeof out[c] === "string") {
      out[c] = JSON.parse(out[c] as string);
    }
  }
  return out;
}

async function inTransaction<T>(conn: mysql.PoolConnection, work: (q: Query) => Promise<T>): Promise<T> {
  await conn.beginTransaction();
  try {
    const out = await work(async (sql, params = []) => {
      const [rows] = await conn.query<mysql.RowDataPacket[] | mysql.ResultSetHeader>(sql, [...params]);
      return Array.isArray(rows) ? rows : [];
    });
    await conn.commit();
    return out;
  } catch (err) {
    await conn.rollback().catch(() => undefined);
    throw err;
  }
}

/** The pool; a connection the server closes is dropped by the pool itself (`onLost` is for
 * PostgreSQL's idle-connection errors). */
export function createDb(config: Settings, onLost?: (err: Error) => void): Db {
  void onLost;
  const pool = mysql.createPool({
    ...connectionOptions(config.{{ svc.database.env_var }}),
    connectionLimit: config.DB_POOL_SIZE,
    // A connection closed by the server while idle is dropped before the server's wait_timeout.
    idleTimeout: 60000,
  });
  const prepared = new WeakSet<object>();
  async function run<T>(work: (c: mysql.PoolConnection) => Promise<T>): Promise<T> {
    const conn = await pool.getConnection();
    try {
      if (!prepared.has(conn.connection)) {
        const [rows] = await conn.query<mysql.RowDataPacket[]>("SELECT VERSION() AS v");
        await conn.query(sessionSettings(String(rows[0]?.v ?? ""), config.DB_STATEMENT_TIMEOUT_MS));
        prepared.add(conn.connection);
      }
      return await work(conn);
    } finally {
      conn.release();
    }
  }
  const select = async (conn: mysql.PoolConnection, spec: TableSpec, id: unknown): Promise<Row | undefined> => {
    const [rows] = await conn.query<mysql.RowDataPacket[]>(
      `SELECT ${spec.columns.map(ident).join(", ")} FROM ${ident(spec.table)} WHERE ${ident(spec.pk)} = ?`,
      [encode(spec, spec.pk, id)],
    );
    return rows[0] === undefined ? undefined : decode(spec, rows[0]);
  };
  const insertRow = async (conn: mysql.PoolConnection, spec: TableSpec, values: Row): Promise<Row> => {
    const row: Row = { ...values };
    if (spec.kinds.uuid.includes(spec.pk) && row[spec.pk] === undefined) {
      row[spec.pk] = randomUUID();
    }
    const names = Object.keys(row);
    const [result] = await conn.query<mysql.ResultSetHeader>(
      names.length
        ? `INSERT INTO ${ident(spec.table)} (${names.map(ident).join(", ")}) VALUES (${names.map(() => "?").join(", ")})`
        : `INSERT INTO ${ident(spec.table)} () VALUES ()`,
      names.map((n) => encode(spec, n, row[n])),
    );
    const created = await select(conn, spec, row[spec.pk] ?? result.insertId);
    if (created === undefined) {
      throw new Error(`${spec.table}: the inserted row cannot be read back`);
    }
    return created;
  };
  return {
    query: (spec, sql, params = []) =>
      run(async (conn) => {
        const [rows] = await conn.query<mysql.RowDataPacket[] | mysql.ResultSetHeader>(sql, [...params]);
        // A statement that returns no rows (DELETE) gives a result header.
        return Array.isArray(rows) ? rows.map((r) => decode(spec, r)) : [];
      }),
    transaction: (work) => run((conn) => inTransaction(conn, work)),
    // MySQL has no RETURNING: a UUID key is made here (as Python's services do), an integer
    // key is the server's AUTO_INCREMENT; then the row is read back.
    insert: (spec, values, then) =>
      run(async (conn) => {
        if (then !== undefined) {
          return inTransaction(conn, async (q) => {
            const created = await insertRow(conn, spec, values);
            await then(created, q);
            return created;
          });
        }
        return insertRow(conn, spec, values);
      }),
    update: (spec, id, values) =>
      run(async (conn) => {
        const names = Object.keys(values);
        await conn.query(
          `UPDATE ${ident(spec.table)} SET ${names.map((n) => `${ident(n)} = ?`).join(", ")} WHERE ${ident(spec.pk)} = ?`,
          [...names.map((n) => encode(spec, n, values[n])), encode(spec, spec.pk, id)],
        );
        return select(conn, spec, id);
      }),
    script: async (sql) => {
      const conn = await mysql.createConnection({ ...connectionOptions(config.{{ svc.database.env_var }}), multipleStatements: true });
      try {
        await conn.query(sql);
      } finally {
        await conn.end();
      }
    },
    end: () => pool.end(),
  };
}
{%- else %}

// DATE stays the calendar day it is (not a Date at local midnight); BIGINT and NUMERIC
// columns keep their exact text unless they fit a JavaScript number (BIGINT keys do).
pg.types.setTypeParser(pg.types.builtins.DATE, (value: string) => value);
pg.types.setTypeParser(pg.types.builtins.INT8, (value: string) => Number(value));

/** SQLSTATE of a statement cancelled by `statement_timeout`. */
const QUERY_CANCELED = "57014";

export const ident = (name: string): string => `"${name.replaceAll('"', '""')}"`;
export const param = (n: number): string => `$${n}`;
/** A column compared with a text parameter (an owner column against a token's subject). */
export const textEquals = (column: string, n: number): string => `${ident(column)}::text = ${param(n)}`;
/** A UUID as a column stores it (PostgreSQL's own type takes the text form). */
export const storedUuid = (id: string): string => id;

export function timedOut(err: unknown): boolean {
  return (err as { code?: unknown }).code === QUERY_CANCELED;
}

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

/** What a refused statement means for the client: `duplicate` (unique key), `missing` (a
 * foreign key names no row), `referenced` (the row is still referenced), `invalid` (another
 * constraint or a value the column cannot hold: SQLSTATE class 23 or 22), or null. */
export function refusal(err: unknown): "duplicate" | "missing" | "referenced" | "invalid" | null {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== "string") {
    return null;
  }
  if (code === "23505") {
    return "duplicate";
  }
  if (code === "23503") {
    // The same SQLSTATE for a missing parent (insert, update) and a referenced row (delete).
    return "missing";
  }
  return code.startsWith("23") || code.startsWith("22") ? "invalid" : null;
}

/** A value as the column stores it (the driver takes the API's forms as they are). */
export function encode(_spec: TableSpec, _column: string, value: unknown): unknown {
  return value;
}

export function createDb(config: Settings, onLost?: (err: Error) => void): Db {
{%- if svc.database %}
  const pool = new pg.Pool({
    connectionString: config.{{ svc.database.env_var }},
    max: config.DB_POOL_SIZE,
    statement_timeout: config.DB_STATEMENT_TIMEOUT_MS,
    connectionTimeoutMillis: 5000,
  });
  // A pooled connection the server closed (restart, outage) must not stop the process.
  pool.on("error", (err) => onLost?.(err));
  const columns = (spec: TableSpec) => spec.columns.map(ident).join(", ");
  const poolQuery: Query = async (sql, params = []) => (await pool.query<Row>(sql, [...params])).rows;
  const insertRow = async (q: Query, spec: TableSpec, values: Row): Promise<Row> => {
    const names = Object.keys(values);
    const sql = names.length
      ? `INSERT INTO ${ident(spec.table)} (${names.map(ident).join(", ")}) VALUES (${names.map((_, i) => param(i + 1)).join(", ")}) RETURNING ${columns(spec)}`
      : `INSERT INTO ${ident(spec.table)} DEFAULT VALUES RETURNING ${columns(spec)}`;
    const rows = await q(sql, names.map((n) => values[n]));
    return rows[0] as Row;
  };
  const transaction = async <T>(work: (q: Query) => Promise<T>): Promise<T> => {
    const conn = await pool.connect();
    let broken: Error | undefined;
    // A checked-out connection the server closes emits `error` on itself, not on the pool:
    // without a listener that ends the process. The statement in flight fails instead, and the
    // connection is dropped on release.
    const lost = (err: Error): void => {
      broken = err;
      onLost?.(err);
    };
    conn.on("error", lost);
    try {
      await conn.query("BEGIN");
      const out = await work(async (sql, params = []) => (await conn.query<Row>(sql, [...params])).rows);
      await conn.query("COMMIT");
      return out;
    } catch (err) {
      // A connection that cannot even roll back is dropped from the pool.
      await conn.query("ROLLBACK").catch((e: Error) => {
        broken = e;
      });
      throw err;
    } finally {
      conn.off("error", lost);
      conn.release(broken);
    }
  };
  return {
    query: (_spec, sql, params) => poolQuery(sql, params),
    transaction,
    insert: (spec, values, then) =>
      then === undefined
        ? insertRow(poolQuery, spec, values)
        : transaction(async (q) => {
            const created = await insertRow(q, spec, values);
            await then(created, q);
            return created;
          }),
    update: async (spec, id, values) => {
      const names = Object.keys(values);
      const sets = names.map((n, i) => `${ident(n)} = ${param(i + 2)}`).join(", ");
      const { rows } = await pool.query<Row>(
        `UPDATE ${ident(spec.table)} SET ${sets} WHERE ${ident(spec.pk)} = $1 RETURNING ${columns(spec)}`,
        [id, ...names.map((n) => values[n])],
      );
      return rows[0];
    },
    script: async (sql) => {
      await pool.query(sql);
    },
    end: () => pool.end(),
  };
{%- else %}
  void config;
  void onLost;
  throw new Error("this service has no database");
{%- endif %}
}
{%- endif %}

/** The first table or column the entities need that the live database lacks, or null. */
export async function schemaBehind(db: Db, tables: ReadonlyArray<{ table: string; columns: readonly string[] }>): Promise<string | null> {
  for (const t of tables) {
    const rows = await db.query(
      null,
{%- if svc.database and svc.database.mysql %}
      "SELECT column_name AS column_name FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ?",
{%- else %}
      "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1",
{%- endif %}
      [t.table],
    );
    if (rows.length === 0) {
      return `table ${t.table} missing`;
    }
    const have = new Set(rows.map((r) => String(r.column_name)));
    const missing = t.columns.find((c) => !have.has(c));
    if (missing) {
      return `column ${t.table}.${missing} missing`;
    }
  }
  return null;
}
