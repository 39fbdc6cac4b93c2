"""The Starlette application: GraphQL (and GraphiQL) at /graphql, subscriptions over graphql-transport-ws on the
same path, health at /healthz, carrier tracking webhooks at /webhooks/carriers/{carrier}."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from functools import partial

import redis.asyncio as aioredis
from cross_web import HTTPException  # what Strawberry's HTTP layer raises
from graphql import GraphQLError, GraphQLSyntaxError
from opentelemetry.sdk.trace import TracerProvider
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    _OperationStreamClosed as OperationStreamClosed,  # raised when an operation closed the socket
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import CompleteMessage, SubscribeMessage
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType
from strawberry.utils.aio import aclosing

from ordergraph.loaders import Loaders
from ordergraph.loaders import base as loaders_base
from ordergraph.models.columns import utcnow
from ordergraph.models.database import Database
from ordergraph.models.invoice import DocumentKind
from ordergraph.models.migrate import upgrade
from ordergraph.resolvers import accounting
from ordergraph.resolvers.access import ANONYMOUS
from ordergraph.resolvers.context import RequestContext
from ordergraph.resolvers.events import has_numbered_events
from ordergraph.resolvers.invoice_documents import document_pdf
from ordergraph.resolvers.ports import load_ports
from ordergraph.resolvers.return_labels import return_label
from ordergraph.resolvers.signed_documents import signed_document
from ordergraph.resolvers.signed_links import LinkSettings
from ordergraph.resolvers.webhooks import TargetRules, WebhookContext
from ordergraph.schema.build import build_schema
from ordergraph.schema.compiled import fast_path
from ordergraph.schema.limits import QueryLimits, RequestGuard
from ordergraph.schema.trusted_documents import TrustedDocuments
from ordergraph.server import metrics
from ordergraph.server.approvals import ApprovalSweep
from ordergraph.server.auth import viewer_from_authorization
from ordergraph.server.bulk_exports import bulk_export_worker_for
from ordergraph.server.bulk_exports import dispose as dispose_bulk_exports
from ordergraph.server.carrier_webhooks import carrier_webhook
from ordergraph.server.gc_tuning import Collector, tune_garbage_collector
from ordergraph.server.graphql_http import Exchange
from ordergraph.server.logs import configure_logging
from ordergraph.server.notifier import notifier_for
from ordergraph.server.observability import (
    ObservedExecution,
    ObservedOperation,
    RequestIds,
    record_http_request,
    sql_statement_finished,
)
from ordergraph.server.persisted_queries import MemoryPersistedQueries, RedisPersistedQueries
from ordergraph.server.rate_limit import MemoryCostLimiter, RedisCostLimiter
from ordergraph.server.readiness import healthz, readyz, require_migrated
from ordergraph.server.request_body import RequestBodyLimits
from ordergraph.server.settings import Settings
from ordergraph.server.tracing import (
    TracedOperation,
    current_span_context,
    trace_mutations,
    trace_redis,
    trace_sql,
    tracer_provider_for,
)
from ordergraph.server.webhooks import base_context, webhook_worker_for
from ordergraph.subscriptions.context import LiveContext, current_delivery
from ordergraph.subscriptions.hub import Hub
from ordergraph.subscriptions.redis_backend import broadcast_for, publishers
from ordergraph.subscriptions.relay import OutboxRelay
from ordergraph.subscriptions.wire import encode_json, next_prefix, order_events_channel

logger = logging.getLogger("ordergraph")

GC_THAW_SECONDS = 3600.0  # how long cyclic garbage among long-lived objects may wait (server/gc_tuning.py)


class Services:
    """What the app holds for its lifetime: databases, the broadcast connection, the outbox relay, the hub that
    fans events out to this process's subscribers, and the notifier that emails and texts customers."""

    def __init__(self, settings: Settings, tracer_provider: TracerProvider | None = None) -> None:
        self.settings = settings
        # The requests' reads wait for a pooled connection rather than open one (models/database.py).
        options = {
            "busy_timeout_ms": settings.sqlite_busy_timeout_ms,
            "pool_size": settings.database_pool_size,
            "read_overflow": 0,
        }
        self.db = Database(settings.database_url, **options)
        self.read_db = Database(settings.read_database_url, **options) if settings.read_database_url else self.db
        self.broadcast = broadcast_for(settings.broadcast_url)
        # The relay polls on a small engine of its own: its polls never wait behind requests for a connection,
        # nor run on the requests' engine.
        self.relay_db = Database(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms, pool_size=1)
        channel = order_events_channel(settings.redis_prefix)
        self.relay = OutboxRelay(
            self.relay_db, self.broadcast, channel=channel, poll_seconds=settings.relay_poll_seconds
        )
        self.relay.observe = metrics.relay_published
        loaders_base.observe_batch = metrics.loader_batch
        if settings.metrics_enabled:
            metrics.watch_sql({*self.db.engines, *self.read_db.engines}, sql_statement_finished)
        # Traces (server/tracing.py): only with a provider, from `otlp_endpoint` or a test's.
        self.tracer_provider = tracer_provider or tracer_provider_for(settings)
        self.tracer = self.tracer_provider.get_tracer("ordergraph") if self.tracer_provider else None
        if self.tracer is not None:
            trace_sql({*self.db.engines, *self.read_db.engines}, self.tracer)
            self.relay.tracer = self.tracer
        self.draining = False  # /readyz says so from the moment shutdown begins
        self.hub = Hub(self.db, self.broadcast, channel=channel, queue_size=settings.subscriber_queue_size)
        # Full garbage collections would stop the process for seconds under many subscriptions (server/gc_tuning.py).
        self.collector = Collector(thaw_seconds=GC_THAW_SECONDS) if settings.gc_freeze else None
        self.hub.observe_back_fill = metrics.hub_back_filled
        # The notifier too: its sends never hold a request's connection.
        self.notifier_db = Database(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms, pool_size=1)
        self.notifier = notifier_for(settings, self.notifier_db)
        # Outbound webhooks (server/webhooks.py), on an engine of their own too.
        self.webhooks_db = Database(
            settings.database_url,
            busy_timeout_ms=settings.sqlite_busy_timeout_ms,
            pool_size=max(2, settings.webhook_concurrency // 2),
        )
        self.webhook_targets = TargetRules.parse(settings.webhook_allowed_networks)
        # Cost buckets are shared by every process through Redis in production, kept in memory embedded.
        # A pool that waits for a free connection: a full one must not read as "Redis away" and stop rate limiting.
        self.redis = (
            aioredis.Redis(
                connection_pool=aioredis.BlockingConnectionPool.from_url(
                    settings.broadcast_url, max_connections=100, timeout=5
                )
            )
            if settings.broadcast_url.startswith(("redis://", "rediss://"))
            else None
        )
        # Automatic persisted queries likewise, in Redis or in memory; none at all when only the manifest's
        # documents may run.
        persisted_queries = (
            None
            if settings.trusted_documents_only
            else RedisPersistedQueries(self.redis, redis_prefix=settings.redis_prefix)
            if self.redis
            else MemoryPersistedQueries()
        )
        self.guard = RequestGuard(
            limits=QueryLimits(),
            trusted_documents=TrustedDocuments.load(required=settings.trusted_documents_only),
            cost_limiter=(
                RedisCostLimiter(self.redis, redis_prefix=settings.redis_prefix) if self.redis else MemoryCostLimiter()
            ),
            persisted_queries=persisted_queries,
        )
        if self.tracer_provider is not None:
            trace_redis([*([self.redis] if self.redis else []), *publishers(self.broadcast)], self.tracer_provider)
        self.ports = load_ports(
            tax=settings.tax_calculator,
            payments=settings.payment_gateway,
            fraud=settings.fraud_screen,
            carriers=settings.carriers,
        )
        self.clock = utcnow  # tests set another to place orders at a chosen time of day
        self.approvals = ApprovalSweep(
            self.write, self.ports.payments, lambda: self.clock(), every_seconds=settings.approval_sweep_seconds
        )
        # Bulk exports (#20, server/bulk_exports.py), on engines of their own; their download links are signed.
        self.bulk_exports = bulk_export_worker_for(settings, self.broadcast, channel=channel)
        self.export_links = LinkSettings(
            settings.public_url, settings.jwt_secret, timedelta(minutes=settings.bulk_export_link_minutes)
        )
        self.webhooks = webhook_worker_for(
            settings,
            self.webhooks_db,
            base_context(
                settings,
                self.webhooks_db,
                write=self.write,
                ports=self.ports,
                clock=lambda: self.clock(),
                return_window=timedelta(days=settings.return_window_days),
                return_auto_approve_max_minor=settings.return_auto_approve_max_minor,
            ),
        )

    async def start(self) -> None:
        if self.db.dialect == "sqlite":
            await upgrade(self.db)  # the embedded default migrates itself
        else:
            await require_migrated(self.db)  # refuses to serve a database behind the code (server/readiness.py)
        await self.broadcast.connect()
        await self.hub.start()
        await self.notifier.prepare()  # before the relay moves its watermark, which the notifier's first one copies
        await self.webhooks.prepare()  # likewise
        self.relay.start()
        self.notifier.start()
        self.webhooks.start()
        self.approvals.start()
        self.bulk_exports.start()
        if self.collector is not None:
            self.collector.start()

    async def stop(self) -> None:
        self.draining = True
        if self.collector is not None:
            await self.collector.stop()
        await self.approvals.stop()
        await self.bulk_exports.stop()
        await self.webhooks.stop()
        await self.notifier.stop()
        # What this process committed is published before it goes (for at most the grace period).
        await self.relay.stop(flush_seconds=self.settings.shutdown_grace_seconds)
        await self.hub.stop()
        await self.broadcast.disconnect()
        if self.redis is not None:
            await self.redis.aclose()
        await self.relay_db.dispose()
        await self.notifier_db.dispose()
        await self.webhooks_db.dispose()
        await dispose_bulk_exports(self.bulk_exports)
        await self.db.dispose()
        if self.read_db is not self.db:
            await self.read_db.dispose()
        if self.tracer_provider is not None:
            self.tracer_provider.shutdown()  # exports the spans still batched

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """The primary's write transaction; once it has committed events, the relay publishes them at once."""
        async with self.db.write() as session:
            yield session
        if has_numbered_events(session):
            self.relay.wake(current_span_context() if self.tracer is not None else None)
            self.webhooks.wake()


class LiveOperation(Operation[RequestContext, None]):
    """An operation on the socket with its subscribe message's `extensions`. Its `next` messages for an event's
    result are the event's shared encoding (subscriptions.hub.Delivery.payload) behind this operation's id: one
    json.dumps per shared execution, not one per subscriber."""

    __slots__ = ["extensions", "next_prefix"]

    def __init__(
        self,
        handler: BaseGraphQLTransportWSHandler[RequestContext, None],
        id: str,
        query: str,
        variables: dict[str, object] | None,
        operation_name: str | None,
        extensions: dict[str, object] | None,
    ) -> None:
        super().__init__(handler, id, query, variables, operation_name)
        self.extensions = extensions
        self.next_prefix = next_prefix(id)

    async def send_next(self, execution_result: ExecutionResult) -> None:
        delivery = current_delivery.get()
        if delivery is None or execution_result.errors or self.completed:
            await super().send_next(execution_result)
            return
        payload = delivery.payload(execution_result.data, execution_result.extensions)
        socket = self.handler.websocket
        assert isinstance(socket, ASGIWebSocketAdapter)
        try:
            await socket.ws.send_text(self.next_prefix + payload + "}")
        except WebSocketDisconnect as closed:
            raise WebSocketDisconnected from closed  # as Strawberry's send_json says it


class LiveSocket(BaseGraphQLTransportWSHandler[RequestContext, None]):
    """graphql-transport-ws as Strawberry speaks it, but a subscribe message's `extensions` reach the schema as a
    request's do over HTTP: a persisted query's hash works with its text or without (Strawberry read
    payload["query"], and dropped the extensions). A refusal before anything runs is the operation's `error`
    message with its code (schema/build.py:Schema.stream), a syntax error too: it no longer closes the socket
    and every other subscription on it."""

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        payload = message.get("payload")
        query = payload.get("query") if isinstance(payload, dict) else None
        extensions = payload.get("extensions") if isinstance(payload, dict) else None
        variables = payload.get("variables") if isinstance(payload, dict) else None
        operation_name = payload.get("operationName") if isinstance(payload, dict) else None
        if (
            not isinstance(payload, dict)
            or not isinstance(query, str | None)
            or not isinstance(extensions, dict | None)
            or not isinstance(variables, dict | None)
            or not isinstance(operation_name, str | None)
        ):
            await self.handle_invalid_message("Failed to parse message")
            return
        # Strawberry's checks, in its order.
        if not self.connection_acknowledged:
            await self.websocket.close(code=4401, reason="Unauthorized")
            return
        if message["id"] in self.operations:
            await self.websocket.close(code=4409, reason=f"Subscriber for {message['id']} already exists")
            return
        if (
            self.max_subscriptions_per_connection is not None
            and len(self.operations) >= self.max_subscriptions_per_connection
        ):
            refusal = GraphQLError("Subscription limit reached", extensions={"code": "TOO_MANY_SUBSCRIPTIONS"})
            await self.send_message({"id": message["id"], "type": "error", "payload": [refusal.formatted]})
            return
        if not query and not isinstance((extensions or {}).get("persistedQuery"), dict):
            refusal = GraphQLError("No GraphQL query found in the request", extensions={"code": "BAD_REQUEST"})
            await self.send_message({"id": message["id"], "type": "error", "payload": [refusal.formatted]})
            return
        operation = LiveOperation(self, message["id"], query or "", variables, operation_name, extensions)
        operation.task = asyncio.create_task(self.run_operation(operation))
        operation.task.add_done_callback(self._task_done)
        self.operations[message["id"]] = operation

    async def run_operation(self, operation: Operation[RequestContext, None]) -> None:
        """Strawberry's, with the operation's extensions passed to the schema."""
        metrics.SUBSCRIPTIONS_LIVE.inc()
        try:
            results = await self.schema.stream(
                operation.query,
                variable_values=operation.variables,
                context_value=self.context,
                root_value=self.root_value,
                operation_name=operation.operation_name,
                operation_extensions=operation.extensions if isinstance(operation, LiveOperation) else None,
            )
            async with aclosing(results):
                await self._send_result_stream(operation, results)
            await operation.send_operation_message(CompleteMessage(id=operation.id, type="complete"))
        except OperationStreamClosed:
            return
        except Exception as error:
            await self.handle_task_exception(error)
            with contextlib.suppress(Exception):
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
            self.operations.pop(operation.id, None)
            raise
        finally:
            metrics.SUBSCRIPTIONS_LIVE.dec()

    @staticmethod
    def _get_pre_execution_close_reason(error: GraphQLError) -> str | None:
        # Strawberry closes the socket (4400) on a syntax error; here it is the operation's refusal, coded
        # GRAPHQL_PARSE_FAILED or TOO_MANY_TOKENS as over HTTP.
        if isinstance(error, GraphQLSyntaxError):
            return None
        return BaseGraphQLTransportWSHandler._get_pre_execution_close_reason(error)


class GraphQLApp(GraphQL):
    graphql_transport_ws_handler_class = LiveSocket

    def __init__(self, services: Services) -> None:
        settings = services.settings
        schema = build_schema(
            services.guard,
            introspection=settings.introspection,
            around=[
                *([partial(TracedOperation, services.tracer)] if services.tracer is not None else []),
                *([ObservedOperation] if settings.metrics_enabled else []),
            ],
            within=[
                *([ObservedExecution] if settings.metrics_enabled else []),
                *([fast_path()] if settings.fast_path else []),  # last: after the result cache and the metrics
            ],
        )
        if services.tracer is not None:
            trace_mutations(schema, services.tracer)
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.graphiql else None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            allowed_origins=settings.allowed_websocket_origins,
            max_subscriptions_per_connection=settings.max_subscriptions_per_connection,
        )
        self.services = services

    def encode_json(self, data: object) -> str:
        return encode_json(data)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """GraphQL over HTTP (server/graphql_http.py): each answer in the media type the Accept header asks for
        (application/graphql-response+json or application/json), with that type's status codes, and headers that
        let caches keep anonymous queries' answers only. Requests refused before any operation runs (not JSON, a
        batch, no query, a mutation over GET, an Accept it cannot satisfy) get a GraphQL error body with a code,
        like every other refusal, instead of Strawberry's plain text."""
        if scope["type"] == "websocket":
            metrics.WEBSOCKETS_OPEN.inc()
            try:
                return await super().__call__(scope, receive, send)
            finally:
                metrics.WEBSOCKETS_OPEN.dec()
        if scope["type"] != "http":
            return await super().__call__(scope, receive, send)
        request = Request(scope, receive=receive)
        exchange = Exchange(request)
        if exchange.media_type is None and not self.should_render_graphql_ide(self.request_adapter_class(request)):
            response = exchange.not_acceptable()
        else:
            try:
                response = await self.run(request)
            except HTTPException as refusal:
                response = exchange.refused(refusal)
            else:
                exchange.answered(response)
            if self.services.settings.metrics_enabled:
                record_http_request(exchange.outcome.code if exchange.outcome else None)
        exchange.set_caching(response)
        await response(scope, receive, send)

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        return Exchange.of(request).body(result, await super().process_result(request, result))

    async def get_context(self, request: Request | WebSocket, response: Response | None = None) -> RequestContext:
        settings = self.services.settings
        common = {
            "write": self.services.write,
            "ports": self.services.ports,
            "clock": self.services.clock,
            "return_window": timedelta(days=settings.return_window_days),
            "return_auto_approve_max_minor": settings.return_auto_approve_max_minor,
            "notification_outbox": settings.notification_outbox,
            "pickup_max_distance_km": settings.pickup_max_distance_km,
            "approval_reservation": timedelta(hours=settings.approval_reservation_hours),
            "client_address": request.client.host if request.client else None,
            "export_links": self.services.export_links,
        }
        if isinstance(request, WebSocket):
            # The caller is known once connection_init arrives (on_ws_connect); live reads use the primary,
            # which the relay has published from.
            db = self.services.db
            return LiveContext(
                viewer=ANONYMOUS,
                loaders=Loaders(db),
                read=db.read,
                hub=self.services.hub,
                max_page_size=settings.max_page_size,
                **common,
            )
        viewer = viewer_from_authorization(request.headers.get("authorization"), settings.jwt_secret)
        # Analysts' reads may go to a replica.
        analyst = viewer.is_staff and not viewer.is_agent
        db = self.services.read_db if analyst else self.services.db
        return WebhookContext(
            viewer=viewer,
            loaders=Loaders(db, batch=settings.loader_batching),
            read=db.read,
            max_page_size=settings.analyst_max_page_size if analyst else settings.max_page_size,
            webhook_targets=self.services.webhook_targets,
            **common,
        )

    async def on_ws_connect(self, context: LiveContext) -> UnsetType:
        """graphql-transport-ws: the token comes in the connection_init payload as {"authorization": "Bearer …"},
        the key in any case (GraphiQL sends its Headers tab, {"Authorization": …}); without a valid one the socket
        closes with 4403."""
        params = context.connection_params or {}
        authorization = next(
            (value for key, value in params.items() if isinstance(key, str) and key.casefold() == "authorization"),
            None,
        )
        viewer = viewer_from_authorization(
            authorization if isinstance(authorization, str) else None, self.services.settings.jwt_secret
        )
        if viewer.role is None:
            raise ConnectionRejectionError()
        context.viewer = viewer
        return UNSET


