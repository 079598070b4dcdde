{{ header }}
{%- set g = svc.code.grpc %}
"""The gRPC API on GRPC_PORT: {{ g.proto_file }} (the same file as proto/ at the root of the
repository) and the standard health service (grpc.health.v1.Health/Check, SERVING while
{{ svc.ready_path }} is ready).

Each RPC is answered by the HTTP route it stands for, in process (httpx's ASGI transport): the
same validation, access rules, checked references, cache and events as over HTTP, written once.
The caller's JWT comes in the `authorization` metadata (`Bearer <token>`), its request id in
`x-request-id`, its trace in `traceparent`. HTTP statuses become gRPC codes as in every generated
service (401 UNAUTHENTICATED, 403 PERMISSION_DENIED, 404 NOT_FOUND, 409 ALREADY_EXISTS or
FAILED_PRECONDITION, 400 and 422 INVALID_ARGUMENT, 502 and 503 UNAVAILABLE, 504
DEADLINE_EXCEEDED, anything else INTERNAL). Every RPC is a span, a log line and a sample of
grpc_server_handled_total and grpc_server_handling_seconds (the route it calls is counted under
the HTTP metrics too).

The contract is compiled when the server starts (grpcio-tools' protoc, into descriptors): there
are no generated stubs to keep in step with the .proto.
"""

import logging
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

import grpc
import httpx
from fastapi import FastAPI
from google.protobuf import (
    descriptor_pb2,
    descriptor_pool,
    json_format,
    message_factory,
    struct_pb2,  # noqa: F401 (registers google.protobuf.Struct before the contract)
    timestamp_pb2,  # noqa: F401 (registers google.protobuf.Timestamp)
)
from google.protobuf.message import Message
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_tools import protoc
from opentelemetry import propagate, trace
from prometheus_client import Counter, Histogram

from app import observability

log = logging.getLogger(__name__)

# The service's folder: the contract is copied there so that its image holds it.
ROOT = Path(__file__).resolve().parents[1]
PROTO = "{{ g.proto_file }}"
SERVICE = "{{ g.service }}"
READY_PATH = "{{ svc.ready_path }}"
# The in-process HTTP requests go to the app itself, never over the network.
BASE_URL = "http://grpc.internal"

HANDLED = Counter(
    "grpc_server_handled_total",
    "RPCs completed by service, method and status code.",
    ["grpc_service", "grpc_method", "grpc_code"],
)
HANDLING = Histogram(
    "grpc_server_handling_seconds",
    "RPC duration by service and method.",
    ["grpc_service", "grpc_method"],
)


@dataclass(frozen=True)
class Rpcs:
    """The RPCs of one entity, the HTTP route they stand for, and how its message differs from
    its JSON row (timestamps, structs; enums: proto value name -> JSON value)."""

    path: str
    pk: str
    field: str
    get: str
    list: str
    create: str
    delete: str
    timestamps: tuple[str, ...]
    structs: tuple[str, ...]
    enums: dict[str, dict[str, str]]


RPCS: tuple[Rpcs, ...] = (
{%- for r in g.entities %}
    Rpcs(
        path="{{ r.path }}",
        pk="{{ r.pk }}",
        field="{{ r.field }}",
        get="{{ r.get }}",
        list="{{ r.list }}",
        create="{{ r.create }}",
        delete="{{ r.delete }}",
        timestamps=({% for c in r.timestamps %}"{{ c }}",{% if not loop.last %} {% endif %}{% endfor %}),
        structs=({% for c in r.structs %}"{{ c }}",{% if not loop.last %} {% endif %}{% endfor %}),
{%- if r.enums %}
        enums={
{%- for en in r.enums %}
            "{{ en.column }}": {
{%- for v in en.values %}
                "{{ v[0] }}": {{ v[1] | py_str }},
{%- endfor %}
            },
{%- endfor %}
        },
{%- else %}
        enums={},
{%- endif %}
    ),
{%- endfor %}
)


