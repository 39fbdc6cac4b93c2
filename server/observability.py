"""What each request leaves behind for an operator: its id, its metrics and (server/logs.py) its log lines.

RequestIds (ASGI middleware, outermost) gives every HTTP request and WebSocket an id: the caller's `X-Request-ID`
when it is sane (REQUEST_ID_PATTERN), else a new one. The id is returned in the `X-Request-ID` response header
(and the WebSocket's accept), is every log line's `request_id` (RECORD, for the request's whole task), and over
HTTP every error's `extensions.requestId` (schema.extensions.REQUEST_ID). A RequestRecord collects what the
request did: its operation, its caller's role, its SQL statements and their time. GraphQLApp (server/app.py)
records the HTTP request's metrics from it once answered.

ObservedOperation (first of the schema's extensions) names the operation and role in the record; ObservedExecution
(last) counts result-cache hits. (LiveSocket in server/app.py keeps the live-subscriptions gauge.)
"""

import re
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field

from opentelemetry.trace import SpanKind, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

from ordergraph.schema.extensions import REQUEST_ID
from ordergraph.server import metrics

REQUEST_ID_HEADER = "x-request-id"
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._:/+=-]{1,128}")
TRACE_CONTEXT = TraceContextTextMapPropagator()


@dataclass(slots=True)
class RequestRecord:
    request_id: str
    started: float = field(default_factory=time.perf_counter)
    operation: str | None = None
    role: str = "anonymous"
    sql_statements: int = 0
    sql_seconds: float = 0.0


RECORD: ContextVar[RequestRecord | None] = ContextVar("ordergraph_request_record", default=None)


def request_id_from(headers: list[tuple[bytes, bytes]]) -> str:
    for name, value in headers:
        if name.lower() == REQUEST_ID_HEADER.encode():
            text = value.decode("latin-1").strip()
            if REQUEST_ID_PATTERN.fullmatch(text):
                return text
            break
    return uuid.uuid4().hex


class RequestIds:
    """ASGI middleware: the request's id and record, for HTTP requests and WebSockets."""

    def __init__(self, app: ASGIApp, tracer: Tracer | None = None) -> None:
        self.app = app
        self.tracer = tracer  # server/tracing.py: the request's span, when tracing is on

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope.get("headers", []))
        record = RequestRecord(request_id)
        # Errors over HTTP carry the id; a WebSocket's (one id for the socket's whole life, on its log lines) do not:
        # a subscription's error message keeps exactly its code's extensions.
        id_token = REQUEST_ID.set(request_id if scope["type"] == "http" else None)
        record_token = RECORD.set(record)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            elif message["type"] == "websocket.accept":
                headers = [*message.get("headers", []), (REQUEST_ID_HEADER.encode(), request_id.encode())]
                message = {**message, "headers": headers}
            await send(message)

        try:
            if self.tracer is None:
                await self.app(scope, receive, send_with_id)
            else:
                await self._traced(scope, receive, send_with_id, request_id)
        finally:
            REQUEST_ID.reset(id_token)
            RECORD.reset(record_token)

    async def _traced(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        assert self.tracer is not None
        method = scope.get("method", "GET") if scope["type"] == "http" else "WEBSOCKET"
        attributes = {"http.request.method": method, "url.path": scope["path"], "ordergraph.request_id": request_id}
        # A caller's W3C `traceparent` (and `tracestate`) makes this request a child of the caller's span.
        carrier = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        parent = TRACE_CONTEXT.extract(carrier)
        with self.tracer.start_as_current_span(
            f"{method} {scope['path']}", context=parent, kind=SpanKind.SERVER, attributes=attributes
        ) as span:

            async def send_status(message: Message) -> None:
                if message["type"] == "http.response.start":
                    span.set_attribute("http.response.status_code", message["status"])
                await send(message)

            await self.app(scope, receive, send_status)


def sql_statement_finished(seconds: float) -> None:
    """metrics.watch_sql's hook: the statement counts towards the request it ran for, if any."""
    record = RECORD.get()
    if record is not None:
        record.sql_statements += 1
        record.sql_seconds += seconds


def record_http_request(code: str | None) -> None:
    """Once a GraphQL request over HTTP has its answer: its metrics."""
    record = RECORD.get()
    if record is None:
        return
    operation = metrics.operation_label(record.operation)
    outcome = code or "OK"
    metrics.REQUESTS.labels(operation, record.role, outcome).inc()
    metrics.REQUEST_SECONDS.labels(operation).observe(time.perf_counter() - record.started)
    metrics.REQUEST_SQL_STATEMENTS.observe(record.sql_statements)
    metrics.REQUEST_SQL_SECONDS.observe(record.sql_seconds)
    if outcome == "THROTTLED":
        metrics.RATE_LIMIT_REFUSALS.labels(record.role).inc()
    elif outcome == "SERVICE_UNAVAILABLE":
        metrics.UNAVAILABLE.inc()


class ObservedOperation(SchemaExtension):
    """First of the extensions: names the operation and its caller's role in the record, whatever refuses it."""

    def on_operation(self) -> Iterator[None]:
        execution = self.execution_context
        record = RECORD.get()
        viewer = getattr(execution.context, "viewer", None)
        if record is not None:
            record.role = viewer.role.value if viewer is not None and viewer.role is not None else "anonymous"
        try:
            yield
        finally:
            if record is not None:
                record.operation = execution.operation_name  # the document's own, if the client sent none


class ObservedExecution(SchemaExtension):
    """Last of the extensions: the result cache (before it) has set the result when this one's on_execute begins
    if it served the request."""

    async def on_execute(self) -> AsyncIterator[None]:
        if self.execution_context.result is not None:
            metrics.RESULT_CACHE_HITS.inc()
        yield
