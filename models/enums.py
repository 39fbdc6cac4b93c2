"""The domain's closed vocabularies. Values equal names so they read the same in SQL and on the wire."""

from enum import StrEnum


class OrderStatus(StrEnum):
    AWAITING_APPROVAL = "AWAITING_APPROVAL"
    ON_HOLD = "ON_HOLD"
    CONFIRMED = "CONFIRMED"
    PROCESSING = "PROCESSING"
    PARTIALLY_SHIPPED = "PARTIALLY_SHIPPED"
    SHIPPED = "SHIPPED"
    READY_FOR_PICKUP = "READY_FOR_PICKUP"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"
    RETURNED = "RETURNED"


class Channel(StrEnum):
    WEB = "WEB"
    AGENT = "AGENT"
    STORE = "STORE"
    MARKETPLACE = "MARKETPLACE"


class DeliveryKind(StrEnum):
    SHIP = "SHIP"
    PICKUP = "PICKUP"


class LocationKind(StrEnum):
    WAREHOUSE = "WAREHOUSE"
    STORE = "STORE"
    DISTRIBUTION_CENTER = "DISTRIBUTION_CENTER"
    THIRD_PARTY = "THIRD_PARTY"


class FulfillmentOrderStatus(StrEnum):
    OPEN = "OPEN"
    IN_PROGRESS = "IN_PROGRESS"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    READY_FOR_PICKUP = "READY_FOR_PICKUP"
    PICKED_UP = "PICKED_UP"
    CANCELLED = "CANCELLED"


class ShipmentStatus(StrEnum):
    LABEL_CREATED = "LABEL_CREATED"
    IN_TRANSIT = "IN_TRANSIT"
    OUT_FOR_DELIVERY = "OUT_FOR_DELIVERY"
    DELIVERED = "DELIVERED"
    EXCEPTION = "EXCEPTION"


class ReturnStatus(StrEnum):
    REQUESTED = "REQUESTED"
    APPROVED = "APPROVED"
    RECEIVED = "RECEIVED"
    REFUNDED = "REFUNDED"
    REJECTED = "REJECTED"


class ReturnMethod(StrEnum):
    MAIL = "MAIL"
    STORE_DROP_OFF = "STORE_DROP_OFF"


class ReturnReason(StrEnum):
    DAMAGED = "DAMAGED"
    DEFECTIVE = "DEFECTIVE"
    WRONG_ITEM = "WRONG_ITEM"
    NOT_AS_DESCRIBED = "NOT_AS_DESCRIBED"
    NO_LONGER_NEEDED = "NO_LONGER_NEEDED"
    SIZE_OR_FIT = "SIZE_OR_FIT"
    OTHER = "OTHER"


class CancellationReason(StrEnum):
    """Why units were cancelled, as the customer may read it. What the customer may not read (a suspicion, a
    name) goes in the cancellation's internal note, never in its code."""

    CUSTOMER_REQUEST = "CUSTOMER_REQUEST"  # the customer asked (themselves, or an agent for them)
    DUPLICATE_ORDER = "DUPLICATE_ORDER"  # placed twice by mistake
    OUT_OF_STOCK = "OUT_OF_STOCK"
    PAYMENT_ISSUE = "PAYMENT_ISSUE"  # the payment could not be verified or collected (a fraud review ends here)
    UNDELIVERABLE_ADDRESS = "UNDELIVERABLE_ADDRESS"
    OTHER = "OTHER"


class HoldReason(StrEnum):
    """Why an order is held, as the customer may read it; a suspicion goes in the hold's internal note."""

    PAYMENT_REVIEW = "PAYMENT_REVIEW"  # the payment is being verified (a fraud review too)
    ADDRESS_VERIFICATION = "ADDRESS_VERIFICATION"
    STOCK_CHECK = "STOCK_CHECK"
    CUSTOMER_REQUEST = "CUSTOMER_REQUEST"
    OTHER = "OTHER"


