"""SQLModel tables, enums and the pure rules of the domain. Importing this package registers every table."""

from ordergraph.models.catalog import Product
from ordergraph.models.customer import AddressFields, Customer, CustomerAddress
from ordergraph.models.delivery import DeliveryMethod
from ordergraph.models.event import Notification, OrderEvent
from ordergraph.models.fulfillment import FulfillmentOrder, FulfillmentOrderLine, Shipment, ShipmentEvent
from ordergraph.models.inventory import InventoryAdjustment, InventoryLevel
from ordergraph.models.location import Location, PostalCode
from ordergraph.models.market import Market, MarketCountry, ProductPrice
from ordergraph.models.order import Order, OrderLine
from ordergraph.models.payment import Payment, PaymentTransaction
from ordergraph.models.pickup_point import PickupPoint
from ordergraph.models.place import Place, PlaceName
from ordergraph.models.returns import Return, ReturnLine

__all__ = [
    "AddressFields",
    "Customer",
    "CustomerAddress",
    "DeliveryMethod",
    "FulfillmentOrder",
    "FulfillmentOrderLine",
    "InventoryAdjustment",
    "InventoryLevel",
    "Location",
    "Market",
    "MarketCountry",
    "Notification",
    "Order",
    "OrderEvent",
    "OrderLine",
    "Payment",
    "PaymentTransaction",
    "PickupPoint",
    "Place",
    "PlaceName",
    "PostalCode",
    "Product",
    "ProductPrice",
    "Return",
    "ReturnLine",
    "Shipment",
    "ShipmentEvent",
]
