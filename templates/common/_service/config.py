{{ header }}
"""Settings from the environment: the same names as in compose and Kubernetes."""

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every variable the service reads; defaults suit a local run."""

    model_config = SettingsConfigDict(extra="ignore")

{% for e in svc.env %}    {{ e.name | lower }}: str = {{ e.value | py_str }}
{% endfor %}{% for s in svc.secret_env %}{% if svc.database and s.name == svc.database.env_var %}    {{ s.name | lower }}: str = "postgresql://{{ svc.database.user }}@localhost:5432/{{ svc.database.db_name }}"
{% else %}    {{ s.name | lower }}: str = ""
{% endif %}{% endfor %}{% if not svc.cache %}    redis_url: str = ""
{% endif %}{% if m.messaging and not (svc.publishes or svc.consumes) %}    {{ m.messaging.env_var | lower }}: str = ""
{% endif %}{% if not m.observability.tracing %}    otel_exporter_otlp_endpoint: str = ""
    otel_service_name: str = {{ svc.name.kebab | quote }}
{% endif %}    otel_sdk_disabled: bool = False
    aws_region: str = {{ m.cloud.region | py_str }}
    request_timeout_seconds: float = {{ svc.resilience.timeout_seconds }}
    request_retries: int = {{ svc.resilience.retries }}


@lru_cache
def get_settings() -> Settings:
    """The settings, read once."""
    return Settings()
