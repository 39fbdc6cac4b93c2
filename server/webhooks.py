"""Outbound webhooks (#17): deliveries made from the outbox (order_event), signed, retried, in order per order.

The notifier's two steps (server/notifier.py), each safe with any number of processes:

1. Queue. Events after the watermark (webhook_watermark), in sequence order, get one WebhookDelivery per active
   subscription that wants their type and was created before them, PENDING, with its body computed now (the
   subscription's document run against the event: schema.webhooks.PayloadRenderer), so that every attempt and every
   redelivery sends the same bytes. Bodies are computed before the lock; the rows and the moved watermark then commit
   together under the watermark row's lock, and only if the watermark is still where the batch began (else another
   process queued it, and this one reads the next batch). A crash queues the batch again; none is skipped, since
   sequence numbers follow commit order. Redis plays no part: the database is the source.
2. Send. A due PENDING delivery is claimed by a conditional UPDATE (attempts + 1, next_attempt_at a lease ahead) that
   exactly one process wins, and only while its subscription is active and no earlier delivery (sequence, id) of the
   same subscription and order is PENDING: per subscription and order, a delivery is attempted only after every
   earlier one was delivered or finally failed. A 2xx answer records DELIVERED; anything else (a status, a timeout, a
   refused address) is due again after a random wait of up to base * 2^(attempt-1) seconds (capped; "full jitter"),
   until the retry window, counted from the first attempt, ends (FAILED). A subscription whose attempts have all
   failed for the failure window is disabled, with a DISABLED entry in its log (kind WEBHOOK_DISABLED in the log
   line) for admins to read.

At least once: a process that dies mid-send leaves its claim to expire after the lease, and another sends again, with
the same Ordergraph-Delivery-Id, so that receivers can drop the repeat.

Each request: POST, JSON body, `Ordergraph-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` with
the subscription's secret (README "Webhooks" shows how to verify), to an address checked just before (every address
the host resolves to must be allowed: resolvers.webhooks.resolve_target) and connected to by that address, so a DNS
answer that changes after the check is never used. No redirects are followed; at most max_response_bytes of the
answer are read; a receiver slower than the timeout fails the attempt.
"""

import asyncio
import hashlib
import hmac
import logging
import math
import random
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased
from sqlmodel import col, select

from ordergraph.loaders import Loaders
from ordergraph.models import OrderEvent
from ordergraph.models.columns import id_of, utcnow
from ordergraph.models.database import Database
from ordergraph.models.enums import WebhookDeliveryStatus, WebhookLogKind
from ordergraph.models.event import EventRelay
from ordergraph.models.webhook import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookLogEntry,
    WebhookSubscription,
    WebhookWatermark,
)
from ordergraph.resolvers.access import ANONYMOUS
from ordergraph.resolvers.context import RequestContext
from ordergraph.resolvers.errors import Refusal
from ordergraph.resolvers.webhooks import TargetRules, resolve_target
from ordergraph.schema.build import build_schema
from ordergraph.schema.webhooks import PayloadRenderer
from ordergraph.server import metrics
from ordergraph.server.settings import Settings
from ordergraph.subscriptions.backoff import Backoff

logger = logging.getLogger("ordergraph.webhooks")

SIGNATURE_HEADER = "Ordergraph-Signature"
DELIVERY_HEADER = "Ordergraph-Delivery-Id"
EVENT_TYPE_HEADER = "Ordergraph-Event-Type"
SEQUENCE_HEADER = "Ordergraph-Event-Sequence"
USER_AGENT = "ordergraph-webhooks/1"
BATCH_SIZE = 200
DUE_BATCH_SIZE = 500
LAST_LOOP_RETRY_SECONDS = 5.0
MAX_ERROR_TEXT = 500


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The Ordergraph-Signature header's value: `t=<timestamp>,v1=<hex HMAC-SHA256 over "<timestamp>." + body>`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


