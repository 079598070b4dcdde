{{ header }}
"""Test setup: the real {% if svc.database and svc.database.mysql %}MySQL (or MariaDB){% else %}PostgreSQL{% endif %} in DATABASE_URL; no broker, no cache, no trace export."""

import os
import time
import uuid
from collections.abc import Iterator
{%- if svc.database %}
from pathlib import Path
{%- endif %}
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

{% if svc.database -%}
LOCAL_DATABASE = "{{ svc.database.test_url }}"
os.environ.setdefault("DATABASE_URL", LOCAL_DATABASE)
{% endif -%}
{% if m.messaging -%}
os.environ["{{ m.messaging.env_var }}"] = ""
{% endif -%}
os.environ["REDIS_URL"] = ""
{% if svc.code.grpc -%}
# The app's gRPC server binds any free port (tests/test_grpc.py starts its own).
os.environ["GRPC_PORT"] = "0"
{% endif -%}
os.environ["OTEL_SDK_DISABLED"] = "true"
# The default token's roles: the admin role (every row) and each role a route requires.
# (A list: ruff format keeps one item per line after the magic trailing comma.)
TEST_ROLES = [
{%- for r in m.security.test_roles %}
    {{ r | py_str }},
{%- endfor %}
]


{% if svc.database -%}
def prepare_schema() -> None:
    """Apply this database's migrations unless the tables exist already (CI applies them).

    The files are dbmate's (`NNN_name.sql`, a `-- migrate:up` then a `-- migrate:down` block):
    the up blocks run in version order, as `dbmate up` runs them. Without the migrations folder
    (e.g. inside the image) the models create the tables.
    """
    from sqlalchemy import inspect

    from app.db import Base, engine

    if inspect(engine).get_table_names():
        return
    root = Path(__file__).resolve().parents[3]
    folder = root / "{{ svc.database.migrations_dir }}"
    versions = sorted(
        (int(p.name.split("_", 1)[0]), p)
        for p in folder.glob("[0-9]*_*.sql")
        if p.name.split("_", 1)[0].isdigit()
    )
    if not versions:
        Base.metadata.create_all(engine)
        return
    with engine.begin() as conn:
        for _, script in versions:
            text = script.read_text()
            up = text.split("-- migrate:up", 1)[-1].split("-- migrate:down", 1)[0]
{%- if svc.database.mysql %}
            # One statement per call (the driver sends no multi-statement queries); the
            # generated statements end with `;` at the end of a line.
            for statement in up.split(";\n"):
                code = [line for line in statement.splitlines() if line[:2] != "--"]
                if "".join(code).strip():
                    conn.exec_driver_sql(statement)
{%- else %}
            conn.exec_driver_sql(up)
{%- endif %}


{% endif -%}
class Tokens:
    """A test issuer: signs tokens with its own key and stands in for the JWKS the app
    fetches (app.auth.jwks), so requests carry real, verified JWTs."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        self.signing_key = jwt.PyJWK({**public, "kid": "test"}, algorithm="RS256")

    def get_signing_key_from_jwt(self, token: str) -> jwt.PyJWK:
        return self.signing_key

    def token(
        self, sub: str | None = None, roles: tuple[str, ...] = (), **claims: Any
    ) -> str:
        from app.auth import ROLES_CLAIM
        from app.config import get_settings

        settings = get_settings()
        now = int(time.time())
        body = {
            "iss": settings.auth_issuer,
            "aud": settings.auth_audience,
            "sub": sub or str(uuid.uuid4()),
            ROLES_CLAIM: list(roles),
            "iat": now,
            "exp": now + 3600,
        } | claims
        return jwt.encode(body, self.key, algorithm="RS256", headers={"kid": "test"})

    def headers(
        self, sub: str | None = None, roles: tuple[str, ...] = ()
    ) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(sub, roles)}"}

    def admin(self) -> dict[str, str]:
        return self.headers("admin", tuple(TEST_ROLES))


@pytest.fixture(scope="session")
def tokens() -> Tokens:
    """Tokens the app accepts: its key lookup answers with this issuer's key."""
    from app import auth

    issuer = Tokens()
    auth.jwks.cache_clear()
    auth.jwks = lambda: issuer  # type: ignore[assignment]
    return issuer


@pytest.fixture(scope="session")
def admin_headers(tokens: Tokens) -> dict[str, str]:
    """An admin's `Authorization` header, for test clients of their own."""
    return tokens.admin()


@pytest.fixture(scope="session")
def client(tokens: Tokens) -> Iterator[TestClient]:
    """The app, started once (lifespan included); requests carry an admin's token unless a
    test sends its own `Authorization`."""
{%- if svc.database %}
    prepare_schema()
{%- endif %}
    from app.main import app

    with TestClient(app) as test_client:
        test_client.headers.update(tokens.admin())
        yield test_client


class FakeService:
    """A service this one calls, answering from memory through `httpx.MockTransport`.

    Every id exists unless it is in `missing`; while `down`, connections are refused. The
    requests it received are kept in `requests`.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.missing: set[str] = set()
        self.down = False
        self.requests: list[httpx.Request] = []

    def answer(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        key = request.url.path.rsplit("/", 1)[-1]
        if key in self.missing:
            return httpx.Response(404, json={"detail": f"{key} not found"})
        return httpx.Response(200, json={"id": key})


@pytest.fixture(scope="session")
def fake_services() -> dict[str, FakeService]:
    """One fake per dependency for the whole run (tests reset what they change)."""
    from app import clients

    return {name: FakeService(name) for name in clients.CLIENT_TYPES}


@pytest.fixture(autouse=True)
def dependencies(fake_services: dict[str, FakeService]) -> dict[str, FakeService]:
    """Each dependency's typed client, with its real budget and retries, talks to a fake.

    Installed before every test: the app's shutdown (a TestClient leaving its block) closes
    and drops every client, and a later test would otherwise call the real addresses.
    """
    from app import clients
    from app.config import get_settings

    settings = get_settings()
    fakes = fake_services
    for name, kind in clients.CLIENT_TYPES.items():
        transport = httpx.MockTransport(fakes[name].answer)
        clients.install(
            name,
            kind(
                name,
                f"http://{name}",
                timeout=settings.request_timeout_seconds,
                retries=settings.request_retries,
                try_timeout=settings.request_try_timeout_seconds,
                transport=transport,
            ),
        )
    return fakes
