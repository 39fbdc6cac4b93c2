"""How a customer hears about their orders: updateNotificationPreferences (channels, SMS number, per-moment choices,
SMS quiet hours and time zone) and updateMyLanguage (the language of their messages and documents)."""

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ordergraph.loaders.base import ReadSession
from ordergraph.models import Customer, NotificationMomentPreference
from ordergraph.models.columns import id_of
from ordergraph.models.enums import EventType, EventVisibility, NotificationMoment
from ordergraph.resolvers import localization as l10n
from ordergraph.resolvers.access import Viewer, require_authenticated
from ordergraph.resolvers.context import RequestContext
from ordergraph.resolvers.erasure import refuse_erased
from ordergraph.resolvers.errors import Forbidden, Refusal
from ordergraph.resolvers.events import actor_of, append_event, change

# E.164: a plus, a country code and at most fifteen digits in all.
PHONE = re.compile(r"\+[1-9]\d{6,14}")
CLOCK_TIME = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")


@dataclass(frozen=True, slots=True)
class MomentChoice:
    """A customer's channels for one moment; None leaves a channel as it was."""

    moment: NotificationMoment
    email: bool | None = None
    sms: bool | None = None


@dataclass(frozen=True, slots=True)
class QuietHours:
    """From `start` to `end`, minutes after local midnight (across midnight when start > end)."""

    start: int
    end: int


async def update_notification_preferences(
    ctx: RequestContext,
    *,
    email: bool | None,
    sms: bool | None,
    phone: str | None,
    moments: Sequence[MomentChoice] = (),
    time_zone: str | None = None,
    quiet_hours: QuietHours | None = None,
    clear_quiet_hours: bool = False,
) -> Customer:
    """Changes only what is given; SMS needs a number, given now or before. An empty phone removes it. An erased
    customer is refused (CUSTOMER_ERASED), as for every other change of theirs."""
    viewer = require_authenticated(ctx.viewer)
    customer_id = _own(viewer)
    number = (re.sub(r"[\s().-]", "", phone) or None) if phone is not None else None
    if number is not None and not PHONE.fullmatch(number):
        raise Refusal("INVALID_PHONE", "Give the SMS number in international form, e.g. +12125550123.", ["phone"])
    if time_zone is not None and time_zone and not l10n.is_time_zone(time_zone):
        raise Refusal("INVALID_TIME_ZONE", "Give a time zone by its IANA name, e.g. Europe/Prague.", ["timeZone"])
    if len({choice.moment for choice in moments}) != len(moments):
        raise Refusal("INVALID_INPUT", "Name each moment once.", ["moments"])
    async with change(ctx.write) as session:
        customer = await session.get_one(Customer, customer_id)
        refuse_erased(customer)  # an erased customer's record is a tombstone: it takes no new choices
        if email is not None:
            customer.notify_email = email
        if phone is not None:
            customer.sms_phone = number
        if sms is not None:
            customer.notify_sms = sms
        if customer.notify_sms and customer.sms_phone is None:
            raise Refusal("PHONE_REQUIRED", "SMS updates need a phone number.", ["phone"])
        if time_zone is not None:
            customer.time_zone = time_zone or None
        if clear_quiet_hours:
            customer.quiet_hours_start = customer.quiet_hours_end = None
        elif quiet_hours is not None:
            customer.quiet_hours_start, customer.quiet_hours_end = quiet_hours.start, quiet_hours.end
        session.add(customer)
        await _choose(session, id_of(customer), moments)
        append_event(
            session,
            customer_id=id_of(customer),
            type=EventType.NOTIFICATION_PREFERENCES_UPDATED,
            message=_summary(customer),
            visibility=EventVisibility.CUSTOMER,
            actor=actor_of(viewer),
        )
    return customer


async def update_language(ctx: RequestContext, locale: str | None) -> Customer:
    """updateMyLanguage: one of the shipped locales, or null for their order's market's language."""
    customer_id = _own(require_authenticated(ctx.viewer))
    if locale is not None and locale not in l10n.LOCALES:
        raise Refusal("UNSUPPORTED_LOCALE", f"Choose one of: {', '.join(l10n.LOCALES)}.", ["locale"])
    async with change(ctx.write) as session:
        customer = await session.get_one(Customer, customer_id)
        refuse_erased(customer)
        customer.locale = locale
        session.add(customer)
    return customer


def parse_clock_time(value: str, field: str) -> int:
    """ "22:30" → 1350 minutes after midnight."""
    match = CLOCK_TIME.fullmatch(value.strip())
    if match is None:
        raise Refusal("INVALID_INPUT", "Give a time of day as HH:MM, e.g. 22:00.", [field])
    return int(match.group(1)) * 60 + int(match.group(2))


def clock_time(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


async def moment_choices(read: ReadSession, customer_id: int) -> dict[NotificationMoment, tuple[bool, bool]]:
    """Per moment that has a choice of its own, (email, sms); moments without one follow the channel switches."""
    async with read() as session:
        rows = (
            await session.exec(
                select(NotificationMomentPreference).where(NotificationMomentPreference.customer_id == customer_id)
            )
        ).all()
    return {NotificationMoment(row.moment): (row.email, row.sms) for row in rows}


async def _choose(session: AsyncSession, customer_id: int, moments: Sequence[MomentChoice]) -> None:
    if not moments:
        return
    existing = {
        row.moment: row
        for row in (
            await session.exec(
                select(NotificationMomentPreference).where(
                    NotificationMomentPreference.customer_id == customer_id,
                    col(NotificationMomentPreference.moment).in_([choice.moment.value for choice in moments]),
                )
            )
        ).all()
    }
    for choice in moments:
        row = existing.get(choice.moment.value) or NotificationMomentPreference(
            customer_id=customer_id, moment=choice.moment.value
        )
        if choice.email is not None:
            row.email = choice.email
        if choice.sms is not None:
            row.sms = choice.sms
        session.add(row)


def _own(viewer: Viewer) -> int:
    """The customer's own id: only customers set their preferences."""
    if viewer.customer_id is None:
        raise Forbidden("Only customers set their own notification preferences.")
    return viewer.customer_id


def _summary(customer: Customer) -> str:
    channels = [name for name, on in (("email", customer.notify_email), ("SMS", customer.notify_sms)) if on]
    return f"Order updates by {' and '.join(channels)}." if channels else "Order updates switched off."
