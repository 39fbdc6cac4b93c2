"""Metrics in the Prometheus text format at /metrics (prometheus-client).

One process: the default registry. Several uvicorn workers (`ordergraph serve --workers N`): each worker writes its
values to files in PROMETHEUS_MULTIPROC_DIR (the CLI makes one when it is not set) and a scrape, whichever worker
answers it, sums every worker's files. That variable must be set before prometheus_client is first imported, so
this module is imported by the app, never by the CLI's parent process. Gauges of live things (WebSockets,
subscriptions) are `livesum`: a worker that exits cleanly removes its files (`worker_exited`); one killed outright
leaves its last values until the directory is cleared, which the CLI does when it starts.

Label values are bounded: an operation name is the client's choice, so only well-formed names are kept, up to
MAX_OPERATION_NAMES distinct ones per process; the rest are counted as "other".

Access (`metrics_token`, `metrics_allowed_networks`): a caller with the bearer token, or from an allowed network
(loopback only by default); anyone else gets 403 and no hint of what is measured.
"""

import hmac
import ipaddress
import os
import re
import time
from collections.abc import Callable, Iterable

import sqlalchemy as sa
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ordergraph.models.database import Database
from ordergraph.models.enums import NotificationStatus, WebhookDeliveryStatus
from ordergraph.models.event import Notification
from ordergraph.models.webhook import WebhookDelivery
from ordergraph.server.settings import Settings

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
MAX_OPERATION_NAMES = 200
OPERATION_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
STATEMENT_BUCKETS = (0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89)

REQUESTS = Counter(
    "ordergraph_graphql_requests",
    "GraphQL requests over HTTP by operation name, caller role and outcome (the first error's code, or OK).",
    ["operation", "role", "code"],
)
REQUEST_SECONDS = Histogram(
    "ordergraph_graphql_request_seconds",
    "GraphQL request latency over HTTP by operation.",
    ["operation"],
    buckets=LATENCY_BUCKETS,
)
REQUEST_SQL_STATEMENTS = Histogram(
    "ordergraph_request_sql_statements", "SQL statements one GraphQL request sent.", buckets=STATEMENT_BUCKETS
)
REQUEST_SQL_SECONDS = Histogram(
    "ordergraph_request_sql_seconds", "Time one GraphQL request spent in SQL statements.", buckets=LATENCY_BUCKETS
)
SQL_STATEMENTS = Counter("ordergraph_sql_statements", "SQL statements sent on the request engines.")
RESULT_CACHE_HITS = Counter("ordergraph_result_cache_hits", "Customer queries answered from the result cache.")
RATE_LIMIT_REFUSALS = Counter("ordergraph_rate_limit_refusals", "Requests refused THROTTLED, by role.", ["role"])
UNAVAILABLE = Counter(
    "ordergraph_service_unavailable", "Requests answered SERVICE_UNAVAILABLE (database or Redis unreachable)."
)
WEBSOCKETS_OPEN = Gauge("ordergraph_websockets_open", "WebSockets open.", multiprocess_mode="livesum")
SUBSCRIPTIONS_LIVE = Gauge("ordergraph_subscriptions_live", "Live subscriptions.", multiprocess_mode="livesum")
EVENTS_RELAYED = Counter("ordergraph_relay_events_published", "Order events the outbox relay published.")
RELAY_LAG = Gauge(
    "ordergraph_relay_lag_events",
    "Newest committed event sequence minus the newest published one, as the relay last read them.",
    multiprocess_mode="livemax",
)
NOTIFICATION_ATTEMPTS = Counter("ordergraph_notification_attempts", "Attempts at sending a customer notification.")
NOTIFICATION_FAILURES = Counter(
    "ordergraph_notification_failures", "Failed attempts at sending a customer notification."
)
# Queue depths are counted in the database when scraped (whichever worker answers sees every process's queue).
NOTIFICATIONS_PENDING = Gauge(
    "ordergraph_notifications_pending",
    "Customer notifications queued and not yet sent, skipped or finally failed, as of the last scrape.",
    multiprocess_mode="livemostrecent",
)
WEBHOOK_DELIVERIES_QUEUED = Counter("ordergraph_webhook_deliveries_queued", "Webhook deliveries queued.")
WEBHOOK_ATTEMPTS = Counter("ordergraph_webhook_attempts", "Attempts at sending a webhook delivery.")
WEBHOOK_FAILURES = Counter(
    "ordergraph_webhook_failures", "Failed attempts at sending a webhook delivery (any non-2xx answer or none)."
)
WEBHOOK_DELIVERIES_PENDING = Gauge(
    "ordergraph_webhook_deliveries_pending",
    "Webhook deliveries queued and not yet delivered or finally failed, as of the last scrape.",
    multiprocess_mode="livemostrecent",
)
LOADER_BATCH_SIZE = Histogram(
    "ordergraph_loader_batch_size",
    "Keys one data loader batch loaded in one statement, by the model it loads.",
    ["loader"],
    buckets=STATEMENT_BUCKETS,
)
HUB_GAPS_BACK_FILLED = Counter(
    "ordergraph_hub_gaps_back_filled",
    "Times the event hub read missed events back from the database (a sequence skipped, or Redis reconnected).",
)
HUB_EVENTS_BACK_FILLED = Counter(
    "ordergraph_hub_events_back_filled", "Events the event hub passed on from the database after a gap."
)

