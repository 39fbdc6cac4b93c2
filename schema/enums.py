"""The domain's enums, exposed under the same names and values."""

from enum import Enum

import strawberry

from ordergraph.models import enums
from ordergraph.resolvers.orders import OrderSortField

OrderStatus = strawberry.enum(enums.OrderStatus)
Channel = strawberry.enum(enums.Channel)
DeliveryKind = strawberry.enum(enums.DeliveryKind)
LocationKind = strawberry.enum(enums.LocationKind)
FulfillmentOrderStatus = strawberry.enum(enums.FulfillmentOrderStatus)
ShipmentStatus = strawberry.enum(enums.ShipmentStatus)
ReturnStatus = strawberry.enum(enums.ReturnStatus)
ReturnMethod = strawberry.enum(enums.ReturnMethod)
ReturnReason = strawberry.enum(enums.ReturnReason)
CancellationReason = strawberry.enum(
    enums.CancellationReason,
    description="Why units were cancelled, as the customer reads it (the event's message is built from it alone): "
    "CUSTOMER_REQUEST (the customer asked, themselves or through an agent: the default for a customer), "
    "DUPLICATE_ORDER (placed twice by mistake), OUT_OF_STOCK, PAYMENT_ISSUE (the payment could not be confirmed; "
    "where a fraud review ends), UNDELIVERABLE_ADDRESS, OTHER (no reason given to the customer: the default for "
    "an agent). Customers may give CUSTOMER_REQUEST or DUPLICATE_ORDER only. A suspicion or anything else the "
    "customer must not read goes in the internal note (`reason`), never in the code.",
)
HoldReason = strawberry.enum(
    enums.HoldReason,
    description="Why an order is held, as the customer reads it (the ORDER_HELD event's message is built from it "
    "alone): PAYMENT_REVIEW (the payment is being verified; a fraud review too), ADDRESS_VERIFICATION, "
    "STOCK_CHECK, CUSTOMER_REQUEST, OTHER (no reason given to the customer: the default). A suspicion goes in "
    "the internal note (`reason`), never in the code.",
)
PaymentStatus = strawberry.enum(enums.PaymentStatus)
StockStatus = strawberry.enum(enums.StockStatus)
EventVisibility = strawberry.enum(enums.EventVisibility)
ActorKind = strawberry.enum(enums.ActorKind)
OrderSortField = strawberry.enum(OrderSortField)


@strawberry.enum
class SortDirection(Enum):
    ASC = "ASC"
    DESC = "DESC"
