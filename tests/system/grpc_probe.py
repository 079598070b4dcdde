"""Calls a Python service's gRPC API as any gRPC client would: a channel to its port, the
service's .proto compiled by its own app/grpc_api.py (grpcio-tools), the token in the
`authorization` metadata. The Python twin of grpc_probe.mjs, run by the `grpc-served` check with
the service venv's python: `python grpc_probe.py` with the same JSON on stdin
  {"dir": <service folder>, "address": "127.0.0.1:PORT",
   "calls": [{"rpc": "health" | <RPC name>, "request": {...} | "row": {...}, "entity": i, "token": "Bearer ..."}]}
`row` is a JSON row of the HTTP API, turned into the RPC's message by the service's own mapping.
Prints one JSON line: per call {"code": <gRPC status number>, "details", "reply"}.
"""

from __future__ import annotations

import json
import sys


def main() -> None:
    spec = json.load(sys.stdin)
    sys.path.insert(0, spec["dir"])
    import grpc
    from google.protobuf import json_format, message_factory
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    from app import grpc_api

    api = grpc_api.load_contract().FindServiceByName(grpc_api.SERVICE)
    out = []
    with grpc.insecure_channel(spec["address"]) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for c in spec["calls"]:
            metadata = (("authorization", c["token"]),) if c.get("token") else ()
            if c["rpc"] == "health":
                call, request = health.Check, health_pb2.HealthCheckRequest(**c["request"])
            else:
                method = api.methods_by_name[c["rpc"]]
                request_type = message_factory.GetMessageClass(method.input_type)
                reply_type = message_factory.GetMessageClass(method.output_type)
                call = channel.unary_unary(f"/{grpc_api.SERVICE}/{c['rpc']}", request_serializer=request_type.SerializeToString,
                                           response_deserializer=reply_type.FromString)
                if "row" in c:
                    request = grpc_api.to_message(grpc_api.RPCS[c["entity"]], c["row"], request_type())
                else:
                    request = json_format.ParseDict(c["request"], request_type())
            try:
                reply = call(request, metadata=metadata, timeout=10)
                out.append({"code": 0, "reply": json_format.MessageToDict(reply, preserving_proto_field_name=True)})
            except grpc.RpcError as err:
                out.append({"code": err.code().value[0], "details": err.details()})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
