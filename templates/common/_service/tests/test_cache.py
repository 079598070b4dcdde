{{ header }}
{%- set cached = svc.code.cached_ids %}
"""Cache-aside for reads by id, with an in-process stand-in for Redis: hit, miss, invalidation,
and a failing cache that only costs a database read{% if svc.cache %}; a dead Redis gives up fast{% endif %}."""

{% if cached or svc.cache -%}
import json
{% endif -%}
{% if svc.cache -%}
import socket
import time
{% endif -%}
import uuid
from typing import Any

import pytest
{%- if cached %}
import test_api
{%- endif %}
{%- if cached %}
from fastapi.testclient import TestClient
{%- endif %}
from prometheus_client import REGISTRY

from app import cache
{%- if cached %}
from app.config import get_settings
{%- endif %}


class FakeRedis:
    """The part of Redis the cache uses, in memory; `down` makes every call fail."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}
        self.ttl: dict[str, int | None] = {}
        self.down = False

    def check(self) -> None:
        if self.down:
            raise ConnectionError("redis is down")

    def get(self, name: str) -> bytes | None:
        self.check()
        return self.data.get(name)

    def set(self, name: str, value: str, ex: int | None = None) -> bool:
        self.check()
        self.data[name] = value.encode()
        self.ttl[name] = ex
        return True

    def delete(self, *names: str) -> int:
        self.check()
        return sum(self.data.pop(n, None) is not None for n in names)


def count(result: str) -> float:
    return REGISTRY.get_sample_value("cache_requests_total", {"result": result}) or 0.0


@pytest.fixture
def redis() -> Any:
    fake = FakeRedis()
    cache.install(fake)
    yield fake
    cache.install(None)


def test_a_miss_fills_the_cache_and_the_next_read_hits(redis: FakeRedis) -> None:
    rows = cache.RowCache("svc:things", 30)
    key = uuid.uuid4()
    misses, hits = count("miss"), count("hit")
    assert rows.get(key) is None
    rows.put(key, '{"id": 7}')
    assert redis.data[f"svc:things:{key}"] == b'{"id": 7}'
    assert redis.ttl[f"svc:things:{key}"] == 30
    assert rows.get(key) == '{"id": 7}'
    assert (count("miss"), count("hit")) == (misses + 1, hits + 1)
    rows.invalidate(key)
    assert f"svc:things:{key}" not in redis.data


def test_a_failing_cache_is_counted_and_skipped_for_a_while(redis: FakeRedis) -> None:
    rows = cache.RowCache("svc:things", 30)
    redis.down = True
    errors = count("error")
    assert rows.get(1) is None
    rows.put(1, "{}")
    assert count("error") == errors + 1
    redis.down = False
    assert rows.get(1) is None, "cooling down: Redis is not asked"
    assert count("error") == errors + 2
    assert redis.data == {}


def test_no_cache_configured_means_no_lookups() -> None:
    cache.install(None)
    rows = cache.RowCache("svc:things", 30)
    before = [count(r) for r in ("hit", "miss", "error")]
    assert rows.get(1) is None
    rows.put(1, "{}")
    rows.invalidate(1)
    assert [count(r) for r in ("hit", "miss", "error")] == before
{%- if svc.cache %}


def test_a_redis_that_never_answers_costs_a_request_one_short_timeout() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        port = server.getsockname()[1]
        cache.install(cache.connect(f"redis://127.0.0.1:{port}/0"))
        try:
            rows = cache.RowCache("svc:things", 30)
            errors = count("error")
            start = time.monotonic()
            assert rows.get(1) is None
            rows.put(1, json.dumps({"id": 1}))
            elapsed = time.monotonic() - start
        finally:
            cache.install(None)
    assert count("error") == errors + 1
    assert elapsed < 0.3


def test_redis_verifies_tls_and_signs_in_with_the_configured_user(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Locally no user; in the cloud `rediss://` checks the certificate and the ElastiCache
    user and password from Secrets Manager sign in (they are never in the URL)."""
    from app.config import get_settings as settings

    local = cache.connect("redis://127.0.0.1:6379/0").connection_pool.connection_kwargs
    assert local.get("username") is None and local.get("password") is None
    cloud = settings().model_copy(
        update={"redis_username": "app-user", "redis_password": "s3cret"}
    )
    monkeypatch.setattr(cache, "get_settings", lambda: cloud)
    pool = cache.connect("rediss://cache.example.com:6379/0").connection_pool
    assert pool.connection_kwargs["username"] == "app-user"
    assert pool.connection_kwargs["password"] == "s3cret"
    assert pool.connection_class.__name__ == "SSLConnection"
    assert pool.connection_kwargs.get("ssl_cert_reqs", "required") == "required"
{%- endif %}
{%- for i in cached %}{% set e = m.entities[i] %}


def test_{{ e.name.snake }}_reads_by_id_go_through_the_cache(
    client: TestClient, redis: FakeRedis
) -> None:
    path = "{{ e.code.api_path }}"
    payload = test_api.{{ e.name.snake }}_payload(client)
    created = test_api.create(client, path, payload)
    url = f"{path}/{created['{{ e.pk }}']}"
    key = f"{{ e.code.cache_key_prefix }}:{created['{{ e.pk }}']}"
    misses, hits = count("miss"), count("hit")
    assert client.get(url).json() == created
    assert json.loads(redis.data[key]) == created
    assert redis.ttl[key] == get_settings().cache_ttl_seconds
    assert client.get(url).json() == created
    assert (count("miss"), count("hit")) == (misses + 1, hits + 1)
{%- if e.code.patch_column %}

    # A hit is served from the cache, not the database.
    change = {"{{ e.code.patch_column }}": {{ e.code.patch_value }}}
    redis.data[key] = json.dumps({**created, **change}).encode()
    assert client.get(url).json() == {**created, **change}
    redis.data[key] = json.dumps(created).encode()

    # An update removes the key; the next read sees the new row.
    assert client.patch(url, json=change).status_code == 200
    assert key not in redis.data
    assert client.get(url).json() == {**created, **change}
    assert key in redis.data
{%- endif %}

    # A delete removes the key.
    assert client.delete(url).status_code == 204
    assert key not in redis.data
    assert client.get(url).status_code == 404


def test_{{ e.name.snake }}_reads_survive_a_failing_cache(
    client: TestClient, redis: FakeRedis
) -> None:
    path = "{{ e.code.api_path }}"
    payload = test_api.{{ e.name.snake }}_payload(client)
    created = test_api.create(client, path, payload)
    redis.down = True
    errors = count("error")
    response = client.get(f"{path}/{created['{{ e.pk }}']}")
    assert response.status_code == 200
    assert response.json() == created
    assert count("error") == errors + 1
{%- endfor %}
