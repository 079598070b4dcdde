{{ header }}
// Tracing, loaded before the app (`node --import ./dist/src/telemetry.js`) so that the HTTP
// instrumentation wraps Node's http module: one server span per request (renamed to its route
// template by the app) and W3C trace context on incoming and outgoing calls. Spans go to the
// OTLP endpoint over gRPC; OTEL_SDK_DISABLED=true (tests) turns it off.
import { registerInstrumentations } from "@opentelemetry/instrumentation";
import { HttpInstrumentation } from "@opentelemetry/instrumentation-http";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-grpc";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { settings } from "./config.js";

const config = settings();

if (!config.OTEL_SDK_DISABLED) {
  const processors = config.OTEL_EXPORTER_OTLP_ENDPOINT
    ? [new BatchSpanProcessor(new OTLPTraceExporter({ url: config.OTEL_EXPORTER_OTLP_ENDPOINT }))]
    : [];
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ "service.name": config.OTEL_SERVICE_NAME }),
    spanProcessors: processors,
  });
  provider.register();
  registerInstrumentations({
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => req.url === "/healthz" || req.url === "/readyz",
      }),
    ],
  });
  const stop = () => void provider.shutdown();
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}
