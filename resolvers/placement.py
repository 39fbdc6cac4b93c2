"""placeOrder: an order is validated, priced, screened, reserved, routed and paid for in one
transaction, all or nothing. There is no PENDING order: it exists once all of that has succeeded.

A business order (#21, resolvers.company_orders) ships to a location of the buyer's company, is priced from the
company's price list where it has the SKU, may carry a purchase-order number and be paid on account (the company's
credit, committed in the same transaction), and waits for an approver when its total passes the company's
threshold. Everything else is the same."""

import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ordergraph.loaders import Loaders
from ordergraph.loaders.base import LoaderStatement
from ordergraph.models import (
    AddressFields,
    CompanyLocation,
    Customer,
    CustomerAddress,
    DeliveryMethod,
    Location,
    Market,
    Order,
    OrderLine,
    Product,
)
from ordergraph.models.columns import id_of
from ordergraph.models.enums import (
    ActorKind,
    ApprovalState,
    Channel,
    EventType,
    EventVisibility,
    FulfillmentOrderStatus,
    OrderStatus,
    PaymentMethodKind,
)
from ordergraph.models.money import to_decimal
from ordergraph.models.routing import CartLine, Method, RoutePlan
from ordergraph.models.tax import Priced, price_order, rate_ppm
from ordergraph.models.writes import insert_rows
from ordergraph.resolvers import company_orders, payments
from ordergraph.resolvers.access import Role, Viewer, require_authenticated
from ordergraph.resolvers.context import RequestContext
from ordergraph.resolvers.destination import Recipient, Where, destination_for
from ordergraph.resolvers.erasure import refuse_erased
from ordergraph.resolvers.errors import Forbidden, Refusal
from ordergraph.resolvers.events import SYSTEM, actor_of, append_event, change
from ordergraph.resolvers.markets import market_for_country, price_in, product_prices
from ordergraph.resolvers.order_state import set_derived_status
from ordergraph.resolvers.ports import Ports
from ordergraph.resolvers.ports.fraud import FraudCheck, address_fingerprint
from ordergraph.resolvers.sourcing import plan_route, reserve_and_fulfil

MAX_LINES = 100
MAX_QUANTITY = 999
MAX_IDEMPOTENCY_KEY = 200


@dataclass(frozen=True, slots=True)
class LineRequest:
    sku: str
    quantity: int
    customization: str | None = None


@dataclass(frozen=True, slots=True)
class PlacementRequest:
    customer_id: int | None
    lines: list[LineRequest]
    delivery_method_code: str
    shipping_address: AddressFields | None
    pickup_location_id: int | None
    payment_token: str
    idempotency_key: str
    pickup_point_id: int | None = None
    recipient: Recipient | None = None
    company_location_id: int | None = None
    purchase_order_number: str | None = None
    payment_method: PaymentMethodKind | None = None

    def fingerprint(self) -> str:
        """Tells a replay of this request from a different request under the same idempotency key. Fields added
        later are left out while they are None, so a request hashes as it did before they existed."""
        body = {
            **asdict(self),
            "shipping_address": self.shipping_address.model_dump() if self.shipping_address else None,
        }
        for later in ("pickup_point_id", "recipient", "company_location_id", "purchase_order_number", "payment_method"):
            if body[later] is None:
                del body[later]
        return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Pricing:
    """An order's prices in its market: unit prices and rates per line, the shipping rate, and the totals."""

    market: Market
    unit_price_minor: list[int]
    line_rate: list[Decimal]
    shipping_rate: Decimal
    priced: Priced


async def place_order(ctx: RequestContext, request: PlacementRequest) -> Order:
    viewer = require_authenticated(ctx.viewer)
    customer_id, channel = _customer_and_channel(viewer, request)
    _check_request(request)
    scope = viewer.subject
    fingerprint = request.fingerprint()
    try:
        async with change(ctx.write) as session:
            existing = await _placed_before(session, scope, request.idempotency_key, fingerprint)
            if existing is not None:
                return existing
            placed = await _place(ctx, session, viewer, customer_id, channel, request, scope, fingerprint)
    except IntegrityError:
        # A concurrent request with the same key committed first (the unique index made this one wait).
        async with ctx.read() as session:
            existing = await _placed_before(session, scope, request.idempotency_key, fingerprint)
            if existing is None and request.purchase_order_number and request.company_location_id is not None:
                # Or a concurrent order of the same company took the purchase-order number first.
                location = await session.get(CompanyLocation, request.company_location_id)
                number = request.purchase_order_number.strip()
                if location is not None and await company_orders.purchase_order_taken(
                    session, location.company_id, number
                ):
                    raise Refusal(
                        "PURCHASE_ORDER_NUMBER_TAKEN", "This purchase-order number is used.", ["purchaseOrderNumber"]
                    ) from None
        if existing is None:
            raise
        return existing
    _prime(ctx.loaders, placed)
    return placed.order


