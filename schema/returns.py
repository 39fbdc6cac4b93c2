from typing import TYPE_CHECKING, Annotated

import strawberry

from ordergraph import models
from ordergraph.models.tax import group_by_rate
from ordergraph.resolvers.return_labels import label_path
from ordergraph.schema.common import Money, money
from ordergraph.schema.enums import ReturnMethod, ReturnReason, ReturnStatus
from ordergraph.schema.info import Info
from ordergraph.schema.location import Location
from ordergraph.schema.market import TaxLine, tax_line_list
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

    @strawberry.field(
        description="The credit note's breakdown per tax rate, once received (the totals add up to the refund); "
        "empty for returns received before markets existed."
    )
    async def tax_lines(root: models.Return, info: Info) -> list[TaxLine]:
        lines: list[models.ReturnLine] = await info.context.loaders.lines_by_return.load(root.id)
        credited = [line for line in lines if line.refund_minor is not None and line.refund_tax_minor is not None]
        order_lines = await info.context.loaders.order_line.load_many([line.order_line_id for line in credited])
        parts = [
            (order_line.tax_rate_ppm, line.refund_minor or 0, line.refund_tax_minor or 0)
            for line, order_line in zip(credited, order_lines, strict=True)
            if line.quantity_received
        ]
        return tax_line_list(group_by_rate(parts), root.currency)

    @strawberry.field
    async def order(root: models.Return, info: Info) -> Annotated["Order", strawberry.lazy("ordergraph.schema.order")]:
        return await info.context.loaders.order.load(root.order_id)