_operation_names: set[str] = set()


def operation_label(name: object) -> str:
    """A bounded label for a client-chosen operation name (whatever JSON the client sent as one)."""
    if name is None or name == "":
        return "anonymous"
    if not isinstance(name, str):
        return "other"
    if name in _operation_names:
        return name
    if OPERATION_NAME.fullmatch(name) and len(_operation_names) < MAX_OPERATION_NAMES:
        _operation_names.add(name)
        return name
    return "other"


def relay_published(count: int, lag: int) -> None:
    """The outbox relay's observer (subscriptions.relay.OutboxRelay.observe)."""
    if count:
        EVENTS_RELAYED.inc(count)
    RELAY_LAG.set(lag)


def loader_batch(loader: str, size: int) -> None:
    """loaders.base's observer (loaders.base.observe_batch)."""
    LOADER_BATCH_SIZE.labels(loader).observe(size)


def hub_back_filled(events: int) -> None:
    """The event hub's observer (subscriptions.hub.Hub.observe_back_fill)."""
    HUB_GAPS_BACK_FILLED.inc()
    HUB_EVENTS_BACK_FILLED.inc(events)


async def refresh_queue_depths(db: Database) -> None:
    """The notifier's and the webhooks' pending depths, counted now; the last values stay if the database is
    away (a scrape still answers)."""
    notifications = (
        select(sa.func.count()).select_from(Notification).where(col(Notification.status) == NotificationStatus.PENDING)
    )
    deliveries = (
        select(sa.func.count())
        .select_from(WebhookDelivery)
        .where(col(WebhookDelivery.status) == WebhookDeliveryStatus.PENDING)
    )
    try:
        async with db.read() as session:
            NOTIFICATIONS_PENDING.set((await session.exec(notifications)).one())
            WEBHOOK_DELIVERIES_PENDING.set((await session.exec(deliveries)).one())
    except Exception:  # noqa: BLE001  (the database away: /readyz says so; the scrape answers with the last values)
        pass


def watch_sql(engines: Iterable[AsyncEngine], on_statement: Callable[[float], None]) -> None:
    """Counts every statement on these engines, and reports each one's duration to `on_statement`."""
    for engine in {id(e): e for e in engines}.values():
        sync = engine.sync_engine
        if event.contains(sync, "before_cursor_execute", _started):
            continue

        def finished(conn: Connection, *_: object) -> None:
            started = conn.info.pop("ordergraph_statement_started", None)
            SQL_STATEMENTS.inc()
            if started is not None:
                on_statement(time.perf_counter() - started)

        event.listen(sync, "before_cursor_execute", _started)
        event.listen(sync, "after_cursor_execute", finished)


def _started(conn: Connection, *_: object) -> None:
    conn.info["ordergraph_statement_started"] = time.perf_counter()


def worker_exited() -> None:
    """A worker leaving cleanly takes its live gauges with it."""
    if MULTIPROCESS:
        multiprocess.mark_process_dead(os.getpid())


class MetricsAccess:
    """Who may scrape: the bearer token's holder, or a caller from an allowed network."""

    def __init__(self, settings: Settings) -> None:
        self.token = settings.metrics_token
        self.networks = [
            ipaddress.ip_network(n.strip(), strict=False)
            for n in settings.metrics_allowed_networks.split(",")
            if n.strip()
        ]

    def allows(self, request: Request) -> bool:
        authorization = request.headers.get("authorization", "")
        if self.token and authorization.startswith("Bearer "):
            return hmac.compare_digest(authorization.removeprefix("Bearer ").encode(), self.token.encode())
        host = request.client.host if request.client else None
        try:
            address = ipaddress.ip_address(host or "")
        except ValueError:
            return False
        return any(address in network for network in self.networks)


def exposition() -> bytes:
    if not MULTIPROCESS:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return generate_latest(registry)


async def metrics_endpoint(request: Request) -> Response:
    access: MetricsAccess = request.app.state.metrics_access
    if not request.app.state.services.settings.metrics_enabled:
        return JSONResponse({"error": "NOT_FOUND"}, status_code=404)
    if not access.allows(request):
        return JSONResponse({"error": "FORBIDDEN"}, status_code=403)
    await refresh_queue_depths(request.app.state.services.db)
    return Response(exposition(), media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})
