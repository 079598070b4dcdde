{{ header }}
"""Settings from the function's environment, which Terraform sets per function.

Each function names the variables it requires (`ENVIRONMENT` in its module) and checks them at
cold start: a variable Terraform forgot is an error naming it, never a silent default.
"""

import os
from collections.abc import Iterable
from functools import lru_cache

from pydantic_settings import BaseSettings


class Settings(BaseSettings):
    """Every variable a function of {{ m.name.raw }} reads; defaults suit a local run."""
{% for s in m.serverless.settings %}
    # {{ s.doc }}
    {{ s.field }}: {{ s.py_type }} = {{ s.py_default }}
{%- endfor %}


@lru_cache
def get_settings() -> Settings:
    """The settings, read once per cold start."""
    return Settings()


def check_environment(names: Iterable[str]) -> None:
    """Fail the cold start when a variable the function requires is not set."""
    missing = [name for name in names if name not in os.environ]
    if missing:
        raise RuntimeError(f"environment variables not set: {', '.join(missing)}")
