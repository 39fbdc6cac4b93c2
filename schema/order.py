from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry

from ordergraph import models
from ordergraph.models.enums import ApprovalState as ApprovalStateValue
from ordergraph.models.enums import PaymentMethodKind
from ordergraph.models.tax import rate_of_ppm, tax_lines
from ordergraph.resolvers import orders as order_resolvers
from ordergraph.resolvers import timeline
from ordergraph.resolvers.access import free_text, internal_text
from ordergraph.resolvers.pagination import Connection as Page
from ordergraph.schema.catalog import DeliveryMethod
from ordergraph.schema.common import Actor, Address, Connection, Money, money
from ordergraph.schema.customer import Customer
from ordergraph.schema.enums import Channel, OrderStatus
from ordergraph.schema.event import OrderEventConnection, actor
from ordergraph.schema.fulfillment import FulfillmentOrder, Shipment
from ordergraph.schema.info import Info
from ordergraph.schema.invoices import Invoice, invoices_of
from ordergraph.schema.location import Location
from ordergraph.schema.market import Market, TaxLine, tax_line_list
from ordergraph.schema.node import Node, encode_global_id
from ordergraph.schema.payment import Payment
from ordergraph.schema.permissions import PersonalData
from ordergraph.schema.pickup_point import PickupPoint
from ordergraph.schema.returns import Return

if TYPE_CHECKING:
    from ordergraph.schema.companies import Company


@strawberry.type
class OrderLine(Node):
    @classmethod
    def is_type_of(cls, obj: object, _info: Info) -> bool:
        return isinstance(obj, models.OrderLine)

    @strawberry.field
    def id(root: models.OrderLine) -> strawberry.ID:
        return strawberry.ID(encode_global_id("OrderLine", root.id))

    sku: str
    product_name: str

    @strawberry.field(description="The text the customer asked for (free text): null for analysts.")
    def customization(root: models.OrderLine, info: Info) -> str | None:
        return free_text(info.context.viewer, root.customization)

    quantity: int
    quantity_shipped: int
    quantity_cancelled: int
    quantity_delivered: int
    quantity_returned: int

    @strawberry.field
    def unit_price(root: models.OrderLine) -> Money:
        return money(root.unit_price_minor, root.currency)

    @strawberry.field
    def line_total(root: models.OrderLine) -> Money:
        return money(root.line_total_minor, root.currency)

    @strawberry.field(description="The product's tax class when the order was placed (null before markets).")
    def tax_class(root: models.OrderLine) -> str | None:
        return root.tax_class

    @strawberry.field(description="The tax rate applied to the line (null on lines placed before markets).")
    def tax_rate(root: models.OrderLine) -> Decimal | None:
        return None if root.tax_rate_ppm is None else rate_of_ppm(root.tax_rate_ppm)

    @strawberry.field(description="The line's tax: inside its total where the order's prices include tax.")
    def tax(root: models.OrderLine) -> Money:
        return money(root.tax_minor, root.currency)


PaymentMethod = strawberry.enum(PaymentMethodKind, name="PaymentMethod", description="How a company order is paid.")
ApprovalState = strawberry.enum(ApprovalStateValue, name="ApprovalState")


@strawberry.type(description="A company order's approval (#21): PENDING while it awaits an approver of the company.")
class OrderApproval:
    state: ApprovalState
    expires_at: datetime | None = strawberry.field(
        description="While PENDING: when its stock and credit are released and the order cancelled (EXPIRED)."
    )
    decided_at: datetime | None


@strawberry.type
class ReturnableLine:
    order_line: OrderLine
    quantity: int


