"""cancelOrder: the whole order, or some line quantities, before they leave. Their stock is released,
the order's total falls by their value, and the payment is voided (or refunded) by as much. When what is
cancelled was all that had not left yet, the rest of the authorisation (the shipping share of the units that
did leave: shipping is charged once, however many units are cancelled) is captured, as the last fulfillment
order to leave would have.

Every cancellation has a CancellationReason, which the customer reads (the event's message is built from it and
nothing else, and the email and SMS carry that message), and may have an internal note, which only agents read.
A customer cancels with CUSTOMER_REQUEST (the default) or DUPLICATE_ORDER; an agent with any code (OTHER by
default). The free-text `reason` is the internal note: an agent's, or the customer's own words, kept for agents
and never echoed back in the customer's timeline, emails or texts."""

from collections import defaultdict
from collections.abc import Mapping

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ordergraph.models import FulfillmentOrder, FulfillmentOrderLine, Order, OrderLine
from ordergraph.models.columns import id_of, utcnow
from ordergraph.models.enums import ActorKind, CancellationReason, EventType, EventVisibility, FulfillmentOrderStatus
from ordergraph.models.fulfillment import NOT_YET_LEFT
from ordergraph.models.money import to_decimal
from ordergraph.models.order import cancelled_value_minor
from ordergraph.resolvers import payments
from ordergraph.resolvers.access import Viewer, require_authenticated
from ordergraph.resolvers.context import RequestContext
from ordergraph.resolvers.errors import Forbidden, Refusal
from ordergraph.resolvers.events import SYSTEM, actor_of, append_event, change
from ordergraph.resolvers.fulfillment_steps import HOLDING, append_captured_event
from ordergraph.resolvers.order_changes import internal_note
from ordergraph.resolvers.order_state import fulfillment_orders, order_for_change, order_lines, refresh_order_status
from ordergraph.resolvers.ports.payment import PaymentGateway
from ordergraph.resolvers.stock import StockMove, release_stock

# What the customer reads after "Order … cancelled" or "… unit(s) cancelled": the code in words, nothing else.
CUSTOMER_TEXTS: Mapping[CancellationReason, str] = {
    CancellationReason.CUSTOMER_REQUEST: " at your request",
    CancellationReason.DUPLICATE_ORDER: " as a duplicate order",
    CancellationReason.OUT_OF_STOCK: ": an item is out of stock",
    CancellationReason.PAYMENT_ISSUE: ": we could not confirm the payment",
    CancellationReason.UNDELIVERABLE_ADDRESS: ": we cannot deliver to the address given",
    CancellationReason.OTHER: "",
}
# The codes a customer may give their own cancellation; the others are the shop's reasons.
CUSTOMER_CODES = (CancellationReason.CUSTOMER_REQUEST, CancellationReason.DUPLICATE_ORDER)


def cancellation_code(viewer: Viewer, code: CancellationReason | None) -> CancellationReason:
    """The cancellation's code: the one given, else CUSTOMER_REQUEST for a customer and OTHER for an agent."""
    if code is None:
        return CancellationReason.CUSTOMER_REQUEST if viewer.is_customer else CancellationReason.OTHER
    if viewer.is_customer and code not in CUSTOMER_CODES:
        allowed = " or ".join(CUSTOMER_CODES)
        raise Refusal("INVALID_INPUT", f"Cancel your order with reasonCode {allowed}.", ["reasonCode"])
    return code


async def cancel_order(
    ctx: RequestContext,
    order_id: int,
    lines: list[tuple[int, int]] | None,
    reason: str | None,
    reason_code: CancellationReason | None = None,
) -> Order:
    viewer = require_authenticated(ctx.viewer)
    if not (viewer.is_customer or viewer.is_agent):
        raise Forbidden("Analysts cannot change orders.")
    code = cancellation_code(viewer, reason_code)
    note = internal_note(reason, "reason")
    async with change(ctx.write) as session:
        order = await order_for_change(session, viewer, order_id)
        await cancel_in(session, ctx.ports.payments, order, lines, code=code, note=note, actor=actor_of(viewer))
    return order


async def cancel_in(
    session: AsyncSession,
    gateway: PaymentGateway,
    order: Order,
    lines: list[tuple[int, int]] | None,
    *,
    code: CancellationReason,
    note: str | None,
    actor: tuple[ActorKind, str | None],
) -> None:
    """The cancellation itself, in the caller's change on the locked `order` (cancelOrder; an approver's rejection
    and an expired approval, resolvers.company_orders): stock released, payment voided or refunded (an order on
    account gives its company's credit back, resolvers.payments), status derived, events appended."""
    all_lines = {id_of(line): line for line in await order_lines(session, id_of(order))}
    held = await _cancellable_units(session, order)
    wanted = _wanted(lines, all_lines, held)
    value_before = order.cancelled_minor
    moves = await _take_from_fulfillment(session, held, wanted, all_lines)
    for line_id, quantity in wanted.items():
        all_lines[line_id].quantity_cancelled += quantity
        session.add(all_lines[line_id])
    order.cancelled_minor = cancelled_value_minor(order, list(all_lines.values()))
    await release_stock(session, moves, order_id=id_of(order), reason=f"cancelled: order {order.number}", actor=actor)
    await payments.settle_reduction(session, gateway, order, order.cancelled_minor - value_before)
    captured = await _capture_remainder(session, gateway, order, list(all_lines.values()))
    await refresh_order_status(session, order)
    units = sum(wanted.values())
    everything = all(line.quantity_cancelled == line.quantity for line in all_lines.values())
    what = f"Order {order.number} cancelled" if everything else f"{units} unit(s) cancelled"
    append_event(
        session,
        order=order,
        customer_id=order.customer_id,
        actor=actor,
        visibility=EventVisibility.CUSTOMER,
        type=EventType.ORDER_CANCELLED if everything else EventType.LINES_CANCELLED,
        message=f"{what}{CUSTOMER_TEXTS[code]}.",
        reason_code=code,
        internal_note=note,
    )
    reduced = to_decimal(order.cancelled_minor - value_before, order.currency)
    append_event(
        session,
        order=order,
        customer_id=order.customer_id,
        actor=SYSTEM,
        visibility=EventVisibility.INTERNAL,
        type=EventType.PAYMENT_VOIDED,
        message=f"{reduced} {order.currency} voided or refunded.",
    )
    append_captured_event(session, order, captured)


