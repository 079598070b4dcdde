{{ header }}
"""JSON logs on stdout, Prometheus request metrics and OpenTelemetry traces (OTLP).

One ASGI middleware sees every request, unhandled errors included. It takes the caller's
`X-Request-ID` (or makes one up) and echoes it on the response; opens the request's one server
span, named `<METHOD> <route template>` (`GET /api/users/{id}`, never a raw id) and continuing
the caller's W3C `traceparent`; and counts the request in `http_requests_total` with its route
template ("unmatched" when no route matched) and status, 500 for an unhandled exception.
Every log line is one JSON object carrying `request_id`, `trace_id` and `span_id` when set; each
request served gets one access line (`app.access`), probes and metrics scrapes excepted.

Spans are exported over OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set; with it unset they are
still made (log lines keep their trace ids) but not sent; `OTEL_SDK_DISABLED=true` turns them off.
"""

import contextvars
import json
import logging
import re
import sys
import time
import uuid
from typing import Any

from fastapi import FastAPI
from opentelemetry import propagate, trace
from prometheus_client import Counter, Histogram
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import get_settings

log = logging.getLogger(__name__)

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

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)
REQUEST_ID_HEADER = "X-Request-ID"
# A caller's request id is kept when it looks like one (it ends up in logs); else a new one.
VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
UNMATCHED = "unmatched"
# One access line per request (route template, status, duration) with the request and trace ids;
# the probes and the metrics scrape stay out of it. Silence with the `app.access` logger's level.
access = logging.getLogger("app.access")
QUIET_ROUTES = frozenset(("{{ svc.health_path }}", "{{ svc.ready_path }}", "{{ svc.metrics_path }}"))

# Replaced by `setup_tracing`; the no-op tracer makes spans that record nothing.
tracer: trace.Tracer = trace.NoOpTracer()
_provider: Any = None


def request_id() -> str | None:
    """The id of the request being served (for calls to other services and for logs)."""
    return REQUEST_ID.get()


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, service, request and trace ids."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "service": get_settings().service_name,
        }
        current = REQUEST_ID.get()
        if current is not None:
            entry["request_id"] = current
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            entry["trace_id"] = trace.format_trace_id(context.trace_id)
            entry["span_id"] = trace.format_span_id(context.span_id)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def setup_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # uvicorn's own lines as JSON too (its access log only when it is on: --no-access-log
    # leaves that logger without handlers and not propagating).
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        server_log = logging.getLogger(name)
        if server_log.handlers:
            server_log.handlers.clear()
            server_log.propagate = True


def route_of(scope: Scope) -> str:
    """The template of the route that served the request, or "unmatched"."""
    return getattr(scope.get("route"), "path", None) or UNMATCHED


class RequestMiddleware:
    """Request id, server span and metrics for every HTTP request (see the module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {
            key.decode("latin-1").lower(): value.decode("latin-1")
            for key, value in scope["headers"]
        }
        given = headers.get(REQUEST_ID_HEADER.lower(), "")
        rid = given if VALID_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        method = scope["method"]
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).append(REQUEST_ID_HEADER, rid)
            await send(message)

        token = REQUEST_ID.set(rid)
        span = tracer.start_span(
            method,
            context=propagate.extract(headers),
            kind=trace.SpanKind.SERVER,
            attributes={"http.request.method": method, "url.path": scope["path"]},
        )
        start = time.perf_counter()
        try:
            with trace.use_span(span, end_on_exit=False):
                try:
                    await self.app(scope, receive, send_with_id)
                except Exception as exc:
                    status = 500
                    span.record_exception(exc)
                    log.exception("%s %s failed", method, scope["path"])
                    raise
        finally:
            route = route_of(scope)
            service = get_settings().service_name
            REQUESTS.labels(service, method, route, str(status)).inc()
            elapsed = time.perf_counter() - start
            LATENCY.labels(service, method, route).observe(elapsed)
            if route != UNMATCHED:
                span.update_name(f"{method} {route}")
                span.set_attribute("http.route", route)
            span.set_attribute("http.response.status_code", status)
            if status >= 500:
                span.set_status(trace.StatusCode.ERROR)
            if route not in QUIET_ROUTES:
                with trace.use_span(span, end_on_exit=False):
                    access.info(
                        "%s %s %d %.1f ms", method, route, status, elapsed * 1000
                    )
            span.end()
            REQUEST_ID.reset(token)


def instrument(app: FastAPI) -> None:
    """Tracing if configured, then the request middleware on every route."""
    setup_tracing()
    app.add_middleware(RequestMiddleware)


def setup_tracing() -> None:
    global tracer, _provider
    settings = get_settings()
    if settings.otel_sdk_disabled:
        return
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider

    resource = Resource.create({"service.name": settings.otel_service_name})
    provider = TracerProvider(resource=resource)
    if settings.otel_exporter_otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
            OTLPSpanExporter,
        )
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        exporter = OTLPSpanExporter(endpoint=settings.otel_exporter_otlp_endpoint)
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    _provider = provider
    tracer = provider.get_tracer(settings.service_name)


def shutdown_tracing() -> None:
    """Send the spans still buffered (graceful shutdown)."""
    if _provider is not None:
        _provider.shutdown()
