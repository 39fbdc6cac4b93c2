"""Returns (docs/domain.md, Return: REQUESTED → APPROVED (label issued) → RECEIVED → REFUNDED, or REJECTED).

- requestReturn: the customer on their own order, an agent on any. Only delivered or collected units, each
  within the return window of its own delivery, never more than was delivered less what is returned or
  already in an open return; a reason per line. MAIL, or STORE_DROP_OFF at a location that takes returns.
  A return whose refund value is at most the auto-approval limit is APPROVED at once.
- approveReturn, rejectReturn (agents).
- receiveReturn (agents): the received quantities per line (fewer than expected is allowed, and shown);
  units received sellable go back into the receiving location's on-hand stock; the received units' price
  with their tax is refunded through the payment port; the line ledger and the order's status follow.

`eligibility` is the one rule both requestReturn and `Order.returnableLines` apply.
"""

import secrets
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ordergraph.models import (
    FulfillmentOrder,
    FulfillmentOrderLine,
    InventoryAdjustment,
    InventoryLevel,
    Location,
    Market,
    Order,
    OrderLine,
    Return,
    ReturnLine,
    Shipment,
)
from ordergraph.models.columns import id_of, utcnow
from ordergraph.models.enums import (
    ActorKind,
    DeliveryKind,
    EventType,
    EventVisibility,
    FulfillmentOrderStatus,
    ReturnMethod,
    ReturnReason,
    ReturnStatus,
)
from ordergraph.models.money import share, to_decimal
from ordergraph.models.tax import added_tax
from ordergraph.resolvers import payments
from ordergraph.resolvers.access import require_agent, require_authenticated
from ordergraph.resolvers.context import RequestContext
from ordergraph.resolvers.errors import Forbidden, Refusal
from ordergraph.resolvers.events import SYSTEM, actor_of, append_event, change
from ordergraph.resolvers.order_state import fulfillment_orders, order_for_change, order_lines, refresh_order_status

OPEN_RETURNS = frozenset({ReturnStatus.REQUESTED, ReturnStatus.APPROVED})
DELIVERED_FULFILLMENT = frozenset({FulfillmentOrderStatus.DELIVERED, FulfillmentOrderStatus.PICKED_UP})
MAX_LINES = 100
MAX_REASON = 500


# --- eligibility: one rule for requestReturn and Order.returnableLines --------------------------------------


@dataclass(frozen=True, slots=True)
class Delivery:
    """Units of one order line that reached the customer at one moment (a delivered shipment, a pickup)."""

    order_line_id: int
    quantity: int
    at: datetime


@dataclass(frozen=True, slots=True)
class Eligibility:
    returnable: dict[int, int]  # order line id → units that may be returned now
    outstanding: dict[int, int]  # order line id → delivered units neither returned nor in an open return, window aside


def deliveries(
    fulfillment: Iterable[FulfillmentOrder],
    fo_lines: Mapping[int, Sequence[FulfillmentOrderLine]],
    shipments: Iterable[Shipment],
) -> list[Delivery]:
    """When each delivered fulfillment order's units arrived: its shipment's delivery, or the pickup."""
    delivered_at = {s.fulfillment_order_id: s.delivered_at for s in shipments if s.delivered_at is not None}
    result = []
    for fo in fulfillment:
        if fo.status not in DELIVERED_FULFILLMENT:
            continue
        # A pickup's updated_at is when it was collected (resolvers.fulfillment_steps.confirm_pickup).
        at = delivered_at.get(id_of(fo), fo.updated_at)
        result += [Delivery(line.order_line_id, line.quantity, at) for line in fo_lines.get(id_of(fo), ())]
    return result


def eligibility(
    lines: Iterable[OrderLine],
    delivered: Iterable[Delivery],
    in_open_returns: dict[int, int],
    *,
    now: datetime,
    window: timedelta,
) -> Eligibility:
    """Units returnable per line: delivered within the window of their own delivery, and no more than were
    delivered less those returned and those already in an open return."""
    recent: dict[int, int] = defaultdict(int)
    for delivery in delivered:
        if now - delivery.at <= window:
            recent[delivery.order_line_id] += delivery.quantity
    outstanding = {
        id_of(line): max(line.quantity_delivered - line.quantity_returned - in_open_returns.get(id_of(line), 0), 0)
        for line in lines
    }
    returnable = {line_id: min(recent[line_id], quantity) for line_id, quantity in outstanding.items()}
    return Eligibility({k: v for k, v in returnable.items() if v > 0}, outstanding)


