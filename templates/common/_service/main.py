{{ header }}
"""{{ svc.name.title }}: {{ svc.description | py_doc }}.

Run with `uvicorn app.main:app --host 0.0.0.0 --port {{ svc.port }}`; SIGTERM drains requests,
stops the event consumers and closes connections (graceful shutdown).
"""

import asyncio
import contextlib
{%- if svc.modules %}
import importlib
{%- endif %}
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app import clients, db, events
from app.config import get_settings
from app.health import router as health_router
from app.observability import instrument, setup_logging
{%- if not svc.modules %}
from app.routes import routers
{%- endif %}

log = logging.getLogger(__name__)
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
    consumer = asyncio.create_task(events.consume_forever())
    log.info("started")
    try:
        yield
    finally:
        consumer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await consumer
        await events.publisher.stop()
        clients.close_all()
        db.dispose()
        log.info("stopped")


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
