from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from ordergraph import models
from ordergraph.resolvers.access import free_text
from ordergraph.schema.enums import FulfillmentOrderStatus, ShipmentStatus
from ordergraph.schema.info import Info
from ordergraph.schema.location import Location
from ordergraph.schema.node import Node, encode_global_id
from ordergraph.schema.pickup_point import PickupPoint

if TYPE_CHECKING:
    from ordergraph.schema.order import OrderLine


@strawberry.type(description="`description` and `location` are the carrier's or an agent's words: null for analysts.")
class ShipmentEvent:
    status: ShipmentStatus
    occurred_at: datetime

    @strawberry.field
    def description(root: models.ShipmentEvent, info: Info) -> str | None:
        return free_text(info.context.viewer, root.description)

    @strawberry.field
    def location(root: models.ShipmentEvent, info: Info) -> str | None:
        return free_text(info.context.viewer, root.location)


@strawberry.type
class Shipment(Node):
    @classmethod
    def is_type_of(cls, obj: object, _info: Info) -> bool:
        return isinstance(obj, models.Shipment)

    @strawberry.field
    def id(root: models.Shipment) -> strawberry.ID:
        return strawberry.ID(encode_global_id("Shipment", root.id))

    status: ShipmentStatus
    carrier: str
    tracking_number: str | None
    tracking_url: str | None
    shipped_at: datetime
    estimated_delivery_at: datetime | None
    delivered_at: datetime | None

    @strawberry.field
    async def events(root: models.Shipment, info: Info) -> list[ShipmentEvent]:
        return await info.context.loaders.events_by_shipment.load(root.id)

    @strawberry.field(description="The pickup point or parcel locker it goes to; null when it goes elsewhere.")
    async def pickup_point(root: models.Shipment, info: Info) -> PickupPoint | None:
        order = await info.context.loaders.order.load(root.order_id)
        if order is None or order.pickup_point_id is None:
            return None
        return await info.context.loaders.pickup_point.load(order.pickup_point_id)


@strawberry.type
class FulfillmentOrderLine:
    quantity: int

    @strawberry.field
    async def order_line(
        root: models.FulfillmentOrderLine, info: Info
    ) -> Annotated["OrderLine", strawberry.lazy("ordergraph.schema.order")]:
        return await info.context.loaders.order_line.load(root.order_line_id)


@strawberry.type
class FulfillmentOrder(Node):
    @classmethod
    def is_type_of(cls, obj: object, _info: Info) -> bool:
        return isinstance(obj, models.FulfillmentOrder)

    @strawberry.field
    def id(root: models.FulfillmentOrder) -> strawberry.ID:
        return strawberry.ID(encode_global_id("FulfillmentOrder", root.id))

    status: FulfillmentOrderStatus

    @strawberry.field
    async def location(root: models.FulfillmentOrder, info: Info) -> Location:
        return await info.context.loaders.location.load(root.location_id)

    @strawberry.field
    async def lines(root: models.FulfillmentOrder, info: Info) -> list[FulfillmentOrderLine]:
        return await info.context.loaders.lines_by_fulfillment_order.load(root.id)
