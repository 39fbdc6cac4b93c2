"""Returns: inputs and payloads."""

import strawberry

from ordergraph.models import enums
from ordergraph.resolvers.return_requests import ReceivedLine, ReturnLineRequest
from ordergraph.schema.common import UserError
from ordergraph.schema.enums import ReturnMethod, ReturnReason
from ordergraph.schema.node import parse_global_id
from ordergraph.schema.returns import Return


def _order_line_id(global_id: strawberry.ID) -> int:
    return parse_global_id(global_id, "OrderLine")[1]


@strawberry.input
class ReturnLineInput:
    order_line_id: strawberry.ID
    quantity: int
    reason: ReturnReason

    def to_domain(self) -> ReturnLineRequest:
        return ReturnLineRequest(_order_line_id(self.order_line_id), self.quantity, enums.ReturnReason(self.reason))


@strawberry.input(description="MAIL, or STORE_DROP_OFF with `dropOffLocationId`: a store that takes returns.")
class RequestReturnInput:
    order_id: strawberry.ID
    lines: list[ReturnLineInput]
    method: ReturnMethod
    drop_off_location_id: strawberry.ID | None = None


@strawberry.input
class ApproveReturnInput:
    return_id: strawberry.ID


@strawberry.input
class RejectReturnInput:
    return_id: strawberry.ID
    reason: str


@strawberry.input(description="sellable: whether received units go back into stock (false for damaged).")
class ReceiveReturnLineInput:
    order_line_id: strawberry.ID
    quantity: int
    sellable: bool = True

    def to_domain(self) -> ReceivedLine:
        return ReceivedLine(_order_line_id(self.order_line_id), self.quantity, self.sellable)


@strawberry.input(description="Without lines, every line is received in full and sellable.")
class ReceiveReturnInput:
    return_id: strawberry.ID
    lines: list[ReceiveReturnLineInput] | None = None


@strawberry.type
class ReturnPayload:
    return_: Return | None = strawberry.field(name="return")
    user_errors: list[UserError]
