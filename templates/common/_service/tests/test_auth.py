{{ header }}
"""Access rules of every route (app.auth): tokens verified, roles required, rows owned."""
{%- set_global any = false %}
{%- for i in svc.entity_ids %}{% set_global any = true %}{% endfor %}
{%- if any %}

from typing import Any

import httpx
import pytest
from conftest import Tokens
from fastapi.testclient import TestClient
{%- if svc.code.owned_payloads %}
from test_api import {{ svc.code.owned_payloads | join(sep=", ") }}
{%- endif %}

# (collection path, read rule, write rule)
ROUTES = [
{%- for i in svc.entity_ids %}{% set e = m.entities[i] %}
    ("{{ e.code.api_path }}", "{{ e.code.auth.read.kind }}", {% if e.code.auth.write.role %}"{{ e.code.auth.write.role }}"{% else %}"{{ e.code.auth.write.kind }}"{% endif %}),
{%- endfor %}
]


def bare(
    client: TestClient,
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """A request without the client's default admin token (with `headers` instead)."""
    request = client.build_request(method, path, **kwargs)
    del request.headers["authorization"]
    request.headers.update(headers or {})
    return client.send(request)


@pytest.mark.parametrize(("path", "read", "write"), ROUTES)
def test_reads_need_a_token_unless_public(
    client: TestClient, path: str, read: str, write: str
) -> None:
    response = bare(client, "GET", path)
    if read == "public":
        assert response.status_code == 200, response.text
    else:
        assert response.status_code == 401, response.text
        assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(("path", "read", "write"), ROUTES)
def test_writes_need_a_token_and_the_role(
    client: TestClient, tokens: Tokens, path: str, read: str, write: str
) -> None:
    assert bare(client, "POST", path, json={}).status_code == 401
    as_user = bare(client, "POST", path, json={}, headers=tokens.headers())
    if write not in ("public", "user"):
        assert as_user.status_code == 403, as_user.text
    else:
        assert as_user.status_code == 422, as_user.text


@pytest.mark.parametrize(("path", "read", "write"), ROUTES)
def test_forged_or_expired_tokens_are_refused(
    client: TestClient, tokens: Tokens, path: str, read: str, write: str
) -> None:
    forger = Tokens()
    forged = {"Authorization": f"Bearer {forger.token()}"}
    assert bare(client, "GET", path, headers=forged).status_code == 401
    expired = {"Authorization": f"Bearer {tokens.token(exp=1)}"}
    assert bare(client, "GET", path, headers=expired).status_code == 401
    other = {"Authorization": f"Bearer {tokens.token(aud='another-api')}"}
    assert bare(client, "GET", path, headers=other).status_code == 401
{%- for i in svc.entity_ids %}{% set e = m.entities[i] %}{% if e.code.auth.owner_column %}{% set own = e.code.auth.owner_column %}


def test_{{ e.name.snake }}_rows_are_seen_and_changed_by_their_owner_only(
    client: TestClient, tokens: Tokens
) -> None:
    path = "{{ e.code.api_path }}"
    created = client.post(path, json={{ e.name.snake }}_payload(client))
    assert created.status_code == 201, created.text
    row = created.json()
    owner = tokens.headers(str(row["{{ own }}"]))
    stranger = tokens.headers()
    key = row["{{ e.pk }}"]
    assert bare(client, "GET", f"{path}/{key}", headers=owner).status_code == 200
    assert bare(client, "GET", f"{path}/{key}", headers=stranger).status_code == 403
    assert bare(client, "DELETE", f"{path}/{key}", headers=stranger).status_code == 403
    listed = bare(client, "GET", path, params={"limit": 200}, headers=stranger)
    assert all(item["{{ e.pk }}"] != key for item in listed.json()["items"])
{%- endif %}{% endfor %}
{%- for i in svc.entity_ids %}{% set e = m.entities[i] %}{% for c in e.code.auth.flow_columns %}


def test_{{ e.name.snake }}_{{ c }}_is_not_changed_by_clients(client: TestClient) -> None:
    response = client.patch(
        "{{ e.code.api_path }}/00000000-0000-0000-0000-000000000000",
        json={"{{ c }}": None},
    )
    assert response.status_code == 422, response.text
{%- endfor %}{% endfor %}
{%- else %}

# {{ svc.name.raw }} serves no entity routes: nothing to protect.
{%- endif %}