class RpcError(Exception):
    """An RPC's failure: a gRPC status code and its message."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code


def code_of(status: int, creating: bool) -> grpc.StatusCode:
    """The gRPC code of an HTTP status (the same table as the TypeScript services')."""
    if status in (400, 422):
        return grpc.StatusCode.INVALID_ARGUMENT
    if status == 401:
        return grpc.StatusCode.UNAUTHENTICATED
    if status == 403:
        return grpc.StatusCode.PERMISSION_DENIED
    if status == 404:
        return grpc.StatusCode.NOT_FOUND
    if status == 409:
        if creating:
            return grpc.StatusCode.ALREADY_EXISTS
        return grpc.StatusCode.FAILED_PRECONDITION
    if status in (502, 503):
        return grpc.StatusCode.UNAVAILABLE
    if status == 504:
        return grpc.StatusCode.DEADLINE_EXCEEDED
    return grpc.StatusCode.INTERNAL


def answer(response: httpx.Response, creating: bool = False) -> Any:
    """The HTTP answer's body, or the RpcError its status stands for."""
    if response.status_code < 300:
        return {} if response.status_code == 204 else response.json()
    try:
        detail = response.json().get("detail", response.text)
    except ValueError:
        detail = response.text
    message = detail if isinstance(detail, str) else str(detail)
    raise RpcError(code_of(response.status_code, creating), message)


# --- Between proto messages and JSON rows ---


def to_message(shape: Rpcs, row: dict[str, Any], message: Message) -> Message:
    """A JSON row into its proto message: unset where the row has null."""
    data: dict[str, Any] = {}
    for key, value in row.items():
        if value is None:
            continue
        if key in shape.enums:
            names = {json: name for name, json in shape.enums[key].items()}
            value = names.get(value, value)
        data[key] = value
    return json_format.ParseDict(data, message, ignore_unknown_fields=True)


def to_row(shape: Rpcs, message: Message) -> dict[str, Any]:
    """A request message as the JSON body of the HTTP route: only the fields that are set (a
    field without presence always is, as with the TypeScript services' loader defaults)."""
    out: dict[str, Any] = {}
    for f in message.DESCRIPTOR.fields:
        if f.has_presence and not message.HasField(f.name):
            continue
        value = getattr(message, f.name)
        if f.name in shape.timestamps or f.name in shape.structs:
            out[f.name] = json_format.MessageToDict(value)
        elif f.name in shape.enums:
            name = f.enum_type.values_by_number[value].name
            if name in shape.enums[f.name]:
                out[f.name] = shape.enums[f.name][name]
        else:
            out[f.name] = value
    return out


# --- The contract ---


def load_contract() -> descriptor_pool.DescriptorPool:
    """The .proto compiled by protoc (grpcio-tools) into descriptors, added to the default pool
    (which already holds the well-known types it imports)."""
    well_known = resources.files("grpc_tools") / "_proto"
    pool = descriptor_pool.Default()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "contract.pb"
        args = [
            "protoc",
            f"-I{ROOT}",
            f"-I{well_known}",
            "--include_imports",
            f"--descriptor_set_out={out}",
            PROTO,
        ]
        if protoc.main(args) != 0:
            raise RuntimeError(f"protoc could not compile {ROOT / PROTO}")
        files = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())
    for proto in files.file:
        try:
            pool.FindFileByName(proto.name)
        except KeyError:
            pool.Add(proto)
    return pool


# --- The server ---

# Answers one RPC: the request, the headers for its route, the empty reply to fill.
Handler = Callable[[Message, dict[str, str], Message], Awaitable[None]]


def headers_of(metadata: dict[str, Any], request_id: str) -> dict[str, str]:
    """The HTTP headers an RPC's metadata carries over to its route."""
    headers = {"x-request-id": request_id}
    token = metadata.get("authorization")
    if isinstance(token, str):
        headers["authorization"] = token
    return headers


def entity_handlers(http: httpx.AsyncClient, r: Rpcs) -> dict[str, Handler]:
    """The four RPCs of one entity, each through its HTTP route."""

    def item(key: Any) -> str:
        return f"{r.path}/{quote(str(key), safe='')}"

    async def get(request: Message, headers: dict[str, str], reply: Message) -> None:
        response = await http.get(item(getattr(request, r.pk)), headers=headers)
        to_message(r, answer(response), getattr(reply, r.field))

    async def list_rows(
        request: Message, headers: dict[str, str], reply: Message
    ) -> None:
        params: dict[str, str] = {}
        if request.page_size:
            params["limit"] = str(request.page_size)
        if request.page_token:
            params["after"] = request.page_token
        page = answer(await http.get(r.path, params=params, headers=headers))
        for row in page["items"]:
            to_message(r, row, reply.items.add())
        following = page.get("next")
        reply.next_page_token = "" if following is None else str(following)

    async def create(request: Message, headers: dict[str, str], reply: Message) -> None:
        response = await http.post(r.path, json=to_row(r, request), headers=headers)
        to_message(r, answer(response, creating=True), getattr(reply, r.field))

    async def delete(request: Message, headers: dict[str, str], reply: Message) -> None:
        answer(await http.delete(item(getattr(request, r.pk)), headers=headers))

    return {r.get: get, r.list: list_rows, r.create: create, r.delete: delete}


