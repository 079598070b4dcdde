{{ header }}
// Start the service on PORT; stop gracefully on SIGTERM (in-flight requests finish){% if service.ts.has_events %}.
// Once listening, the event relay, publisher and consumer start in the background{% endif %}.
import { buildApp } from "./app.js";
import { settings } from "./config.js";

const config = settings();
const app = buildApp({ config{% if service.ts.has_events %}, background: true{% endif %} });

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    void app.close().then(() => process.exit(0));
  });
}

await app.listen({ host: "0.0.0.0", port: Number(config.PORT) });
