"""updateNotificationPreferences: how a customer hears about their orders (email, and SMS once they give a number)."""

import re

from ordergraph.models import Customer
from ordergraph.models.columns import id_of
from ordergraph.models.enums import EventType, EventVisibility
from ordergraph.resolvers.access import require_authenticated
from ordergraph.resolvers.context import RequestContext
from ordergraph.resolvers.errors import Forbidden, Refusal
from ordergraph.resolvers.events import actor_of, append_event, change

# E.164: a plus, a country code and at most fifteen digits in all.
PHONE = re.compile(r"\+[1-9]\d{6,14}")


async def update_notification_preferences(
    ctx: RequestContext, *, email: bool | None, sms: bool | None, phone: str | None
) -> Customer:
    """Changes only what is given; SMS needs a number, given now or before. An empty phone removes it."""
    viewer = require_authenticated(ctx.viewer)
    if viewer.customer_id is None:
        raise Forbidden("Only customers set their own notification preferences.")
    number = (re.sub(r"[\s().-]", "", phone) or None) if phone is not None else None
    if number is not None and not PHONE.fullmatch(number):
        raise Refusal("INVALID_PHONE", "Give the SMS number in international form, e.g. +12125550123.", ["phone"])
    async with change(ctx.write) as session:
        customer = await session.get_one(Customer, viewer.customer_id)
        if email is not None:
            customer.notify_email = email
        if phone is not None:
            customer.sms_phone = number
        if sms is not None:
            customer.notify_sms = sms
        if customer.notify_sms and customer.sms_phone is None:
            raise Refusal("PHONE_REQUIRED", "SMS updates need a phone number.", ["phone"])
        session.add(customer)
        append_event(
            session,
            customer_id=id_of(customer),
            type=EventType.NOTIFICATION_PREFERENCES_UPDATED,
            message=_summary(customer),
            visibility=EventVisibility.CUSTOMER,
            actor=actor_of(viewer),
        )
    return customer


def _summary(customer: Customer) -> str:
    channels = [name for name, on in (("email", customer.notify_email), ("SMS", customer.notify_sms)) if on]
    return f"Order updates by {' and '.join(channels)}." if channels else "Order updates switched off."
