{%- set svc = service %}{{ header }}
// Settings of the {{ svc.name.raw }} functions, from the environment Terraform sets per function.
// Each function names the variables it requires (src/handlers.ts) and checks them when its
// instance starts: a variable Terraform forgot is an error naming it, never a silent default.
// The defaults suit a local run.

function env(name: string, fallback: string): string {
  return process.env[name] ?? fallback;
}

/** Fail the start of a function when a variable it requires is not set. */
export function checkEnvironment(names: readonly string[]): void {
  const missing = names.filter((name) => process.env[name] === undefined);
  if (missing.length > 0) {
    throw new Error(`environment variables not set: ${missing.join(", ")}`);
  }
}

export function settings() {
  const values = {
{%- for s in svc.ts.functions.settings %}
    {{ s.name }}: env("{{ s.name }}", {{ s.default }}),
{%- endfor %}
    REQUEST_TIMEOUT_SECONDS: {{ svc.resilience.timeout_seconds }},
    REQUEST_RETRIES: {{ svc.resilience.retries }},
    // One try of a call to another service: the budget over retries + 1 tries.
    REQUEST_TRY_TIMEOUT_SECONDS: {{ svc.resilience.try_timeout_seconds }},
{%- if svc.ts.functions.store == "sql" %}
    // From the `{{ m.scale }}` scale preset (blueprints/presets.yaml, `database:`).
    DB_STATEMENT_TIMEOUT_MS: {{ svc.database.statement_timeout_ms }},
    // An instance serves one request at a time; the RDS Proxy pools the connections.
    DB_POOL_SIZE: 1,
{%- endif %}
  };
{%- if svc.ts.functions.store == "sql" %}
  // In AWS the code connects to the RDS Proxy (DB_HOST … DB_SSLROOTCERT, an IAM token as the
  // password: src/iam.ts); a local run or a test sets DATABASE_URL instead, used as is.
  return { ...values, DATABASE_URL: values.DATABASE_URL || proxyUrl(values) };
{%- else %}
  return values;
{%- endif %}
}
{%- if svc.ts.functions.store == "sql" %}

/** The proxy's URL: no password in it, TLS with the proxy's certificate checked (host included). */
function proxyUrl(v: { DB_HOST: string; DB_PORT: string; DB_NAME: string; DB_USER: string; DB_SSLMODE: string; DB_SSLROOTCERT: string }): string {
  const url = new URL(`postgresql://${v.DB_HOST}`);
  url.port = v.DB_PORT;
  url.pathname = `/${encodeURIComponent(v.DB_NAME)}`;
  url.username = encodeURIComponent(v.DB_USER);
  url.searchParams.set("sslmode", v.DB_SSLMODE);
  url.searchParams.set("sslrootcert", v.DB_SSLROOTCERT);
  return url.toString();
}
{%- endif %}

export type Settings = ReturnType<typeof settings>;