@dataclass(frozen=True, slots=True)
class Placed:
    """A new order and the rows its answer reads, as committed."""

    order: Order
    lines: list[OrderLine]
    method: DeliveryMethod
    pickup: Location | None


def _prime(loaders: Loaders, placed: Placed) -> None:
    """The request's loaders are given what placement has just written (it committed: these are the rows), so the
    answer reads nothing back: the order's lines, its delivery method and pickup store, and no shipments or
    returns yet. A loader keeps what it already held."""
    order_id = id_of(placed.order)
    loaders.lines_by_order.prime(order_id, list(placed.lines))
    loaders.shipments_by_order.prime(order_id, [])
    loaders.returns_by_order.prime(order_id, [])
    loaders.delivery_method.prime(placed.method.code, placed.method)
    if placed.pickup is not None:
        loaders.location.prime(id_of(placed.pickup), placed.pickup)


def _customer_and_channel(viewer: Viewer, request: PlacementRequest) -> tuple[int, Channel]:
    if viewer.role is Role.CUSTOMER:
        if viewer.customer_id is None or request.customer_id not in (None, viewer.customer_id):
            raise Forbidden("Customers place orders for themselves only.")
        return viewer.customer_id, Channel.WEB
    if viewer.role is Role.AGENT:
        if request.customer_id is None:
            raise Refusal("INVALID_INPUT", "Name the customer the order is for.", ["customerId"])
        return request.customer_id, Channel.AGENT
    raise Forbidden("Analysts cannot place orders.")


def _check_request(request: PlacementRequest) -> None:
    key = request.idempotency_key.strip()
    if not key or len(key) > MAX_IDEMPOTENCY_KEY:
        raise Refusal(
            "INVALID_INPUT", f"idempotencyKey must hold 1 to {MAX_IDEMPOTENCY_KEY} characters.", ["idempotencyKey"]
        )
    if not request.lines or len(request.lines) > MAX_LINES:
        raise Refusal("INVALID_INPUT", f"An order has 1 to {MAX_LINES} lines.", ["lines"])
    for index, line in enumerate(request.lines):
        if not 1 <= line.quantity <= MAX_QUANTITY:
            raise Refusal(
                "INVALID_QUANTITY", f"Quantities are 1 to {MAX_QUANTITY} per line.", ["lines", str(index), "quantity"]
            )


async def _placed_before(session: AsyncSession, scope: str | None, key: str, fingerprint: str) -> Order | None:
    order = (
        await session.exec(select(Order).where(Order.idempotency_scope == scope, Order.idempotency_key == key))
    ).first()
    if order is not None and order.request_hash != fingerprint:
        raise Refusal(
            "IDEMPOTENCY_KEY_REUSED", "This idempotency key was used for a different order.", ["idempotencyKey"]
        )
    return order


