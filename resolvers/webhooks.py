"""Webhook subscriptions (#17): admins configure them, read their delivery logs and ask for redeliveries.
Delivering is server.webhooks'; computing a payload from a subscription's document is the schema's
(schema/webhooks.py), handed to `redeliver_events` as `render`.

Target URLs are guarded here, at creation, and by the sender before every request (DNS may change between the two:
rebinding): http or https only, and every address the host resolves to must be public, or in a network the
settings allow (`TargetRules`). Cloud metadata addresses are refused whatever the settings say.
"""

import asyncio
import ipaddress
import secrets
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ordergraph.models import OrderEvent
from ordergraph.models.columns import id_of, utcnow
from ordergraph.models.enums import EventType, WebhookDeliveryStatus, WebhookLogKind
from ordergraph.models.webhook import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookLogEntry,
    WebhookSubscription,
    WebhookWatermark,
)
from ordergraph.resolvers.access import Viewer, require_admin
from ordergraph.resolvers.context import RequestContext
from ordergraph.resolvers.errors import Refusal
from ordergraph.resolvers.pagination import Connection, Sort, page_size

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

MAX_URL_LENGTH = 2048
MAX_DOCUMENT_LENGTH = 20_000
MAX_EVENT_TYPES = 64
# Events one redeliverWebhookEvents call queues at most; the answer says where to go on from.
MAX_REDELIVERED_EVENTS = 1000
# Bounds of what a page shows (and of what a query may cost): subscriptions are few by nature; a delivery's
# attempts and a subscription's log list their newest entries.
MAX_SUBSCRIPTIONS = 100
MAX_LISTED_ATTEMPTS = 50
MAX_LISTED_LOG_ENTRIES = 50
SECRET_PREFIX = "whsec_"

# Instance metadata services: never a target, whatever networks the settings allow.
METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200", "192.0.0.192")
)

DELIVERY_LOG = Sort("webhookDeliveries", ("id",), descending=True)


@dataclass(frozen=True, slots=True)
class TargetRules:
    """Which non-public networks targets may resolve into (ORDERGRAPH_WEBHOOK_ALLOWED_NETWORKS)."""

    allowed_networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, text: str) -> "TargetRules":
        return cls(tuple(ipaddress.ip_network(n.strip(), strict=False) for n in text.split(",") if n.strip()))

    def refusal(self, address: IPAddress) -> str | None:
        """Why requests may not go to this address, or None when they may."""
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if address in METADATA_ADDRESSES:
            return "a cloud metadata address"
        if any(address in network for network in self.allowed_networks):
            return None
        for kind, flagged in (
            ("a loopback address", address.is_loopback),
            ("a link-local address", address.is_link_local),
            ("a multicast address", address.is_multicast),
            ("an unspecified address", address.is_unspecified),
            ("a reserved address", address.is_reserved),
            ("a private address", address.is_private or not address.is_global),
        ):
            if flagged:
                return kind
        return None


STRICT = TargetRules()


@dataclass(slots=True)
class WebhookContext(RequestContext):
    """A request's context where webhooks may be configured: with the networks the settings allow targets in
    (server/app.py makes every HTTP request's context one). Elsewhere targets are held to STRICT."""

    webhook_targets: TargetRules = field(default=STRICT, kw_only=True)


def target_rules(ctx: RequestContext) -> TargetRules:
    return ctx.webhook_targets if isinstance(ctx, WebhookContext) else STRICT


@dataclass(frozen=True, slots=True)
class Target:
    """A target URL checked: its parts, and the addresses its host resolved to, every one of them allowed."""

    scheme: str
    host: str
    port: int
    addresses: tuple[IPAddress, ...]


