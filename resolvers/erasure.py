"""eraseCustomerPersonalData (#18): a customer's personal data replaced by tombstones everywhere it is kept, while
orders, amounts and invoices stay for accounting.

What is scrubbed is one declarative list, `SCRUBS`: per table, the rows that are the customer's and, per column,
either a tombstone (`replace`: a non-null value becomes it) or a redaction (`redact`: free text, or JSON, keeps
what it says but every erased value quoted in it becomes "[erased]"). A new table holding personal data adds one
line there. The erased values are the customer's name, email and phones, every saved address's and every order
snapshot's name, lines and phone, and the names their tokens gave when they acted; phones are found however they
are written ("+1 (617) 555-0100", "617.555.0100"…).

Decisions: saved addresses are deleted; order snapshots keep city, region, postal code and country (the tax
jurisdiction the kept invoices and amounts were computed for) and lose name, street lines and phone; pending
notifications are CANCELLED, sent ones keep their row with the recipient erased; the notifier's files of the
customer's notifications in the outbox folder are deleted. `customers.erased_at` stops everything afterwards:
the notifier queues and sends nothing for them (resolvers.notifications.recipients, server.notifier), changes and
`me` refuse with CUSTOMER_ERASED. The erasure itself is a row of `customer_erasure` (who, when, rows per table,
never a value) and an INTERNAL event "Personal data erased."
"""

import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import phonenumbers
import sqlalchemy as sa
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ordergraph.models import (
    CompanyBuyer,
    Customer,
    CustomerAddress,
    CustomerErasure,
    InventoryAdjustment,
    Notification,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
    Return,
    Shipment,
    ShipmentEvent,
)
from ordergraph.models.enums import ActorKind, EventType, EventVisibility, NotificationStatus
from ordergraph.models.invoice import Invoice, InvoiceLine
from ordergraph.models.webhook import WebhookAttempt, WebhookDelivery
from ordergraph.resolvers.access import require_agent
from ordergraph.resolvers.context import RequestContext
from ordergraph.resolvers.errors import ApiError, Refusal
from ordergraph.resolvers.events import actor_of, append_event, change

TOMBSTONE_NAME = "Erased customer"
REDACTED = "[erased]"


def tombstone_email(customer_id: int) -> str:
    """Unique (the email column is) and undeliverable: .invalid is reserved (RFC 2606)."""
    return f"erased-{customer_id}@invalid"


class CustomerErased(ApiError):
    code = "CUSTOMER_ERASED"


def refuse_erased(customer: Customer) -> None:
    """A change for an erased customer is refused: their record is a tombstone now."""
    if customer.erased_at is not None:
        raise Refusal("CUSTOMER_ERASED", "This customer's personal data was erased; their record cannot change.")


# ---- which rows are the customer's ----

Owned = Callable[[int], sa.ColumnElement[bool]]


def _orders(customer_id: int) -> Any:
    return select(Order.id).where(Order.customer_id == customer_id)


def _events(customer_id: int) -> Any:
    return select(OrderEvent.id).where(OrderEvent.customer_id == customer_id)


def _by_customer(column: Any) -> Owned:
    return lambda customer_id: col(column) == customer_id


def _by_order(column: Any) -> Owned:
    return lambda customer_id: col(column).in_(_orders(customer_id))


def _by_event(column: Any) -> Owned:
    return lambda customer_id: col(column).in_(_events(customer_id))


def _shipment_events(customer_id: int) -> sa.ColumnElement[bool]:
    shipments = select(Shipment.id).where(col(Shipment.order_id).in_(_orders(customer_id)))
    return col(ShipmentEvent.shipment_id).in_(shipments)


def _webhook_attempts(customer_id: int) -> sa.ColumnElement[bool]:
    deliveries = select(WebhookDelivery.id).where(col(WebhookDelivery.event_id).in_(_events(customer_id)))
    return col(WebhookAttempt.delivery_id).in_(deliveries)


def _invoice_lines(customer_id: int) -> sa.ColumnElement[bool]:
    return col(InvoiceLine.invoice_id).in_(select(Invoice.id).where(Invoice.customer_id == customer_id))


# A tombstone: a fixed value, or one made from the customer's id.
Tombstone = str | bool | None | Callable[[int], str]


