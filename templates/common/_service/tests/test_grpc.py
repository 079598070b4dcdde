{{ header }}
"""The gRPC API over a real channel to the running app (app/grpc_api.py): health, and each
entity's RPCs answered by its HTTP routes with the caller's token from the metadata."""

from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest
from fastapi.testclient import TestClient
from google.protobuf import message_factory
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2, health_pb2_grpc
{%- if svc.entity_ids %}
from test_api import {% for i in svc.entity_ids %}{{ m.entities[i].name.snake }}_payload{% if not loop.last %}, {% endif %}{% endfor %}
{%- endif %}

from app import grpc_api

Call = Callable[..., Any]


@pytest.fixture(scope="module")
def channel(client: TestClient) -> Iterator[grpc.Channel]:
    """A channel to a gRPC server of the running app, on its event loop and any free port
    (the one its lifespan starts is another test's to stop when it starts the app again)."""
    server = client.portal.call(grpc_api.start, client.app, 0)
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as ch:
        yield ch
    client.portal.call(server.stop)


def rpc(channel: grpc.Channel, name: str) -> tuple[Call, type[Message]]:
    """One RPC of the contract as a client calls it, and its request type."""
    api = grpc_api.load_contract().FindServiceByName(grpc_api.SERVICE)
    method = api.methods_by_name[name]
    request_type = message_factory.GetMessageClass(method.input_type)
    reply_type = message_factory.GetMessageClass(method.output_type)
    call = channel.unary_unary(
        f"/{grpc_api.SERVICE}/{name}",
        request_serializer=request_type.SerializeToString,
        response_deserializer=reply_type.FromString,
    )
    return call, request_type


def code_of(call: Call, request: Message, **kwargs: Any) -> grpc.StatusCode:
    """The status a call that must fail ends with."""
    with pytest.raises(grpc.RpcError) as failed:
        call(request, timeout=10, **kwargs)
    return failed.value.code()


def test_health_is_serving_while_ready(channel: grpc.Channel) -> None:
    stub = health_pb2_grpc.HealthStub(channel)
    for service in ("", grpc_api.SERVICE):
        reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=10)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
    unknown = health_pb2.HealthCheckRequest(service="no.such.Service")
    assert code_of(stub.Check, unknown) == grpc.StatusCode.NOT_FOUND
{%- for i in svc.entity_ids %}{% set e = m.entities[i] %}


def test_{{ e.name.snake }}_rpcs_answer_through_the_http_routes(
    client: TestClient, channel: grpc.Channel, admin_headers: dict[str, str]
) -> None:
    r = grpc_api.RPCS[{{ loop.index0 }}]
    write = "{{ e.code.auth.write.kind }}"
    token = (("authorization", admin_headers["Authorization"]),)
    create, create_request = rpc(channel, r.create)
    get, get_request = rpc(channel, r.get)
    list_rows, list_request = rpc(channel, r.list)
    delete, delete_request = rpc(channel, r.delete)

    payload = {{ e.name.snake }}_payload(client)
    request = grpc_api.to_message(r, payload, create_request())
    created = getattr(create(request, metadata=token, timeout=10), r.field)
    key = getattr(created, r.pk)
    # The row made over gRPC is the row the HTTP API reads.
    assert client.get(f"{r.path}/{key}").status_code == 200
    got = get(get_request(**{r.pk: key}), metadata=token, timeout=10)
    assert getattr(got, r.field) == created
    if write != "public":
        assert code_of(create, request) == grpc.StatusCode.UNAUTHENTICATED
    page = list_rows(list_request(page_size=1), metadata=token, timeout=10)
    assert len(page.items) == 1

    delete(delete_request(**{r.pk: key}), metadata=token, timeout=10)
    gone = get_request(**{r.pk: key})
    assert code_of(get, gone, metadata=token) == grpc.StatusCode.NOT_FOUND
    assert client.get(f"{r.path}/{key}").status_code == 404
{%- endfor %}
