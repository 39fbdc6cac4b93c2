import strawberry

from ordergraph import models
from ordergraph.schema.common import Money, money
from ordergraph.schema.enums import PaymentStatus
from ordergraph.schema.info import Info
from ordergraph.schema.node import Node, encode_global_id


@strawberry.type
class Payment(Node):
    @classmethod
    def is_type_of(cls, obj: object, _info: Info) -> bool:
        return isinstance(obj, models.Payment)

    @strawberry.field
    def id(root: models.Payment) -> strawberry.ID:
        return strawberry.ID(encode_global_id("Payment", root.id))

    status: PaymentStatus

    @strawberry.field(description="What was authorised.")
    def amount(root: models.Payment) -> Money:
        return money(root.authorized_minor, root.currency)

    @strawberry.field
    def captured_amount(root: models.Payment) -> Money:
        return money(root.captured_minor, root.currency)

    @strawberry.field
    def refunded_amount(root: models.Payment) -> Money:
        return money(root.refunded_minor, root.currency)
