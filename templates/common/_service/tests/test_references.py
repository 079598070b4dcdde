{{ header }}
"""References to other services' rows: an unknown id is a 422 naming the field, the owner
unavailable a 503, and neither writes anything{% if svc.references %}; the lookup carries the caller's headers{% endif %}."""

{% if svc.references -%}
import time
import uuid
{% endif -%}
from typing import Any

import httpx
import pytest
{%- if svc.references %}
import test_api
{%- endif %}
from fastapi import HTTPException
{%- if svc.references %}
from fastapi.testclient import TestClient
from sqlalchemy import text
{%- endif %}
from starlette.requests import Request

from app import clients
{%- if svc.references %}
from app.config import get_settings
from app.db import engine
{%- endif %}
from app.references import Ref, verify


class ThingsClient(clients.ServiceClient):
    def get_thing(self, key: Any, *, headers: Any = None) -> Any:
        response = self.request("GET", f"/things/{key}", headers=headers)
        return None if response.status_code == 404 else self.json(response)


def things(answer: Any) -> None:
    transport = httpx.MockTransport(answer)
    client = ThingsClient(
        "things", "http://things", timeout=1, retries=1, transport=transport
    )
    clients.install("things", client)


REFS = (Ref("thing_id", "Thing", "things", "get_thing"),)
REQUEST = Request({"type": "http", "method": "POST", "path": "/", "headers": []})


def test_an_unknown_key_is_a_validation_error_on_its_field() -> None:
    things(lambda request: httpx.Response(404, json={}))
    with pytest.raises(HTTPException) as failure:
        verify(REFS, {"thing_id": 42}, REQUEST)
    assert failure.value.status_code == 422
    assert failure.value.detail == [
        {
            "loc": ["body", "thing_id"],
            "msg": "Thing 42 does not exist",
            "type": "reference.unknown",
        }
    ]


def test_a_known_key_passes_and_an_absent_field_is_not_looked_up() -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(200, json={"id": 42})

    things(answer)
    verify(REFS, {"thing_id": 42}, REQUEST)
    verify(REFS, {"other": 1}, REQUEST)
    verify(REFS, {"thing_id": None}, REQUEST)
    assert seen == ["/things/42"]


def test_an_unavailable_owner_is_a_503_naming_it() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    things(answer)
    with pytest.raises(HTTPException) as failure:
        verify(REFS, {"thing_id": 42}, REQUEST)
    assert failure.value.status_code == 503
    assert failure.value.detail == "things unavailable"
    things(lambda request: httpx.Response(500, json={}))
    with pytest.raises(HTTPException) as failure:
        verify(REFS, {"thing_id": 42}, REQUEST)
    assert failure.value.status_code == 503
{%- if svc.references %}


def rows(table: str, column: str, value: Any) -> int:
    # Quoted: a table or column may be named like an SQL keyword (`user`, `order`).
{%- if svc.database and svc.database.mysql %}
    query = text(f"SELECT count(*) FROM `{table}` WHERE `{column}` = :value")
{%- else %}
    query = text(f'SELECT count(*) FROM "{table}" WHERE "{column}" = :value')
{%- endif %}
    with engine.connect() as conn:
        return int(conn.execute(query, {"value": value}).scalar_one())
{%- endif %}
{%- for i in svc.code.router_ids %}{% set e = m.entities[i] %}{% for r in e.code.references %}


def test_{{ e.name.snake }}_{{ r.field }}_must_exist_in_{{ r.service | replace(from="-", to="_") }}(
    client: TestClient, dependencies: dict[str, Any]
) -> None:
    path = "{{ e.code.api_path }}"
    missing = {% if r.int_key %}2_000_000_000 - len(dependencies["{{ r.service }}"].missing){% else %}str(uuid.uuid4()){% endif %}
    dependencies["{{ r.service }}"].missing.add(str(missing))
    payload = test_api.{{ e.name.snake }}_payload(client)
    payload["{{ r.field }}"] = missing
    response = client.post(path, json=payload)
    assert response.status_code == 422, response.text
    assert response.json() == {
        "detail": [
            {
                "loc": ["body", "{{ r.field }}"],
                "msg": f"{{ r.target }} {missing} does not exist",
                "type": "reference.unknown",
            }
        ]
    }
    assert rows("{{ e.table }}", "{{ r.field }}", missing) == 0

    payload = test_api.{{ e.name.snake }}_payload(client)
    created = test_api.create(client, path, payload)
    url = f"{path}/{created['{{ e.pk }}']}"
    response = client.patch(url, json={"{{ r.field }}": missing})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "{{ r.field }}"]
    assert client.get(url).json()["{{ r.field }}"] == created["{{ r.field }}"]
{%- if e.code.patch_column %}
    before = len(dependencies["{{ r.service }}"].requests)
    unchanged = client.patch(url, json={"{{ e.code.patch_column }}": {{ e.code.patch_value }}})
    assert unchanged.status_code == 200, unchanged.text
    assert len(dependencies["{{ r.service }}"].requests) == before, "field not sent: no lookup"
{%- endif %}


def test_{{ e.name.snake }}_is_not_written_while_{{ r.service | replace(from="-", to="_") }}_is_unavailable(
    client: TestClient, dependencies: dict[str, Any]
) -> None:
    settings = get_settings()
    fake = dependencies["{{ r.service }}"]
    payload = test_api.{{ e.name.snake }}_payload(client)
    before = len(fake.requests)
    fake.down = True
    try:
        start = time.monotonic()
        response = client.post("{{ e.code.api_path }}", json=payload)
        elapsed = time.monotonic() - start
    finally:
        fake.down = False
    assert response.status_code == 503, response.text
    assert response.json() == {"detail": "{{ r.service }} unavailable"}
    assert elapsed <= settings.request_timeout_seconds + 0.5
    assert len(fake.requests) - before == settings.request_retries + 1
    assert rows("{{ e.table }}", "{{ r.field }}", payload["{{ r.field }}"]) == 0


def test_{{ e.name.snake }}_{{ r.field }}_lookup_carries_the_callers_headers(
    client: TestClient, dependencies: dict[str, Any], admin_headers: dict[str, str]
) -> None:
    """The caller's own token goes on to the owner of the reference."""
    fake = dependencies["{{ r.service }}"]
    trace_id = uuid.uuid4().hex
    headers = {
        "Authorization": admin_headers["Authorization"],
        "X-Request-ID": f"req-{trace_id}",
        "traceparent": f"00-{trace_id}-{'1' * 16}-01",
    }
    payload = test_api.{{ e.name.snake }}_payload(client)
    response = client.post("{{ e.code.api_path }}", json=payload, headers=headers)
    assert response.status_code == 201, response.text
    path = f"{{ r.path }}/{payload['{{ r.field }}']}"
    [lookup] = [r for r in fake.requests if r.url.path == path]
    assert lookup.method == "GET"
    assert lookup.headers["x-request-id"] == headers["X-Request-ID"]
    assert lookup.headers["authorization"] == headers["Authorization"]
    assert lookup.headers["traceparent"].split("-")[1] == trace_id
{%- endfor %}{% endfor %}