def target_parts(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an http or https URL with a host and no credentials; INVALID_URL otherwise."""
    refused = Refusal("INVALID_URL", "Give an http or https URL with a host name or address.", ["url"])
    if len(url) > MAX_URL_LENGTH or not url.isascii() or any(c.isspace() for c in url):
        raise refused
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise refused from None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        raise refused
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


async def resolve_target(url: str, rules: TargetRules) -> Target:
    """Resolves the URL's host and checks every address: TARGET_UNRESOLVABLE when it has none, TARGET_NOT_ALLOWED
    when any one is refused (a name resolving to a public and a private address is refused)."""
    scheme, host, port = target_parts(url)
    try:
        literal: IPAddress | None = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    if literal is not None:
        addresses: tuple[IPAddress, ...] = (literal,)
    else:
        try:
            found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            raise Refusal("TARGET_UNRESOLVABLE", f"The host {host!r} does not resolve.", ["url"]) from None
        addresses = tuple(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in found))
        if not addresses:
            raise Refusal("TARGET_UNRESOLVABLE", f"The host {host!r} does not resolve.", ["url"])
    for address in addresses:
        reason = rules.refusal(address)
        if reason is not None:
            raise Refusal(
                "TARGET_NOT_ALLOWED",
                f"The URL's host resolves to {address}, {reason}: webhooks go to public hosts only.",
                ["url"],
            )
    return Target(scheme, host, port, addresses)


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _event_types(types: Sequence[str]) -> list[str]:
    known = {t.value for t in EventType}
    if not types:
        raise Refusal("EVENT_TYPES_REQUIRED", "Name at least one event type.", ["eventTypes"])
    if len(types) > MAX_EVENT_TYPES:
        raise Refusal("TOO_MANY_EVENT_TYPES", f"Name at most {MAX_EVENT_TYPES} event types.", ["eventTypes"])
    for index, name in enumerate(types):
        if name not in known:
            raise Refusal("UNKNOWN_EVENT_TYPE", f"There is no event type {name!r}.", ["eventTypes", str(index)])
    return list(dict.fromkeys(types))


def _actor(viewer: Viewer) -> str | None:
    return viewer.subject or viewer.name


async def create_subscription(
    ctx: RequestContext, *, url: str, event_types: Sequence[str], document: str, masked: bool
) -> tuple[WebhookSubscription, str]:
    """A new active subscription and its secret (shown this once). It receives the events committed after it; the
    document has been checked against the schema by the caller."""
    viewer = require_admin(ctx.viewer, "configure webhooks")
    types = _event_types(event_types)
    await resolve_target(url, target_rules(ctx))
    secret = new_secret()
    async with ctx.write() as session:
        existing = (await session.exec(select(sa.func.count()).select_from(WebhookSubscription))).one()
        if existing >= MAX_SUBSCRIPTIONS:
            raise Refusal("TOO_MANY_SUBSCRIPTIONS", f"At most {MAX_SUBSCRIPTIONS} webhook subscriptions may exist.")
        newest: int = (await session.exec(select(sa.func.coalesce(sa.func.max(OrderEvent.sequence), 0)))).one() or 0
        subscription = WebhookSubscription(
            url=url,
            event_types=types,
            document=document,
            masked=masked,
            secret=secret,
            start_sequence=newest,
            created_by=_actor(viewer),
        )
        session.add(subscription)
        await session.flush()
        session.add(
            WebhookLogEntry(subscription_id=id_of(subscription), kind=WebhookLogKind.CREATED, actor=_actor(viewer))
        )
    return subscription, secret


async def _subscription(session: AsyncSession, subscription_id: int) -> WebhookSubscription:
    subscription = await session.get(WebhookSubscription, subscription_id)
    if subscription is None:
        raise Refusal("NOT_FOUND", "No such webhook subscription.", ["id"])
    return subscription


async def rotate_secret(ctx: RequestContext, subscription_id: int) -> tuple[WebhookSubscription, str]:
    """A new secret, shown this once; requests are signed with it from the next attempt on."""
    viewer = require_admin(ctx.viewer, "configure webhooks")
    secret = new_secret()
    async with ctx.write() as session:
        subscription = await _subscription(session, subscription_id)
        subscription.secret = secret
        session.add(subscription)
        session.add(
            WebhookLogEntry(subscription_id=subscription_id, kind=WebhookLogKind.SECRET_ROTATED, actor=_actor(viewer))
        )
    return subscription, secret


async def set_active(ctx: RequestContext, subscription_id: int, active: bool) -> WebhookSubscription:
    """Disabling stops attempts (pending deliveries wait) and queueing (events meanwhile are not queued: see
    redeliver_events); enabling resumes the pending deliveries, in order, and clears the disabled reason."""
    viewer = require_admin(ctx.viewer, "configure webhooks")
    async with ctx.write() as session:
        subscription = await _subscription(session, subscription_id)
        if subscription.active == active:
            return subscription
        now = utcnow()
        subscription.active = active
        subscription.disabled_at = None if active else now
        subscription.disabled_reason = None if active else "Disabled by an admin."
        subscription.failing_since = None
        session.add(subscription)
        if active:
            # Pending deliveries are due at once rather than at the end of a long backoff.
            await session.exec(
                sa.update(WebhookDelivery)
                .where(
                    col(WebhookDelivery.subscription_id) == subscription_id,
                    col(WebhookDelivery.status) == WebhookDeliveryStatus.PENDING,
                )
                .values(next_attempt_at=now)
            )
        session.add(
            WebhookLogEntry(
                subscription_id=subscription_id,
                kind=WebhookLogKind.ENABLED if active else WebhookLogKind.DISABLED,
                occurred_at=now,
                detail=subscription.disabled_reason,
                actor=_actor(viewer),
            )
        )
    return subscription


async def redeliver_delivery(ctx: RequestContext, delivery_id: int) -> WebhookDelivery:
    """A new delivery (an id of its own) of the same body, due now, in its event's place in the order's sequence."""
    require_admin(ctx.viewer, "redeliver webhooks")
    async with ctx.write() as session:
        original = await session.get(WebhookDelivery, delivery_id)
        if original is None:
            raise Refusal("NOT_FOUND", "No such webhook delivery.", ["id"])
        again = WebhookDelivery(
            subscription_id=original.subscription_id,
            event_id=original.event_id,
            sequence=original.sequence,
            order_id=original.order_id,
            event_type=original.event_type,
            body=original.body,
            status=WebhookDeliveryStatus.PENDING,
            next_attempt_at=utcnow(),
            redelivery_of=delivery_id,
        )
        session.add(again)
    return again


Render = Callable[[WebhookSubscription, OrderEvent], Awaitable[str]]


@dataclass(frozen=True, slots=True)
class Redelivery:
    queued: int
    last_sequence: int | None  # the newest event queued again; go on after it when has_more
    has_more: bool


async def redeliver_events(
    ctx: RequestContext, subscription_id: int, after_sequence: int, render: Render
) -> Redelivery:
    """Queues again every event of the subscription's types after `after_sequence` that the worker has passed (at
    most MAX_REDELIVERED_EVENTS a call), events the subscription missed while disabled included. An event delivered
    before is sent with the body it had; one never queued for it gets a body computed now."""
    require_admin(ctx.viewer, "redeliver webhooks")
    if after_sequence < 0:
        raise Refusal("INVALID_SEQUENCE", "afterSequence is 0 or more.", ["afterSequence"])
    async with ctx.read() as session:
        subscription = await session.get(WebhookSubscription, subscription_id)
        if subscription is None:
            raise Refusal("NOT_FOUND", "No such webhook subscription.", ["subscriptionId"])
        queued_up_to = select(WebhookWatermark.queued_sequence).where(WebhookWatermark.id == 1).scalar_subquery()
        events = (
            await session.exec(
                select(OrderEvent)
                .where(
                    col(OrderEvent.sequence) > after_sequence,
                    col(OrderEvent.sequence) <= sa.func.coalesce(queued_up_to, 0),
                    col(OrderEvent.type).in_(subscription.event_types),
                )
                .order_by(col(OrderEvent.sequence))
                .limit(MAX_REDELIVERED_EVENTS + 1)
            )
        ).all()
        has_more = len(events) > MAX_REDELIVERED_EVENTS
        events = events[:MAX_REDELIVERED_EVENTS]
        earlier = (
            await session.exec(
                select(WebhookDelivery.event_id, WebhookDelivery.body)
                .where(
                    col(WebhookDelivery.subscription_id) == subscription_id,
                    col(WebhookDelivery.event_id).in_([id_of(e) for e in events]),
                )
                .order_by(col(WebhookDelivery.id))
            )
        ).all()
    bodies: dict[int, str] = dict(earlier)
    for event in events:
        if id_of(event) not in bodies:
            bodies[id_of(event)] = await render(subscription, event)
    now = utcnow()
    async with ctx.write() as session:
        for event in events:
            assert event.sequence is not None
            session.add(
                WebhookDelivery(
                    subscription_id=subscription_id,
                    event_id=id_of(event),
                    sequence=event.sequence,
                    order_id=event.order_id,
                    event_type=event.type,
                    body=bodies[id_of(event)],
                    status=WebhookDeliveryStatus.PENDING,
                    next_attempt_at=now,
                )
            )
    return Redelivery(len(events), events[-1].sequence if events else None, has_more)


async def subscriptions(ctx: RequestContext) -> list[WebhookSubscription]:
    require_admin(ctx.viewer, "read webhook subscriptions")
    async with ctx.read() as session:
        return list((await session.exec(select(WebhookSubscription).order_by(col(WebhookSubscription.id)))).all())


async def subscription(ctx: RequestContext, subscription_id: int) -> WebhookSubscription | None:
    require_admin(ctx.viewer, "read webhook subscriptions")
    async with ctx.read() as session:
        return await session.get(WebhookSubscription, subscription_id)


async def deliveries(ctx: RequestContext, subscription_id: int, *, first: int | None, after: str | None) -> Connection:
    """The subscription's deliveries, newest first, a page at a time."""
    require_admin(ctx.viewer, "read webhook deliveries")
    size = page_size(first, ctx.max_page_size)
    cursor = DELIVERY_LOG.decode(after, (int,))
    query = select(WebhookDelivery).where(col(WebhookDelivery.subscription_id) == subscription_id)
    if cursor is not None:
        query = query.where(col(WebhookDelivery.id) < cursor[0])
    async with ctx.read() as session:
        rows = list((await session.exec(query.order_by(col(WebhookDelivery.id).desc()).limit(size + 1))).all())
    return Connection(rows[:size], DELIVERY_LOG, has_next_page=len(rows) > size, has_previous_page=cursor is not None)


async def attempts(ctx: RequestContext, delivery_id: int) -> list[WebhookAttempt]:
    require_admin(ctx.viewer, "read webhook deliveries")
    async with ctx.read() as session:
        query = select(WebhookAttempt).where(col(WebhookAttempt.delivery_id) == delivery_id)
        newest = query.order_by(col(WebhookAttempt.number).desc(), col(WebhookAttempt.id).desc())
        return list(reversed((await session.exec(newest.limit(MAX_LISTED_ATTEMPTS))).all()))


async def log(ctx: RequestContext, subscription_id: int) -> list[WebhookLogEntry]:
    require_admin(ctx.viewer, "read webhook subscriptions")
    async with ctx.read() as session:
        query = select(WebhookLogEntry).where(col(WebhookLogEntry.subscription_id) == subscription_id)
        newest = query.order_by(col(WebhookLogEntry.id).desc()).limit(MAX_LISTED_LOG_ENTRIES)
        return list(reversed((await session.exec(newest)).all()))