@dataclass(frozen=True, slots=True)
class Policy:
    timeout: float
    max_response_bytes: int
    retry_base: float
    retry_cap: float
    retry_window: timedelta
    failure_window: timedelta
    lease: timedelta
    concurrency: int
    targets: TargetRules

    @classmethod
    def of(cls, settings: Settings) -> "Policy":
        return cls(
            timeout=settings.webhook_timeout_seconds,
            max_response_bytes=settings.webhook_max_response_bytes,
            retry_base=settings.webhook_retry_base_seconds,
            retry_cap=settings.webhook_retry_cap_seconds,
            retry_window=timedelta(seconds=settings.webhook_retry_window_seconds),
            failure_window=timedelta(seconds=settings.webhook_failure_window_seconds),
            lease=timedelta(seconds=max(settings.webhook_lease_seconds, settings.webhook_timeout_seconds + 1)),
            concurrency=max(1, settings.webhook_concurrency),
            targets=TargetRules.parse(settings.webhook_allowed_networks),
        )

    def retry_delay(self, attempt: int) -> float:
        """Full jitter: anywhere up to the doubling delay, so that receivers coming back are not hit in step."""
        return random.uniform(0, min(self.retry_cap, self.retry_base * 2 ** min(attempt - 1, 40)))


@dataclass(frozen=True, slots=True)
class Outcome:
    status_code: int | None
    error: str | None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300 and self.error is None


@dataclass(frozen=True, slots=True, order=True)
class Pending:
    """A delivery due, as the sender orders it: by sequence, then id."""

    sequence: int
    id: int
    subscription_id: int
    order_id: int | None

    @property
    def key(self) -> tuple[int, object]:
        """Its subscription and order; a customer-level event (no order) is ordered by nothing, so alone."""
        return (self.subscription_id, self.order_id if self.order_id is not None else ("event", self.id))


PENDING_COLUMNS = (
    WebhookDelivery.sequence,
    WebhookDelivery.id,
    WebhookDelivery.subscription_id,
    WebhookDelivery.order_id,
)