class PaymentStatus(StrEnum):
    AUTHORIZED = "AUTHORIZED"
    PARTIALLY_CAPTURED = "PARTIALLY_CAPTURED"
    CAPTURED = "CAPTURED"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"
    REFUNDED = "REFUNDED"
    VOIDED = "VOIDED"


class PaymentTransactionKind(StrEnum):
    AUTHORIZATION = "AUTHORIZATION"
    CAPTURE = "CAPTURE"
    VOID = "VOID"
    REFUND = "REFUND"


class StockStatus(StrEnum):
    IN_STOCK = "IN_STOCK"
    LOW_STOCK = "LOW_STOCK"
    OUT_OF_STOCK = "OUT_OF_STOCK"


class EventVisibility(StrEnum):
    CUSTOMER = "CUSTOMER"
    INTERNAL = "INTERNAL"


class ActorKind(StrEnum):
    CUSTOMER = "CUSTOMER"
    AGENT = "AGENT"
    SYSTEM = "SYSTEM"
    CARRIER = "CARRIER"


class NotificationChannel(StrEnum):
    EMAIL = "EMAIL"
    SMS = "SMS"


class NotificationStatus(StrEnum):
    PENDING = "PENDING"
    SENT = "SENT"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"  # never sent: the customer's personal data was erased first (resolvers.erasure)
    SKIPPED = "SKIPPED"  # a scheduled message no longer true when due (a pickup reminder after the pickup)


class NotificationMoment(StrEnum):
    """What a customer hears about (resolvers.notifications maps event types to these); each has its own
    preference per channel."""

    ORDER_RECEIVED = "ORDER_RECEIVED"  # placed and held for review: received, not confirmed
    ORDER_CONFIRMED = "ORDER_CONFIRMED"
    SHIPPING_CHANGED = "SHIPPING_CHANGED"
    ORDER_CANCELLED = "ORDER_CANCELLED"  # the whole order, or some of its units
    PARCEL_SHIPPED = "PARCEL_SHIPPED"
    PARCEL_DELAYED = "PARCEL_DELAYED"  # a carrier exception
    OUT_FOR_DELIVERY = "OUT_FOR_DELIVERY"
    PARCEL_DELIVERED = "PARCEL_DELIVERED"
    ORDER_DELIVERED = "ORDER_DELIVERED"  # every parcel delivered: once per order
    READY_FOR_PICKUP = "READY_FOR_PICKUP"
    PICKUP_REMINDER = "PICKUP_REMINDER"  # scheduled before the pickup window ends
    RETURN_UPDATE = "RETURN_UPDATE"  # a return requested or rejected
    RETURN_APPROVED = "RETURN_APPROVED"
    RETURN_RECEIVED = "RETURN_RECEIVED"
    REFUND_ISSUED = "REFUND_ISSUED"
    CUSTOMER_NOTE = "CUSTOMER_NOTE"  # an agent's note written for the customer