def units_in_returns(returns: Iterable[Return], lines_by_return: Mapping[int, Sequence[ReturnLine]]) -> dict[int, int]:
    """Per order line, the units in returns still open (requested or approved)."""
    units: dict[int, int] = defaultdict(int)
    for ret in returns:
        if ret.status in OPEN_RETURNS:
            for line in lines_by_return.get(id_of(ret), ()):
                units[line.order_line_id] += line.quantity
    return units


async def eligibility_in(
    session: AsyncSession, order: Order, lines: list[OrderLine], *, now: datetime, window: timedelta
) -> Eligibility:
    """`eligibility` read inside a change (the order locked)."""
    fos = await fulfillment_orders(session, id_of(order))
    delivered_fos = [fo.id for fo in fos if fo.status in DELIVERED_FULFILLMENT]
    fo_lines: dict[int, list[FulfillmentOrderLine]] = defaultdict(list)
    if delivered_fos:
        for fo_line in (
            await session.exec(
                select(FulfillmentOrderLine).where(col(FulfillmentOrderLine.fulfillment_order_id).in_(delivered_fos))
            )
        ).all():
            fo_lines[fo_line.fulfillment_order_id].append(fo_line)
    shipments = (await session.exec(select(Shipment).where(Shipment.order_id == order.id))).all()
    returns = list((await session.exec(select(Return).where(Return.order_id == order.id))).all())
    lines_by_return: dict[int, list[ReturnLine]] = defaultdict(list)
    if returns:
        for line in (
            await session.exec(select(ReturnLine).where(col(ReturnLine.return_id).in_([r.id for r in returns])))
        ).all():
            lines_by_return[line.return_id].append(line)
    return eligibility(
        lines, deliveries(fos, fo_lines, shipments), units_in_returns(returns, lines_by_return), now=now, window=window
    )


def refund_tax_minor(line: OrderLine, quantity: int, returned_before: int) -> int:
    """The tax in `quantity` returned units of a line: their share of the line's tax, taken cumulatively (so the
    refunds of a line never add up to more than its tax)."""
    return share(line.tax_minor, returned_before + quantity, line.quantity) - share(
        line.tax_minor, returned_before, line.quantity
    )


def refund_value_minor(line: OrderLine, quantity: int, returned_before: int, *, included: bool = False) -> int:
    """What `quantity` returned units of a line are worth: their price, plus their share of the line's tax where
    prices exclude it (`added_tax`; where they include it, the price holds the tax). Shipping is not refunded."""
    return line.unit_price_minor * quantity + added_tax(
        refund_tax_minor(line, quantity, returned_before), included=included
    )


# --- requestReturn ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReturnLineRequest:
    order_line_id: int
    quantity: int
    reason: ReturnReason


async def request_return(
    ctx: RequestContext,
    order_id: int,
    lines: list[ReturnLineRequest],
    method: ReturnMethod,
    drop_off_location_id: int | None,
) -> Return:
    viewer = require_authenticated(ctx.viewer)
    if not (viewer.is_customer or viewer.is_agent):
        raise Forbidden("Analysts cannot request returns.")
    if not lines or len(lines) > MAX_LINES:
        raise Refusal("INVALID_INPUT", f"A return has 1 to {MAX_LINES} lines.", ["lines"])
    for index, line in enumerate(lines):
        if line.quantity < 1:
            raise Refusal("INVALID_QUANTITY", "Return at least one unit.", ["lines", str(index), "quantity"])
    if method is ReturnMethod.MAIL and drop_off_location_id is not None:
        raise Refusal("INVALID_INPUT", "A mailed return has no drop-off location.", ["dropOffLocationId"])
    now = ctx.clock()
    async with change(ctx.write) as session:
        order = await order_for_change(session, viewer, order_id)
        all_lines = {id_of(line): line for line in await order_lines(session, id_of(order))}
        wanted: dict[int, int] = defaultdict(int)
        first_index: dict[int, int] = {}
        for index, line in enumerate(lines):
            if line.order_line_id not in all_lines:
                raise Refusal("NOT_FOUND", "That line is not on this order.", ["lines", str(index), "orderLineId"])
            wanted[line.order_line_id] += line.quantity
            first_index.setdefault(line.order_line_id, index)
        allowed = await eligibility_in(session, order, list(all_lines.values()), now=now, window=ctx.return_window)
        for line_id, quantity in wanted.items():
            _check_returnable(all_lines[line_id], quantity, allowed, first_index[line_id])
        drop_off = await _drop_off(session, method, drop_off_location_id)

        ret = Return(
            order_id=id_of(order),
            rma_number=_rma_number(),
            status=ReturnStatus.REQUESTED,
            method=method,
            drop_off_location_id=drop_off.id if drop_off else None,
            currency=order.currency,
            requested_at=now,
        )
        session.add(ret)
        await session.flush()
        session.add_all(
            ReturnLine(
                return_id=id_of(ret), order_line_id=line.order_line_id, quantity=line.quantity, reason=line.reason
            )
            for line in lines
        )
        included = order.prices_include_tax
        value = sum(
            refund_value_minor(all_lines[i], q, all_lines[i].quantity_returned, included=included)
            for i, q in wanted.items()
        )
        units = sum(wanted.values())
        append_event(
            session,
            order=order,
            customer_id=order.customer_id,
            type=EventType.RETURN_REQUESTED,
            actor=actor_of(viewer),
            visibility=EventVisibility.CUSTOMER,
            message=f"Return {ret.rma_number} requested for {units} unit(s) "
            f"({'by mail' if drop_off is None else 'drop-off at ' + drop_off.name}).",  # None only for MAIL
            return_id=id_of(ret),
        )
        if value <= await _auto_approve_max_minor(session, ctx, order):
            _approve(session, order, ret, now, SYSTEM, drop_off, automatically=True)
    return ret