async def _place(
    ctx: RequestContext,
    session: AsyncSession,
    viewer: Viewer,
    customer_id: int,
    channel: Channel,
    request: PlacementRequest,
    scope: str | None,
    fingerprint: str,
) -> Placed:
    now = ctx.clock()
    customer = await session.get(Customer, customer_id)
    if customer is None:
        raise Refusal("NOT_FOUND", "No such customer.", ["customerId"])
    refuse_erased(customer)
    products = await _products(session, request.lines)
    business = await company_orders.business_terms(
        session,
        customer_id,
        company_location_id=request.company_location_id,
        purchase_order_number=request.purchase_order_number,
        payment_method=request.payment_method,
        skus=set(products),
    )
    if business is not None and request.shipping_address is not None:
        raise Refusal(
            "INVALID_INPUT",
            "A company order ships to its company location: leave shippingAddress out.",
            ["shippingAddress"],
        )
    if business is not None and business.payment_method is PaymentMethodKind.CARD and not request.payment_token:
        raise Refusal("INVALID_INPUT", "Give the paymentToken of the card that pays.", ["paymentToken"])
    method = await session.get(DeliveryMethod, request.delivery_method_code)
    if method is None:
        raise Refusal(
            "DELIVERY_METHOD_UNAVAILABLE", f"No delivery method {request.delivery_method_code}.", ["deliveryMethodCode"]
        )
    where = await destination_for(
        session,
        method,
        shipping_address=business.address if business is not None else request.shipping_address,
        pickup_location_id=request.pickup_location_id,
        pickup_point_id=request.pickup_point_id,
        recipient=request.recipient,
        customer_name=customer.name,
        customer_phone=customer.phone,
    )
    destination, pickup = where.destination, where.pickup
    pricing = await _price(session, ctx.ports, request, products, method, where, business)
    priced, market = pricing.priced, pricing.market
    if business is not None and business.terms_days is not None and market.code != business.company.market_code:
        raise Refusal(
            "ON_ACCOUNT_UNAVAILABLE",
            f"{business.company.name}'s account is kept in its own market, not {market.name}: pay by card.",
            ["paymentMethod"],
        )
    point = where.pickup_point
    routing = Method.of(method)
    cart = [
        CartLine(n, line.sku, line.quantity, bool(line.customization)) for n, line in enumerate(request.lines, start=1)
    ]
    plan = await plan_route(session, cart, routing, destination, pickup, now)  # refuses before any payment is asked for

    order = Order(
        number=_order_number(),
        customer_id=customer_id,
        channel=channel,
        status=OrderStatus.CONFIRMED,
        placed_at=now,
        updated_at=now,
        placed_by_kind=ActorKind.CUSTOMER if viewer.role is Role.CUSTOMER else ActorKind.AGENT,
        placed_by_name=viewer.name,
        currency=market.currency,
        market_code=market.code,
        prices_include_tax=market.prices_include_tax,
        subtotal_minor=priced.subtotal_minor,
        shipping_minor=priced.shipping_minor,
        tax_minor=priced.tax_minor,
        total_minor=priced.total_minor,
        shipping_tax_rate_ppm=rate_ppm(pricing.shipping_rate),
        delivery_method_code=method.code,
        promised_delivery_by=plan.promised_delivery_by,
        pickup_location_id=pickup.id if pickup else None,
        pickup_point_id=point.id if point else None,
        idempotency_scope=scope,
        idempotency_key=request.idempotency_key,
        request_hash=fingerprint,
        **shipping_columns(where.ship_to),
        **_business_columns(business, priced.total_minor, now, ctx),
    )
    verdict = ctx.ports.fraud.screen(await _fraud_check(session, customer, order, where.ship_to, now))
    order.hold_reason = verdict.reason if verdict.hold else None
    lines = [
        OrderLine(
            order_id=0,  # set once the order has its id
            line_number=n,
            sku=line.sku,
            product_name=products[line.sku].name,
            customization=line.customization,
            quantity=line.quantity,
            unit_price_minor=pricing.unit_price_minor[n - 1],
            tax_minor=priced.line_tax_minor[n - 1],
            currency=order.currency,
            tax_class=products[line.sku].tax_class,
            tax_rate_ppm=rate_ppm(pricing.line_rate[n - 1]),
        )
        for n, line in enumerate(request.lines, start=1)
    ]
    # Status and promise go into the INSERT: an UPDATE of the order after the reservation would run while its
    # row locks are held (it is needed only when the stock went meanwhile and the order was routed again).
    set_derived_status(order, lines, [FulfillmentOrderStatus.OPEN] * len(plan.allocations))
    # Plain INSERTs (models.writes): the order and its lines are in no session, so a change to them below is
    # written by hand.
    connection = await session.connection()
    await insert_rows(connection, [order])  # a concurrent request with the same idempotency key waits here, then fails
    for line in lines:
        line.order_id = id_of(order)
    await insert_rows(connection, lines)
    if business is not None and business.terms_days is not None:
        payment = await payments.authorize_on_account(session, order, id_of(business.company), business.terms_days)
    else:
        payment = await payments.authorize(session, ctx.ports.payments, order, request.payment_token)
    try:
        routed = await reserve_and_fulfil(
            session, order, lines, plan, routing, destination, pickup, now, actor_of(viewer)
        )
    except Refusal:
        await payments.release_authorization(ctx.ports.payments, payment)  # the stock went meanwhile
        raise
    if routed is not plan:  # routed again: the promise and the number of fulfillment orders may have changed
        plan = routed
        order.promised_delivery_by = plan.promised_delivery_by
        set_derived_status(order, lines, [FulfillmentOrderStatus.OPEN] * len(plan.allocations))
        await connection.execute(
            sa.update(Order)
            .where(col(Order.id) == order.id)
            .values(promised_delivery_by=order.promised_delivery_by, status=order.status, updated_at=order.updated_at)
        )
    _placement_events(session, order, plan, actor_of(viewer))
    return Placed(order, lines, method, pickup)