class WebhookWorker:
    """One process's worker: a loop that queues a batch of the outbox and hands each due subscription-and-order its
    sender task (one at a time per pair, so that pair's deliveries go in order), without waiting for those tasks: a
    slow receiver holds up its own deliveries only. At most `concurrency` requests are under way at once."""

    def __init__(self, db: Database, renderer: PayloadRenderer, policy: Policy, *, poll_seconds: float) -> None:
        self.db = db
        self.renderer = renderer
        self.policy = policy
        self.poll_seconds = poll_seconds
        self._woken = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        # While no subscription is active: the newest event passed over, and when the watermark was last moved to
        # it (written at most once a poll, not once a commit).
        self._passed = 0
        self._pass_written = -math.inf
        self._senders: dict[tuple[int, object], asyncio.Task[None]] = {}
        self._missed: set[tuple[int, object]] = set()
        self._requests = asyncio.Semaphore(policy.concurrency)
        self._client = httpx.AsyncClient(
            follow_redirects=False,
            timeout=httpx.Timeout(policy.timeout),
            trust_env=False,  # no proxy: the address checked is the address connected to
            limits=httpx.Limits(max_connections=policy.concurrency * 2, max_keepalive_connections=policy.concurrency),
            headers={"User-Agent": USER_AGENT},
        )

    async def prepare(self) -> None:
        """The first worker to start creates the watermark at the relay's (as the notifier does)."""
        insert = postgresql.insert if self.db.dialect == "postgresql" else sqlite.insert
        published = select(EventRelay.published_sequence).where(EventRelay.id == 1).scalar_subquery()
        async with self.db.write() as session:
            await session.exec(
                insert(WebhookWatermark)
                .values(id=1, queued_sequence=sa.func.coalesce(published, 0))
                .on_conflict_do_nothing()
            )

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="webhooks")

    def wake(self) -> None:
        """Events committed here, or a delivery done: look now rather than at the next poll."""
        self._woken.set()

    async def stop(self) -> None:
        """Lets the requests under way finish (and be recorded) rather than leave them to be sent again; starts
        no other."""
        self._stopping = True
        self._woken.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
        await asyncio.gather(*self._senders.values(), return_exceptions=True)
        await self._client.aclose()

    async def run_once(self, *, everything_due: bool = True) -> bool:
        """One pass: queue one batch of the outbox and start senders for what it queued; with `everything_due`, also
        for every subscription-and-order with a delivery due (retries, expired claims, other processes' queues).
        True when there may be more to queue at once."""
        queued = await self._queue_batch()
        if queued:
            self._start_senders(queued)
        if everything_due:
            await self._dispatch_due()
        return queued is not None

    async def _run(self) -> None:
        backoff = Backoff(logger, "webhook worker could not run (%r); retrying in %.2fs", last=LAST_LOOP_RETRY_SECONDS)
        looked = 0.0  # when everything due was last looked for: at each poll, not at each local commit
        while not self._stopping:
            try:
                await asyncio.wait_for(self._woken.wait(), self.poll_seconds)
            except TimeoutError:
                pass
            self._woken.clear()
            if self._stopping:
                return
            everything_due = time.monotonic() - looked >= self.poll_seconds
            try:
                if await self.run_once(everything_due=everything_due):
                    self._woken.set()
                if everything_due:
                    looked = time.monotonic()
                backoff.reset()
            except Exception as error:  # noqa: BLE001  (the database away: the outbox and the queue wait)
                await backoff.failed(error)
                self._woken.set()

    # --- 1. Queue ---

    async def _pass_over(self, mark: int, last: int) -> None:
        """Moves the watermark from `mark` to `last` without reading the events (no subscription is active), unless
        another process moved it meanwhile."""
        async with self.db.write() as session:
            await session.exec(
                sa.update(WebhookWatermark)
                .where(col(WebhookWatermark.id) == 1, col(WebhookWatermark.queued_sequence) == mark)
                .values(queued_sequence=last)
                .execution_options(synchronize_session=False)
            )

    async def _queue_batch(self) -> list["Pending"] | None:
        """Queues the deliveries of the next batch of events and returns them; None when there was no event to
        queue (an empty list: there were, but none wanted, or another process queued them)."""
        newest = select(sa.func.max(OrderEvent.sequence)).scalar_subquery()
        async with self.db.read() as session:
            mark, last = (await session.exec(select(WebhookWatermark.queued_sequence, newest))).one()
            if last is None or last <= max(mark, self._passed):
                return None
            subscriptions = (
                await session.exec(select(WebhookSubscription).where(col(WebhookSubscription.active).is_(True)))
            ).all()
            events: Sequence[OrderEvent] = []
            if subscriptions:
                events = (
                    await session.exec(
                        select(OrderEvent)
                        .where(col(OrderEvent.sequence) > mark)
                        .order_by(col(OrderEvent.sequence))
                        .limit(BATCH_SIZE)
                    )
                ).all()
        if not subscriptions:
            # Nothing to queue up to `last`: a subscription made from now on starts after it (start_sequence).
            self._passed = last
            if time.monotonic() - self._pass_written >= self.poll_seconds:
                await self._pass_over(mark, last)
                self._pass_written = time.monotonic()
            return []
        if not events:
            return None
        rows: list[WebhookDelivery] = []
        now = utcnow()
        for event in events:
            assert event.sequence is not None
            assert event.id is not None
            wanted = [s for s in subscriptions if event.sequence > s.start_sequence and event.type in s.event_types]
            if not wanted:
                continue
            delivery = self.renderer.delivery(event)  # shared by the subscriptions: loaders and executions
            bodies = await asyncio.gather(*(self.renderer.render(s, delivery) for s in wanted))
            for subscription, body in zip(wanted, bodies, strict=True):
                assert subscription.id is not None
                rows.append(
                    WebhookDelivery(
                        subscription_id=subscription.id,
                        event_id=event.id,
                        sequence=event.sequence,
                        order_id=event.order_id,
                        event_type=event.type,
                        body=body,
                        status=WebhookDeliveryStatus.PENDING,
                        next_attempt_at=now,
                        created_at=now,
                    )
                )
        async with self.db.write() as session:
            locked = (
                await session.exec(select(WebhookWatermark).where(WebhookWatermark.id == 1).with_for_update())
            ).one()
            if locked.queued_sequence != mark:
                return []  # another process queued this batch meanwhile: read on from where it got
            # A subscription disabled meanwhile keeps what was queued for it: it is not claimed while inactive.
            session.add_all(rows)
            locked.queued_sequence = events[-1].sequence
            session.add(locked)
            await session.flush()
            queued = [Pending(r.sequence, id_of(r), r.subscription_id, r.order_id) for r in rows]
        metrics.WEBHOOK_DELIVERIES_QUEUED.inc(len(queued))
        return queued

    # --- 2. Send ---

    async def _dispatch_due(self) -> None:
        """Starts a sender for each subscription-and-order (each customer-level event alone) with deliveries due and
        no sender running."""
        now = utcnow()
        async with self.db.read() as session:
            rows = (
                await session.exec(
                    select(*PENDING_COLUMNS)
                    .join(WebhookSubscription, col(WebhookSubscription.id) == WebhookDelivery.subscription_id)
                    .where(
                        col(WebhookDelivery.status) == WebhookDeliveryStatus.PENDING,
                        col(WebhookDelivery.next_attempt_at) <= now,
                        col(WebhookSubscription.active).is_(True),
                    )
                    .order_by(col(WebhookDelivery.next_attempt_at), col(WebhookDelivery.id))
                    .limit(DUE_BATCH_SIZE)
                )
            ).all()
        self._start_senders([Pending(*row) for row in rows])

    def _start_senders(self, due: list["Pending"]) -> None:
        """A sender for each pair with deliveries in `due` and none running; a running one is told to look again
        when it ends (it may have looked before these were committed)."""
        groups: dict[tuple[int, object], list[Pending]] = defaultdict(list)
        for pending in due:
            groups[pending.key].append(pending)
        for key, items in groups.items():
            if key in self._senders:
                self._missed.add(key)
            elif not self._stopping:
                self._start_sender(key, sorted(items))

    def _start_sender(self, key: tuple[int, object], due: list["Pending"]) -> None:
        task = asyncio.create_task(self._send_in_order(key, due), name=f"webhook-sender-{key}")
        self._senders[key] = task
        task.add_done_callback(lambda _, key=key: self._sender_done(key))

    def _sender_done(self, key: tuple[int, object]) -> None:
        self._senders.pop(key, None)
        if key in self._missed:
            self._missed.discard(key)
            if not self._stopping:
                self._start_sender(key, [])

    async def _send_in_order(self, key: tuple[int, object], due: list["Pending"]) -> None:
        """One pair's due deliveries, one after the other, then the pair's next ones due, until none is; stops at the
        first not delivered (the later ones of that order wait for it). A failure is logged, never raised."""
        if not due:
            due = await self._next_due(key)
        while due and not self._stopping:
            for pending in due:
                if self._stopping:
                    return
                try:
                    async with self._requests:
                        claim = await self._claim(pending)
                        outcome = None if claim is None else await self._attempt(claim)
                except Exception:  # the database away mid-attempt: the claim expires and the delivery is retried
                    logger.exception("webhook delivery %d could not be attempted", pending.id)
                    return
                if outcome is None or not outcome.delivered:
                    return
            due = await self._next_due(key)

    async def _next_due(self, key: tuple[int, object]) -> list["Pending"]:
        """The pair's deliveries due now, in order (queued since its sender started)."""
        subscription_id, order_id = key
        if not isinstance(order_id, int):
            return []  # a customer-level event's pair is that event alone
        async with self.db.read() as session:
            rows = (
                await session.exec(
                    select(*PENDING_COLUMNS)
                    .where(
                        col(WebhookDelivery.subscription_id) == subscription_id,
                        col(WebhookDelivery.order_id) == order_id,
                        col(WebhookDelivery.status) == WebhookDeliveryStatus.PENDING,
                        col(WebhookDelivery.next_attempt_at) <= utcnow(),
                    )
                    .order_by(col(WebhookDelivery.sequence), col(WebhookDelivery.id))
                    .limit(BATCH_SIZE)
                )
            ).all()
        return [Pending(*row) for row in rows]

    async def _claim(self, pending: "Pending") -> "Claim | None":
        """This process's attempt at the delivery, with what sending needs, or None when another process holds or
        finished it, its subscription is inactive, or an earlier delivery of its subscription and order is still
        pending."""
        now = utcnow()
        earlier = aliased(WebhookDelivery)
        blockers = []
        if pending.order_id is not None:
            blockers.append(
                ~sa.exists().where(
                    earlier.subscription_id == pending.subscription_id,
                    earlier.order_id == pending.order_id,
                    earlier.status == WebhookDeliveryStatus.PENDING,
                    sa.or_(
                        earlier.sequence < pending.sequence,
                        sa.and_(earlier.sequence == pending.sequence, earlier.id < pending.id),
                    ),
                )
            )
        async with self.db.write() as session:
            claimed = (
                await session.exec(
                    sa.update(WebhookDelivery)
                    .where(
                        col(WebhookDelivery.id) == pending.id,
                        col(WebhookDelivery.status) == WebhookDeliveryStatus.PENDING,
                        col(WebhookDelivery.next_attempt_at) <= now,
                        sa.exists().where(
                            col(WebhookSubscription.id) == pending.subscription_id,
                            col(WebhookSubscription.active).is_(True),
                        ),
                        *blockers,
                    )
                    .values(
                        attempts=col(WebhookDelivery.attempts) + 1,
                        next_attempt_at=now + self.policy.lease,
                        first_attempt_at=sa.func.coalesce(col(WebhookDelivery.first_attempt_at), now),
                    )
                    .returning(
                        col(WebhookDelivery.attempts),
                        col(WebhookDelivery.first_attempt_at),
                        col(WebhookDelivery.event_type),
                        col(WebhookDelivery.body),
                    )
                )
            ).one_or_none()
            if claimed is None:
                return None
            subscription = WebhookSubscription.__table__.c
            url, secret, failing_since = (
                await session.exec(
                    sa.select(subscription.url, subscription.secret, subscription.failing_since).where(
                        subscription.id == pending.subscription_id
                    )
                )
            ).one()
        attempt, first_attempt_at, event_type, body = claimed
        return Claim(pending, attempt, first_attempt_at or now, event_type, body, url, secret, failing_since)

    async def _attempt(self, claim: "Claim") -> Outcome:
        started, clock = utcnow(), time.perf_counter()
        metrics.WEBHOOK_ATTEMPTS.inc()
        outcome = await self._post(claim)
        latency_ms = round((time.perf_counter() - clock) * 1000)
        if not outcome.delivered:
            metrics.WEBHOOK_FAILURES.inc()
            logger.warning(
                "webhook delivery %d to subscription %d failed (attempt %d): %s",
                claim.pending.id,
                claim.pending.subscription_id,
                claim.attempt,
                outcome.error or f"HTTP {outcome.status_code}",
            )
        await self._record(claim, started, latency_ms, outcome)
        return outcome

    async def _post(self, claim: "Claim") -> Outcome:
        try:
            target = await resolve_target(claim.url, self.policy.targets)
        except Refusal as refused:
            return Outcome(None, refused.message)
        body = claim.body.encode()
        timestamp = int(time.time())
        # Connect to the address just checked; the Host header and TLS name stay the URL's.
        original = httpx.URL(claim.url)
        url = original.copy_with(host=str(target.addresses[0]))
        headers = {
            "Host": original.netloc.decode(),
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature(claim.secret, timestamp, body),
            DELIVERY_HEADER: str(claim.pending.id),
            EVENT_TYPE_HEADER: claim.event_type,
            SEQUENCE_HEADER: str(claim.pending.sequence),
        }
        extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
        try:
            async with asyncio.timeout(self.policy.timeout):
                request = self._client.build_request("POST", url, content=body, headers=headers, extensions=extensions)
                response = await self._client.send(request, stream=True)
                try:
                    read = 0
                    async for chunk in response.aiter_raw():
                        read += len(chunk)
                        if read >= self.policy.max_response_bytes:
                            break  # the answer's body is not needed beyond this
                finally:
                    await response.aclose()
        except TimeoutError:
            return Outcome(None, f"no answer within {self.policy.timeout:g} s")
        except httpx.HTTPError as error:
            return Outcome(None, f"{type(error).__name__}: {error}"[:MAX_ERROR_TEXT])
        if 200 <= response.status_code < 300:
            return Outcome(response.status_code, None)
        return Outcome(response.status_code, f"HTTP {response.status_code}")

    async def _record(self, claim: "Claim", started: datetime, latency_ms: int, outcome: Outcome) -> None:
        """The attempt, and the delivery's and subscription's state after it. Only while this attempt is still the
        delivery's latest: a process whose claim expired must not overwrite another's outcome."""
        now = utcnow()
        delivery_id, subscription_id = claim.pending.id, claim.pending.subscription_id
        async with self.db.write() as session:
            await session.exec(
                sa.insert(WebhookAttempt).values(
                    delivery_id=delivery_id,
                    number=claim.attempt,
                    attempted_at=started,
                    status_code=outcome.status_code,
                    latency_ms=latency_ms,
                    error=outcome.error,
                )
            )
            latest = [
                col(WebhookDelivery.id) == delivery_id,
                col(WebhookDelivery.status) == WebhookDeliveryStatus.PENDING,
                col(WebhookDelivery.attempts) == claim.attempt,
            ]
            if outcome.delivered:
                await session.exec(
                    sa.update(WebhookDelivery)
                    .where(*latest)
                    .values(
                        status=WebhookDeliveryStatus.DELIVERED,
                        delivered_at=now,
                        next_attempt_at=None,
                        last_status_code=outcome.status_code,
                        last_error=None,
                    )
                )
                if claim.failing_since is not None:
                    await session.exec(
                        sa.update(WebhookSubscription)
                        .where(col(WebhookSubscription.id) == subscription_id)
                        .values(failing_since=None)
                    )
                return
            final = now - claim.first_attempt_at >= self.policy.retry_window
            await session.exec(
                sa.update(WebhookDelivery)
                .where(*latest)
                .values(
                    status=WebhookDeliveryStatus.FAILED if final else WebhookDeliveryStatus.PENDING,
                    next_attempt_at=None if final else now + timedelta(seconds=self.policy.retry_delay(claim.attempt)),
                    last_status_code=outcome.status_code,
                    last_error=outcome.error,
                )
            )
            current = (
                await session.exec(
                    select(WebhookSubscription).where(WebhookSubscription.id == subscription_id).with_for_update()
                )
            ).one()
            if current.failing_since is None:
                current.failing_since = started
            elif current.active and now - current.failing_since >= self.policy.failure_window:
                current.active = False
                current.disabled_at = now
                current.disabled_reason = (
                    f"Every attempt failed for {self.policy.failure_window}, since "
                    f"{current.failing_since.isoformat()}; the last: {outcome.error}"
                )[:MAX_ERROR_TEXT]
                session.add(
                    WebhookLogEntry(
                        subscription_id=subscription_id,
                        kind=WebhookLogKind.DISABLED,
                        occurred_at=now,
                        detail=current.disabled_reason,
                        actor="webhook worker",
                    )
                )
                logger.warning(
                    "WEBHOOK_DISABLED subscription %d (%s): %s", subscription_id, current.url, current.disabled_reason
                )
            session.add(current)


