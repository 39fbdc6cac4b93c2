"""OpenTelemetry traces, off unless `otlp_endpoint` is set (then exported over OTLP/HTTP in batches).

Spans: one per HTTP request and WebSocket (RequestIds opens it; server/observability.py), one per GraphQL
operation (TracedOperation, named "<type> <name>" once the document is parsed), one per SQL statement on the
request engines (attached here to SQLAlchemy's cursor events), and the outbox relay's publish of each batch to
the broadcast channel (its Redis PUBLISHes; subscriptions/relay.py). A change is followed to its delivery: a write
that committed events wakes the relay with the writer's span context (Services.write), and the batch's publish
span is a child of the first such writer and links the others. Each mutation field's use case is a span
("Mutation.<field>", trace_mutations), and every Redis call of the app's clients (cost limiting, persisted
queries, the broadcast's PUBLISH) is one (opentelemetry-instrumentation-redis, per client: trace_redis). An HTTP
request carrying a W3C `traceparent` continues the caller's trace (server/observability.py).

Off, every hook here is absent (no listener, no extension), not merely a no-op tracer.
"""

from collections.abc import Iterable, Iterator
from inspect import isawaitable
from typing import Any

import strawberry
from graphql import GraphQLResolveInfo
from opentelemetry import trace
from opentelemetry.instrumentation.redis import RedisInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.extensions import SchemaExtension

from ordergraph.server.settings import Settings

SERVICE_NAME = "ordergraph"
_SPAN_KEY = "ordergraph_statement_span"
MAX_STATEMENT_CHARS = 2_000


def tracer_provider_for(settings: Settings) -> TracerProvider | None:
    """The provider exporting to the configured OTLP endpoint, or None when tracing is off."""
    if not settings.otlp_endpoint:
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    provider = TracerProvider(
        resource=Resource.create({"service.name": SERVICE_NAME}),
        sampler=ParentBased(TraceIdRatioBased(settings.trace_sample_ratio)),
    )
    endpoint = settings.otlp_endpoint.rstrip("/") + "/v1/traces"
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    return provider


def trace_sql(engines: Iterable[AsyncEngine], tracer: Tracer) -> None:
    """A span per statement, a child of whatever span is current where it runs (the request's operation)."""

    def before(conn: Connection, _cursor: object, statement: str, *_: object) -> None:
        verb = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "SQL"
        span = tracer.start_span(
            verb,
            kind=SpanKind.CLIENT,
            attributes={"db.system.name": conn.dialect.name, "db.query.text": statement[:MAX_STATEMENT_CHARS]},
        )
        conn.info[_SPAN_KEY] = span

    def after(conn: Connection, *_: object) -> None:
        span = conn.info.pop(_SPAN_KEY, None)
        if span is not None:
            span.end()

    def failed(context: object) -> None:
        conn = getattr(context, "connection", None)
        span = conn.info.pop(_SPAN_KEY, None) if conn is not None else None
        if span is not None:
            error = getattr(context, "original_exception", None)
            span.set_status(Status(StatusCode.ERROR, type(error).__name__))
            span.end()

    for engine in {id(e): e for e in engines}.values():
        event.listen(engine.sync_engine, "before_cursor_execute", before)
        event.listen(engine.sync_engine, "after_cursor_execute", after)
        event.listen(engine.sync_engine, "handle_error", failed)


def trace_redis(clients: Iterable[Any], provider: TracerProvider) -> None:
    """A span per command (and per pipeline) on each of these redis-py clients; others are left alone."""
    for client in clients:
        RedisInstrumentor.instrument_client(client, tracer_provider=provider)


def trace_mutations(schema: strawberry.Schema, tracer: Tracer) -> None:
    """Wraps every mutation field's resolver (its use case) in a span named after the field; queries' fields are
    left unwrapped, so they cost nothing more when traced."""
    mutation = schema._schema.mutation_type
    for name, field in (mutation.fields if mutation is not None else {}).items():
        resolve = field.resolve
        if resolve is None:
            continue

        async def traced(
            root: object, info: GraphQLResolveInfo, _name: str = name, _resolve: Any = resolve, **arguments: object
        ) -> object:
            with tracer.start_as_current_span(f"Mutation.{_name}", kind=SpanKind.INTERNAL) as span:
                span.set_attribute("graphql.field.name", _name)
                result = _resolve(root, info, **arguments)
                if isawaitable(result):
                    result = await result
                errors = getattr(result, "user_errors", None)
                if errors:
                    span.set_attribute("ordergraph.user_error.code", str(errors[0].code))
                return result

        field.resolve = traced


class TracedOperation(SchemaExtension):
    """The operation's span (first of the extensions, so refusals are inside it too)."""

    def __init__(self, tracer: Tracer) -> None:
        self.tracer = tracer

    def on_operation(self) -> Iterator[None]:
        execution = self.execution_context
        with self.tracer.start_as_current_span("graphql operation", kind=SpanKind.INTERNAL) as span:
            yield
            try:
                kind = execution.operation_type.value
            except Exception:  # noqa: BLE001  (no document, or no such operation in it: refused before)
                kind = "operation"
            name = execution.operation_name or "anonymous"
            span.update_name(f"{kind} {name}")
            span.set_attribute("graphql.operation.name", name)
            span.set_attribute("graphql.operation.type", kind)
            result = execution.result
            errors = getattr(result, "errors", None) or []
            if errors:
                code = (errors[0].extensions or {}).get("code")
                span.set_attribute("graphql.error.code", str(code))


def current_span_context() -> trace.SpanContext | None:
    context = trace.get_current_span().get_span_context()
    return context if context.is_valid else None
