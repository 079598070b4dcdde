{{ header }}
"""{{ svc.name.title }}: {{ svc.description | py_doc }}.

Run with `uvicorn app.main:app --host {{ svc.listen.host }} --port {{ svc.listen.port }}`; SIGTERM drains requests,
stops the event consumers and closes connections (graceful shutdown). Start-up does not wait for
the broker or any other backing service: they are connected in the background and `/readyz`
says what is missing.
"""
{% if svc.modules %}
import importlib
{%- endif %}
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
{%- if svc.database %}
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
{%- endif %}

from app import clients, db, events{% if svc.code.grpc %}, grpc_api{% endif %}
from app.config import get_settings
from app.health import router as health_router
from app.observability import instrument, setup_logging, shutdown_tracing
{%- if not svc.modules %}
from app.routes import routers
{%- endif %}

log = logging.getLogger(__name__)

# Sent with every answer: no MIME sniffing, no framing, no referrer, HTTPS only, no caching of
# API answers (they may be personal).
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "Cache-Control": "no-store",
}
{%- if svc.modules %}

MODULES = (
{%- for name in svc.modules %}{% for s in m.services %}{% if s.name.raw == name %}
    "{{ s.name.snake }}",
{%- endif %}{% endfor %}{% endfor %}
)
{%- endif %}


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    await events.publisher.start()
    await events.relay.start()
    await events.consumer.start()
{%- if svc.code.grpc %}
    # The gRPC API (app/grpc_api.py) on GRPC_PORT; 0 takes any free port (the tests).
    grpc_server = await grpc_api.start(app, int(get_settings().grpc_port))
{%- endif %}
    log.info("started")
    try:
        yield
    finally:
{%- if svc.code.grpc %}
        await grpc_server.stop()
{%- endif %}
        await events.consumer.stop()
        await events.relay.stop()
        await events.publisher.stop()
        clients.close_all()
        db.dispose()
        log.info("stopped")
        shutdown_tracing()


async def broker_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """An event could not be published: the broker is down (the client may retry)."""
    log.warning("%s %s: broker unavailable", request.method, request.url.path)
    return JSONResponse({"detail": "broker unavailable"}, status_code=503)
{%- if svc.database %}


async def database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """The database is unreachable, the pool is exhausted, or a statement ran over the
    statement timeout: 503 (retryable), not 500."""
    timed_out = isinstance(exc, OperationalError) and db.timed_out(exc)
    detail = "database statement timeout" if timed_out else "database unavailable"
    log.warning("%s %s: %s", request.method, request.url.path, detail)
    return JSONResponse({"detail": detail}, status_code=503)
{%- endif %}


async def security_headers(request: Request, call_next) -> Response:  # type: ignore[no-untyped-def]
    response = await call_next(request)
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def create_app() -> FastAPI:
    settings = get_settings()
    setup_logging(settings.log_level)
    app = FastAPI(
        title="{{ svc.name.raw }}",
        version={{ svc.image_tag | py_str }},
        description={{ svc.description | py_str }},
        lifespan=lifespan,
    )
    instrument(app)
    app.middleware("http")(security_headers)
    # Browsers may call the API from these origins only (`ingress.cors`); a preflight from any
    # other origin is refused.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origin_list,
        allow_methods=settings.cors_method_list,
        allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
        max_age=600,
    )
    app.add_exception_handler(events.BrokerUnavailable, broker_unavailable)
{%- if svc.database %}
    app.add_exception_handler(OperationalError, database_unavailable)
    app.add_exception_handler(PoolTimeout, database_unavailable)
{%- endif %}
    app.include_router(health_router)
{%- if svc.modules %}
    for name in MODULES:
        for router in importlib.import_module(f"app.modules.{name}.routes").routers:
            app.include_router(router)
{%- else %}
    for router in routers:
        app.include_router(router)
{%- endif %}
    return app


app = create_app()