async def return_label_pdf(request: Request) -> Response:
    """`Return.labelUrl`: the printable label, with the same bearer token as the API. Analysts get 403 FORBIDDEN
    for every RMA number (labels print personal data: resolvers.access.may_download_documents); any other
    caller but the return's customer and agents gets 404, exactly as for an RMA number that does not exist."""
    from ordergraph.resolvers.errors import Forbidden

    graphql: GraphQLApp = request.app.state.graphql
    context = await graphql.get_context(request)
    if context.viewer.role is None:
        return JSONResponse({"error": "UNAUTHENTICATED"}, status_code=401)
    try:
        pdf = await return_label(context, request.path_params["rma_number"])
    except Forbidden as refused:
        return JSONResponse({"error": refused.code, "message": refused.message}, status_code=403)
    if pdf is None:
        return JSONResponse({"error": "NOT_FOUND"}, status_code=404)
    return Response(pdf, media_type="application/pdf", headers={"Cache-Control": "private, no-store"})


async def _document_pdf(request: Request, kind: DocumentKind) -> Response:
    """An invoice's or credit note's PDF, like a return label: the document's customer, agents and admins; 403
    for analysts whatever the number; 404 alike for an unknown number and another customer's document."""
    from ordergraph.resolvers.errors import Forbidden

    graphql: GraphQLApp = request.app.state.graphql
    context = await graphql.get_context(request)
    if context.viewer.role is None:
        return JSONResponse({"error": "UNAUTHENTICATED"}, status_code=401)
    try:
        pdf = await document_pdf(context, kind, request.path_params["number"])
    except Forbidden as refused:
        return JSONResponse({"error": refused.code, "message": refused.message}, status_code=403)
    if pdf is None:
        return JSONResponse({"error": "NOT_FOUND"}, status_code=404)
    return Response(pdf, media_type="application/pdf", headers={"Cache-Control": "private, no-store"})


