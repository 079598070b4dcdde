{{ header }}
"""Liveness (`/healthz`), readiness (`/readyz`) and Prometheus metrics.

`/healthz` answers as long as the process runs: it checks nothing, so a broker, cache or
dependency outage never gets the pod restarted.

`/readyz` is 503 unless {% if svc.database %}the database answers, its schema has every table and column of the
models{% if svc.publishes or svc.consumes %} and {% endif %}{% endif %}{% if svc.publishes or svc.consumes %}the broker is connected{% endif %}{% if not svc.database and not (svc.publishes or svc.consumes) %}the process runs{% endif %}. The cache and the services this one calls are
reported but do not make it unready: the cache is optional, and a dependency outage must not
cascade into this service leaving the load balancer (its calls answer 503 instead).
Every probe gives up after PROBE_TIMEOUT, so readiness answers within about two seconds.
"""

import asyncio
from collections.abc import Awaitable, Callable
{%- if svc.depends_on %}
from urllib.parse import urlsplit
{%- endif %}

{% if svc.depends_on %}import httpx
{% endif %}
{%- if svc.database %}import sqlalchemy as sa
{% endif %}from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

{% if svc.database %}from app import db, events
{% else %}from app import events
{% endif %}from app.config import get_settings

router = APIRouter(tags=["health"])

PROBE_TIMEOUT = 1.0
# The checks that make the service not ready; the others are informational.
REQUIRED = ("database", "schema", "broker")
# Services this one calls: readiness key -> (settings attribute, protocol).
{%- if svc.depends_on %}
DEPENDENCIES: dict[str, tuple[str, str]] = {
{%- for d in svc.depends_on %}
    "{{ d.ready_key }}": ("{{ d.setting }}", "{{ d.check }}"),
{%- endfor %}
}
{%- else %}
DEPENDENCIES: dict[str, tuple[str, str]] = {}
{%- endif %}


async def bounded(probe: Callable[[], object]) -> object:
    """Run a blocking probe in a worker thread; give up after PROBE_TIMEOUT."""
    return await asyncio.wait_for(asyncio.to_thread(probe), PROBE_TIMEOUT)
{%- if svc.database %}


def schema_behind(engine: sa.Engine, metadata: sa.MetaData) -> str | None:
    """The first table or column of the models that the live database lacks, or None."""
    with engine.connect() as conn:
        inspector = sa.inspect(conn)
        for table in metadata.sorted_tables:
            if not inspector.has_table(table.name, schema=table.schema):
                return f"table {table.name} missing"
            live = inspector.get_columns(table.name, schema=table.schema)
            have = {column["name"] for column in live}
            for column in table.columns:
                if column.name not in have:
                    return f"column {table.name}.{column.name} missing"
    return None


class SchemaCheck:
    """Compares the models with the database until they agree once (then it stays ok:
    migrations only ever add)."""

    def __init__(self) -> None:
        self.ok = False

    async def __call__(self) -> str:
        if self.ok:
            return "ok"
        try:
            behind = await bounded(lambda: schema_behind(db.engine, db.Base.metadata))
        except Exception as exc:
            return f"unknown: {type(exc).__name__}"
        if behind:
            return f"behind: {behind}"
        self.ok = True
        return "ok"


schema_check = SchemaCheck()


async def database_checks() -> dict[str, str]:
    try:
        await bounded(db.ping)
    except Exception as exc:
        return {
            "database": f"unreachable: {type(exc).__name__}",
            "schema": "unknown: database unreachable",
        }
    return {"database": "ok", "schema": await schema_check()}
{%- endif %}


def cache_ping(url: str) -> None:
    import redis
{% if svc.cache %}
    settings = get_settings()
    # Signs in as the cache's reads do (the ElastiCache user in the cloud): a probe without
    # the user would call a healthy cache degraded.
    client = redis.Redis.from_url(
        url,
        username=settings.redis_username or None,
        password=settings.redis_password or None,
        socket_connect_timeout=PROBE_TIMEOUT,
        socket_timeout=PROBE_TIMEOUT,
    )
{%- else %}
    client = redis.Redis.from_url(
        url, socket_connect_timeout=PROBE_TIMEOUT, socket_timeout=PROBE_TIMEOUT
    )
{%- endif %}
    try:
        client.ping()
    finally:
        client.close()


async def cache_check(url: str) -> dict[str, str]:
    try:
        await bounded(lambda: cache_ping(url))
    except Exception as exc:
        return {"cache": f"degraded: {type(exc).__name__}"}
    return {"cache": "ok"}


async def broker_check() -> dict[str, str]:
    try:
        status = await asyncio.wait_for(events.broker_status(), PROBE_TIMEOUT * 1.5)
    except TimeoutError:
        status = "unreachable"
    return {} if status is None else {"broker": status}


async def dependency_check(key: str, address: str, protocol: str) -> dict[str, str]:
    """Whether a service this one calls answers its liveness probe (informational)."""
    try:
        if protocol == "http":
{%- if svc.depends_on %}
            async with httpx.AsyncClient(timeout=PROBE_TIMEOUT) as client:
                response = await client.get(address.rstrip("/") + "{{ svc.health_path }}")
            return {key: "ok" if response.status_code == 200 else "unreachable"}
        # host:port, or the URL of a service whose own probes are not the tool's
        parts = urlsplit(address if "://" in address else f"//{address}")
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(parts.hostname, parts.port), PROBE_TIMEOUT
        )
        writer.close()
{%- else %}
            raise OSError(f"{key}: no client for {address}")
{%- endif %}
    except Exception:
        return {key: "unreachable"}
    return {key: "ok"}


async def collect_checks() -> dict[str, str]:
    """Every probe, concurrently."""
    settings = get_settings()
    probes: list[Awaitable[dict[str, str]]] = [broker_check()]
{%- if svc.database %}
    probes.insert(0, database_checks())
{%- endif %}
    if settings.redis_url:
        probes.append(cache_check(settings.redis_url))
    for key, (attribute, protocol) in DEPENDENCIES.items():
        probes.append(dependency_check(key, getattr(settings, attribute), protocol))
    checks: dict[str, str] = {}
    for result in await asyncio.gather(*probes):
        checks.update(result)
    return checks


@router.get("{{ svc.health_path }}", operation_id="healthz")
def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("{{ svc.ready_path }}", operation_id="readyz")
async def readyz() -> JSONResponse:
    """Ready unless a required check fails (503 then); `checks` says what each probe found."""
    checks = await collect_checks()
    ready = all(checks.get(name, "ok") == "ok" for name in REQUIRED)
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks},
        status_code=200 if ready else 503,
    )


@router.get("{{ svc.metrics_path }}", include_in_schema=False)
def metrics() -> Response:
    """Prometheus exposition format."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