async def _auto_approve_max_minor(session: AsyncSession, ctx: RequestContext, order: Order) -> int:
    """The market's limit for approving a return automatically (in its currency); the server setting where the
    market sets none (the US). Orders of the US market never ask: their limit is the setting."""
    if order.market_code == "US":
        return ctx.return_auto_approve_max_minor
    market = await session.get(Market, order.market_code)
    if market is None or market.return_auto_approve_max_minor is None:
        return ctx.return_auto_approve_max_minor
    return market.return_auto_approve_max_minor


def _check_returnable(line: OrderLine, quantity: int, allowed: Eligibility, index: int) -> None:
    field = ["lines", str(index), "quantity"]
    if quantity > line.quantity:
        raise Refusal("INVALID_QUANTITY", f"The line has only {line.quantity} unit(s) of {line.sku}.", field)
    if quantity <= allowed.returnable.get(id_of(line), 0):
        return
    if quantity <= allowed.outstanding.get(id_of(line), 0):
        raise Refusal("RETURN_WINDOW_CLOSED", f"The return window for {line.sku} has closed.", field)
    returnable = allowed.returnable.get(id_of(line), 0)
    raise Refusal(
        "NOT_RETURNABLE",
        f"{returnable} unit(s) of {line.sku} can be returned: only delivered units not returned"
        " or already in a return can.",
        field,
    )


async def _drop_off(session: AsyncSession, method: ReturnMethod, location_id: int | None) -> Location | None:
    if method is ReturnMethod.MAIL:
        return None
    location = await session.get(Location, location_id) if location_id is not None else None
    if location is None or not location.returns_drop_off:
        raise Refusal("DROP_OFF_LOCATION_INVALID", "Choose a store that takes returns.", ["dropOffLocationId"])
    return location


def _rma_number() -> str:
    return f"RMA-{secrets.token_hex(4).upper()}"


# --- approveReturn, rejectReturn -----------------------------------------------------------------------------


async def approve_return(ctx: RequestContext, return_id: int) -> Return:
    viewer = require_agent(ctx.viewer, "approve returns")
    async with change(ctx.write) as session:
        ret, order = await _for_change(session, ctx, return_id)
        _expect(ret, {ReturnStatus.REQUESTED}, "approve")
        drop_off = await session.get(Location, ret.drop_off_location_id) if ret.drop_off_location_id else None
        _approve(session, order, ret, ctx.clock(), actor_of(viewer), drop_off, automatically=False)
    return ret


def _approve(
    session: AsyncSession,
    order: Order,
    ret: Return,
    now: datetime,
    actor: tuple[ActorKind, str | None],
    drop_off: Location | None,
    *,
    automatically: bool,
) -> None:
    ret.status, ret.approved_at = ReturnStatus.APPROVED, now
    session.add(ret)
    if ret.method is ReturnMethod.MAIL:
        then = "print the return label and post the parcel."
    else:
        assert drop_off is not None  # a drop-off return names its store (checked when it was requested)
        then = f"bring the items to {drop_off.name} and show the pass (its code is {ret.rma_number})."
    append_event(
        session,
        order=order,
        customer_id=order.customer_id,
        type=EventType.RETURN_APPROVED,
        actor=actor,
        visibility=EventVisibility.CUSTOMER,
        message=f"Return {ret.rma_number} approved{' automatically' if automatically else ''}: {then}",
        return_id=id_of(ret),
    )


