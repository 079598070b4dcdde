{%- set svc = service %}{{ header }}
// Lambda entry points. An HTTP function is the Fastify app behind @fastify/aws-lambda (API
// Gateway HTTP API, payload 2.0): the claims the JWT authorizer verified are kept for the
// invocation (src/auth.ts). A queue function reads SQS records, each the EventBridge event of
// its topic, and reports the records that failed one by one (`batchItemFailures`), so only they
// are retried and then sent to the dead-letter queue. Either checks its environment on the
// first event of an instance (its cold start): a variable Terraform forgot fails it, naming it.
import awsLambdaFastify, { type LambdaResponse } from "@fastify/aws-lambda";
import type { APIGatewayProxyEventV2, Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { buildApp } from "./app.js";
import { invocationClaims, type Claims } from "./auth.js";
import { checkEnvironment, settings } from "./config.js";
{%- if svc.ts.functions.store == "sql" %}
import { useIamTokens } from "./iam.js";
{%- endif %}

export type HttpHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<LambdaResponse>;
export type QueueHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
/** What a queue function does with one event's payload; a throw marks the record failed. */
export type OnEvent = (payload: Record<string, unknown>, id: string) => Promise<void>;

/** The claims the authorizer passed on, when the route has one. */
function claimsOf(event: APIGatewayProxyEventV2): Claims | undefined {
  const context = event.requestContext as { authorizer?: { jwt?: { claims?: Claims } } };
  return context.authorizer?.jwt?.claims;
}

/** An HTTP function requiring `environment`; the app is built once per instance. */
export function httpFunction(environment: readonly string[]): HttpHandler {
  let proxy: HttpHandler | undefined;
  return async (event, context) => {
    if (proxy === undefined) {
      checkEnvironment(environment);
      const config = settings();
{%- if svc.ts.functions.store == "sql" %}
      useIamTokens(config);
{%- endif %}
      const app = buildApp({ config });
      await app.ready();
      proxy = awsLambdaFastify<APIGatewayProxyEventV2>(app);
    }
    const serve = proxy;
    return invocationClaims.run(claimsOf(event), () => serve(event, context));
  };
}

const LEVELS: Record<string, number> = { DEBUG: 10, INFO: 20, WARNING: 30, WARN: 30, ERROR: 40 };

/** One line of JSON on stdout (CloudWatch Logs reads it as structured), at LOG_LEVEL or above. */
export function log(level: "INFO" | "ERROR", message: string, fields: Record<string, unknown> = {}): void {
  if ((LEVELS[level] ?? 0) < (LEVELS[(process.env.LOG_LEVEL ?? "INFO").toUpperCase()] ?? 20)) {
    return;
  }
  const line = { level, message, service: process.env.SERVICE_NAME, ...fields };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

/** The payload of one message: the `detail` of the EventBridge event the rule delivered. */
export function detail(topic: string, body: string): Record<string, unknown> {
  const envelope = JSON.parse(body) as unknown;
  if (typeof envelope !== "object" || envelope === null || (envelope as Claims)["detail-type"] !== topic) {
    throw new Error(`${topic}: not an EventBridge event of this topic`);
  }
  const payload = (envelope as Claims).detail;
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) {
    throw new Error(`${topic}: expected a JSON object as detail`);
  }
  return payload as Record<string, unknown>;
}

/** A queue function of `topic` requiring `environment`. */
export function queueFunction(topic: string, environment: readonly string[], onEvent: OnEvent): QueueHandler {
  let started = false;
  return async (event) => {
    if (!started) {
      checkEnvironment(environment);
      started = true;
    }
    const batchItemFailures: SQSBatchResponse["batchItemFailures"] = [];
    for (const record of event.Records ?? []) {
      try {
        const payload = detail(topic, record.body);
        await onEvent(payload, String((JSON.parse(record.body) as Claims).id ?? record.messageId));
      } catch (err) {
        log("ERROR", `${topic}: record ${record.messageId} failed`, { error: String(err) });
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures };
  };
}
