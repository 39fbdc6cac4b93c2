"""The notifier: customers' email and SMS, made from the outbox (order_event) so that none is lost.

Two steps, each safe with any number of processes:

1. Queue. Events after the watermark (notification_watermark), in sequence order, get one Notification row per
   channel the customer wants for the event's moment (resolvers.notifications), PENDING, due at once (a text in
   the customer's quiet hours at their end; a pickup reminder before the pickup window ends). The rows and the
   moved watermark commit together under the watermark row's lock: a crash queues the batch again from the start,
   an event is never queued twice (unique event_id + channel + moment backs this up), and none is skipped, since
   sequence numbers follow commit order (resolvers.events).
2. Send. A due PENDING row is claimed by a conditional UPDATE (attempts + 1, next_attempt_at moved a lease ahead)
   that exactly one process wins, on SQLite and PostgreSQL alike. The winner makes the message from what is true
   now (or records SKIPPED when a scheduled one no longer is), sends, then records SENT; after a
   failure the row is due again after a doubling delay, and FAILED (final) after the last attempt.

Delivery is at least once: a process that dies mid-send leaves its claim to expire after the lease, and another
sends again. A message goes out twice only when a process dies after the provider accepted it and before SENT is
recorded; its reference (the email's Message-ID, the SMS `reference`) is the same on every attempt, so a receiver
can drop the repeat.
"""

import asyncio
import logging
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select

from ordergraph.models import Customer, Notification, Order, OrderEvent
from ordergraph.models.columns import utcnow
from ordergraph.models.database import Database
from ordergraph.models.enums import NotificationChannel, NotificationMoment, NotificationStatus
from ordergraph.models.event import EventRelay, NotificationWatermark
from ordergraph.resolvers.notifications import (
    LetterSettings,
    email_message,
    event_facts,
    gather_letter,
    message_templates,
    moment_of,
    moment_preferences,
    notifications_for,
    render,
    shop_name,
)
from ordergraph.resolvers.ports import load_sms_sender
from ordergraph.resolvers.ports.email import EmailSender, email_sender
from ordergraph.resolvers.ports.sms import SmsSender
from ordergraph.server import metrics
from ordergraph.server.settings import Settings
from ordergraph.subscriptions.backoff import Backoff

logger = logging.getLogger("ordergraph.notifier")

BATCH_SIZE = 200
LONGEST_RETRY = timedelta(hours=1)
LAST_LOOP_RETRY_SECONDS = 5.0  # the longest wait between failed passes of the loop (the first is the backoff default)
MAX_ERROR_TEXT = 500

# The statements a notification's claim, send and outcome run, built once: building one per call was a tenth of the
# notifier's CPU. Their parameters are bound by name. Each UPDATE runs in a session of its own, which holds no
# Notification to keep in step (synchronize_session=False: the ORM's evaluation of the WHERE was a tenth more).
_BEHIND = select(NotificationWatermark.queued_sequence, select(sa.func.max(OrderEvent.sequence)).scalar_subquery())
_DUE = (
    select(Notification.id)
    .where(
        col(Notification.status) == NotificationStatus.PENDING,
        col(Notification.next_attempt_at) <= sa.bindparam("began"),
        col(Notification.id) > sa.bindparam("after"),
    )
    .order_by(col(Notification.id))
    .limit(BATCH_SIZE)
)
_CLAIM = (
    sa.update(Notification)
    .where(
        col(Notification.id) == sa.bindparam("notification_id"),
        col(Notification.status) == NotificationStatus.PENDING,
        col(Notification.next_attempt_at) <= sa.bindparam("now"),
    )
    .values(attempts=col(Notification.attempts) + 1, next_attempt_at=sa.bindparam("lease_until"))
    .returning(col(Notification.attempts))
    .execution_options(synchronize_session=False)
)
_TO_SEND = (
    select(Notification, OrderEvent, Customer)
    .join(OrderEvent, col(OrderEvent.id) == col(Notification.event_id))
    .join(Customer, col(Customer.id) == col(OrderEvent.customer_id))
    .where(col(Notification.id) == sa.bindparam("notification_id"))
)
_FINISH = (
    sa.update(Notification)
    .where(col(Notification.id) == sa.bindparam("notification_id"))
    .values(status=sa.bindparam("status"), sent_at=sa.bindparam("sent_at"), next_attempt_at=None, last_error=None)
    .execution_options(synchronize_session=False)
)
# Only while the attempt is still the notification's latest: a process whose claim expired must not overwrite
# another's outcome.
_FAILED_ATTEMPT = (
    sa.update(Notification)
    .where(
        col(Notification.id) == sa.bindparam("notification_id"),
        col(Notification.status) == NotificationStatus.PENDING,
        col(Notification.attempts) == sa.bindparam("attempt"),
    )
    .values(status=sa.bindparam("status"), next_attempt_at=sa.bindparam("retry_at"), last_error=sa.bindparam("error"))
    .execution_options(synchronize_session=False)
)


