from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from ordergraph import models
from ordergraph.resolvers import companies as company_resolvers
from ordergraph.resolvers import customers as customer_resolvers
from ordergraph.resolvers import orders as order_resolvers
from ordergraph.schema.common import Address, Money, UserError, money
from ordergraph.schema.info import Info
from ordergraph.schema.node import Node, encode_global_id
from ordergraph.schema.permissions import PersonalData

if TYPE_CHECKING:
    from ordergraph.schema.companies import Company, CompanyBuyer
    from ordergraph.schema.customer_changes import CustomerAddress
    from ordergraph.schema.event import OrderEventConnection
    from ordergraph.schema.notification_settings import MomentPreference, MomentPreferenceInput, QuietHoursWindow
    from ordergraph.schema.order import OrderConnection


@strawberry.type(description="`phone` here is the number SMS updates go to.")
class NotificationPreferences:
    email: bool
    sms: bool
    phone: str | None = strawberry.field(extensions=[PersonalData()])
    locale: str | None = strawberry.field(
        default=None, description="The language the customer chose (updateMyLanguage); null: their order's market's."
    )
    time_zone: str | None = strawberry.field(default=None, description="IANA name; null: their order's market's.")
    customer: strawberry.Private[models.Customer | None] = None

    @strawberry.field(description="SMS quiet hours; null when texts may come at any hour.")
    def quiet_hours(
        self,
    ) -> Annotated["QuietHoursWindow", strawberry.lazy("ordergraph.schema.notification_settings")] | None:
        from ordergraph.schema.notification_settings import quiet_hours_of

        return quiet_hours_of(self.customer) if self.customer is not None else None

    @strawberry.field(description="Every moment with the channels it is told on.")
    async def moments(
        self, info: Info
    ) -> list[Annotated["MomentPreference", strawberry.lazy("ordergraph.schema.notification_settings")]]:
        from ordergraph.schema.notification_settings import moment_preferences

        return await moment_preferences(self.customer, info) if self.customer is not None else []


@strawberry.type(description="For analysts, name, email, phone, addresses and the SMS phone are masked.")
class Customer(Node):
    @classmethod
    def is_type_of(cls, obj: object, _info: Info) -> bool:
        return isinstance(obj, models.Customer)

    @strawberry.field
    def id(root: models.Customer) -> strawberry.ID:
        return strawberry.ID(encode_global_id("Customer", root.id))

    name: str | None = strawberry.field(extensions=[PersonalData()])
    email: str | None = strawberry.field(extensions=[PersonalData()])
    phone: str | None = strawberry.field(extensions=[PersonalData()])
    created_at: datetime

    @strawberry.field
    async def order_count(root: models.Customer, info: Info) -> int:
        return (await info.context.loaders.order_stats_by_customer.load(root.id)).order_count

    @strawberry.field(description="Order totals less cancellations and refunds, in the customer's main currency.")
    async def lifetime_value(root: models.Customer, info: Info) -> Money:
        by_currency = (await info.context.loaders.order_stats_by_customer.load(root.id)).net_minor_by_currency
        if not by_currency:  # no orders yet: zero in the default market's currency
            market = await info.context.loaders.default_market.load("default")
            return money(0, market.currency if market is not None else "USD")
        currency = max(by_currency, key=lambda c: by_currency[c])
        return money(by_currency[currency], currency)

    @strawberry.field(description="Order totals less cancellations and refunds: one entry per currency, by code.")
    async def lifetime_values(root: models.Customer, info: Info) -> list[Money]:
        by_currency = (await info.context.loaders.order_stats_by_customer.load(root.id)).net_minor_by_currency
        return [money(by_currency[currency], currency) for currency in sorted(by_currency)]

    @strawberry.field
    def notification_preferences(root: models.Customer, info: Info) -> NotificationPreferences:
        if company_resolvers.reached_as_colleague(info.context.viewer, root.id):
            return NotificationPreferences(email=False, sms=False, phone=None)
        return NotificationPreferences(
            email=root.notify_email,
            sms=root.notify_sms,
            phone=root.sms_phone,
            locale=root.locale,
            time_zone=root.time_zone,
            customer=root,
        )

    @strawberry.field(extensions=[PersonalData(masked=[])])
    async def addresses(root: models.Customer, info: Info) -> list[Address]:
        if company_resolvers.reached_as_colleague(info.context.viewer, root.id):
            return []
        return await info.context.loaders.addresses_by_customer.load(root.id)

    @strawberry.field(
        extensions=[PersonalData(masked=[])],
        description="The saved addresses with their IDs and defaults, for editing (addresses, read-only, is the same).",
    )
    async def address_book(
        root: models.Customer, info: Info
    ) -> list[Annotated["CustomerAddress", strawberry.lazy("ordergraph.schema.customer_changes")]]:
        if company_resolvers.reached_as_colleague(info.context.viewer, root.id):
            return []
        return await info.context.loaders.addresses_by_customer.load(root.id)

    erased_at: datetime | None = strawberry.field(
        description="When the customer's personal data was erased (eraseCustomerPersonalData); null before."
    )

    @strawberry.field
    async def orders(
        root: models.Customer, info: Info, first: int | None = None, after: str | None = None
    ) -> Annotated["OrderConnection", strawberry.lazy("ordergraph.schema.order")]:
        if company_resolvers.reached_as_colleague(info.context.viewer, root.id):
            return company_resolvers.empty_page(order_resolvers.CUSTOMER_ORDERS_SORT)  # type: ignore[return-value]
        return await order_resolvers.customer_orders(info.context, root.id, first=first, after=after)

    @strawberry.field(description="Everything that happened to the customer and their orders, newest first.")
    async def activity(
        root: models.Customer, info: Info, first: int | None = None, after: str | None = None
    ) -> Annotated["OrderEventConnection", strawberry.lazy("ordergraph.schema.event")]:
        if company_resolvers.reached_as_colleague(info.context.viewer, root.id):
            return company_resolvers.empty_page(customer_resolvers.ACTIVITY_SORT)  # type: ignore[return-value]
        return await customer_resolvers.customer_activity(info.context, root, first=first, after=after)

    @strawberry.field(description="The company the customer buys for (#21); null when none.")
    async def company(
        root: models.Customer, info: Info
    ) -> Annotated["Company", strawberry.lazy("ordergraph.schema.companies")] | None:
        return await company_resolvers.company_of_customer(info.context, root.id)

    @strawberry.field(description="The customer's place in their company, with their role (#21); null when none.")
    async def company_membership(
        root: models.Customer, info: Info
    ) -> Annotated["CompanyBuyer", strawberry.lazy("ordergraph.schema.companies")] | None:
        return await company_resolvers.visible_buyer(info.context, root.id)


@strawberry.input(
    description="Only what is given changes. SMS needs a phone (international form); an empty phone removes it."
)
class NotificationPreferencesInput:
    email: bool | None = None
    sms: bool | None = None
    phone: str | None = None
    moments: (
        list[Annotated["MomentPreferenceInput", strawberry.lazy("ordergraph.schema.notification_settings")]] | None
    ) = strawberry.field(default=None, description="Channels per moment; moments not named keep their choice.")
    time_zone: str | None = strawberry.field(default=None, description="IANA name, e.g. Europe/Prague; empty clears.")
    quiet_hours_start: str | None = strawberry.field(
        default=None, description="HH:MM, SMS quiet hours from (with quietHoursEnd; both empty clear them)."
    )
    quiet_hours_end: str | None = None


@strawberry.type
class CustomerPayload:
    customer: Customer | None
    user_errors: list[UserError]
