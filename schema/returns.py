from typing import TYPE_CHECKING, Annotated

import strawberry

from ordergraph import models
from ordergraph.resolvers.return_labels import label_path
from ordergraph.schema.common import Money, money
from ordergraph.schema.enums import ReturnMethod, ReturnReason, ReturnStatus
from ordergraph.schema.info import Info
from ordergraph.schema.location import Location
from ordergraph.schema.node import Node, encode_global_id

if TYPE_CHECKING:
    from ordergraph.schema.order import Order, OrderLine


@strawberry.type
class ReturnLine:
    quantity: int
    reason: ReturnReason

    @strawberry.field
    async def order_line(
        root: models.ReturnLine, info: Info
    ) -> Annotated["OrderLine", strawberry.lazy("ordergraph.schema.order")]:
        return await info.context.loaders.order_line.load(root.order_line_id)


@strawberry.type
class Return(Node):
    @classmethod
    def is_type_of(cls, obj: object, _info: Info) -> bool:
        return isinstance(obj, models.Return)

    @strawberry.field
    def id(root: models.Return) -> strawberry.ID:
        return strawberry.ID(encode_global_id("Return", root.id))

    rma_number: str
    status: ReturnStatus
    method: ReturnMethod

    @strawberry.field
    async def drop_off_location(root: models.Return, info: Info) -> Location | None:
        if root.drop_off_location_id is None:
            return None
        return await info.context.loaders.location.load(root.drop_off_location_id)

    @strawberry.field(
        description="Link to the printable PDF label (MAIL returns once approved); null otherwise, and for analysts "
        "(labels print personal data)."
    )
    def label_url(root: models.Return, info: Info) -> str | None:
        return label_path(root, info.context.viewer)

    @strawberry.field
    def refund_amount(root: models.Return) -> Money | None:
        return None if root.refund_minor is None else money(root.refund_minor, root.currency)

    @strawberry.field
    async def lines(root: models.Return, info: Info) -> list[ReturnLine]:
        return await info.context.loaders.lines_by_return.load(root.id)

    @strawberry.field
    async def order(root: models.Return, info: Info) -> Annotated["Order", strawberry.lazy("ordergraph.schema.order")]:
        return await info.context.loaders.order.load(root.order_id)
