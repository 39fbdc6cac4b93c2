"""The Starlette application: GraphQL (and GraphiQL) at /graphql, subscriptions over graphql-transport-ws on the
same path, health at /healthz, carrier tracking webhooks at /webhooks/carriers/{carrier}."""

import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from http import HTTPStatus

import redis.asyncio as aioredis
from cross_web import HTTPException  # what Strawberry's HTTP layer raises
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UNSET, UnsetType

from ordergraph.loaders import Loaders
from ordergraph.models.columns import utcnow
from ordergraph.models.database import Database
from ordergraph.models.migrate import upgrade
from ordergraph.resolvers.access import ANONYMOUS
from ordergraph.resolvers.context import RequestContext
from ordergraph.resolvers.events import has_numbered_events
from ordergraph.resolvers.ports import load_ports
from ordergraph.resolvers.return_labels import return_label
from ordergraph.schema.build import build_schema
from ordergraph.schema.limits import QueryLimits, RequestGuard
from ordergraph.schema.trusted_documents import TrustedDocuments
from ordergraph.server.auth import viewer_from_authorization
from ordergraph.server.carrier_webhooks import carrier_webhook
from ordergraph.server.notifier import notifier_for
from ordergraph.server.rate_limit import MemoryCostLimiter, RedisCostLimiter
from ordergraph.server.settings import Settings
from ordergraph.subscriptions.context import LiveContext
from ordergraph.subscriptions.hub import Hub
from ordergraph.subscriptions.redis_backend import broadcast_for
from ordergraph.subscriptions.relay import OutboxRelay
from ordergraph.subscriptions.wire import order_events_channel

logger = logging.getLogger("ordergraph")


class Services:
    """What the app holds for its lifetime: databases, the broadcast connection, the outbox relay, the hub that
    fans events out to this process's subscribers, and the notifier that emails and texts customers."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        options = {"busy_timeout_ms": settings.sqlite_busy_timeout_ms, "pool_size": settings.database_pool_size}
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
        self.hub = Hub(self.db, self.broadcast, channel=channel, queue_size=settings.subscriber_queue_size)
        # The notifier too: its sends never hold a request's connection.
        self.notifier_db = Database(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms, pool_size=1)
        self.notifier = notifier_for(settings, self.notifier_db)
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
        self.guard = RequestGuard(
            limits=QueryLimits(),
            trusted_documents=TrustedDocuments.load(required=settings.trusted_documents_only),
            cost_limiter=(
                RedisCostLimiter(self.redis, redis_prefix=settings.redis_prefix) if self.redis else MemoryCostLimiter()
            ),
        )
        self.ports = load_ports(
            tax=settings.tax_calculator,
            payments=settings.payment_gateway,
            fraud=settings.fraud_screen,
            carriers=settings.carriers,
        )
        self.clock = utcnow  # tests set another to place orders at a chosen time of day

    async def start(self) -> None:
        if self.db.dialect == "sqlite":
            await upgrade(self.db)  # the embedded default migrates itself
        await self.broadcast.connect()
        await self.hub.start()
        await self.notifier.prepare()  # before the relay moves its watermark, which the notifier's first one copies
        self.relay.start()
        self.notifier.start()

    async def stop(self) -> None:
        await self.notifier.stop()
        await self.relay.stop()
        await self.hub.stop()
        await self.broadcast.disconnect()
        if self.redis is not None:
            await self.redis.aclose()
        await self.relay_db.dispose()
        await self.notifier_db.dispose()
        await self.db.dispose()
        if self.read_db is not self.db:
            await self.read_db.dispose()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """The primary's write transaction; once it has committed events, the relay publishes them at once."""
        async with self.db.write() as session:
            yield session
        if has_numbered_events(session):
            self.relay.wake()


HTTP_REFUSALS = {"Batching is not enabled": "BATCHING_NOT_SUPPORTED"}


