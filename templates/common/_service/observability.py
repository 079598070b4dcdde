{{ header }}
"""JSON logs on stdout, Prometheus request metrics and OpenTelemetry traces (OTLP).

Tracing needs `opentelemetry-sdk` and the OTLP exporter (pinned in requirements.txt); it is
off when `OTEL_SDK_DISABLED=true` or no endpoint is set.
"""

import json
import logging
import sys
import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from prometheus_client import Counter, Histogram

from app.config import get_settings

# `service` is the workload's name: the alerts and dashboards under observability/ select on it.
REQUESTS = Counter(
    "http_requests_total",
    "HTTP requests served",
    ["service", "method", "route", "status"],
)
LATENCY = Histogram(
    "http_request_duration_seconds",
    "HTTP request latency",
    ["service", "method", "route"],
)

Handler = Callable[[Request], Awaitable[Response]]


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, service."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "service": get_settings().service_name,
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def setup_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def instrument(app: FastAPI) -> None:
    """Request metrics for every route, then tracing if configured."""

    @app.middleware("http")
    async def record_metrics(request: Request, call_next: Handler) -> Response:
        start = time.perf_counter()
        response = await call_next(request)
        route = getattr(request.scope.get("route"), "path", "unmatched")
        service = get_settings().service_name
        status = str(response.status_code)
        REQUESTS.labels(service, request.method, route, status).inc()
        elapsed = time.perf_counter() - start
        LATENCY.labels(service, request.method, route).observe(elapsed)
        return response

    setup_tracing(app)


def setup_tracing(app: FastAPI) -> None:
    settings = get_settings()
    if settings.otel_sdk_disabled or not settings.otel_exporter_otlp_endpoint:
        return
    try:
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
            OTLPSpanExporter,
        )
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        logging.getLogger(__name__).warning("opentelemetry-sdk missing: no tracing")
        return
    resource = Resource.create({"service.name": settings.otel_service_name})
    provider = TracerProvider(resource=resource)
    exporter = OTLPSpanExporter(endpoint=settings.otel_exporter_otlp_endpoint)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    tracer = trace.get_tracer(settings.service_name)

    @app.middleware("http")
    async def trace_requests(request: Request, call_next: Handler) -> Response:
        name = f"{request.method} {request.url.path}"
        with tracer.start_as_current_span(name, kind=trace.SpanKind.SERVER) as span:
            response = await call_next(request)
            span.set_attribute("http.status_code", response.status_code)
            return response