class Notifier:
    def __init__(
        self,
        db: Database,
        *,
        email: EmailSender,
        sms: SmsSender,
        sender_address: str,
        poll_seconds: float,
        max_attempts: int,
        retry_seconds: float,
        lease_seconds: float,
        letters: LetterSettings | None = None,
    ) -> None:
        self.db = db
        self.letters = letters or LetterSettings(shop_name=shop_name(sender_address))
        self.templates = message_templates(self.letters.templates_dir)
        self.email = email
        self.sms = sms
        self.sender_address = sender_address
        self.poll_seconds = poll_seconds
        self.max_attempts = max_attempts
        self.retry = timedelta(seconds=retry_seconds)
        self.lease = timedelta(seconds=lease_seconds)
        self._woken = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    async def prepare(self) -> None:
        """The first notifier to start creates the watermark at the relay's: what was published before
        notifications existed (or loaded as demo data) is history, not news. Runs before this process's relay."""
        insert = postgresql.insert if self.db.dialect == "postgresql" else sqlite.insert
        published = select(EventRelay.published_sequence).where(EventRelay.id == 1).scalar_subquery()
        async with self.db.write() as session:
            await session.exec(
                insert(NotificationWatermark).values(id=1, queued_sequence=published).on_conflict_do_nothing()
            )

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="notifier")

    async def stop(self) -> None:
        """Lets the message being sent finish (and be recorded) rather than leave it to be sent again."""
        if self._task is not None:
            self._stopping = True
            self._woken.set()
            await asyncio.gather(self._task, return_exceptions=True)

    async def run_once(self) -> None:
        """One pass: queue what the outbox holds, then one attempt at every notification due."""
        while not self._stopping and await self._queue_batch():
            pass
        await self._send_due()

    async def _run(self) -> None:
        backoff = Backoff(logger, "notifier could not run (%r); retrying in %.2fs", last=LAST_LOOP_RETRY_SECONDS)
        while not self._stopping:
            try:
                await asyncio.wait_for(self._woken.wait(), self.poll_seconds)
            except TimeoutError:
                pass
            self._woken.clear()
            if self._stopping:
                return
            try:
                await self.run_once()
                backoff.reset()
            except Exception as error:  # noqa: BLE001  (the database away: the outbox and the queue wait)
                await backoff.failed(error)
                self._woken.set()

    async def _queue_batch(self) -> bool:
        """Queues the notifications of the next batch of events and moves the watermark; False when there was none."""
        if not await self._behind():
            return False
        async with self.db.write() as session:
            mark = (
                await session.exec(select(NotificationWatermark).where(NotificationWatermark.id == 1).with_for_update())
            ).one()
            events = (
                await session.exec(
                    select(OrderEvent)
                    .where(OrderEvent.sequence > mark.queued_sequence)
                    .order_by(OrderEvent.sequence)
                    .limit(BATCH_SIZE)
                )
            ).all()
            if not events:
                return False
            customer_ids = {event.customer_id for event in events}
            found = await session.exec(select(Customer).where(Customer.id.in_(customer_ids)))
            customers = {customer.id: customer for customer in found.all()}
            preferences = await moment_preferences(session, customer_ids)
            order_ids = {event.order_id for event in events if event.order_id is not None}
            markets = (
                dict((await session.exec(select(Order.id, Order.market_code).where(Order.id.in_(order_ids)))).all())
                if order_ids
                else {}
            )
            now = utcnow()
            for event in events:
                moment = moment_of(event, await event_facts(session, event))
                if moment is None:
                    continue
                session.add_all(
                    notifications_for(
                        event,
                        customers[event.customer_id],
                        moment,
                        preferences.get(event.customer_id, []),
                        now=now,
                        market_code=markets.get(event.order_id),
                        settings=self.letters,
                    )
                )
            mark.queued_sequence = events[-1].sequence
            session.add(mark)
        return True

    async def _behind(self) -> bool:
        """Whether anything is committed after the watermark (read without the lock: polls are cheap)."""
        async with self.db.read() as session:
            queued, last = (await session.exec(_BEHIND)).one()
        return last is not None and last > queued

    async def _send_due(self) -> None:
        """One attempt at each notification due when the pass began, in id order, a batch at a time."""
        began, after = utcnow(), 0
        while not self._stopping:
            async with self.db.read() as session:
                due = (await session.exec(_DUE, params={"began": began, "after": after})).all()
            for notification_id in due:
                if self._stopping:
                    return
                attempt = await self._claim(notification_id)
                if attempt is not None:
                    await self._attempt(notification_id, attempt)
            if len(due) < BATCH_SIZE:
                return
            after = due[-1]

    async def _claim(self, notification_id: int) -> int | None:
        """This process's attempt number at the notification, or None when another process holds or finished it."""
        now = utcnow()
        parameters = {"notification_id": notification_id, "now": now, "lease_until": now + self.lease}
        async with self.db.write() as session:
            return (await session.exec(_CLAIM, params=parameters)).scalar_one_or_none()

    async def _attempt(self, notification_id: int, attempt: int) -> None:
        if attempt > self.max_attempts:
            # The last attempt's process died mid-send: whether it went out is unknown, and no attempt is left.
            await self._record_failure(notification_id, attempt, "the last attempt did not finish")
            return
        reference = f"notification-{notification_id}"
        metrics.NOTIFICATION_ATTEMPTS.inc()
        try:
            async with self.db.read() as session:
                notification, event, customer = (
                    await session.exec(_TO_SEND, params={"notification_id": notification_id})
                ).one()
                letter = None
                if customer.erased_at is None:  # erased since it was queued: nothing goes
                    letter = await gather_letter(
                        session, event, customer, NotificationMoment(notification.moment), self.letters
                    )
            if letter is None:
                await self._finish(notification_id, NotificationStatus.SKIPPED)
                return
            rendered = render(letter, self.templates)
            if notification.channel is NotificationChannel.EMAIL:
                message = email_message(
                    rendered,
                    sender=self.sender_address,
                    recipient=notification.recipient,
                    reference=reference,
                    at=event.occurred_at,
                )
                await self.email.send(message, reference=reference)
            else:
                await self.sms.send(notification.recipient, rendered.sms, reference=reference)
        except Exception as error:  # noqa: BLE001  (whatever the provider raised, the attempt failed)
            logger.warning("notification %s failed (attempt %d): %r", reference, attempt, error)
            metrics.NOTIFICATION_FAILURES.inc()
            await self._record_failure(notification_id, attempt, repr(error))
            return
        await self._finish(notification_id, NotificationStatus.SENT)

    async def _finish(self, notification_id: int, status: NotificationStatus) -> None:
        sent_at = utcnow() if status is NotificationStatus.SENT else None
        async with self.db.write() as session:
            await session.exec(
                _FINISH, params={"notification_id": notification_id, "status": status, "sent_at": sent_at}
            )

    async def _record_failure(self, notification_id: int, attempt: int, error: str) -> None:
        """Due again after a doubling delay, or FAILED after the last attempt (_FAILED_ATTEMPT: only while this
        attempt is the notification's latest)."""
        final = attempt >= self.max_attempts
        parameters = {
            "notification_id": notification_id,
            "attempt": attempt,
            "status": NotificationStatus.FAILED if final else NotificationStatus.PENDING,
            "retry_at": None if final else utcnow() + min(self.retry * 2 ** (attempt - 1), LONGEST_RETRY),
            "error": error[:MAX_ERROR_TEXT],
        }
        async with self.db.write() as session:
            await session.exec(_FAILED_ATTEMPT, params=parameters)