async def invoice_pdf(request: Request) -> Response:
    """`Invoice.pdfUrl`."""
    return await _document_pdf(request, DocumentKind.INVOICE)


async def credit_note_pdf(request: Request) -> Response:
    """`CreditNote.pdfUrl`."""
    return await _document_pdf(request, DocumentKind.CREDIT_NOTE)


async def accounting_entries_csv(request: Request) -> Response:
    """The journal for `?from=YYYY-MM-DD&to=YYYY-MM-DD` (UTC days, both included) as CSV, one row per line, streamed:
    the same rows as `accountingEntries`, for admins, agents and analysts (no personal data in it)."""
    from ordergraph.resolvers.errors import ApiError, Forbidden

    graphql: GraphQLApp = request.app.state.graphql
    context = await graphql.get_context(request)
    if context.viewer.role is None:
        return JSONResponse({"error": "UNAUTHENTICATED"}, status_code=401)
    try:
        accounting.check_export(context)
        span = accounting.period(
            accounting.parse_day(request.query_params.get("from"), "from"),
            accounting.parse_day(request.query_params.get("to"), "to"),
        )
    except Forbidden as refused:
        return JSONResponse({"error": refused.code, "message": refused.message}, status_code=403)
    except ApiError as bad:
        return JSONResponse({"error": bad.code, "message": bad.message}, status_code=400)
    return StreamingResponse(
        accounting.entries_csv(context, span),
        media_type="text/csv; charset=utf-8",
        headers={"Cache-Control": "private, no-store", "Content-Disposition": 'attachment; filename="journal.csv"'},
    )


