from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ordergraph.models.columns import BigIntId, UTCDateTime, enum_column, utcnow
from ordergraph.models.customer import AddressFields
from ordergraph.models.enums import ActorKind, ApprovalState, Channel, HoldReason, OrderStatus, PaymentMethodKind
from ordergraph.models.money import share
from ordergraph.models.tax import added_tax


class Order(SQLModel, table=True):
    """A placed order. `status` is written only from `derive_order_status`, never by hand."""

    __tablename__ = "orders"

    id: int | None = Field(default=None, sa_type=BigIntId, primary_key=True)
    number: str = Field(unique=True)
    customer_id: int = Field(sa_type=BigIntId, foreign_key="customer.id")
    channel: Channel = Field(sa_type=enum_column(Channel))
    status: OrderStatus = Field(sa_type=enum_column(OrderStatus))
    placed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    placed_by_kind: ActorKind = Field(sa_type=enum_column(ActorKind))
    placed_by_name: str | None = None
    currency: str = Field(max_length=3)
    subtotal_minor: int
    shipping_minor: int
    tax_minor: int
    total_minor: int
    # Value taken off the total by cancellations (lines with their tax and shipping share), and refunded.
    cancelled_minor: int = 0
    refunded_minor: int = 0
    delivery_method_code: str = Field(foreign_key="delivery_method.code")
    pickup_location_id: int | None = Field(default=None, sa_type=BigIntId, foreign_key="location.id")
    promised_delivery_by: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Set while the order is on hold: for agents, the hold's internal note (or its code when it has none).
    hold_reason: str | None = None
    # The customer-visible HoldReason of an agent's hold; null for a hold from fraud screening at placement.
    hold_reason_code: HoldReason | None = Field(default=None, sa_type=enum_column(HoldReason))
    # The shipping address as it was when the order was placed or last changed.
    ship_name: str | None = None
    ship_line1: str | None = None
    ship_line2: str | None = None
    ship_city: str | None = None
    ship_region: str | None = None
    ship_postal_code: str | None = None
    ship_country: str | None = None
    ship_phone: str | None = None
    # Idempotent placement: one order per caller and key; the hash tells a replay from a different request.
    idempotency_scope: str | None = None
    idempotency_key: str | None = None
    request_hash: str | None = None
    # The market of the destination country, and whether the order's prices include tax (a snapshot).
    market_code: str = Field(
        default="US", max_length=8, foreign_key="market.code", sa_column_kwargs={"server_default": "US"}
    )
    prices_include_tax: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    # The rate used for the shipping tax, in parts per million; null on orders placed before markets.
    shipping_tax_rate_ppm: int | None = None
    pickup_point_id: int | None = Field(default=None, sa_type=BigIntId, foreign_key="pickup_point.id")
    # Business orders (#21): the buyer's company and ship-to location, the purchase-order number (unique per
    # company), how it is paid, and its approval (null: none needed). Null on consumers' orders.
    company_id: int | None = Field(default=None, sa_type=BigIntId)
    company_location_id: int | None = Field(default=None, sa_type=BigIntId)
    purchase_order_number: str | None = Field(default=None, max_length=64)
    payment_method: PaymentMethodKind | None = Field(default=None, sa_type=enum_column(PaymentMethodKind))
    payment_terms_days: int | None = None
    approval_state: ApprovalState | None = Field(default=None, sa_type=enum_column(ApprovalState))
    # While PENDING: when the stock reserved for it is released if nobody has decided.
    approval_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    approval_decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    approval_decided_by: str | None = None

    __table_args__ = (
        sa.Index("ix_orders_company_placed", "company_id", "placed_at", "id"),
        sa.Index("uq_orders_company_po", "company_id", "purchase_order_number", unique=True),
        sa.Index("ix_orders_customer_placed", "customer_id", "placed_at", "id"),
        sa.Index("ix_orders_status_placed", "status", "placed_at", "id"),
        sa.Index("ix_orders_placed", "placed_at", "id"),
        sa.Index("ix_orders_channel_placed", "channel", "placed_at", "id"),
        sa.Index("ix_orders_market_placed", "market_code", "placed_at", "id"),
        sa.UniqueConstraint("idempotency_scope", "idempotency_key", name="uq_orders_idempotency"),
    )

    @property
    def on_hold(self) -> bool:
        return self.hold_reason is not None

    @property
    def shipping_address(self) -> AddressFields | None:
        if self.ship_line1 is None:
            return None
        # The ship_* columns are written together from one validated address, or all null (pickup): with a
        # first line come the city, the postal code and the country.
        assert self.ship_city is not None
        assert self.ship_postal_code is not None
        assert self.ship_country is not None
        return AddressFields.model_construct(
            name=self.ship_name,
            line1=self.ship_line1,
            line2=self.ship_line2,
            city=self.ship_city,
            region=self.ship_region,
            postal_code=self.ship_postal_code,
            country=self.ship_country,
            phone=self.ship_phone,
        )


class OrderLine(SQLModel, table=True):
    """One SKU of an order with its quantity ledger: quantity = open + cancelled + shipped,
    delivered <= shipped (picked-up units count as shipped and delivered), returned <= delivered."""

    __tablename__ = "order_line"

    id: int | None = Field(default=None, sa_type=BigIntId, primary_key=True)
    order_id: int = Field(sa_type=BigIntId, foreign_key="orders.id", index=True)
    line_number: int
    sku: str = Field(foreign_key="product.sku")
    product_name: str
    customization: str | None = None
    quantity: int
    quantity_cancelled: int = 0
    quantity_shipped: int = 0
    quantity_delivered: int = 0
    quantity_returned: int = 0
    unit_price_minor: int
    tax_minor: int = 0
    currency: str = Field(max_length=3)
    # The product's tax class and the rate used (parts per million); null on lines placed before markets.
    tax_class: str | None = Field(default=None, max_length=16)
    tax_rate_ppm: int | None = None

    __table_args__ = (
        sa.CheckConstraint(
            "quantity > 0 AND quantity_cancelled >= 0 AND quantity_shipped >= 0"
            " AND quantity_cancelled + quantity_shipped <= quantity"
            " AND quantity_delivered <= quantity_shipped AND quantity_returned <= quantity_delivered",
            name="ledger",
        ),
    )

    @property
    def quantity_open(self) -> int:
        return self.quantity - self.quantity_cancelled - self.quantity_shipped

    @property
    def line_total_minor(self) -> int:
        return self.unit_price_minor * self.quantity


def cancelled_value_minor(order: Order, lines: list[OrderLine]) -> int:
    """What cancellations take off the order's total: each cancelled unit's price and its share of the line's
    tax, plus shipping and the tax on it once every unit is cancelled (then it is the whole total). Where prices
    include tax, the tax is inside them and adds nothing (`added_tax`)."""
    included = order.prices_include_tax
    value = sum(
        line.unit_price_minor * line.quantity_cancelled
        + added_tax(share(line.tax_minor, line.quantity_cancelled, line.quantity), included=included)
        for line in lines
    )
    if all(line.quantity_cancelled == line.quantity for line in lines):
        shipping_tax = order.tax_minor - sum(line.tax_minor for line in lines)
        value += order.shipping_minor + added_tax(shipping_tax, included=included)
    return value