@dataclass(frozen=True)
class Scrub:
    """How one table's rows of the customer lose their personal data. `replace`: column → tombstone, for every
    non-null value (nulls stay null); `redact`: free-text or JSON columns whose quoted erased values become
    "[erased]"; `only`: a further condition on the rows (e.g. events the customer acted in); `delete`: the rows
    go altogether."""

    table: type[SQLModel]
    owned: Owned
    replace: Mapping[str, Tombstone] = field(default_factory=dict)
    redact: tuple[str, ...] = ()
    only: Callable[[], sa.ColumnElement[bool]] | None = None
    delete: bool = False


SCRUBS: tuple[Scrub, ...] = (
    Scrub(CustomerAddress, _by_customer(CustomerAddress.customer_id), delete=True),
    Scrub(
        Customer,
        _by_customer(Customer.id),
        replace={
            "name": TOMBSTONE_NAME,
            "email": tombstone_email,
            "phone": None,
            "phone_digits": None,
            "sms_phone": None,
            "notify_email": False,
            "notify_sms": False,
        },
    ),
    Scrub(
        Order,
        _by_customer(Order.customer_id),
        replace={"ship_name": TOMBSTONE_NAME, "ship_line1": REDACTED, "ship_line2": None, "ship_phone": None},
        redact=("hold_reason",),
    ),
    Scrub(
        Order,
        _by_customer(Order.customer_id),
        replace={"placed_by_name": TOMBSTONE_NAME},
        only=lambda: col(Order.placed_by_kind) == ActorKind.CUSTOMER,
    ),
    Scrub(OrderLine, _by_order(OrderLine.order_id), replace={"customization": REDACTED}),
    Scrub(
        InventoryAdjustment,
        _by_order(InventoryAdjustment.order_id),
        replace={"actor_name": TOMBSTONE_NAME},
        only=lambda: col(InventoryAdjustment.actor_kind) == ActorKind.CUSTOMER,
    ),
    Scrub(InventoryAdjustment, _by_order(InventoryAdjustment.order_id), redact=("reason",)),
    Scrub(OrderEvent, _by_customer(OrderEvent.customer_id), redact=("message", "internal_note")),
    Scrub(
        OrderEvent,
        _by_customer(OrderEvent.customer_id),
        replace={"actor_name": TOMBSTONE_NAME},
        only=lambda: col(OrderEvent.actor_kind) == ActorKind.CUSTOMER,
    ),
    Scrub(Notification, _by_event(Notification.event_id), replace={"recipient": REDACTED}, redact=("last_error",)),
    Scrub(
        Notification,
        _by_event(Notification.event_id),
        replace={"status": NotificationStatus.CANCELLED.value, "next_attempt_at": None},
        only=lambda: col(Notification.status) == NotificationStatus.PENDING,
    ),
    Scrub(Return, _by_order(Return.order_id), redact=("rejected_reason",)),
    Scrub(ShipmentEvent, _shipment_events, redact=("description", "location")),
    Scrub(Payment, _by_order(Payment.order_id), redact=("method_description",)),
    Scrub(
        Invoice,
        _by_customer(Invoice.customer_id),
        replace={
            "buyer_name": TOMBSTONE_NAME,
            "buyer_email": tombstone_email,
            "buyer_tax_id": REDACTED,
            "buyer_line1": REDACTED,
            "buyer_line2": None,
        },
    ),
    Scrub(InvoiceLine, _invoice_lines, redact=("description",)),
    Scrub(WebhookDelivery, _by_event(WebhookDelivery.event_id), redact=("body", "last_error")),
    Scrub(WebhookAttempt, _webhook_attempts, redact=("error",)),
)


# ---- the erased values, and finding them in text ----

_SEPARATORS = r"[\s().\-/]*"