def _business_columns(
    business: company_orders.BusinessTerms | None, total_minor: int, now: datetime, ctx: RequestContext
) -> dict:
    """A company order's columns; above the company's threshold, its approval PENDING until the reservation time."""
    if business is None:
        return {}
    threshold = business.company.approval_threshold_minor
    waits = threshold is not None and total_minor > threshold
    return {
        "company_id": business.company.id,
        "company_location_id": business.location.id,
        "purchase_order_number": business.purchase_order_number,
        "payment_method": business.payment_method,
        "payment_terms_days": business.terms_days,
        "approval_state": ApprovalState.PENDING if waits else None,
        "approval_expires_at": now + ctx.approval_reservation if waits else None,
    }


async def _products(session: AsyncSession, lines: list[LineRequest]) -> dict[str, Product]:
    skus = {line.sku for line in lines}
    products = {p.sku: p for p in (await session.exec(select(Product).where(col(Product.sku).in_(skus)))).all()}
    for index, line in enumerate(lines):
        product = products.get(line.sku)
        if product is None:
            raise Refusal("UNKNOWN_SKU", f"No product with SKU {line.sku}.", ["lines", str(index), "sku"])
        if line.customization and not product.customizable:
            raise Refusal(
                "NOT_CUSTOMIZABLE", f"{product.name} cannot be customised.", ["lines", str(index), "customization"]
            )
    return products


async def _price(
    session: AsyncSession,
    ports: Ports,
    request: PlacementRequest,
    products: dict[str, Product],
    method: DeliveryMethod,
    where: Where,
    business: company_orders.BusinessTerms | None = None,
) -> Pricing:
    """The market of the destination country, the lines' prices there, the rates of their tax classes and of
    shipping, and the totals (exact minor units; tax added on top only where the market's prices exclude it).
    A company's contract price replaces the catalogue's where its price list (in the market's currency) has the
    SKU."""
    market = await market_for_country(session, where.country)
    if market is None:
        raise Refusal(
            "DELIVERY_METHOD_UNAVAILABLE", f"We do not deliver to {where.country}.", ["shippingAddress", "country"]
        )
    if method.market_code != market.code:
        raise Refusal(
            "DELIVERY_METHOD_UNAVAILABLE", f"{method.name} is not offered in {market.name}.", ["deliveryMethodCode"]
        )
    prices = await product_prices(session, products, market.code)
    contract: Mapping[str, int] = {}
    if business is not None and business.contract_currency == market.currency:
        contract = business.contract_prices
    units: list[int] = []
    for index, line in enumerate(request.lines):
        unit = contract.get(line.sku, price_in(products[line.sku], market, prices))
        if unit is None:
            raise Refusal(
                "PRICE_MISSING",
                f"{products[line.sku].name} has no price in {market.name}.",
                ["lines", str(index), "sku"],
            )
        units.append(unit)
    country, region = where.tax_region
    rates: list[Decimal] = []
    for index, line in enumerate(request.lines):
        tax_class = products[line.sku].tax_class
        rate = ports.tax.rate_for(country, region, tax_class)
        if rate is None:
            raise Refusal("TAX_RATE_MISSING", f"No {tax_class} tax rate in {country}.", ["lines", str(index), "sku"])
        rates.append(rate)
    shipping_rate = ports.tax.rate_for(country, region, market.shipping_tax_class)
    if shipping_rate is None:
        raise Refusal(
            "TAX_RATE_MISSING", f"No {market.shipping_tax_class} tax rate in {country}.", ["deliveryMethodCode"]
        )
    priced = price_order(
        [(unit * line.quantity, rate) for unit, rate, line in zip(units, rates, request.lines, strict=True)],
        method.price_minor,
        shipping_rate,
        included=market.prices_include_tax,
    )
    return Pricing(market, units, rates, shipping_rate, priced)