async def _capture_remainder(
    session: AsyncSession, gateway: PaymentGateway, order: Order, lines: list[OrderLine]
) -> int:
    """With nothing left to leave and something gone, captures what is still authorised."""
    if not any(line.quantity_shipped for line in lines):
        return 0
    if any(fo.status in HOLDING for fo in await fulfillment_orders(session, id_of(order))):
        return 0
    amount = payments.capturable_minor(await payments.payments_of(session, order))
    return await payments.capture(session, gateway, order, amount) if amount > 0 else 0


async def _cancellable_units(
    session: AsyncSession, order: Order
) -> dict[int, list[tuple[FulfillmentOrder, FulfillmentOrderLine]]]:
    """Per order line, the fulfillment lines still holding its units where they may be cancelled."""
    held: dict[int, list[tuple[FulfillmentOrder, FulfillmentOrderLine]]] = defaultdict(list)
    cancellable = [fo for fo in await fulfillment_orders(session, id_of(order)) if fo.status in NOT_YET_LEFT]
    if not cancellable:
        return held
    by_id = {fo.id: fo for fo in cancellable}
    query = (
        select(FulfillmentOrderLine)
        .where(col(FulfillmentOrderLine.fulfillment_order_id).in_(by_id))
        .order_by(col(FulfillmentOrderLine.id))
    )
    for fo_line in (await session.exec(query)).all():
        held[fo_line.order_line_id].append((by_id[fo_line.fulfillment_order_id], fo_line))
    return held


def _wanted(
    lines: list[tuple[int, int]] | None,
    all_lines: dict[int, OrderLine],
    held: dict[int, list[tuple[FulfillmentOrder, FulfillmentOrderLine]]],
) -> dict[int, int]:
    """Units to cancel per order line: everything cancellable when no lines are named."""
    cancellable = {line_id: sum(fo_line.quantity for _, fo_line in pairs) for line_id, pairs in held.items()}
    if lines is None:
        everything = {line_id: quantity for line_id, quantity in cancellable.items() if quantity > 0}
        if not everything:
            raise Refusal("NOT_CANCELLABLE", "Nothing on this order can be cancelled any more.", ["orderId"])
        return everything
    if not lines:
        raise Refusal("INVALID_INPUT", "Name at least one line, or leave lines out to cancel everything.", ["lines"])
    wanted: dict[int, int] = defaultdict(int)
    for index, (line_id, quantity) in enumerate(lines):
        if line_id not in all_lines:
            raise Refusal("NOT_FOUND", "That line is not on this order.", ["lines", str(index), "orderLineId"])
        if quantity < 1:
            raise Refusal("INVALID_QUANTITY", "Cancel at least one unit.", ["lines", str(index), "quantity"])
        wanted[line_id] += quantity
    for line_id, quantity in wanted.items():
        line = all_lines[line_id]
        if quantity > cancellable.get(line_id, 0):
            code = "ALREADY_SHIPPED" if quantity <= line.quantity - line.quantity_cancelled else "INVALID_QUANTITY"
            raise Refusal(
                code, f"Only {cancellable.get(line_id, 0)} unit(s) of {line.sku} can still be cancelled.", ["lines"]
            )
    return dict(wanted)


async def _take_from_fulfillment(
    session: AsyncSession,
    held: dict[int, list[tuple[FulfillmentOrder, FulfillmentOrderLine]]],
    wanted: dict[int, int],
    all_lines: dict[int, OrderLine],
) -> list[StockMove]:
    """Takes the units off their fulfillment orders; one left with nothing to do is CANCELLED."""
    moves, touched = [], {}
    for line_id, quantity in wanted.items():
        for fulfillment, fo_line in held[line_id]:
            taken = min(quantity, fo_line.quantity)
            if taken == 0:
                continue
            moves.append(StockMove(all_lines[line_id].sku, fulfillment.location_id, taken))
            fo_line.quantity -= taken
            quantity -= taken
            touched[fulfillment.id] = fulfillment
            if fo_line.quantity == 0:
                await session.delete(fo_line)
            else:
                session.add(fo_line)
    await session.flush()
    for fulfillment in touched.values():
        remaining = (
            await session.exec(
                select(FulfillmentOrderLine.id)
                .where(FulfillmentOrderLine.fulfillment_order_id == fulfillment.id)
                .limit(1)
            )
        ).first()
        if remaining is None:
            fulfillment.status = FulfillmentOrderStatus.CANCELLED
            fulfillment.updated_at = utcnow()
            session.add(fulfillment)
    return moves
