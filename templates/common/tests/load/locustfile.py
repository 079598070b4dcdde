{{ header }}
"""Load test of every public route of {{ m.name.raw }} through the gateway.

    pip install locust==2.47.0
    locust -f tests/load/locustfile.py --host https://{% if m.ingress %}{{ m.ingress.host | py_doc }}{% else %}localhost:8080{% endif %}

Requests carry a bearer token: LOAD_TOKEN, or one fetched from LOAD_TOKEN_URL (default: the
development issuer of docker compose, {{ m.security.dev_issuer.local_token_url | default(value="none") }}) for an `{{ m.security.admin_role }}` holding every role a route requires.

Targets for scale `{{ m.scale }}`: {{ m.preset.targets.rps }} rps, p95 < {{ m.preset.targets.p95_ms }} ms.
"""

import os
import random
import uuid
from typing import Any

import requests
from locust import HttpUser, between, task

TOKEN_URL = os.environ.get("LOAD_TOKEN_URL", "{{ m.security.dev_issuer.local_token_url | default(value="") }}")
# The token's roles: the {{ m.security.admin_role }} role (every row) and each role a route requires.
ROLES = [
{%- for r in m.security.test_roles %}
    {{ r | py_str }},
{%- endfor %}
]


def bearer() -> str:
    """LOAD_TOKEN, else a token with ROLES from the issuer's token endpoint."""
    token = os.environ.get("LOAD_TOKEN", "")
    if not token:
        body = {"sub": "load-test", "roles": ROLES}
        response = requests.post(TOKEN_URL, json=body, timeout=10)
        response.raise_for_status()
        token = response.json()["access_token"]
    return f"Bearer {token}"


def unique_text(length: int) -> str:
    return uuid.uuid4().hex[:length]


class ApiUser(HttpUser):
    """Reads dominate: list and get, with one create for every few reads."""

    wait_time = between(0.5, 2)

    def on_start(self) -> None:
        self.known: dict[str, list[Any]] = {}
        self.client.headers["Authorization"] = bearer()

    def remember(self, path: str, key: Any) -> None:
        keys = self.known.setdefault(path, [])
        keys.append(key)
        del keys[:-100]

    def create(self, path: str, payload: dict[str, Any], pk: str = "id") -> Any:
        with self.client.post(path, json=payload, name=path, catch_response=True) as r:
            if r.status_code != 201:
                r.failure(f"{r.status_code}: {r.text[:200]}")
                return None
            key = r.json()[pk]
            self.remember(path, key)
            return key

    def get_one(self, path: str) -> None:
        if self.known.get(path):
            key = random.choice(self.known[path])
            self.client.get(f"{path}/{key}", name=path + "/{id}")

    def list_pages(self, path: str) -> None:
        """The first page, then the next one through its keyset cursor."""
        first = self.client.get(path, params={"limit": 20}, name=path)
        after = first.json().get("next") if first.status_code == 200 else None
        if after is not None:
            params = {"limit": 20, "after": after}
            self.client.get(path, params=params, name=path + "?after")
{%- for e in m.entities %}{% if e.code.public %}

    def {{ e.name.snake }}_payload(self) -> dict[str, Any]:
        return {
{%- for c in e.columns %}{% if c.code.writable %}
{%- set_global parent = "" %}
{%- for p in e.code.gateway_parents %}{% if p.column == c.name %}{% set_global parent = p.snake %}{% endif %}{% endfor %}
{%- if parent %}
            "{{ c.name }}": self.{{ parent }}_key(),
{%- else %}
            "{{ c.name }}": {{ c.code.sample }},
{%- endif %}
{%- endif %}{% endfor %}
        }

    def {{ e.name.snake }}_key(self) -> Any:
        known = self.known.get("{{ e.code.api_path }}")
        if known:
            return random.choice(known)
        path = "{{ e.code.api_path }}"
        return self.create(path, self.{{ e.name.snake }}_payload(), "{{ e.pk }}")

    @task(5)
    def list_{{ e.name.snake }}(self) -> None:
        self.list_pages("{{ e.code.api_path }}")

    @task(3)
    def get_{{ e.name.snake }}(self) -> None:
        self.get_one("{{ e.code.api_path }}")

    @task(1)
    def create_{{ e.name.snake }}(self) -> None:
        path = "{{ e.code.api_path }}"
        self.create(path, self.{{ e.name.snake }}_payload(), "{{ e.pk }}")
{%- endif %}{% endfor %}
{%- if m.load_paths %}

    @task
    def gateway_routes(self) -> None:
        for path in [{% for p in m.load_paths %}{{ p | py_str }}{% if not loop.last %}, {% endif %}{% endfor %}]:
            self.client.get(path, name=path)
{%- endif %}