def unary(
    method: str, handler: Handler, reply_type: type[Message]
) -> Callable[[Message, grpc.aio.ServicerContext], Awaitable[Message]]:
    """A unary handler: the RPC in its span, then its log line and metrics."""

    async def call(request: Message, context: grpc.aio.ServicerContext) -> Message:
        started = time.perf_counter()
        metadata = dict(context.invocation_metadata() or ())
        given = str(metadata.get("x-request-id", ""))
        valid = observability.VALID_REQUEST_ID.fullmatch(given)
        request_id = given if valid else uuid.uuid4().hex
        headers = headers_of(metadata, request_id)
        span = observability.tracer.start_span(
            f"{SERVICE}/{method}",
            context=propagate.extract(metadata),
            kind=trace.SpanKind.SERVER,
            attributes={
                "rpc.system": "grpc",
                "rpc.service": SERVICE,
                "rpc.method": method,
            },
        )
        token = observability.REQUEST_ID.set(request_id)
        code, reply, error = grpc.StatusCode.OK, reply_type(), ""
        with trace.use_span(span, end_on_exit=False):
            # The route's own span is a child of this one (its traceparent names it).
            propagate.inject(headers)
            try:
                await handler(request, headers, reply)
            except RpcError as exc:
                code, error = exc.code, str(exc)
            except Exception:
                log.exception("rpc %s failed", method)
                code, error = grpc.StatusCode.INTERNAL, "internal error"
            seconds = time.perf_counter() - started
            HANDLED.labels(SERVICE, method, code.name).inc()
            HANDLING.labels(SERVICE, method).observe(seconds)
            log.info("rpc %s/%s %s %.1f ms", SERVICE, method, code.name, seconds * 1000)
            if code != grpc.StatusCode.OK:
                span.set_status(trace.StatusCode.ERROR, error)
        span.end()
        observability.REQUEST_ID.reset(token)
        if code != grpc.StatusCode.OK:
            await context.abort(code, error)
        return reply

    return call


class Health(health.aio.HealthServicer):
    """grpc.health.v1: SERVING while the app's readiness answers 200 (asked in process at each
    Check; Watch streams what the last Check saw)."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        super().__init__()
        self.http = http

    async def Check(  # noqa: N802 (the RPC's name)
        self, request: health_pb2.HealthCheckRequest, context: grpc.aio.ServicerContext
    ) -> health_pb2.HealthCheckResponse:
        if request.service not in ("", SERVICE):
            await context.abort(
                grpc.StatusCode.NOT_FOUND, f"unknown service {request.service}"
            )
        try:
            ready = (await self.http.get(READY_PATH)).status_code == 200
        except Exception:
            ready = False
        status = (
            health_pb2.HealthCheckResponse.SERVING
            if ready
            else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        for name in ("", SERVICE):
            await self.set(name, status)
        return health_pb2.HealthCheckResponse(status=status)


@dataclass
class GrpcServer:
    """The running server, the port it bound and its in-process HTTP client."""

    server: grpc.aio.Server
    port: int
    http: httpx.AsyncClient

    async def stop(self, grace: float = 5.0) -> None:
        """Stop taking RPCs; those under way get `grace` seconds."""
        await self.server.stop(grace)
        await self.http.aclose()


async def start(app: FastAPI, port: int) -> GrpcServer:
    """The gRPC server of `app`, listening on `port` (0: any free port)."""
    pool = load_contract()
    api = pool.FindServiceByName(SERVICE)
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL)
    methods: dict[str, grpc.RpcMethodHandler] = {}
    for r in RPCS:
        for name, handler in entity_handlers(http, r).items():
            rpc = api.methods_by_name[name]
            request_type = message_factory.GetMessageClass(rpc.input_type)
            reply_type = message_factory.GetMessageClass(rpc.output_type)
            methods[name] = grpc.unary_unary_rpc_method_handler(
                unary(name, handler, reply_type),
                request_deserializer=request_type.FromString,
                response_serializer=reply_type.SerializeToString,
            )
    server = grpc.aio.server()
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(SERVICE, methods),)
    )
    health_pb2_grpc.add_HealthServicer_to_server(Health(http), server)
    bound = server.add_insecure_port(f"0.0.0.0:{port}")
    await server.start()
    log.info("grpc serving %s on port %d", SERVICE, bound)
    return GrpcServer(server, bound, http)
