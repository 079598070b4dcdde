{%- set svc = service %}{{ header }}
// Settings from the environment: the same names as in compose and Kubernetes; the defaults
// suit a local run.

function env(name: string, fallback: string): string {
  return process.env[name] ?? fallback;
}

export function settings() {
  return {
{%- for e in svc.env %}
    {{ e.name }}: env("{{ e.name }}", {{ e.value | json }}),
{%- endfor %}
{%- for s in svc.secret_env %}
{%- if svc.database and s.name == svc.database.env_var %}
    {{ s.name }}: env("{{ s.name }}", "{{ svc.database.local_url }}"),
{%- else %}
    {{ s.name }}: env("{{ s.name }}", ""),
{%- endif %}
{%- endfor %}
{%- for e in m.security.local_env %}
    {{ e.name }}: env("{{ e.name }}", {{ e.value | json }}),
{%- endfor %}
{%- if not m.observability.tracing %}
    OTEL_EXPORTER_OTLP_ENDPOINT: env("OTEL_EXPORTER_OTLP_ENDPOINT", ""),
{%- endif %}
    OTEL_SDK_DISABLED: env("OTEL_SDK_DISABLED", "false") === "true",
    REQUEST_TIMEOUT_SECONDS: Number(env("REQUEST_TIMEOUT_SECONDS", "{{ svc.resilience.timeout_seconds }}")),
    REQUEST_RETRIES: Number(env("REQUEST_RETRIES", "{{ svc.resilience.retries }}")),
    // One try of a call to another service: the budget over retries + 1 tries.
    REQUEST_TRY_TIMEOUT_SECONDS: Number(env("REQUEST_TRY_TIMEOUT_SECONDS", "{{ svc.resilience.try_timeout_seconds }}")),
{%- if svc.cache %}
    // Cloud: the ElastiCache user and its password from Secrets Manager; empty locally.
    REDIS_USERNAME: env("REDIS_USERNAME", ""),
    REDIS_PASSWORD: env("REDIS_PASSWORD", ""),
{%- endif %}
{%- if svc.ts.has_events and m.messaging.is_rabbitmq %}
    // Cloud: the broker's user and its password from Secrets Manager; empty locally (the
    // local broker's default user).
    AMQP_USERNAME: env("AMQP_USERNAME", ""),
    AMQP_PASSWORD: env("AMQP_PASSWORD", ""),
{%- elif svc.ts.has_events and m.messaging.is_kafka %}
    // Plaintext locally; cloud overlays set SASL_SSL + OAUTHBEARER (MSK IAM).
    KAFKA_SECURITY_PROTOCOL: env("KAFKA_SECURITY_PROTOCOL", {{ m.transport.local.kafka_security_protocol | json }}),
    KAFKA_SASL_MECHANISM: env("KAFKA_SASL_MECHANISM", {{ m.transport.local.kafka_sasl_mechanism | json }}),
{%- endif %}
{%- if svc.ts.has_events and not m.messaging.is_rabbitmq %}
    AWS_REGION: env("AWS_REGION", {{ m.cloud.region | json }}),
{%- endif %}
    // Lifetime of a row cached by id (the scale preset's cache.ttl_seconds).
    CACHE_TTL_SECONDS: Number(env("CACHE_TTL_SECONDS", "{{ m.preset.cache.ttl_seconds }}")),
{%- if svc.database %}
    // From the `{{ m.scale }}` scale preset (blueprints/presets.yaml, `database:`).
    DB_STATEMENT_TIMEOUT_MS: Number(env("DB_STATEMENT_TIMEOUT_MS", "{{ svc.database.statement_timeout_ms }}")),
    DB_POOL_SIZE: Number(env("DB_POOL_SIZE", "{{ svc.database.pool_size }}")),
{%- endif %}
  };
}

export type Settings = ReturnType<typeof settings>;
