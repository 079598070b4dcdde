{{ header }}
"""End-to-end checks through the gateway of a running {{ m.name.raw }} deployment.

Skipped unless E2E_GATEWAY_URL is set, e.g.
    E2E_GATEWAY_URL=https://{% if m.ingress %}{{ m.ingress.host | py_doc }}{% else %}localhost:8080{% endif %} pytest tests/e2e
"""

import os
import uuid
from typing import Any

import httpx
import pytest

GATEWAY = os.environ.get("E2E_GATEWAY_URL", "")

pytestmark = pytest.mark.skipif(not GATEWAY, reason="set E2E_GATEWAY_URL to run")


def unique_text(length: int) -> str:
    return uuid.uuid4().hex[:length]


@pytest.fixture(scope="module")
def gateway() -> httpx.Client:
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
{%- endif %}{% endfor %}
