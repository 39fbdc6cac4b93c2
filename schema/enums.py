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
PaymentStatus = strawberry.enum(enums.PaymentStatus)
StockStatus = strawberry.enum(enums.StockStatus)
EventVisibility = strawberry.enum(enums.EventVisibility)
ActorKind = strawberry.enum(enums.ActorKind)
OrderSortField = strawberry.enum(OrderSortField)


@strawberry.enum
class SortDirection(Enum):
    ASC = "ASC"
    DESC = "DESC"
