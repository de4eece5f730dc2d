// A Node service instrumented with the OpenTelemetry SDK, exporting to Bugle over OTLP/HTTP JSON;
// prints the trace id of the span whose exception it records. Exits 1 if the export failed.
const { NodeTracerProvider } = require('@opentelemetry/sdk-trace-node');
const { BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const api = require('@opentelemetry/api');

const exporter = new OTLPTraceExporter({
  url: process.env.BUGLE_URL + '/v1/traces',
  headers: { Authorization: 'Bearer ' + process.env.BUGLE_TOKEN },
});
const provider = new NodeTracerProvider({
  resource: resourceFromAttributes({
    'service.name': 'inventory',
    'service.version': '3.1.0',
    'deployment.environment.name': 'staging',
  }),
  spanProcessors: [new BatchSpanProcessor(exporter)],
});
provider.register();
const tracer = api.trace.getTracer('inventory');

function reserve(sku) {
  throw new TypeError('sku ' + sku + ' is not stocked');
}

let failed = false;
api.diag.setLogger({ error: (m) => { failed = true; console.error(m); }, warn: () => {}, info: () => {}, debug: () => {}, verbose: () => {} }, api.DiagLogLevel.ERROR);

tracer.startActiveSpan('POST /reserve', { kind: api.SpanKind.SERVER }, (span) => {
  try {
    reserve('A-17');
  } catch (err) {
    span.recordException(err);
    span.setStatus({ code: api.SpanStatusCode.ERROR });
    console.log(span.spanContext().traceId);
  }
  span.end();
});

provider.forceFlush().then(() => provider.shutdown()).then(() => process.exit(failed ? 1 : 0),
  (e) => { console.error(e); process.exit(1); });
