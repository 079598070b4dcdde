{{ header }}
"""End-to-end checks through the gateway of a running {{ m.name.raw }} deployment.

Skipped unless E2E_GATEWAY_URL is set, e.g.
    E2E_GATEWAY_URL=https://{% if m.ingress %}{{ m.ingress.host | py_doc }}{% else %}localhost:8080{% endif %} E2E_TOKEN=<an {{ m.security.admin_role }}'s token> pytest tests/e2e
Without E2E_TOKEN, tokens come from E2E_TOKEN_URL (default: the development issuer of docker
compose, {{ m.security.dev_issuer.local_token_url | default(value="none") }}).
"""

import os
import uuid
from typing import Any

import httpx
import pytest

GATEWAY = os.environ.get("E2E_GATEWAY_URL", "")
TOKEN_URL = os.environ.get("E2E_TOKEN_URL", "{{ m.security.dev_issuer.local_token_url | default(value="") }}")
# A token allowed everything: the {{ m.security.admin_role }} role (every row) and each role a route requires.
ROLES = [
{%- for r in m.security.test_roles %}
    {{ r | py_str }},
{%- endfor %}
]

pytestmark = pytest.mark.skipif(not GATEWAY, reason="set E2E_GATEWAY_URL to run")


def unique_text(length: int) -> str:
    return uuid.uuid4().hex[:length]


def bearer(sub: str, roles: list[str]) -> str:
    """E2E_TOKEN, else a token from the issuer's token endpoint."""
    token = os.environ.get("E2E_TOKEN", "")
    if not token:
        body = {"sub": sub, "roles": roles}
        response = httpx.post(TOKEN_URL, json=body, timeout=10)
        response.raise_for_status()
        token = response.json()["access_token"]
    return f"Bearer {token}"


@pytest.fixture(scope="module")
def gateway() -> httpx.Client:
    """The gateway, as an {{ m.security.admin_role }} holding every role a route requires."""
    headers = {"Authorization": bearer("e2e-admin", ROLES)}
    return httpx.Client(
        base_url=GATEWAY, timeout=10, follow_redirects=True, headers=headers
    )


@pytest.fixture(scope="module")
def anonymous() -> httpx.Client:
    return httpx.Client(base_url=GATEWAY, timeout=10, follow_redirects=True)


def create(gateway: httpx.Client, path: str, payload: dict[str, Any]) -> Any:
    response = gateway.post(path, json=payload)
    assert response.status_code == 201, response.text
    return response.json()
{%- for e in m.entities %}{% if e.code.public %}


def {{ e.name.snake }}_payload(gateway: httpx.Client) -> dict[str, Any]:
    return {
{%- for c in e.columns %}{% if c.code.writable %}
{%- set_global parent = "" %}
{%- for p in e.code.gateway_parents %}{% if p.column == c.name %}{% set_global parent = p.snake %}{% endif %}{% endfor %}
{%- if parent %}
        "{{ c.name }}": {{ parent }}_id(gateway),
{%- else %}
        "{{ c.name }}": {{ c.code.sample }},
{%- endif %}
{%- endif %}{% endfor %}
    }


def {{ e.name.snake }}_id(gateway: httpx.Client) -> Any:
    path = "{{ e.code.api_path }}"
    return create(gateway, path, {{ e.name.snake }}_payload(gateway))["{{ e.pk }}"]


def test_{{ e.name.snake }}_through_the_gateway(gateway: httpx.Client) -> None:
    path = "{{ e.code.api_path }}"
    created = create(gateway, path, {{ e.name.snake }}_payload(gateway))
    assert gateway.get(f"{path}/{created['{{ e.pk }}']}").json() == created
    assert gateway.get(path, params={"limit": 1}).status_code == 200


def test_{{ e.name.snake }}_access_without_a_token(anonymous: httpx.Client) -> None:
    response = anonymous.get("{{ e.code.api_path }}", params={"limit": 1})
{%- if e.code.auth.read.kind == "public" %}
    assert response.status_code == 200, response.text
{%- else %}
    assert response.status_code == 401, response.text
{%- endif %}
{%- endif %}{% endfor %}
