{{ header }}
"""The FastAPI app of one service's HTTP function (served through Mangum)."""

import importlib
import json
import logging
import sys
from collections.abc import Iterable

from fastapi import FastAPI

from app.config import check_environment, get_settings


class JsonFormatter(logging.Formatter):
    """One JSON object per line (CloudWatch Logs Insights parses it)."""

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(
            {
                "level": record.levelname,
                "logger": record.name,
                "message": record.getMessage(),
                "service": get_settings().service_name,
            }
        )


def setup_logging() -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(get_settings().log_level.upper())


def create_app(module: str, environment: Iterable[str]) -> FastAPI:
    """An app with the routes of `app.modules.<module>`, once `environment` is all set."""
    check_environment(environment)
    setup_logging()
    app = FastAPI(title=module)

    @app.get("/healthz", operation_id="healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    for router in importlib.import_module(f"app.modules.{module}.routes").routers:
        app.include_router(router)
    return app
