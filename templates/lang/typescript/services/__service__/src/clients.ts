{%- set svc = service %}{{ header }}
// Typed clients of the services this one calls (`depends_on`), one method per operation of
// the callee's OpenAPI contract. A call has REQUEST_TIMEOUT_SECONDS in all: it is tried
// REQUEST_RETRIES + 1 times, each try within REQUEST_TRY_TIMEOUT_SECONDS; a connection error,
// a timeout or a 5xx is retried (a POST only when it was never answered). Every request
// carries the caller's `Authorization` and the trace context. Still failing: DependencyUnavailable.
import { context, propagation } from "@opentelemetry/api";
import type { Settings } from "./config.js";

export class DependencyUnavailable extends Error {}

export class DependencyError extends Error {
  constructor(
    readonly service: string,
    readonly status: number,
  ) {
    super(`${service} answered ${status}`);
  }
}

const IDEMPOTENT = new Set(["GET", "PATCH", "DELETE"]);

/** Headers passed on from the request being served: its token and request id. */
export type Forwarded = Record<string, string>;

export function forwarded(headers: Record<string, string | string[] | undefined>, requestId: string): Forwarded {
  const out: Forwarded = { "x-request-id": requestId };
  if (typeof headers.authorization === "string") {
    out.authorization = headers.authorization;
  }
  return out;
}

export class ServiceClient {
  constructor(
    readonly name: string,
    readonly baseUrl: string,
    private readonly config: Settings,
  ) {}

  /** The JSON body of a call, or null for a 404 (an unknown row). `forwarded` carries the
   * caller's `Authorization` and `X-Request-ID`. */
  async request(
    method: string,
    path: string,
    forwarded: Forwarded,
    body?: unknown,
  ): Promise<unknown> {
    const headers: Record<string, string> = { accept: "application/json", ...forwarded };
    if (body !== undefined) {
      headers["content-type"] = "application/json";
    }
    propagation.inject(context.active(), headers);
    const tries = this.config.REQUEST_RETRIES + 1;
    let reason = "no try";
    for (let attempt = 1; attempt <= tries; attempt++) {
      let response: Response;
      try {
        response = await fetch(new URL(path, this.baseUrl), {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(this.config.REQUEST_TRY_TIMEOUT_SECONDS * 1000),
        });
      } catch (err) {
        reason = err instanceof Error ? err.message : String(err);
        continue;
      }
      if (response.status >= 500 && IDEMPOTENT.has(method)) {
        reason = `status ${response.status}`;
        continue;
      }
      if (response.status === 404) {
        return null;
      }
      if (!response.ok) {
        throw new DependencyError(this.name, response.status);
      }
      return response.status === 204 ? undefined : await response.json();
    }
    throw new DependencyUnavailable(`${this.name}: ${reason}`);
  }
}
{%- for c in svc.ts.clients %}
{%- for t in c.types %}

export interface {{ t.name }} {
{%- for f in t.fields %}
  {{ f.name }}: {{ f.ts_type }}{% if f.nullable %} | null{% endif %};
{%- endfor %}
}
{%- endfor %}

/** {{ c.class }}: the {{ c.property }} service at {{ c.env_var }}. */
export class {{ c.class }} extends ServiceClient {
{%- for o in c.operations %}
{%- if o.kind == "get" %}
  /** {{ o.operation_id }}: {{ o.http_method }} {{ o.path }}/{id}; null when there is none. */
  async {{ o.method }}(id: string | number, forwarded: Forwarded = {}): Promise<{{ o.entity }} | null> {
    return (await this.request("GET", `{{ o.path }}/${encodeURIComponent(String(id))}`, forwarded)) as {{ o.entity }} | null;
  }
{%- elif o.kind == "list" %}
  /** {{ o.operation_id }}: one page in key order. */
  async {{ o.method }}(forwarded: Forwarded = {}): Promise<{ items: {{ o.entity }}[]; next: unknown }> {
    return (await this.request("GET", "{{ o.path }}", forwarded)) as { items: {{ o.entity }}[]; next: unknown };
  }
{%- elif o.kind == "create" %}
  /** {{ o.operation_id }}: {{ o.http_method }} {{ o.path }}. */
  async {{ o.method }}(body: Partial<{{ o.entity }}>, forwarded: Forwarded = {}): Promise<{{ o.entity }}> {
    return (await this.request("POST", "{{ o.path }}", forwarded, body)) as {{ o.entity }};
  }
{%- elif o.kind == "update" %}
  /** {{ o.operation_id }}: {{ o.http_method }} {{ o.path }}/{id}. */
  async {{ o.method }}(id: string | number, body: Partial<{{ o.entity }}>, forwarded: Forwarded = {}): Promise<{{ o.entity }} | null> {
    return (await this.request("PATCH", `{{ o.path }}/${encodeURIComponent(String(id))}`, forwarded, body)) as {{ o.entity }} | null;
  }
{%- elif o.kind == "delete" %}
  /** {{ o.operation_id }}: {{ o.http_method }} {{ o.path }}/{id}. */
  async {{ o.method }}(id: string | number, forwarded: Forwarded = {}): Promise<void> {
    await this.request("DELETE", `{{ o.path }}/${encodeURIComponent(String(id))}`, forwarded);
  }
{%- endif %}
{%- endfor %}
}
{%- endfor %}

{%- if svc.ts.clients %}
export interface Clients {
{%- for c in svc.ts.clients %}
  {{ c.property }}: {{ c.class }};
{%- endfor %}
}
{%- else %}
export type Clients = Record<string, never>;
{%- endif %}

export function createClients(config: Settings): Clients {
{%- if svc.ts.clients %}
  return {
{%- for c in svc.ts.clients %}
    {{ c.property }}: new {{ c.class }}("{{ c.property }}", config.{{ c.env_var }}, config),
{%- endfor %}
  };
{%- else %}
  void config;
  return {};
{%- endif %}
}
