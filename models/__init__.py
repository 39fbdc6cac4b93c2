"""SQLModel tables, enums and the pure rules of the domain. Importing this package registers every table."""

from models.catalog import Product
from models.customer import AddressFields, Customer, CustomerAddress
from models.delivery import DeliveryMethod
from models.event import Notification, OrderEvent
from models.fulfillment import FulfillmentOrder, FulfillmentOrderLine, Shipment, ShipmentEvent
from models.inventory import InventoryAdjustment, InventoryLevel
from models.location import Location, PostalCode
from models.order import Order, OrderLine
from models.payment import Payment, PaymentTransaction
from models.returns import Return, ReturnLine

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
    "Notification",
    "Order",
    "OrderEvent",
    "OrderLine",
    "Payment",
    "PaymentTransaction",
    "PostalCode",
    "Product",
    "Return",
    "ReturnLine",
    "Shipment",
    "ShipmentEvent",
]