@dataclass(frozen=True, slots=True)
class Claim:
    """A delivery this process holds for one attempt, and what sending it needs (read when claimed: a rotated secret
    signs from the next attempt on)."""

    pending: "Pending"
    attempt: int
    first_attempt_at: datetime
    event_type: str
    body: str
    url: str
    secret: str
    failing_since: datetime | None


def webhook_worker_for(settings: Settings, db: Database, context: RequestContext) -> WebhookWorker:
    """The worker of a process, on `db`, an engine of its own: its own schema for computing payloads, and `context`
    (the viewer and loaders are replaced per subscription and event).

    On PostgreSQL its transactions commit without waiting for the WAL flush (synchronous_commit off): each delivery
    commits twice (claim, outcome), and waiting for the disk each time was most of a delivery's time. What a database
    crash may lose of them is safe to lose: the events are committed durably by the changes that wrote them, a lost
    watermark move queues its batch again, and a lost claim or outcome sends a delivery again (at least once, with
    the same delivery id)."""
    if db.dialect == "postgresql":

        @sa.event.listens_for(db.engine.sync_engine, "connect")
        def asynchronous_commits(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("SET synchronous_commit TO off")
            cursor.close()

    schema = build_schema(None)._schema
    return WebhookWorker(
        db, PayloadRenderer(schema, context), Policy.of(settings), poll_seconds=settings.webhook_poll_seconds
    )


def base_context(settings: Settings, db: Database, **common: Any) -> RequestContext:
    return RequestContext(
        viewer=ANONYMOUS,
        loaders=Loaders(db),
        read=db.read,
        max_page_size=settings.max_page_size,
        client_address=None,
        **common,
    )
