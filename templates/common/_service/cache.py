{{ header }}
"""Cache-aside for reads by id{% if svc.cache %} in Redis (`{{ svc.cache.env_var }}`){% endif %}.

A read looks up `<service>:<table>:<id>` first and, on a miss, reads the database and stores the
row (JSON of its read schema) for {% if svc.cache %}{{ svc.cache.ttl_seconds }} s (the scale preset, `CACHE_TTL_SECONDS`){% else %}the TTL given{% endif %}; an update
or a delete removes the key. The cache is optional: when Redis fails, reads go to the database,
a warning is logged and `cache_requests_total{result="error"}` counts it; for a second after a
failure Redis is not tried again, so a dead Redis costs a request at most one short timeout
(0.1 s to connect or to answer).
"""

import logging
import threading
import time
from typing import Any, Protocol

from prometheus_client import Counter

from app.config import get_settings

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 0.1
COOLDOWN_SECONDS = 1.0

REQUESTS = Counter(
    "cache_requests_total", "Cache lookups by result (hit, miss, error)", ["result"]
)
for _result in ("hit", "miss", "error"):
    REQUESTS.labels(_result)


class Backend(Protocol):
    """The part of the Redis client the cache uses."""

    def get(self, name: str) -> Any: ...

    def set(self, name: str, value: str, ex: int | None = None) -> Any: ...

    def delete(self, *names: str) -> Any: ...


_lock = threading.Lock()
_backend: Backend | None = None
_configured = False
_down_until = 0.0


def connect(url: str) -> Backend:
    """A Redis client that gives up fast: short socket timeouts and no retries."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    settings = get_settings()
    # `rediss://` (cloud) verifies the server's certificate; the user and password sign in
    # (Redis AUTH), and stay out of the URL and the ConfigMap.
    return redis.Redis.from_url(
        url,
        username=settings.redis_username or None,
        password=settings.redis_password or None,
        socket_timeout=TIMEOUT_SECONDS,
        socket_connect_timeout=TIMEOUT_SECONDS,
        retry=Retry(NoBackoff(), 0),
        retry_on_timeout=False,
        health_check_interval=0,
    )


def install(backend: Backend | None) -> None:
    """Use `backend` (a Redis client or a test double); None turns the cache off."""
    global _backend, _configured, _down_until
    with _lock:
        _backend, _configured, _down_until = backend, True, 0.0


def backend() -> Backend | None:
    """The configured backend: None when `REDIS_URL` is empty."""
    global _backend, _configured
    with _lock:
        if not _configured:
            url = get_settings().redis_url
            _backend = connect(url) if url else None
            _configured = True
        return _backend


class RowCache:
    """Rows of one table, by primary key, under `<prefix>:<id>`."""

    def __init__(self, prefix: str, ttl_seconds: int) -> None:
        self.prefix = prefix
        self.ttl_seconds = ttl_seconds

    def key(self, key: Any) -> str:
        return f"{self.prefix}:{key}"

    def _store(self) -> Backend | None:
        return backend()

    def _failed(self, action: str, key: Any, exc: Exception) -> None:
        global _down_until
        _down_until = time.monotonic() + COOLDOWN_SECONDS
        log.warning(
            "cache %s %s failed (%s): using the database", action, self.key(key), exc
        )

    def get(self, key: Any) -> str | None:
        """The cached JSON, or None on a miss or when the cache is off or failing."""
        store = self._store()
        if store is None:
            return None
        if time.monotonic() < _down_until:
            REQUESTS.labels("error").inc()
            return None
        try:
            value = store.get(self.key(key))
        # The cache is optional: any failure means "read the database".
        except Exception as exc:
            REQUESTS.labels("error").inc()
            self._failed("get", key, exc)
            return None
        REQUESTS.labels("miss" if value is None else "hit").inc()
        if isinstance(value, bytes):
            return value.decode()
        return value

    def put(self, key: Any, value: str) -> None:
        store = self._store()
        if store is None or time.monotonic() < _down_until:
            return
        try:
            store.set(self.key(key), value, ex=self.ttl_seconds)
        except Exception as exc:  # a failed fill only costs the next read a miss
            self._failed("set", key, exc)

    def invalidate(self, key: Any) -> None:
        """Remove the row after a write (tried even while failing: a stale row is worse)."""
        store = self._store()
        if store is None:
            return
        try:
            store.delete(self.key(key))
        except Exception as exc:  # the TTL bounds how long a stale row can live
            self._failed("delete", key, exc)