async def reject_return(ctx: RequestContext, return_id: int, reason: str) -> Return:
    viewer = require_agent(ctx.viewer, "reject returns")
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON:
        raise Refusal("INVALID_INPUT", f"Say why the return is rejected (1 to {MAX_REASON} characters).", ["reason"])
    async with change(ctx.write) as session:
        ret, order = await _for_change(session, ctx, return_id)
        _expect(ret, OPEN_RETURNS, "reject")
        ret.status, ret.rejected_reason = ReturnStatus.REJECTED, reason
        session.add(ret)
        append_event(
            session,
            order=order,
            customer_id=order.customer_id,
            type=EventType.RETURN_REJECTED,
            actor=actor_of(viewer),
            visibility=EventVisibility.CUSTOMER,
            message=f"Return {ret.rma_number} rejected: {reason}",
            return_id=id_of(ret),
        )
    return ret


# --- receiveReturn ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReceivedLine:
    order_line_id: int
    quantity: int
    sellable: bool = True


async def receive_return(ctx: RequestContext, return_id: int, received: list[ReceivedLine] | None) -> Return:
    """Without `received`, every line arrived in full and sellable."""
    viewer = require_agent(ctx.viewer, "receive returns")
    now = ctx.clock()
    async with change(ctx.write) as session:
        ret, order = await _for_change(session, ctx, return_id)
        _expect(ret, {ReturnStatus.APPROVED}, "receive")
        return_lines = list(
            (
                await session.exec(
                    select(ReturnLine).where(ReturnLine.return_id == ret.id).order_by(col(ReturnLine.id))
                )
            ).all()
        )
        expected: dict[int, int] = defaultdict(int)
        for rl in return_lines:
            expected[rl.order_line_id] += rl.quantity
        got, sellable = _received(received, expected)
        lines = {line.id: line for line in await order_lines(session, id_of(order))}
        location = await receiving_location(session, ret)

        included = order.prices_include_tax
        refund = 0
        for rl in return_lines:  # spread over the return's lines of each order line, in order
            rl.quantity_received = min(rl.quantity, got[rl.order_line_id])
            got[rl.order_line_id] -= rl.quantity_received
            rl.quantity_restocked = min(rl.quantity_received, sellable[rl.order_line_id])
            sellable[rl.order_line_id] -= rl.quantity_restocked
            # The credit note's line: cumulative shares of the order line's tax, so the lines add up exactly.
            line = lines[rl.order_line_id]
            rl.refund_tax_minor = refund_tax_minor(line, rl.quantity_received, line.quantity_returned)
            rl.refund_minor = line.unit_price_minor * rl.quantity_received + added_tax(
                rl.refund_tax_minor, included=included
            )
            refund += rl.refund_minor
            line.quantity_returned += rl.quantity_received
            session.add(rl)
            session.add(lines[rl.order_line_id])
        restock: dict[str, int] = defaultdict(int)
        for rl in return_lines:
            restock[lines[rl.order_line_id].sku] += rl.quantity_restocked
        await _restock(
            session, restock, id_of(location), order=order, reason=f"returned: {ret.rma_number}", actor=actor_of(viewer)
        )
        if refund > 0:
            await payments.refund(session, ctx.ports.payments, order, refund, return_id=ret.id)
        ret.status, ret.refund_minor, ret.received_at, ret.refunded_at = ReturnStatus.REFUNDED, refund, now, now
        session.add(ret)
        await refresh_order_status(session, order)

        units, of = sum(rl.quantity_received for rl in return_lines), sum(rl.quantity for rl in return_lines)
        append_event(
            session,
            order=order,
            customer_id=order.customer_id,
            type=EventType.RETURN_RECEIVED,
            actor=actor_of(viewer),
            visibility=EventVisibility.CUSTOMER,
            # Restocking is the shop's business, not news for the customer (agents read it in the stock ledger).
            message=f"Return {ret.rma_number}: {units} of {of} unit(s) received at {location.name}.",
            return_id=id_of(ret),
        )
        append_event(
            session,
            order=order,
            customer_id=order.customer_id,
            type=EventType.REFUND_ISSUED,
            actor=SYSTEM,
            visibility=EventVisibility.CUSTOMER,
            message=f"{to_decimal(refund, order.currency)} {order.currency} refunded for return {ret.rma_number}.",
            return_id=id_of(ret),
        )
    return ret