@strawberry.type
class Order(Node):
    @classmethod
    def is_type_of(cls, obj: object, _info: Info) -> bool:
        return isinstance(obj, models.Order)

    @strawberry.field
    def id(root: models.Order) -> strawberry.ID:
        return strawberry.ID(encode_global_id("Order", root.id))

    number: str
    status: OrderStatus
    channel: Channel
    placed_at: datetime
    promised_delivery_by: datetime | None

    @strawberry.field(description="Why the order is held, while it is (internal text): agents only, null for others.")
    def hold_reason(root: models.Order, info: Info) -> str | None:
        return internal_text(info.context.viewer, root.hold_reason)

    @strawberry.field
    def subtotal(root: models.Order) -> Money:
        return money(root.subtotal_minor, root.currency)

    @strawberry.field
    def shipping_total(root: models.Order) -> Money:
        return money(root.shipping_minor, root.currency)

    @strawberry.field
    def tax_total(root: models.Order) -> Money:
        return money(root.tax_minor, root.currency)

    @strawberry.field
    def total(root: models.Order) -> Money:
        return money(root.total_minor, root.currency)

    @strawberry.field(description="The market of the destination country: the order's currency and tax rules.")
    async def market(root: models.Order, info: Info) -> Market:
        return await info.context.loaders.market.load(root.market_code)

    @strawberry.field(description="True where the prices include tax (VAT): then the tax total is inside the total.")
    def prices_include_tax(root: models.Order) -> bool:
        return root.prices_include_tax

    @strawberry.field(description="The tax per rate, lines and shipping as placed: the taxes add up to taxTotal.")
    async def tax_lines(root: models.Order, info: Info) -> list[TaxLine]:
        lines = await info.context.loaders.lines_by_order.load(root.id)
        return tax_line_list(tax_lines(root, lines), root.currency)

    @strawberry.field(description="The pickup point or parcel locker the order goes to, if any.")
    async def pickup_point(root: models.Order, info: Info) -> PickupPoint | None:
        if root.pickup_point_id is None:
            return None
        return await info.context.loaders.pickup_point.load(root.pickup_point_id)

    @strawberry.field
    async def delivery_method(root: models.Order, info: Info) -> DeliveryMethod:
        return await info.context.loaders.delivery_method.load(root.delivery_method_code)

    @strawberry.field(extensions=[PersonalData()])
    def shipping_address(root: models.Order) -> Address | None:
        return root.shipping_address

    @strawberry.field
    async def pickup_location(root: models.Order, info: Info) -> Location | None:
        if root.pickup_location_id is None:
            return None
        return await info.context.loaders.location.load(root.pickup_location_id)

    @strawberry.field
    async def lines(root: models.Order, info: Info) -> list[OrderLine]:
        return await info.context.loaders.lines_by_order.load(root.id)

    @strawberry.field
    async def shipments(root: models.Order, info: Info) -> list[Shipment]:
        return await info.context.loaders.shipments_by_order.load(root.id)

    @strawberry.field
    async def returns(root: models.Order, info: Info) -> list[Return]:
        return await info.context.loaders.returns_by_order.load(root.id)

    @strawberry.field(description="One invoice per capture, oldest first; their credit notes hang under them.")
    async def invoices(root: models.Order, info: Info) -> list[Invoice]:
        return await invoices_of(info, root.id)  # type: ignore[return-value]

    @strawberry.field
    async def payments(root: models.Order, info: Info) -> list[Payment]:
        return await info.context.loaders.payments_by_order.load(root.id)

    @strawberry.field
    async def fulfillment_orders(root: models.Order, info: Info) -> list[FulfillmentOrder]:
        return await info.context.loaders.fulfillment_orders_by_order.load(root.id)

    @strawberry.field
    async def can_cancel(root: models.Order, info: Info) -> bool:
        return await order_resolvers.can_cancel(info.context, root)

    @strawberry.field
    async def can_change_shipping(root: models.Order, info: Info) -> bool:
        return await order_resolvers.can_change_shipping(info.context, root)

    @strawberry.field
    async def returnable_lines(root: models.Order, info: Info) -> list[ReturnableLine]:
        return await order_resolvers.returnable_lines(info.context, root)

    @strawberry.field(description="Customers see CUSTOMER-visible events only; analysts see no messages.")
    async def timeline(
        root: models.Order, info: Info, first: int | None = None, after: str | None = None
    ) -> OrderEventConnection:
        return await timeline.order_timeline(info.context, root, first=first, after=after)

    @strawberry.field
    async def customer(root: models.Order, info: Info) -> Customer:
        return await info.context.loaders.customer.load(root.customer_id)

    @strawberry.field
    def placed_by(root: models.Order, info: Info) -> Actor:
        return actor(root.placed_by_kind, root.placed_by_name, info)

    @strawberry.field(description="The buyer's company, on a company order (#21); null on consumers' orders.")
    async def company(
        root: models.Order, info: Info
    ) -> Annotated["Company", strawberry.lazy("ordergraph.schema.companies")] | None:
        if root.company_id is None:
            return None
        return await info.context.loaders.company.load(root.company_id)

    @strawberry.field(description="A company order's purchase-order number (unique within its company).")
    def purchase_order_number(root: models.Order) -> str | None:
        return root.purchase_order_number

    @strawberry.field(description="How a company order is paid: CARD or ON_ACCOUNT; null on consumers' orders.")
    def payment_method(root: models.Order) -> PaymentMethod | None:
        return root.payment_method

    @strawberry.field(description="On account: the days after each invoice by which it is due (net 15, 30 or 60).")
    def payment_terms_days(root: models.Order) -> int | None:
        return root.payment_terms_days

    @strawberry.field(description="Null unless the order's total passed its company's approval threshold.")
    def approval(root: models.Order) -> OrderApproval | None:
        if root.approval_state is None:
            return None
        return OrderApproval(
            state=root.approval_state,  # type: ignore[arg-type]
            expires_at=root.approval_expires_at,
            decided_at=root.approval_decided_at,
        )


@strawberry.type(name="OrderConnection")
class OrderConnection(Connection[Order]):
    @strawberry.field
    async def total_count(root: Page) -> int:
        return await root.count()