def _phone_pattern(number: str) -> str | None:
    """A regex for the number however it is written: with or without its country code (and + or 00 before it),
    a trunk 0, and any spaces, dots, dashes, slashes or brackets between the digits."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        digits = re.sub(r"\D", "", number)
        return _SEPARATORS.join(digits) if len(digits) >= 6 else None
    national = str(parsed.national_number)
    country = _SEPARATORS.join(str(parsed.country_code))
    prefix = rf"(?:(?:\+|00){_SEPARATORS}{country}{_SEPARATORS}|{country}{_SEPARATORS})?(?:0{_SEPARATORS})?"
    return rf"(?<!\d){prefix}\(?{_SEPARATORS.join(national)}(?!\d)"


@dataclass(frozen=True)
class PersonalValues:
    """The customer's values to find in free text: literal texts (case-insensitive) and phone numbers."""

    texts: frozenset[str]
    phones: frozenset[str]

    def pattern(self) -> re.Pattern[str] | None:
        parts = [p for p in (_phone_pattern(phone) for phone in sorted(self.phones)) if p]
        # Longest first, so "Alice Shopper" goes whole before "Alice" is looked for.
        parts += [re.escape(text) for text in sorted(self.texts, key=len, reverse=True)]
        return re.compile("|".join(parts), re.IGNORECASE) if parts else None


def personal_texts(values: Iterable[str | None], *, names: Iterable[str | None] = ()) -> set[str]:
    """Values worth looking for: each non-blank value, and each name's words of three letters or more."""
    found = {v.strip() for v in values if v and len(v.strip()) >= 3}
    for name in names:
        found |= {word for word in (name or "").split() if len(word) >= 3}
    return found


async def personal_values(session: AsyncSession, customer: Customer) -> PersonalValues:
    customer_id = customer.id
    saved = (await session.exec(select(CustomerAddress).where(CustomerAddress.customer_id == customer_id))).all()
    snapshots = (
        await session.exec(
            select(Order.ship_name, Order.ship_line1, Order.ship_line2, Order.ship_phone).where(
                Order.customer_id == customer_id
            )
        )
    ).all()
    acted_as = (
        await session.exec(
            select(OrderEvent.actor_name)
            .where(OrderEvent.customer_id == customer_id, OrderEvent.actor_kind == ActorKind.CUSTOMER)
            .distinct()
        )
    ).all()
    invoices = (
        await session.exec(
            select(Invoice.buyer_name, Invoice.buyer_email, Invoice.buyer_line1, Invoice.buyer_line2).where(
                Invoice.customer_id == customer_id
            )
        )
    ).all()
    names = [customer.name, *(a.name for a in saved), *(s[0] for s in snapshots), *acted_as, *(i[0] for i in invoices)]
    texts = personal_texts(
        [
            customer.email,
            *names,
            *(v for a in saved for v in (a.line1, a.line2)),
            *(v for s in snapshots for v in (s[1], s[2])),
            *(v for i in invoices for v in i[1:]),
        ],
        names=names,
    )
    texts -= {TOMBSTONE_NAME, REDACTED}
    phones = {
        p for p in (customer.phone, customer.sms_phone, *(a.phone for a in saved), *(s[3] for s in snapshots)) if p
    }
    return PersonalValues(frozenset(texts), frozenset(phones))


def redact(value: Any, pattern: re.Pattern[str]) -> Any:
    """The value with every erased value quoted in it replaced; JSON (text that parses, or a structure) stays
    valid JSON."""
    if isinstance(value, str):
        if value[:1] in "{[":
            try:
                parsed = json.loads(value)
            except ValueError:
                parsed = None
            if isinstance(parsed, (dict, list)):
                return json.dumps(redact(parsed, pattern), ensure_ascii=False)
        return pattern.sub(REDACTED, value)
    if isinstance(value, dict):
        return {redact(k, pattern): redact(v, pattern) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, pattern) for v in value]
    return value


# ---- applying the list ----


