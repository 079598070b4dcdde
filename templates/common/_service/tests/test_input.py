{{ header }}
"""Invalid input is a 422 that names the field, never a 500 and never a row: the blueprint's
constraints (min, max, email, url, pattern), empty required text and NUL characters, which
PostgreSQL cannot store. The database's CHECK constraints agree at the bounds."""
{%- set_global any = false %}
{%- for i in svc.entity_ids %}{% set e = m.entities[i] %}{% for c in e.columns %}{% if c.code.invalid %}{% set_global any = true %}{% endif %}{% endfor %}{% endfor %}
{%- if any %}

import uuid
{%- if svc.code.input_tests_need_decimal %}
from decimal import Decimal
{%- endif %}
from typing import Any

import pytest
from fastapi.testclient import TestClient


def unique_text(length: int) -> str:
    return uuid.uuid4().hex[:length]


def refused_fields(response: Any) -> list[str]:
    assert response.status_code == 422, response.text
    return [
        error["loc"][1]
        for error in response.json()["detail"]
        if error["loc"][0] == "body"
    ]
{%- for i in svc.entity_ids %}{% set e = m.entities[i] %}
{%- set_global cases = false %}{% for c in e.columns %}{% if c.code.invalid %}{% set_global cases = true %}{% endif %}{% endfor %}
{%- if cases %}


def {{ e.name.snake }}_body() -> dict[str, Any]:
    """Values of the right shape for every writable field of {{ e.name.raw }}."""
    return {
{%- for c in e.columns %}{% if c.code.writable %}
        "{{ c.name }}": {{ c.code.sample }},
{%- endif %}{% endfor %}
    }


{{ e.name.upper }}_INVALID = {
{%- for c in e.columns %}{% for v in c.code.invalid %}
    "{{ v.case }}": ("{{ c.name }}", {{ v.value }}),
{%- endfor %}{% endfor %}
}


@pytest.mark.parametrize("case", list({{ e.name.upper }}_INVALID))
def test_{{ e.name.snake }}_refuses_invalid_input(
    client: TestClient,
    case: str,
) -> None:
    field, value = {{ e.name.upper }}_INVALID[case]
    path = "{{ e.code.api_path }}"
    created = client.post(path, json={**{{ e.name.snake }}_body(), field: value})
    assert field in refused_fields(created)
{%- for c in e.columns %}{% if c.pk %}
    missing = {% if c.kind == "uuid" %}str(uuid.uuid4()){% else %}2**31 - 1{% endif %}
{%- endif %}{% endfor %}
    updated = client.patch(f"{path}/{missing}", json={field: value})
    assert field in refused_fields(updated)
{%- set_global refs = false %}{% set_global bounds = false %}
{%- for c in e.columns %}{% if c.reference %}{% set_global refs = true %}{% endif %}{% if c.code.writable and (c.minimum or c.maximum) %}{% set_global bounds = true %}{% endif %}{% endfor %}
{%- if bounds and not refs %}


def test_{{ e.name.snake }}_accepts_values_at_the_bounds(client: TestClient) -> None:
    """The service and the database's CHECK constraints agree: a bound itself is allowed."""
    path = "{{ e.code.api_path }}"
{%- for c in e.columns %}{% if c.code.writable %}{% for b in [c.minimum, c.maximum] %}{% if b %}
    body = {**{{ e.name.snake }}_body(), "{{ c.name }}": {% if c.kind == "decimal" %}"{{ b }}"{% else %}{{ b }}{% endif %}}
    response = client.post(path, json=body)
    assert response.status_code == 201, response.text
    assert {% if c.kind == "decimal" %}Decimal(response.json()["{{ c.name }}"]) == Decimal("{{ b }}"){% else %}response.json()["{{ c.name }}"] == {{ b }}{% endif %}
{%- endif %}{% endfor %}{% endif %}{% endfor %}
{%- endif %}
{%- endif %}
{%- endfor %}
{%- endif %}