class EventType(StrEnum):
    """The stable `type` names of the event log (documented in the README)."""

    ORDER_PLACED = "ORDER_PLACED"
    PAYMENT_AUTHORIZED = "PAYMENT_AUTHORIZED"
    ORDER_ROUTED = "ORDER_ROUTED"
    ORDER_HELD = "ORDER_HELD"
    ORDER_HOLD_RELEASED = "ORDER_HOLD_RELEASED"
    ORDER_NOTE_ADDED = "ORDER_NOTE_ADDED"
    SHIPPING_CHANGED = "SHIPPING_CHANGED"
    ORDER_CANCELLED = "ORDER_CANCELLED"
    LINES_CANCELLED = "LINES_CANCELLED"
    PAYMENT_VOIDED = "PAYMENT_VOIDED"
    FULFILLMENT_STARTED = "FULFILLMENT_STARTED"
    SHIPMENT_CREATED = "SHIPMENT_CREATED"
    PAYMENT_CAPTURED = "PAYMENT_CAPTURED"
    SHIPMENT_IN_TRANSIT = "SHIPMENT_IN_TRANSIT"
    SHIPMENT_OUT_FOR_DELIVERY = "SHIPMENT_OUT_FOR_DELIVERY"
    SHIPMENT_DELIVERED = "SHIPMENT_DELIVERED"
    ORDER_DELIVERED = "ORDER_DELIVERED"  # the last parcel of a shipped order arrived: everything is delivered
    SHIPMENT_EXCEPTION = "SHIPMENT_EXCEPTION"
    READY_FOR_PICKUP = "READY_FOR_PICKUP"
    PICKED_UP = "PICKED_UP"
    RETURN_REQUESTED = "RETURN_REQUESTED"
    RETURN_APPROVED = "RETURN_APPROVED"
    RETURN_REJECTED = "RETURN_REJECTED"
    RETURN_RECEIVED = "RETURN_RECEIVED"
    REFUND_ISSUED = "REFUND_ISSUED"
    NOTIFICATION_PREFERENCES_UPDATED = "NOTIFICATION_PREFERENCES_UPDATED"
    # Customer records and address books (resolvers.customer_changes), customer-level like the one above.
    CUSTOMER_CREATED = "CUSTOMER_CREATED"
    CUSTOMER_UPDATED = "CUSTOMER_UPDATED"
    ADDRESS_ADDED = "ADDRESS_ADDED"
    ADDRESS_UPDATED = "ADDRESS_UPDATED"
    ADDRESS_REMOVED = "ADDRESS_REMOVED"
    DEFAULT_ADDRESS_CHANGED = "DEFAULT_ADDRESS_CHANGED"
    CUSTOMER_DATA_ERASED = "CUSTOMER_DATA_ERASED"
    # Business orders above their company's approval threshold (#21, resolvers.company_orders).
    ORDER_APPROVAL_REQUESTED = "ORDER_APPROVAL_REQUESTED"
    ORDER_APPROVED = "ORDER_APPROVED"
    ORDER_APPROVAL_REJECTED = "ORDER_APPROVAL_REJECTED"
    ORDER_APPROVAL_EXPIRED = "ORDER_APPROVAL_EXPIRED"
    INVOICE_PAYMENT_RECORDED = "INVOICE_PAYMENT_RECORDED"


class PickupPointKind(StrEnum):
    PICKUP_POINT = "PICKUP_POINT"
    PARCEL_LOCKER = "PARCEL_LOCKER"


class TaxClass(StrEnum):
    """What the goods are; each country's rate table says what a class costs there."""

    STANDARD = "STANDARD"
    REDUCED = "REDUCED"
    ZERO = "ZERO"


class InboundKind(StrEnum):
    """What announced stock coming in: our purchase order, or the supplier's advance shipping notice."""

    PURCHASE_ORDER = "PURCHASE_ORDER"
    ADVANCE_SHIPPING_NOTICE = "ADVANCE_SHIPPING_NOTICE"


class InboundStatus(StrEnum):
    OPEN = "OPEN"
    PARTIALLY_RECEIVED = "PARTIALLY_RECEIVED"
    RECEIVED = "RECEIVED"


class WebhookDeliveryStatus(StrEnum):
    """PENDING until the receiver answers 2xx (DELIVERED), or until its retry window ends (FAILED, final)."""

    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"


class WebhookLogKind(StrEnum):
    """What happened to a webhook subscription itself, in its admin-readable log."""

    CREATED = "CREATED"
    SECRET_ROTATED = "SECRET_ROTATED"
    ENABLED = "ENABLED"
    DISABLED = "DISABLED"  # by an admin, or by the worker after a day of failures (WEBHOOK_DISABLED)


class CompanyRole(StrEnum):
    """What a buyer may do for their company: BUYER places and sees their own orders; APPROVER also approves or
    rejects orders above the threshold; COMPANY_ADMIN sees every order of the company and manages its buyers."""

    BUYER = "BUYER"
    APPROVER = "APPROVER"
    COMPANY_ADMIN = "COMPANY_ADMIN"


class ApprovalState(StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"


class PaymentMethodKind(StrEnum):
    CARD = "CARD"
    ON_ACCOUNT = "ON_ACCOUNT"
