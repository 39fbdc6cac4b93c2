"""Customers' language and notification preferences per channel and moment (#19): the schema's side; the rules are
resolvers.notification_preferences'."""

import strawberry

from ordergraph import models
from ordergraph.models import enums
from ordergraph.resolvers import localization, notification_preferences
from ordergraph.resolvers.notification_preferences import MomentChoice, QuietHours, clock_time, parse_clock_time
from ordergraph.resolvers.notifications import MOMENTS
from ordergraph.schema.customer import CustomerPayload, NotificationPreferencesInput
from ordergraph.schema.info import Info

NotificationMoment = strawberry.enum(
    enums.NotificationMoment,
    description="What a customer hears about: ORDER_RECEIVED (placed, under review), ORDER_CONFIRMED, "
    "SHIPPING_CHANGED, ORDER_CANCELLED (whole or in part), PARCEL_SHIPPED, PARCEL_DELAYED (a carrier exception), "
    "OUT_FOR_DELIVERY, PARCEL_DELIVERED, ORDER_DELIVERED (everything arrived), READY_FOR_PICKUP (its choice holds "
    "for PICKUP_REMINDER too), PICKUP_REMINDER, RETURN_UPDATE (requested, rejected), RETURN_APPROVED, "
    "RETURN_RECEIVED, REFUND_ISSUED, CUSTOMER_NOTE.",
)


@strawberry.type(description="The channels one moment is told on (each also needs its channel switched on).")
class MomentPreference:
    moment: NotificationMoment
    email: bool
    sms: bool


@strawberry.type(description="SMS quiet hours in the customer's time zone: texts due inside them wait for the end.")
class QuietHoursWindow:
    start: str = strawberry.field(description="HH:MM, local time.")
    end: str = strawberry.field(description="HH:MM, local time; before start when the window spans midnight.")


@strawberry.input
class MomentPreferenceInput:
    moment: NotificationMoment
    email: bool | None = None
    sms: bool | None = None


@strawberry.input(description="A language of `supportedLocales`, or null for the language of the order's market.")
class UpdateMyLanguageInput:
    locale: str | None = None


def moment_choices_input(moments: list[MomentPreferenceInput] | None) -> list[MomentChoice]:
    return [MomentChoice(enums.NotificationMoment(m.moment), m.email, m.sms) for m in moments or []]


def quiet_hours_input(start: str | None, end: str | None) -> tuple[QuietHours | None, bool]:
    """(the window, whether to clear it): both times, or both empty to clear."""
    if start is None and end is None:
        return None, False
    if not (start or "").strip() and not (end or "").strip():
        return None, True
    return QuietHours(
        parse_clock_time(start or "", "quietHoursStart"), parse_clock_time(end or "", "quietHoursEnd")
    ), False


async def moment_preferences(root: models.Customer, info: Info) -> list[MomentPreference]:
    chosen = await notification_preferences.moment_choices(info.context.read, root.id or 0)
    return [
        MomentPreference(
            moment=moment,  # type: ignore[arg-type]  (the strawberry enum is the domain's)
            email=chosen.get(moment, (True, True))[0] and root.notify_email,
            sms=chosen.get(moment, (True, True))[1] and root.notify_sms,
        )
        for moment in MOMENTS
    ]


def quiet_hours_of(root: models.Customer) -> QuietHoursWindow | None:
    if root.quiet_hours_start is None or root.quiet_hours_end is None:
        return None
    return QuietHoursWindow(start=clock_time(root.quiet_hours_start), end=clock_time(root.quiet_hours_end))


@strawberry.type
class NotificationQueries:
    """Mixed into the root Query type (schema/query.py)."""

    @strawberry.field(description="The languages messages and documents are written in (`updateMyLanguage`).")
    def supported_locales(self) -> list[str]:
        return list(localization.LOCALES)


@strawberry.type
class NotificationMutations:
    """Mixed into the root Mutation type (schema/mutation.py)."""

    @strawberry.mutation(description="Customers: the language of their emails, texts and documents.")
    async def update_my_language(self, info: Info, input: UpdateMyLanguageInput) -> CustomerPayload:
        from ordergraph.schema.mutation import answer

        return await answer(
            lambda customer, errors: CustomerPayload(customer=customer, user_errors=errors),
            lambda: notification_preferences.update_language(info.context, input.locale),
        )


__all__ = ["NotificationPreferencesInput"]