async def signed_document_pdf(request: Request) -> Response:
    """A document opened from a signed link in an email (resolvers.signed_links), without Authorization: 403
    INVALID_LINK for a link this server did not sign as it is, 410 LINK_EXPIRED after its expiry, 404 NOT_FOUND
    when the document is not available (any more)."""
    from ordergraph.resolvers.errors import Refusal

    services: Services = request.app.state.services
    try:
        name, pdf = await signed_document(
            services.read_db.read, request.path_params["token"], services.settings.jwt_secret, now=utcnow()
        )
    except Refusal as refused:
        status = {"INVALID_LINK": 403, "LINK_EXPIRED": 410}.get(refused.code, 404)
        return JSONResponse({"error": refused.code, "message": refused.message}, status_code=status)
    headers = {"Cache-Control": "private, no-store", "Content-Disposition": f'inline; filename="{name}"'}
    return Response(pdf, media_type="application/pdf", headers=headers)


async def bulk_export_file(request: Request) -> Response:
    """A bulk export's file from its signed download link (resolvers.bulk_exports.download_url), without
    Authorization, streamed from disk: 403 INVALID_LINK for a link this server did not sign as it is or signed for
    something else, 410 LINK_EXPIRED after its expiry, 404 NOT_FOUND when the file is not there (any more)."""
    from starlette.responses import FileResponse

    from ordergraph.resolvers import bulk_exports
    from ordergraph.resolvers.errors import Refusal

    services: Services = request.app.state.services
    try:
        job = await bulk_exports.download(
            services.read_db.read, request.path_params["token"], services.settings.jwt_secret, now=utcnow()
        )
    except Refusal as refused:
        status = {"INVALID_LINK": 403, "LINK_EXPIRED": 410}.get(refused.code, 404)
        return JSONResponse({"error": refused.code, "message": refused.message}, status_code=status)
    assert job.file_name is not None
    path = services.settings.bulk_export_dir / job.file_name
    if not path.is_file():
        return JSONResponse({"error": "NOT_FOUND", "message": "This export is not available."}, status_code=404)
    return FileResponse(
        path,
        media_type=bulk_exports.MEDIA_TYPES[job.format],
        filename=job.file_name,
        headers={"Cache-Control": "private, no-store"},
    )


