{{ header }}
"""Liveness (`/healthz`), readiness (`/readyz`: database{% if svc.cache %} and cache{% endif %}) and Prometheus metrics."""

from collections.abc import Callable

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

{% if svc.database %}from app import db
{% endif %}from app.config import get_settings

router = APIRouter(tags=["health"])


def check(probe: Callable[[], None]) -> str:
    try:
        probe()
    except Exception as exc:  # any failure means not ready
        return f"failed: {type(exc).__name__}"
    return "ok"


def cache_ping(url: str) -> None:
    import redis

    redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping()


@router.get("/healthz", operation_id="healthz")
def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz", operation_id="readyz")
def readyz() -> JSONResponse:
    """Ready when every backing service answers (503 otherwise)."""
    checks: dict[str, str] = {}
{%- if svc.database %}
    checks["database"] = check(db.ping)
{%- endif %}
    redis_url = get_settings().redis_url
    if redis_url:
        checks["cache"] = check(lambda: cache_ping(redis_url))
    ready = all(result == "ok" for result in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks},
        status_code=200 if ready else 503,
    )


@router.get("/metrics", include_in_schema=False)
def metrics() -> Response:
    """Prometheus exposition format."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
