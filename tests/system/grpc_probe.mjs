// Calls a TypeScript service's gRPC API as any gRPC client would: a channel to its port, the
// service's .proto loaded by @grpc/proto-loader, the token in the `authorization` metadata.
// Run by the `grpc-served` check: `node grpc_probe.mjs` with JSON on stdin
//   {"dir": <service folder>, "address": "127.0.0.1:PORT",
//    "calls": [{"rpc": "health" | <RPC name>, "request": {...} | "row": {...}, "entity": i, "token": "Bearer ..."}]}
// `row` is a JSON row of the HTTP API, turned into the RPC's message by the service's own mapping
// (src/grpc.ts). Prints one JSON line: per call {"code": <gRPC status>, "details", "reply"}.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";

const input = JSON.parse(readFileSync(0, "utf8"));
const require = createRequire(path.join(input.dir, "package.json"));
const grpc = require("@grpc/grpc-js");
const protoLoader = require("@grpc/proto-loader");
const served = await import(pathToFileURL(path.join(input.dir, "dist/src/grpc.js")).href);

const definition = protoLoader.loadSync(served.PROTO, served.LOADER)[served.SERVICE];
const Api = grpc.makeGenericClientConstructor(definition, served.SERVICE);
const Health = grpc.makeGenericClientConstructor(served.HEALTH[served.HEALTH_SERVICE], served.HEALTH_SERVICE);
const api = new Api(input.address, grpc.credentials.createInsecure());
const health = new Health(input.address, grpc.credentials.createInsecure());
const deadline = () => new Date(Date.now() + 10_000);

function unary(client, rpc, request, token) {
  const metadata = new grpc.Metadata();
  if (token) metadata.set("authorization", token);
  return new Promise((resolve) => {
    client[rpc](request, metadata, { deadline: deadline() }, (err, reply) =>
      resolve(err ? { code: err.code, details: err.details } : { code: 0, reply }),
    );
  });
}

const out = [];
for (const c of input.calls) {
  if (c.rpc === "health") {
    out.push(await unary(health, "Check", c.request, null));
  } else {
    const request = c.row ? served.toMessage(served.RPCS[c.entity], c.row) : c.request;
    out.push(await unary(api, c.rpc, request, c.token));
  }
}
api.close();
health.close();
process.stdout.write(JSON.stringify(out) + "\n");