def create_app(settings: Settings | None = None, *, tracer_provider: TracerProvider | None = None) -> Starlette:
    """The app; `tracer_provider` traces it (a test's in-memory exporter) whatever `otlp_endpoint` says."""
    settings = settings or Settings()
    configure_logging(settings.log_format)
    services = Services(settings, tracer_provider)
    if settings.uses_development_secret:
        logger.warning("ORDERGRAPH_JWT_SECRET is not set: using the development secret; never do this in production")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            await services.start()
        except Exception as error:
            logger.critical("ordergraph cannot serve: %s", error)
            raise
        # After imports, the schema and the services: what is alive now lives as long as the process.
        tune_garbage_collector(freeze=settings.gc_freeze, threshold=settings.gc_threshold)
        try:
            yield
        finally:
            await services.stop()
            metrics.worker_exited()

    graphql = GraphQLApp(services)
    app = Starlette(
        routes=[
            Route("/graphql", graphql),  # every method: GraphQLApp refuses the others with a coded 405
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics.metrics_endpoint),
            Route("/returns/{rma_number}/label.pdf", return_label_pdf),
            Route("/d/{token}", signed_document_pdf),
            Route("/exports/{token}", bulk_export_file),
            Route("/invoices/{number}.pdf", invoice_pdf),
            Route("/credit-notes/{number}.pdf", credit_note_pdf),
            Route("/accounting/entries.csv", accounting_entries_csv),
            Route("/webhooks/carriers/{carrier}", carrier_webhook, methods=["POST"]),
        ],
        # Bodies are measured as they are read, and JSON that would break the parser refused, before anything
        # parses them or looks at their token (server/request_body.py).
        # Every request gets its id first (server/observability.py), so even a refused body's answer carries it.
        middleware=[
            Middleware(RequestIds, tracer=services.tracer),
            Middleware(RequestBodyLimits, max_bytes=settings.max_body_bytes),
        ],
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.graphql = graphql
    app.state.metrics_access = metrics.MetricsAccess(settings)
    return app
