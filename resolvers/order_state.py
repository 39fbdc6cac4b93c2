"""What every change to an order starts and ends with: the order, locked and allowed, and its status
derived again from what the change did."""

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ordergraph.models import FulfillmentOrder, Order, OrderLine
from ordergraph.models.columns import id_of, utcnow
from ordergraph.models.enums import ApprovalState, FulfillmentOrderStatus
from ordergraph.models.status import LineQuantities, derive_order_status
from ordergraph.resolvers.access import Viewer, can_see_customer
from ordergraph.resolvers.errors import Refusal


async def order_for_change(session: AsyncSession, viewer: Viewer, order_id: int) -> Order:
    """The order, locked until the change commits (PostgreSQL; SQLite writers are serialised anyway).
    Another customer's order is refused exactly like an unknown one, so probing learns nothing."""
    order = (await session.exec(select(Order).where(Order.id == order_id).with_for_update())).first()
    if order is None or not can_see_customer(viewer, order.customer_id):
        raise Refusal("NOT_FOUND", "No such order.", ["orderId"])
    return order


async def order_lines(session: AsyncSession, order_id: int) -> list[OrderLine]:
    return list(
        (
            await session.exec(
                select(OrderLine).where(OrderLine.order_id == order_id).order_by(col(OrderLine.line_number))
            )
        ).all()
    )


async def fulfillment_orders(session: AsyncSession, order_id: int) -> list[FulfillmentOrder]:
    query = select(FulfillmentOrder).where(FulfillmentOrder.order_id == order_id).order_by(col(FulfillmentOrder.id))
    return list((await session.exec(query)).all())


async def refresh_order_status(session: AsyncSession, order: Order) -> None:
    """Status is never set by hand: derived from the hold, the line ledger and the fulfillment orders."""
    await session.flush()
    statuses = [fo.status for fo in await fulfillment_orders(session, id_of(order))]
    set_derived_status(order, await order_lines(session, id_of(order)), statuses)


def set_derived_status(
    order: Order, lines: list[OrderLine], fulfillment_statuses: list[FulfillmentOrderStatus]
) -> None:
    """The same, when the change already holds the order's lines and fulfillment orders."""
    order.status = derive_order_status(
        on_hold=order.on_hold,
        lines=[
            LineQuantities(
                line.quantity,
                line.quantity_cancelled,
                line.quantity_shipped,
                line.quantity_delivered,
                line.quantity_returned,
            )
            for line in lines
        ],
        fulfillment_statuses=fulfillment_statuses,
        awaiting_approval=order.approval_state is ApprovalState.PENDING,
    )
    order.updated_at = utcnow()
