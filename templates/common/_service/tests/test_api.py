{{ header }}
"""CRUD round trips against the real database, validation and error responses."""
{%- set_global any = false %}
{%- for i in svc.entity_ids %}{% set e = m.entities[i] %}{% set_global any = true %}{% endfor %}
{%- if any %}

import uuid
from typing import Any

from fastapi.testclient import TestClient


def unique_text(length: int) -> str:
    return uuid.uuid4().hex[:length]


def create(client: TestClient, path: str, payload: dict[str, Any]) -> dict[str, Any]:
    response = client.post(path, json=payload)
    assert response.status_code == 201, response.text
    return response.json()
{%- for i in svc.entity_ids %}{% set e = m.entities[i] %}


def {{ e.name.snake }}_payload(client: TestClient) -> dict[str, Any]:
    """A valid body for `POST {{ e.code.api_path }}`."""
    return {
{%- for c in e.columns %}{% if c.code.writable %}
{%- set_global parent = "" %}
{%- for p in e.code.parents %}{% if p.column == c.name %}{% set_global parent = p.snake %}{% endif %}{% endfor %}
{%- if parent %}
        "{{ c.name }}": {{ parent }}_id(client),
{%- else %}
        "{{ c.name }}": {{ c.code.sample }},
{%- endif %}
{%- endif %}{% endfor %}
    }


def {{ e.name.snake }}_id(client: TestClient) -> Any:
    """The key of a new {{ e.name.raw }} row."""
    path = "{{ e.code.api_path }}"
    return create(client, path, {{ e.name.snake }}_payload(client))["{{ e.pk }}"]


def test_{{ e.name.snake }}_crud_round_trip(client: TestClient) -> None:
    path = "{{ e.code.api_path }}"
    payload = {{ e.name.snake }}_payload(client)
    created = create(client, path, payload)
{%- for c in e.columns %}{% if c.code.writable and c.code.comparable %}
    assert created["{{ c.name }}"] == payload["{{ c.name }}"]
{%- endif %}{% endfor %}
    url = f"{path}/{created['{{ e.pk }}']}"
    assert client.get(url).json() == created

    page = client.get(path, params={"limit": 1})
    assert page.status_code == 200
    assert page.json()["total"] >= 1
    assert len(page.json()["items"]) == 1
{%- if e.code.patch_column %}

    change = {"{{ e.code.patch_column }}": {{ e.code.patch_value }}}
    updated = client.patch(url, json=change)
    assert updated.status_code == 200, updated.text
    assert updated.json()["{{ e.code.patch_column }}"] == change["{{ e.code.patch_column }}"]
    assert client.get(url).json()["{{ e.code.patch_column }}"] == change["{{ e.code.patch_column }}"]
{%- endif %}

    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404
    assert client.delete(url).status_code == 404
{%- if e.code.publishes %}


def test_creating_a_{{ e.name.snake }}_publishes_events(client: TestClient) -> None:
    from app.events import publisher

    created = create(client, "{{ e.code.api_path }}", {{ e.name.snake }}_payload(client))
    key = created["{{ e.pk }}"]
    sent = [topic for topic, event in publisher.sent if event.get("{{ e.pk }}") == key]
    assert sent == [{% for t in e.code.publishes %}"{{ t.raw }}"{% if not loop.last %}, {% endif %}{% endfor %}]
{%- endif %}


def test_{{ e.name.snake }}_rejects_invalid_input(client: TestClient) -> None:
    path = "{{ e.code.api_path }}"
    payload = {{ e.name.snake }}_payload(client)
    response = client.post(path, json={**payload, "unexpected_field": 1})
    assert response.status_code == 422
{%- for c in e.columns %}{% if c.code.writable and c.kind == "string" %}
    too_long = {**payload, "{{ c.name }}": "x" * {{ c.max_length + 1 }}}
    assert client.post(path, json=too_long).status_code == 422
{%- endif %}{% endfor %}
{%- for c in e.columns %}{% if c.code.writable and c.kind == "enum" %}
    not_listed = {**payload, "{{ c.name }}": "not-a-{{ c.name }}"}
    assert client.post(path, json=not_listed).status_code == 422
{%- endif %}{% endfor %}
    assert client.get(path, params={"limit": 0}).status_code == 422
{%- for c in e.columns %}{% if c.pk and c.kind == "uuid" %}
    assert client.get(f"{path}/not-a-uuid").status_code == 422
    assert client.get(f"{path}/{uuid.uuid4()}").status_code == 404
{%- endif %}{% endfor %}
{%- if e.code.unique_columns %}


def test_{{ e.name.snake }}_duplicate_unique_value_is_a_conflict(client: TestClient) -> None:
    path = "{{ e.code.api_path }}"
    payload = {{ e.name.snake }}_payload(client)
    create(client, path, payload)
    response = client.post(path, json=payload)
    assert response.status_code == 409, response.text
{%- endif %}
{%- endfor %}
{%- else %}

from fastapi.testclient import TestClient


def test_unknown_api_paths_are_404(client: TestClient) -> None:
    assert client.get("/api/unknown").status_code == 404
{%- endif %}