class GraphQLApp(GraphQL):
    def __init__(self, services: Services) -> None:
        settings = services.settings
        super().__init__(
            build_schema(services.guard, introspection=settings.introspection),
            graphql_ide="graphiql" if settings.graphiql else None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            allowed_origins=settings.allowed_websocket_origins,
            max_subscriptions_per_connection=settings.max_subscriptions_per_connection,
        )
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Requests refused before any operation runs (not JSON, a batch, no query) get a GraphQL error body
        with a code, like every other refusal, instead of Strawberry's plain text."""
        if scope["type"] != "http":
            return await super().__call__(scope, receive, send)
        try:
            response = await self.run(Request(scope, receive=receive))
        except HTTPException as refusal:
            code = HTTP_REFUSALS.get(refusal.reason) or HTTPStatus(refusal.status_code).name
            response = JSONResponse(
                {"errors": [{"message": refusal.reason, "extensions": {"code": code}}]}, status_code=refusal.status_code
            )
        await response(scope, receive, send)

    async def get_context(self, request: Request | WebSocket, response: Response | None = None) -> RequestContext:
        settings = self.services.settings
        common = {
            "write": self.services.write,
            "ports": self.services.ports,
            "clock": self.services.clock,
            "return_window": timedelta(days=settings.return_window_days),
            "return_auto_approve_max_minor": settings.return_auto_approve_max_minor,
            "client_address": request.client.host if request.client else None,
        }
        if isinstance(request, WebSocket):
            # The caller is known once connection_init arrives (on_ws_connect); live reads use the primary,
            # which the relay has published from.
            db = self.services.db
            return LiveContext(
                viewer=ANONYMOUS,
                loaders=Loaders(db.read),
                read=db.read,
                hub=self.services.hub,
                max_page_size=settings.max_page_size,
                **common,
            )
        viewer = viewer_from_authorization(request.headers.get("authorization"), settings.jwt_secret)
        # Analysts' reads may go to a replica.
        analyst = viewer.is_staff and not viewer.is_agent
        db = self.services.read_db if analyst else self.services.db
        return RequestContext(
            viewer=viewer,
            loaders=Loaders(db.read, batch=settings.loader_batching),
            read=db.read,
            max_page_size=settings.analyst_max_page_size if analyst else settings.max_page_size,
            **common,
        )

    async def on_ws_connect(self, context: LiveContext) -> UnsetType:
        """graphql-transport-ws: the token comes in the connection_init payload as {"authorization": "Bearer …"};
        without a valid one the socket closes with 4403."""
        authorization = (context.connection_params or {}).get("authorization")
        viewer = viewer_from_authorization(
            authorization if isinstance(authorization, str) else None, self.services.settings.jwt_secret
        )
        if viewer.role is None:
            raise ConnectionRejectionError()
        context.viewer = viewer
        return UNSET


async def return_label_pdf(request: Request) -> Response:
    """`Return.labelUrl`: the printable label, with the same bearer token as the API. Anyone but the return's
    customer and staff gets 404, exactly as for an RMA number that does not exist."""
    graphql: GraphQLApp = request.app.state.graphql
    context = await graphql.get_context(request)
    if context.viewer.role is None:
        return JSONResponse({"error": "UNAUTHENTICATED"}, status_code=401)
    pdf = await return_label(context, request.path_params["rma_number"])
    if pdf is None:
        return JSONResponse({"error": "NOT_FOUND"}, status_code=404)
    return Response(pdf, media_type="application/pdf", headers={"Cache-Control": "private, no-store"})


async def healthz(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    checks = {}
    try:
        await services.db.ping()
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001  (health reports any failure)
        checks["database"] = f"error: {exc.__class__.__name__}"
    checks["broadcast"] = await _broadcast_health(services.settings.broadcast_url)
    healthy = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ok" if healthy else "degraded", **checks}, status_code=200 if healthy else 503)


async def _broadcast_health(url: str) -> str:
    if not url.startswith(("redis://", "rediss://")):
        return "ok"
    client = aioredis.from_url(url, socket_connect_timeout=2)
    try:
        await client.ping()
        return "ok"
    except Exception as exc:  # noqa: BLE001
        return f"error: {exc.__class__.__name__}"
    finally:
        await client.aclose()


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings()
    services = Services(settings)
    if settings.uses_development_secret:
        logger.warning("ORDERGRAPH_JWT_SECRET is not set: using the development secret; never do this in production")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await services.start()
        try:
            yield
        finally:
            await services.stop()

    graphql = GraphQLApp(services)
    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
            Route("/returns/{rma_number}/label.pdf", return_label_pdf),
            Route("/webhooks/carriers/{carrier}", carrier_webhook, methods=["POST"]),
        ],
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.graphql = graphql
    return app
