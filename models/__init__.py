"""SQLModel tables, enums and the pure rules of the domain. Importing this package registers every table."""

from ordergraph.models.bulk_export import BulkExport
from ordergraph.models.catalog import Product
from ordergraph.models.company import Company, CompanyBuyer, CompanyLocation, InvoicePayment, PriceList, PriceListEntry
from ordergraph.models.customer import AddressFields, Customer, CustomerAddress
from ordergraph.models.delivery import DeliveryMethod
from ordergraph.models.erasure import CustomerErasure
from ordergraph.models.event import Notification, NotificationMomentPreference, OrderEvent
from ordergraph.models.fulfillment import FulfillmentOrder, FulfillmentOrderLine, Shipment, ShipmentEvent
from ordergraph.models.inbound import InboundShipment, InboundShipmentLine
from ordergraph.models.inventory import InventoryAdjustment, InventoryLevel
from ordergraph.models.invoice import DocumentSeries, Invoice, InvoiceLine
from ordergraph.models.journal import JournalEntry, JournalLine
from ordergraph.models.location import Location, PostalCode
from ordergraph.models.market import Market, MarketCountry, ProductPrice
from ordergraph.models.opening_hours import LocationClosure, LocationOpeningHours
from ordergraph.models.order import Order, OrderLine
from ordergraph.models.payment import Payment, PaymentTransaction
from ordergraph.models.pickup_point import PickupPoint
from ordergraph.models.place import Place, PlaceName
from ordergraph.models.returns import Return, ReturnLine
from ordergraph.models.webhook import WebhookAttempt, WebhookDelivery, WebhookLogEntry, WebhookSubscription

__all__ = [
    "AddressFields",
    "BulkExport",
    "Company",
    "CompanyBuyer",
    "CompanyLocation",
    "Customer",
    "CustomerAddress",
    "CustomerErasure",
    "DeliveryMethod",
    "DocumentSeries",
    "FulfillmentOrder",
    "FulfillmentOrderLine",
    "InboundShipment",
    "InboundShipmentLine",
    "InventoryAdjustment",
    "InventoryLevel",
    "Invoice",
    "InvoiceLine",
    "InvoicePayment",
    "JournalEntry",
    "JournalLine",
    "Location",
    "LocationClosure",
    "LocationOpeningHours",
    "Market",
    "MarketCountry",
    "Notification",
    "NotificationMomentPreference",
    "Order",
    "OrderEvent",
    "OrderLine",
    "Payment",
    "PaymentTransaction",
    "PickupPoint",
    "Place",
    "PlaceName",
    "PostalCode",
    "PriceList",
    "PriceListEntry",
    "Product",
    "ProductPrice",
    "Return",
    "ReturnLine",
    "Shipment",
    "ShipmentEvent",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookLogEntry",
    "WebhookSubscription",
]
