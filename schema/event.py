from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from ordergraph import models
from ordergraph.models.enums import ActorKind as ActorKindValue
from ordergraph.models.enums import CancellationReason as CancellationReasonValue
from ordergraph.models.enums import EventVisibility as EventVisibilityValue
from ordergraph.models.enums import HoldReason as HoldReasonValue
from ordergraph.resolvers.access import event_message, internal_text
from ordergraph.resolvers.event_messages import customer_message
from ordergraph.resolvers.events import CANCELLATION_EVENTS, HOLD_EVENTS, reason_code, with_internal_note
from ordergraph.schema.common import Actor, Connection
from ordergraph.schema.enums import CancellationReason, EventVisibility, HoldReason
from ordergraph.schema.info import Info
from ordergraph.schema.scalars import BigInt

if TYPE_CHECKING:
    from ordergraph.schema.order import Order


def actor(kind: ActorKindValue, name: str | None, info: Info) -> Actor:
    """A customer acting is personal data: analysts see that a customer acted, not who."""
    if kind is ActorKindValue.CUSTOMER and not info.context.viewer.sees_personal_data:
        name = None
    return Actor(kind=kind, name=name)


@strawberry.type(description="One entry of the append-only event log. `order` is null for customer-level events.")
class OrderEvent:
    sequence: BigInt
    type: str
    occurred_at: datetime
    visibility: EventVisibility

    @strawberry.field(
        description="What happened, in words; it may quote notes and reasons people wrote. Null for analysts, "
        "and for anyone but agents on an INTERNAL event. A customer reads it in their language (`locale`) where "
        "the event's type has a text in it; agents read it as written, with a cancellation's or a hold's internal "
        'note after it ("… Internal note: …"), which the customer never does.'
    )
    async def message(root: models.OrderEvent, info: Info) -> str | None:
        viewer = info.context.viewer
        internal = root.visibility == EventVisibilityValue.INTERNAL
        message = event_message(viewer, root.message, internal=internal)
        if message is not None and viewer.is_customer and viewer.customer_id is not None:
            translated = await customer_message(info.context.loaders, viewer.customer_id, root)
            message = translated or message
        # Agents read the internal note after the message (consoles that show messages show it); no one else.
        return with_internal_note(viewer, root, message)

    @strawberry.field(
        description="A cancellation's code (ORDER_CANCELLED, LINES_CANCELLED), which the customer reads too; "
        "null on other events."
    )
    def cancellation_reason_code(root: models.OrderEvent) -> CancellationReason | None:
        return reason_code(root, CancellationReasonValue, CANCELLATION_EVENTS)

    @strawberry.field(description="A hold's code (ORDER_HELD), which the customer reads too; null on other events.")
    def hold_reason_code(root: models.OrderEvent) -> HoldReason | None:
        return reason_code(root, HoldReasonValue, HOLD_EVENTS)

    @strawberry.field(
        description="What the agent (or the customer, cancelling) wrote about a cancellation or a hold (internal "
        "text): agents only, null for customers and analysts."
    )
    def internal_note(root: models.OrderEvent, info: Info) -> str | None:
        return internal_text(info.context.viewer, root.internal_note)

    @strawberry.field
    def actor(root: models.OrderEvent, info: Info) -> Actor | None:
        return actor(root.actor_kind, root.actor_name, info)

    @strawberry.field
    async def order(
        root: models.OrderEvent, info: Info
    ) -> Annotated["Order", strawberry.lazy("ordergraph.schema.order")] | None:
        if root.order_id is None:
            return None
        return await info.context.loaders.order.load(root.order_id)


@strawberry.type(name="OrderEventConnection")
class OrderEventConnection(Connection[OrderEvent]):
    pass
