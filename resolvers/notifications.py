"""Customer notifications: which events a customer hears about, on which channels, and what the messages say.
Getting them out (queued from the outbox, claimed, sent, retried) is server.notifier's.

Customers hear about their order being confirmed (placed), shipped, out for delivery, delivered, ready for pickup
and cancelled, and about each step of their returns. The channels follow `updateNotificationPreferences`: email
while email updates are on (the default), SMS once they opted in with a number; a customer who switched both off
("Order updates switched off.") gets nothing.

A message says what the event's customer-visible `message` says, nothing else: never the event's internal note (a
cancellation's or a hold's, which only agents read), which `Update` does not even carry. A cancellation's message
is built from its reason code alone (resolvers.cancellation).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from ordergraph.models import Customer, OrderEvent
from ordergraph.models.enums import EventType, EventVisibility, NotificationChannel

HEADLINES: Mapping[EventType, str] = {
    EventType.ORDER_PLACED: "Order {number} is confirmed",
    EventType.SHIPMENT_CREATED: "Order {number} has shipped",
    EventType.SHIPMENT_OUT_FOR_DELIVERY: "Order {number} is out for delivery",
    EventType.SHIPMENT_DELIVERED: "Order {number} was delivered",
    EventType.READY_FOR_PICKUP: "Order {number} is ready for pickup",
    EventType.ORDER_CANCELLED: "Order {number} is cancelled",
    EventType.RETURN_REQUESTED: "Your return for order {number} is requested",
    EventType.RETURN_APPROVED: "Your return for order {number} is approved",
    EventType.RETURN_REJECTED: "Your return for order {number} was rejected",
    EventType.RETURN_RECEIVED: "Your return for order {number} has arrived",
    EventType.REFUND_ISSUED: "Your refund for order {number} is on its way",
}


def recipients(event: OrderEvent, customer: Customer) -> list[tuple[NotificationChannel, str]]:
    """Where the customer hears about this event: nowhere for events they are not told about."""
    if event.type not in HEADLINES or event.visibility is not EventVisibility.CUSTOMER or event.order_id is None:
        return []
    found = []
    if customer.notify_email:
        found.append((NotificationChannel.EMAIL, customer.email))
    if customer.notify_sms and customer.sms_phone:
        found.append((NotificationChannel.SMS, customer.sms_phone))
    return found


@dataclass(frozen=True, slots=True)
class Update:
    """What one notification tells: the event (its customer-visible message), with its order and customer."""

    event_type: EventType
    event_message: str | None
    occurred_at: datetime
    order_number: str
    customer_name: str

    @property
    def headline(self) -> str:
        return HEADLINES[self.event_type].format(number=self.order_number)


def email_message(update: Update, *, sender: str, recipient: str, reference: str) -> EmailMessage:
    """The email; its Message-ID is the same for every attempt, so a repeat can be recognised."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = update.headline
    message["Date"] = format_datetime(update.occurred_at)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "ordergraph.localhost"
    message["Message-ID"] = f"<{reference}@{domain}>"
    lines = [f"Hello {update.customer_name},", "", f"{update.headline}."]
    if update.event_message:
        lines.append(update.event_message)
    message.set_content("\n".join(lines) + "\n")
    return message


def sms_text(update: Update) -> str:
    return f"{update.headline}. {update.event_message or ''}".strip()