def notifier_for(settings: Settings, db: Database) -> Notifier:
    """The notifier with the senders the settings choose (SMTP and the SMS endpoint, else the outbox folder)."""
    email = email_sender(
        host=settings.smtp_host,
        port=settings.smtp_port,
        starttls=settings.smtp_starttls,
        username=settings.smtp_username,
        password=settings.smtp_password,
        outbox=settings.notification_outbox,
    )
    sms = load_sms_sender(settings.sms_sender, endpoint=settings.sms_endpoint, outbox=settings.notification_outbox)
    return Notifier(
        db,
        email=email,
        sms=sms,
        sender_address=settings.email_from,
        poll_seconds=settings.notification_poll_seconds,
        max_attempts=settings.notification_max_attempts,
        retry_seconds=settings.notification_retry_seconds,
        lease_seconds=settings.notification_lease_seconds,
        letters=letter_settings(settings),
    )


def letter_settings(settings: Settings) -> LetterSettings:
    return LetterSettings(
        public_url=settings.public_url,
        link_secret=settings.jwt_secret,
        link_ttl=timedelta(days=settings.document_link_days),
        pickup_window=timedelta(days=settings.pickup_window_days),
        pickup_reminder_before=timedelta(hours=settings.pickup_reminder_hours),
        shop_name=shop_name(settings.email_from),
        templates_dir=settings.notification_templates_dir,
    )