def _received(received: list[ReceivedLine] | None, expected: dict[int, int]) -> tuple[dict[int, int], dict[int, int]]:
    """Per order line: units received, and of them units sellable."""
    got: dict[int, int] = defaultdict(int)
    sellable: dict[int, int] = defaultdict(int)
    if received is None:
        got.update(expected)
        sellable.update(expected)
        return got, sellable
    for index, line in enumerate(received):
        if line.order_line_id not in expected:
            raise Refusal("NOT_FOUND", "That line is not in this return.", ["lines", str(index), "orderLineId"])
        if line.quantity < 0:
            raise Refusal(
                "INVALID_QUANTITY", "A received quantity cannot be negative.", ["lines", str(index), "quantity"]
            )
        got[line.order_line_id] += line.quantity
        if line.sellable:
            sellable[line.order_line_id] += line.quantity
        if got[line.order_line_id] > expected[line.order_line_id]:
            raise Refusal(
                "INVALID_QUANTITY",
                f"Only {expected[line.order_line_id]} unit(s) of that line are in this return.",
                ["lines", str(index), "quantity"],
            )
    if sum(got.values()) == 0:
        raise Refusal(
            "INVALID_QUANTITY", "Receive at least one unit; reject the return if nothing came back.", ["lines"]
        )
    return got, sellable


async def _restock(
    session: AsyncSession,
    quantities: dict[str, int],
    location_id: int,
    *,
    order: Order,
    reason: str,
    actor: tuple[ActorKind, str | None],
) -> None:
    """Sellable units go back on hand where they were received, in (sku) order like every other stock write."""
    for sku in sorted(quantities):
        quantity = quantities[sku]
        if quantity <= 0:
            continue
        session.add(
            InventoryAdjustment(
                sku=sku,
                location_id=location_id,
                on_hand_delta=quantity,
                reason=reason,
                order_id=order.id,
                actor_kind=actor[0],
                actor_name=actor[1],
            )
        )
        result = await session.exec(
            sa.update(InventoryLevel)
            .where(col(InventoryLevel.sku) == sku, col(InventoryLevel.location_id) == location_id)
            .values(on_hand=InventoryLevel.on_hand + quantity, updated_at=utcnow())
        )
        if result.rowcount == 0:  # the location never stocked it: the returned units start its stock there
            session.add(InventoryLevel(sku=sku, location_id=location_id, on_hand=quantity))
            await session.flush()


async def receiving_location(session: AsyncSession, ret: Return) -> Location:
    """Where a return is received: the drop-off store; for MAIL, the location that sent the returned units
    (shipped ones first, earliest first). The label's return address and the restocking agree on it."""
    if ret.drop_off_location_id is not None:
        return await session.get_one(Location, ret.drop_off_location_id)
    line_ids = select(ReturnLine.order_line_id).where(ReturnLine.return_id == ret.id)
    sent = (
        await session.exec(
            select(FulfillmentOrder)
            .join(FulfillmentOrderLine, col(FulfillmentOrderLine.fulfillment_order_id) == col(FulfillmentOrder.id))
            .where(
                FulfillmentOrder.order_id == ret.order_id,
                col(FulfillmentOrder.status).in_(DELIVERED_FULFILLMENT),
                col(FulfillmentOrderLine.order_line_id).in_(line_ids),
            )
        )
    ).all()
    sent = sorted({fo.id: fo for fo in sent}.values(), key=lambda fo: (fo.kind is not DeliveryKind.SHIP, fo.id))
    if not sent:
        sent = await fulfillment_orders(session, ret.order_id)
    return await session.get_one(Location, sent[0].location_id)


# --- shared ---------------------------------------------------------------------------------------------


async def _for_change(session: AsyncSession, ctx: RequestContext, return_id: int) -> tuple[Return, Order]:
    order_id = (await session.exec(select(Return.order_id).where(Return.id == return_id))).first()
    if order_id is None:
        raise Refusal("NOT_FOUND", "No such return.", ["returnId"])
    order = await order_for_change(session, ctx.viewer, order_id)
    ret = (
        await session.exec(select(Return).where(Return.id == return_id).execution_options(populate_existing=True))
    ).one()
    return ret, order


def _expect(ret: Return, allowed: set[ReturnStatus] | frozenset[ReturnStatus], action: str) -> None:
    if ret.status not in allowed:
        raise Refusal(
            "INVALID_TRANSITION", f"Cannot {action} return {ret.rma_number}: it is {ret.status.lower()}.", ["returnId"]
        )
