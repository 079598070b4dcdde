{{ header }}
"""Settings from the function's environment (set by Terraform per function)."""

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every variable a function reads; defaults suit a local run."""

    model_config = SettingsConfigDict(extra="ignore")

    service_name: str = "{{ m.name.kebab }}"
    log_level: str = "INFO"
    database_url: str = "postgresql://postgres@localhost:5432/{{ m.name.snake }}"
    # Prefix of the SQS queue names events are sent to; empty keeps events in memory.
    events_queue_prefix: str = ""
    aws_region: str = {{ m.cloud.region | py_str }}


@lru_cache
def get_settings() -> Settings:
    """The settings, read once per cold start."""
    return Settings()
