{{ header }}
// Start the service on PORT; stop gracefully on SIGTERM (in-flight requests finish).
import { buildApp } from "./app.js";
import { settings } from "./config.js";

const config = settings();
const app = buildApp({ config });

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    void app.close().then(() => process.exit(0));
  });
}

await app.listen({ host: "0.0.0.0", port: Number(config.PORT) });
