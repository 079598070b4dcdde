{%- set svc = service %}{{ header }}
// DynamoDB: one table per entity (src/tables.ts), each named by the variable Terraform sets
// (src/config.ts). The AWS SDK's document client (@aws-sdk/lib-dynamodb) reads and writes items
// as plain JSON values and signs every call with the function's role: nothing here holds a
// credential. A local run or a test points it at an emulator with AWS_ENDPOINT_URL.
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { Settings } from "./config.js";

export type Row = Record<string, unknown>;

/** What the routes need of an entity (src/entities.ts): its key, columns and their kinds. */
export interface TableSpec {
  table: string;
  pk: string;
  columns: readonly string[];
  kinds: { uuid: readonly string[]; bool: readonly string[]; json: readonly string[]; timestamp: readonly string[] };
}

export interface Db {
  /** The document client: commands of @aws-sdk/lib-dynamodb. */
  client: DynamoDBDocumentClient;
  /** The name of the table whose variable is `setting`. */
  table(setting: string): string;
  end(): Promise<void>;
}

/** Errors meaning DynamoDB cannot serve now: throttled, failing on its side, or unreachable. */
const UNAVAILABLE = new Set([
  "ProvisionedThroughputExceededException",
  "ThrottlingException",
  "RequestLimitExceeded",
  "InternalServerError",
  "ServiceUnavailable",
  "TimeoutError",
]);
const UNREACHABLE = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN"]);

/** A call that ran over the client's time limit. */
export function timedOut(err: unknown): boolean {
  return (err as { name?: unknown }).name === "TimeoutError";
}

/** An error meaning the table cannot be served now (the request is retryable: 503). */
export function unavailable(err: unknown): boolean {
  const e = err as { name?: unknown; code?: unknown };
  return (typeof e.name === "string" && UNAVAILABLE.has(e.name)) || (typeof e.code === "string" && UNREACHABLE.has(e.code));
}

/** A write whose condition did not hold (the key exists already, or no longer). */
export function conditionFailed(err: unknown): boolean {
  return (err as { name?: unknown }).name === "ConditionalCheckFailedException";
}

/** The client, made once per instance; table names from the settings. */
export function createDb(config: Settings): Db {
  // Absent values are left out of an item (an index key may not be NULL).
  const client = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
  const names = config as unknown as Record<string, unknown>;
  return {
    client,
    table: (setting) => String(names[setting]),
    end: async () => client.destroy(),
  };
}