async def _apply(session: AsyncSession, scrub: Scrub, customer_id: int, pattern: re.Pattern[str] | None) -> set[Any]:
    """The primary keys of the rows this scrub changed."""
    table = scrub.table
    where = [scrub.owned(customer_id), *([scrub.only()] if scrub.only else [])]
    if scrub.delete:
        pk = sa.inspect(table).primary_key[0]
        gone = set((await session.exec(select(pk).where(*where))).all())
        if gone:
            await session.exec(sa.delete(table).where(pk.in_(gone)))
        return gone
    changed: set[Any] = set()
    pk = sa.inspect(table).primary_key[0]
    owned = list((await session.exec(select(pk).where(*where))).all()) if scrub.replace else []
    for name, tombstone in scrub.replace.items():
        column = getattr(table, name)
        value = tombstone(customer_id) if callable(tombstone) else tombstone
        rows = (await session.exec(select(pk).where(pk.in_(owned), col(column).is_not(None)))).all()
        if rows:
            await session.exec(
                sa.update(table).where(pk.in_(rows)).values({name: value}).execution_options(synchronize_session=False)
            )
            changed |= set(rows)
    if scrub.redact and pattern is not None:
        columns = [getattr(table, name) for name in scrub.redact]
        present = sa.or_(*(col(c).is_not(None) for c in columns))
        for row in (await session.exec(select(pk, *columns).where(*where, present))).all():
            values = {
                name: redacted
                for name, old in zip(scrub.redact, row[1:], strict=True)
                if (redacted := redact(old, pattern)) != old
            }
            if values:
                await session.exec(
                    sa.update(table).where(pk == row[0]).values(values).execution_options(synchronize_session=False)
                )
                changed.add(row[0])
    return changed


def _outbox_files(folder: Path | None, notification_ids: Iterable[int], pattern: re.Pattern[str] | None) -> list[Path]:
    """The notifier's files of these notifications (named "notification-<id>.…"), and any other file quoting an
    erased value."""
    if folder is None or not folder.is_dir():
        return []
    prefixes = tuple(f"notification-{n}." for n in notification_ids)
    found = []
    for path in folder.iterdir():
        if not path.is_file():
            continue
        name = path.name.lstrip(".")
        if prefixes and name.startswith(prefixes):
            found.append(path)
        elif pattern is not None and pattern.search(path.read_bytes().decode("utf-8", "replace")):
            found.append(path)
    return found


async def erase_customer(ctx: RequestContext, customer_id: int) -> Customer:
    """Agents and admins: replaces every personal value of the customer (SCRUBS) and stops every further message;
    NOT_FOUND for no such customer, CUSTOMER_ERASED when already erased."""
    viewer = require_agent(ctx.viewer, "erase customers' personal data")
    now = ctx.clock()
    async with change(ctx.write) as session:
        customer = await session.get(Customer, customer_id, with_for_update=True)
        if customer is None:
            raise Refusal("NOT_FOUND", "No such customer.", ["customerId"])
        if customer.erased_at is not None:
            raise Refusal("CUSTOMER_ERASED", "This customer's personal data is already erased.", ["customerId"])
        pattern = (await personal_values(session, customer)).pattern()
        notified = select(Notification.id).where(col(Notification.event_id).in_(_events(customer_id)))
        notification_ids = [n for n in (await session.exec(notified)).all() if n is not None]
        changed: dict[str, set[Any]] = defaultdict(set)
        for scrub in SCRUBS:
            changed[str(scrub.table.__tablename__)] |= await _apply(session, scrub, customer_id, pattern)
        await session.exec(
            sa.update(Customer)
            .where(col(Customer.id) == customer_id)
            .values(erased_at=now)
            .execution_options(synchronize_session=False)
        )
        # An erased customer buys for no company any more (#21): the link goes, the company's orders stay.
        await session.exec(sa.delete(CompanyBuyer).where(col(CompanyBuyer.customer_id) == customer_id))
        # The files go last, once nothing in the transaction can refuse: they are copies of messages already sent,
        # so a commit that fails after this leaves nothing to restore (erasing again finishes the job).
        files = _outbox_files(ctx.notification_outbox, notification_ids, pattern)
        for path in files:
            path.unlink(missing_ok=True)
        kind, name = actor_of(viewer)
        session.add(
            CustomerErasure(
                customer_id=customer_id,
                erased_at=now,
                actor_kind=kind,
                actor_name=name,
                actor_subject=viewer.subject,
                scrubbed=" ".join(f"{table}={len(rows)}" for table, rows in sorted(changed.items()) if rows),
                outbox_files_deleted=len(files),
            )
        )
        append_event(
            session,
            customer_id=customer_id,
            type=EventType.CUSTOMER_DATA_ERASED,
            message="Personal data erased.",
            visibility=EventVisibility.INTERNAL,
            actor=(kind, name),
        )
        await session.flush()
        await session.refresh(customer)
    return customer
