"""The Starlette application: GraphQL (and GraphiQL) at /graphql, health at /healthz."""

import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

import redis.asyncio as aioredis
from broadcaster import Broadcast
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from loaders import Loaders
from models.columns import utcnow
from resolvers.context import RequestContext
from resolvers.ports import load_ports
from schema import schema
from server.auth import viewer_from_authorization
from server.database import Database
from server.migrate import upgrade
from server.settings import Settings

logger = logging.getLogger("ordergraph")


class Services:
    """What the app holds for its lifetime: databases and the broadcast connection."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        options = {"busy_timeout_ms": settings.sqlite_busy_timeout_ms, "pool_size": settings.database_pool_size}
        self.db = Database(settings.database_url, **options)
        self.read_db = Database(settings.read_database_url, **options) if settings.read_database_url else self.db
        self.broadcast = Broadcast(settings.broadcast_url)
        self.ports = load_ports(tax=settings.tax_calculator, payments=settings.payment_gateway,
                                fraud=settings.fraud_screen, carriers=settings.carriers)
        self.clock = utcnow  # tests set another to place orders at a chosen time of day

    async def start(self) -> None:
        if self.db.dialect == "sqlite":
            await upgrade(self.db)  # the embedded default migrates itself
        await self.broadcast.connect()

    async def stop(self) -> None:
        await self.broadcast.disconnect()
        await self.db.dispose()
        if self.read_db is not self.db:
            await self.read_db.dispose()


class GraphQLApp(GraphQL):
    def __init__(self, services: Services) -> None:
        settings = services.settings
        super().__init__(schema, graphql_ide="graphiql" if settings.graphiql else None)
        self.services = services

    async def get_context(self, request: Request | WebSocket, response: Response | None = None) -> RequestContext:
        settings = self.services.settings
        viewer = viewer_from_authorization(request.headers.get("authorization"), settings.jwt_secret)
        # Analysts' reads may go to a replica.
        db = self.services.read_db if viewer.is_staff and not viewer.is_agent else self.services.db
        return RequestContext(
            viewer=viewer, loaders=Loaders(db.read), read=db.read, write=self.services.db.write,
            ports=self.services.ports, clock=self.services.clock, max_page_size=settings.max_page_size,
            return_window=timedelta(days=settings.return_window_days),
            return_auto_approve_max_minor=settings.return_auto_approve_max_minor,
        )


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
        routes=[Route("/graphql", graphql, methods=["GET", "POST"]), Route("/healthz", healthz)],
        lifespan=lifespan,
    )
    app.state.services = services
    return app
