{{ header }}
"""Settings from the environment: the same names as in compose and Kubernetes."""

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every variable the service reads; defaults suit a local run."""

    model_config = SettingsConfigDict(extra="ignore")

{% for e in svc.env %}{% set value = e.value | py_str %}{% if e.name | length + value | length > 75 %}    {{ e.setting }}: str = (
        {{ value }}
    )
{% else %}    {{ e.setting }}: str = {{ value }}
{% endif %}{% endfor %}{% for s in svc.secret_env %}{% if svc.database and s.name == svc.database.env_var %}    {{ s.setting }}: str = "{{ svc.database.local_url }}"
{% else %}    {{ s.setting }}: str = ""
{% endif %}{% endfor %}{% if not svc.cache %}    redis_url: str = ""
{% endif %}{% if m.messaging and not (svc.publishes or svc.consumes) %}    {{ m.messaging.setting }}: str = ""
{% endif %}{% if not m.observability.tracing %}    otel_exporter_otlp_endpoint: str = ""
    otel_service_name: str = {{ svc.name.kebab | quote }}
{% endif %}    otel_sdk_disabled: bool = False
    aws_region: str = {{ m.cloud.region | py_str }}
{%- set uses_mq = m.messaging and (svc.publishes or svc.consumes) %}
{%- if uses_mq and m.messaging.is_kafka %}
    # Plaintext locally; cloud overlays set SASL_SSL + OAUTHBEARER (MSK IAM).
    kafka_security_protocol: str = {{ m.transport.local.kafka_security_protocol | py_str }}
    kafka_sasl_mechanism: str = {{ m.transport.local.kafka_sasl_mechanism | py_str }}
{%- endif %}
{%- if uses_mq and m.messaging.is_rabbitmq %}
    # Cloud: the Amazon MQ user from Secrets Manager; empty locally (the broker's own default).
    amqp_username: str = ""
    amqp_password: str = ""
{%- endif %}
{%- if svc.cache %}
    # Cloud: the ElastiCache user and its password from Secrets Manager; empty locally.
    redis_username: str = ""
    redis_password: str = ""
{%- endif %}
    request_timeout_seconds: float = {{ svc.resilience.timeout_seconds }}
    request_retries: int = {{ svc.resilience.retries }}
    # One try of a call to another service: the budget over retries + 1 tries, so that all
    # tries of one call fit in request_timeout_seconds.
    request_try_timeout_seconds: float = {{ svc.resilience.try_timeout_seconds }}
    # Lifetime of a row cached by id (the scale preset's cache.ttl_seconds).
    cache_ttl_seconds: int = {{ m.preset.cache.ttl_seconds }}
{%- if svc.database %}
    # From the `{{ m.scale }}` scale preset (blueprints/presets.yaml, `database:`).
    db_statement_timeout_ms: int = {{ svc.database.statement_timeout_ms }}
    db_pool_size: int = {{ svc.database.pool_size }}
    db_max_overflow: int = {{ svc.database.max_overflow }}
{%- endif %}
    # Bearer tokens (app.auth): the issuer, the audience they must name and the issuer's keys.
{%- for e in m.security.local_env %}
    {{ e.setting }}: str = {{ e.value | py_str }}
{%- endfor %}

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]

    @property
    def cors_method_list(self) -> list[str]:
        return [m.strip() for m in self.cors_methods.split(",") if m.strip()]


@lru_cache
def get_settings() -> Settings:
    """The settings, read once."""
    return Settings()
