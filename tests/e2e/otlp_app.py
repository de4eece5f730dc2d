# Two services in one trace, instrumented with the OpenTelemetry SDK and exported to Bugle over
# OTLP/HTTP (protobuf): `checkout` calls `payments` (context propagated through a carrier, as
# an HTTP header would carry it); `payments` fails and records the exception on its span;
# `checkout` logs its own failure through the logging handler. Exits 1 if any export failed.
# Endpoint and token come from OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_HEADERS.
import logging
import sys

from opentelemetry import propagate, trace
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor


class Failures(logging.Handler):
    count = 0

    def emit(self, record):
        if record.levelno >= logging.WARNING:
            Failures.count += 1
            print("exporter:", record.getMessage(), file=sys.stderr)


logging.getLogger("opentelemetry").addHandler(Failures())


def provider(service):
    resource = Resource.create({
        "service.name": service,
        "service.version": "2.0.%d" % (1 if service == "checkout" else 7),
        "deployment.environment.name": "staging",
        "host.name": service + "-host",
    })
    tp = TracerProvider(resource=resource)
    tp.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return tp, resource


checkout_tp, checkout_resource = provider("checkout")
payments_tp, _ = provider("payments")
checkout = checkout_tp.get_tracer("shop.checkout")
payments = payments_tp.get_tracer("shop.payments")

logs = LoggerProvider(resource=checkout_resource)
logs.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter()))
log = logging.getLogger("shop.checkout")
log.addHandler(LoggingHandler(level=logging.ERROR, logger_provider=logs))
log.propagate = False


class CardDeclined(Exception):
    pass


def charge(card):
    raise CardDeclined("card %s declined by the bank" % card)


def serve_charge(headers):
    ctx = propagate.extract(headers)
    with payments.start_as_current_span("POST /charge", context=ctx, kind=trace.SpanKind.SERVER):
        charge("4242")


def place_order(order):
    with checkout.start_as_current_span("POST /orders", kind=trace.SpanKind.SERVER):
        with checkout.start_as_current_span("POST payments/charge", kind=trace.SpanKind.CLIENT) as span:
            headers = {}
            propagate.inject(headers)
            try:
                serve_charge(headers)
            except CardDeclined:
                span.set_status(trace.Status(trace.StatusCode.ERROR))
                try:
                    raise RuntimeError("order %d could not be paid" % order)
                except RuntimeError:
                    log.exception("checkout failed for order %d", order)
                    print(format(span.get_span_context().trace_id, "032x"))


place_order(int(sys.argv[1]) if len(sys.argv) > 1 else 17)
for p in (payments_tp, checkout_tp):
    p.force_flush()
    p.shutdown()
logs.force_flush()
logs.shutdown()
sys.exit(1 if Failures.count else 0)