def _placement_events(
    session: AsyncSession, order: Order, plan: RoutePlan, actor: tuple[ActorKind, str | None]
) -> None:
    customer = order.customer_id
    append_event(
        session,
        order=order,
        customer_id=customer,
        type=EventType.ORDER_PLACED,
        actor=actor,
        message=f"Order {order.number} placed.",
        visibility=EventVisibility.CUSTOMER,
    )
    amount = f"{to_decimal(order.total_minor, order.currency)} {order.currency}"
    append_event(
        session,
        order=order,
        customer_id=customer,
        type=EventType.PAYMENT_AUTHORIZED,
        actor=SYSTEM,
        message=f"{amount} charged to the company's account, net {order.payment_terms_days} days."
        if order.payment_terms_days is not None
        else f"Payment of {amount} authorised.",
        visibility=EventVisibility.INTERNAL,
    )
    if order.approval_state is ApprovalState.PENDING:
        append_event(
            session,
            order=order,
            customer_id=customer,
            type=EventType.ORDER_APPROVAL_REQUESTED,
            actor=SYSTEM,
            message=f"Order {order.number} awaits your company's approval.",
            visibility=EventVisibility.CUSTOMER,
        )
    if order.hold_reason is not None:  # on hold
        append_event(
            session,
            order=order,
            customer_id=customer,
            type=EventType.ORDER_HELD,
            actor=SYSTEM,
            # The screen's finding is a note for agents; the message names no suspicion.
            message=f"Order {order.number} is held for payment review.",
            visibility=EventVisibility.INTERNAL,
            internal_note=order.hold_reason,
        )
    locations = ", ".join(str(location_id) for location_id in plan.allocations)
    append_event(
        session,
        order=order,
        customer_id=customer,
        type=EventType.ORDER_ROUTED,
        actor=SYSTEM,
        message=f"Routed to {len(plan.allocations)} location(s): {locations}.",
        visibility=EventVisibility.INTERNAL,
    )


def _order_number() -> str:
    return f"OG-{secrets.token_hex(5).upper()}"


def shipping_columns(address: AddressFields | None) -> dict:
    """The order's snapshot of the address it ships to (all null for pickup)."""
    if address is None:
        return {f"ship_{name}": None for name in AddressFields.model_fields}
    return {f"ship_{name}": getattr(address, name) for name in AddressFields.model_fields}


def _shipped_to() -> LoaderStatement:
    """One statement, built once: the customer's orders grouped by where they shipped (their counts add up to the
    number of orders; a pickup's group has no street), then the saved addresses (counted 0)."""
    customer_id = sa.bindparam("customer_id", type_=sa.BigInteger)
    shipped_to = (
        sa.select(
            col(Order.ship_line1), col(Order.ship_postal_code), col(Order.ship_country), sa.func.count().label("orders")
        )
        .where(col(Order.customer_id) == customer_id)
        .group_by(col(Order.ship_line1), col(Order.ship_postal_code), col(Order.ship_country))
    )
    saved = sa.select(
        col(CustomerAddress.line1),
        col(CustomerAddress.postal_code),
        col(CustomerAddress.country),
        sa.literal(0, sa.BigInteger),
    ).where(col(CustomerAddress.customer_id) == customer_id)
    return LoaderStatement(sa.union_all(shipped_to, saved))


_SHIPPED_TO = _shipped_to()


async def _fraud_check(
    session: AsyncSession, customer: Customer, order: Order, address: AddressFields | None, now: datetime
) -> FraudCheck:
    rows = await _SHIPPED_TO.rows(await session.connection(), {"customer_id": customer.id})
    previous = sum(int(orders) for *_, orders in rows)
    known = {
        address_fingerprint(line1, postal_code, country)
        for line1, postal_code, country, orders in rows
        if orders == 0 or line1 is not None
    }
    return FraudCheck(
        customer_created_at=customer.created_at,
        customer_order_count=previous,
        total_minor=order.total_minor,
        currency=order.currency,
        shipping_address=address_fingerprint(address.line1, address.postal_code, address.country) if address else None,
        known_addresses=known,
        channel=order.channel,
        now=now,
    )
