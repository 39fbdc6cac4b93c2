from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from ordergraph import models
from ordergraph.models.enums import ActorKind as ActorKindValue
from ordergraph.schema.common import Actor, Connection
from ordergraph.schema.enums import EventVisibility
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
    message: str | None
    visibility: EventVisibility

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
