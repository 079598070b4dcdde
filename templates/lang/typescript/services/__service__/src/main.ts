{{ header }}
// Start the service on PORT{% if service.ts.grpc %} (and its gRPC API on GRPC_PORT){% endif %}; stop gracefully on SIGTERM (in-flight requests finish){% if service.ts.has_events %}.
// Once listening, the event relay, publisher and consumer start in the background{% endif %}.
import { buildApp } from "./app.js";
import { settings } from "./config.js";
{%- if service.ts.grpc %}
import { startGrpc } from "./grpc.js";
{%- endif %}

const config = settings();
const app = buildApp({ config{% if service.ts.has_events %}, background: true{% endif %} });

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    void app.close().then(() => process.exit(0));
  });
}

await app.listen({ host: "{{ service.listen.host }}", port: Number(config.PORT) });
{%- if service.ts.grpc %}
// The gRPC API answers through the app's routes: it starts once they are ready, and takes no new
// RPC once a signal came (before the app closes).
const grpc = await startGrpc(app, Number(config.GRPC_PORT));
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.prependOnceListener(signal, () => grpc.server.tryShutdown(() => undefined));
}
{%- endif %}
