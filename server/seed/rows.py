"""Rows from drafts: ids, order, tracking and RMA numbers, the event log's global numbering, and the stock.

A row is a tuple in its table's COLUMNS order; rows gather in a Batch (table -> rows), which bulk.py loads in
COLUMNS' order, parents before children. RowMaker turns the world (reference rows), each order draft (its
order, lines, fulfillment orders, shipments and scans, return, payment and ledger) and, last, the stock
(levels and the opening ledger) into rows; EventLog numbers the events across the whole data set.

Invariants:
- Ids are 1..N per table in the order rows are made (locations and customers keep the world's ids), so a
  child's foreign key always names a row already made. Order, tracking and RMA numbers are a bijection of the
  id under the run's salt (`_scramble`): unique without checking.
- Events get sequence = id = 1..N in the order they happened (ties: by order id, then in the order the order
  recorded them); `EventLog.release(before=t)` numbers only events earlier than `t`, which the caller promises
  no order still to come can precede.
- A fulfillment order holds exactly its lines' units not cancelled; an inventory level's reserved units are
  exactly what its location's holding fulfillment orders (resolvers' HOLDING) hold, and never more than on hand;
  the inventory ledger opens with one adjustment per non-empty level, so it adds up to the levels.
- A payment's totals are the sums of its transactions.
- The only random draws are the stock levels' (`stock_rows`); rows never touch the database. Imports world.py,
  lifecycle.py and documents.py (invoices and the journal, from the payment transactions) only, within the package.
"""

import random
from bisect import bisect_left
from collections import Counter
from datetime import datetime, timedelta

from ordergraph.models.customer import phone_digits
from ordergraph.models.enums import (
    ActorKind,
    ApprovalState,
    EventType,
    LocationKind,
    OrderStatus,
    PaymentMethodKind,
    PaymentTransactionKind,
)
from ordergraph.models.tax import rate_ppm
from ordergraph.resolvers.fulfillment_steps import HOLDING
from ordergraph.resolvers.ports.payment import TestPaymentGateway
from ordergraph.server.seed.documents import COLUMNS as DOCUMENT_COLUMNS
from ordergraph.server.seed.documents import DocumentMaker
from ordergraph.server.seed.lifecycle import (
    CUSTOMER_EVENT,
    EventDraft,
    FulfillmentDraft,
    LineDraft,
    OrderDraft,
    PaymentDraft,
    ReturnDraft,
    ShipmentDraft,
)
from ordergraph.server.seed.world import KIND_TRAITS, STORE_HOURS, Shopper, World

DEMO_COMPANY = "Demo Trading Co."
APPROVAL_RESERVATION = timedelta(hours=48)  # the server's default ORDERGRAPH_APPROVAL_RESERVATION_HOURS
GATEWAY = TestPaymentGateway.name  # the demo's payments were taken by the test gateway (lifecycle.py's CARDS)

# Each table's columns in the order a row's values come; the tables in the order bulk.py loads them, parents
# before children.
COLUMNS: dict[str, tuple[str, ...]] = {
    "delivery_method": (
        "code",
        "name",
        "kind",
        "price_minor",
        "currency",
        "carrier",
        "cutoff_local",
        "transit_days",
        "transit_hours",
        "weekend_delivery",
        "metro_only",
        "position",
        "market_code",
        "pickup_point_network",
        "carrier_weekdays",
    ),
    "location": (
        "id",
        "code",
        "name",
        "kind",
        "line1",
        "city",
        "region",
        "postal_code",
        "country",
        "metro_area",
        "latitude",
        "longitude",
        "timezone",
        "ships",
        "pickup",
        "returns_drop_off",
        "customization",
    ),
    "location_opening_hours": ("id", "location_id", "weekday", "opens", "closes"),
    "product": ("sku", "name", "price_minor", "currency", "customizable", "tax_class"),
    "customer": (
        "id",
        "name",
        "email",
        "phone",
        "phone_digits",
        "created_at",
        "notify_email",
        "notify_sms",
        "sms_phone",
    ),
    "customer_address": (
        "id",
        "customer_id",
        "position",
        "name",
        "line1",
        "line2",
        "city",
        "region",
        "postal_code",
        "country",
        "phone",
        "default_shipping",
        "default_billing",
    ),
    # The demo company (#21): one ship-to location, no buyers (`_company_rows`).
    "company": (
        "id",
        "name",
        "tax_id",
        "market_code",
        "billing_name",
        "billing_line1",
        "billing_city",
        "billing_region",
        "billing_postal_code",
        "billing_country",
        "purchase_order_required",
        "payment_terms_days",
        "credit_limit_minor",
        "credit_used_minor",
        "approval_threshold_minor",
        "created_at",
    ),
    "company_location": (
        "id",
        "company_id",
        "label",
        "name",
        "line1",
        "line2",
        "city",
        "region",
        "postal_code",
        "country",
        "phone",
        "archived",
    ),
    "orders": (
        "id",
        "number",
        "customer_id",
        "channel",
        "status",
        "placed_at",
        "updated_at",
        "placed_by_kind",
        "placed_by_name",
        "currency",
        "subtotal_minor",
        "shipping_minor",
        "tax_minor",
        "total_minor",
        "cancelled_minor",
        "refunded_minor",
        "delivery_method_code",
        "pickup_location_id",
        "promised_delivery_by",
        "hold_reason",
        "ship_name",
        "ship_line1",
        "ship_line2",
        "ship_city",
        "ship_region",
        "ship_postal_code",
        "ship_country",
        "ship_phone",
        "market_code",
        "prices_include_tax",
        "shipping_tax_rate_ppm",
        "pickup_point_id",
        "company_id",
        "company_location_id",
        "purchase_order_number",
        "payment_method",
        "approval_state",
        "approval_expires_at",
    ),
    "order_line": (
        "id",
        "order_id",
        "line_number",
        "sku",
        "product_name",
        "customization",
        "quantity",
        "quantity_cancelled",
        "quantity_shipped",
        "quantity_delivered",
        "quantity_returned",
        "unit_price_minor",
        "tax_minor",
        "currency",
        "tax_class",
        "tax_rate_ppm",
    ),
    "fulfillment_order": ("id", "order_id", "location_id", "kind", "status", "created_at", "updated_at"),
    "fulfillment_order_line": ("id", "fulfillment_order_id", "order_line_id", "quantity"),
    "shipment": (
        "id",
        "order_id",
        "fulfillment_order_id",
        "carrier",
        "tracking_number",
        "tracking_url",
        "status",
        "shipped_at",
        "estimated_delivery_at",
        "delivered_at",
    ),
    "shipment_event": (
        "id",
        "shipment_id",
        "status",
        "occurred_at",
        "description",
        "location",
        "carrier",
        "carrier_event_id",
    ),
    "payment": (
        "id",
        "order_id",
        "gateway",
        "gateway_reference",
        "method_description",
        "currency",
        "authorized_minor",
        "captured_minor",
        "refunded_minor",
        "voided_minor",
        "created_at",
    ),
    "return_request": (
        "id",
        "order_id",
        "rma_number",
        "status",
        "method",
        "drop_off_location_id",
        "currency",
        "refund_minor",
        "requested_at",
        "approved_at",
        "received_at",
        "refunded_at",
        "rejected_reason",
    ),
    "return_line": (
        "id",
        "return_id",
        "order_line_id",
        "quantity",
        "reason",
        "quantity_received",
        "quantity_restocked",
    ),
    "payment_transaction": (
        "id",
        "payment_id",
        "kind",
        "amount_minor",
        "gateway_reference",
        "fulfillment_order_id",
        "return_id",
        "created_at",
    ),
    "inventory_adjustment": (
        "id",
        "sku",
        "location_id",
        "on_hand_delta",
        "reserved_delta",
        "reason",
        "order_id",
        "actor_kind",
        "actor_name",
        "created_at",
    ),
    "order_event": (
        "id",
        "sequence",
        "order_id",
        "customer_id",
        "type",
        "message",
        "visibility",
        "actor_kind",
        "actor_name",
        "occurred_at",
    ),
    "inventory_level": ("id", "sku", "location_id", "on_hand", "reserved", "incoming", "safety_stock", "updated_at"),
}

# Invoices, credit notes and the journal (documents.py), loaded after every table they refer to.
COLUMNS.update(DOCUMENT_COLUMNS)

Batch = dict[str, list[tuple]]


def _scramble(value: int, bits: int, salt: int) -> int:
    """Order, tracking and RMA numbers look random but are a bijection of the row id (an odd multiplier modulo
    a power of two), so they are unique without checking."""
    return (value * 0x9E3779B97F4A7C15 + salt) & ((1 << bits) - 1)


class EventLog:
    """Numbers events 1..N in the order they happened across the whole data set. Events wait here until no
    order still to be generated can produce an earlier one (orders come in placement order), then get their
    sequence (and their id, the same number)."""

    def __init__(self) -> None:
        # (at, order id, step, customer id, type, message, visibility, actor kind, actor name): (order id, step)
        # breaks ties in time and keeps an order's own events in the order they were recorded; a customer-level
        # event has order id 0 and its customer id for a step.
        self._waiting: list[tuple] = []
        self.sequence = 0

    def add_order_events(self, order_id: int, customer_id: int, events: list[EventDraft]) -> None:
        self._waiting += [
            (at, order_id, step, customer_id, type, message, visibility, actor_kind, actor_name)
            for step, (at, type, message, visibility, actor_kind, actor_name) in enumerate(events)
        ]

    def add_customer_event(self, customer_id: int, event: EventDraft) -> None:
        self._waiting.append((event[0], 0, customer_id, customer_id, *event[1:]))

    def release(self, batch: Batch, before: datetime | None) -> None:
        """Numbers every waiting event earlier than `before` (all of them when None) into the batch."""
        self._waiting.sort()
        cut = len(self._waiting) if before is None else bisect_left(self._waiting, (before,))
        ready, self._waiting = self._waiting[:cut], self._waiting[cut:]
        events = batch["order_event"]
        for at, order_id, _, customer_id, type, message, visibility, actor_kind, actor_name in ready:
            self.sequence += 1
            events.append(
                (
                    self.sequence,
                    self.sequence,
                    order_id or None,
                    customer_id,
                    type,
                    message,
                    visibility,
                    actor_kind,
                    actor_name,
                    at,
                )
            )


class RowMaker:
    """Turns drafts into rows with ids, and adds up what open fulfillment orders reserve."""

    def __init__(self, world: World, events: EventLog, salt: int) -> None:
        self.world = world
        self.events = events
        self.salt = salt
        self.ids: Counter[str] = Counter()  # the last id given, per table
        self.reserved: Counter[tuple[str, int]] = Counter()  # (sku, location id) -> units open fulfillment orders hold
        self.statuses: Counter[OrderStatus] = Counter()
        self.market, self.currency, self.country = world.profile.code, world.profile.currency, world.profile.country
        self.documents = DocumentMaker(self._id, self.market, self.currency, self.country)

    def _id(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    def reference_rows(self, batch: Batch) -> None:
        for position, m in enumerate(self.world.methods.values(), start=1):
            batch["delivery_method"].append(
                (
                    m.code,
                    m.name,
                    m.kind,
                    m.price_minor,
                    self.currency,
                    m.carrier,
                    m.cutoff_local,
                    m.transit_days,
                    m.transit_hours,
                    m.weekend_delivery,
                    m.metro_only,
                    position,
                    self.market,
                    m.pickup_point_network,
                    m.carrier_weekdays,
                )
            )
        for s in self.world.sites:
            p = s.place
            batch["location"].append(
                (
                    s.id,
                    s.code,
                    s.name,
                    s.kind,
                    s.line1,
                    p.city,
                    p.region,
                    p.code,
                    self.country,
                    p.metro_area,
                    p.latitude,
                    p.longitude,
                    p.timezone,
                    s.ships,
                    s.pickup,
                    s.returns_drop_off,
                    s.customization,
                )
            )
            if s.pickup:
                batch["location_opening_hours"].extend(
                    (self._id("location_opening_hours"), s.id, weekday, opens, closes)
                    for weekday, opens, closes in STORE_HOURS
                )
        for item in self.world.items:
            batch["product"].append(
                (item.sku, item.name, item.price_minor, self.currency, item.customizable, item.tax_class)
            )
        for shopper in self.world.shoppers:
            self._customer_rows(batch, shopper)
        self._company_rows(batch, self.world.shoppers[0])

    def _company_rows(self, batch: Batch, buyer: Shopper) -> None:
        """The demo company: billed and shipped to at the first customer's first address; orders above 100.00 wait
        for an approver. The first customer placed its showcase AWAITING_APPROVAL order (paid by card) while a buyer
        of it and has left it since (no `company_buyer` row: a departure keeps the orders), so the client suite and
        the agent console may make them a buyer of any company; agents decide the order."""
        a = buyer.addresses[0]
        company_id, location_id = self._id("company"), self._id("company_location")
        batch["company"].append(
            (
                company_id,
                DEMO_COMPANY,
                "DEMO-TAX-001",
                self.market,
                f"{DEMO_COMPANY} Accounts Payable",
                a.line1,
                a.place.city,
                a.place.region,
                a.place.code,
                self.country,
                False,
                30,
                5_000_000,
                0,
                10_000,
                buyer.created_at,
            )
        )
        batch["company_location"].append(
            (
                location_id,
                company_id,
                "Head office",
                a.name,
                a.line1,
                a.line2,
                a.place.city,
                a.place.region,
                a.place.code,
                self.country,
                a.phone,
                False,
            )
        )

    def _customer_rows(self, batch: Batch, c: Shopper) -> None:
        batch["customer"].append(
            (
                c.id,
                c.name,
                c.email,
                c.phone,
                phone_digits(c.phone),
                c.created_at,
                c.notify_email,
                c.notify_sms,
                c.sms_phone,
            )
        )
        for a in c.addresses:
            batch["customer_address"].append(
                (
                    self._id("customer_address"),
                    c.id,
                    a.position,
                    a.name,
                    a.line1,
                    a.line2,
                    a.place.city,
                    a.place.region,
                    a.place.code,
                    self.country,
                    a.phone,
                    a.position == 0,  # the first saved address is the default of both kinds
                    a.position == 0,
                )
            )
        if c.notify_sms:  # opting in to SMS is the customer's own change, in the log without an order
            at = c.created_at + timedelta(days=1 + c.id % 60)
            self.events.add_customer_event(
                c.id,
                (
                    at,
                    EventType.NOTIFICATION_PREFERENCES_UPDATED,
                    f"SMS updates turned on for {c.sms_phone}.",
                    CUSTOMER_EVENT,
                    ActorKind.CUSTOMER,
                    c.name,
                ),
            )

    def order_rows(self, batch: Batch, order: OrderDraft) -> None:
        order_id = self._id("orders")
        status = order.status
        self.statuses[status] += 1
        a, point = order.address, order.point
        if point is not None:  # the point's address, for the shopper (as placement copies it)
            line2 = f"{point.name} · {point.network} {point.external_id}"
            ship_to = (a.name, point.line1, line2, point.city, point.region, point.postal_code, self.country, a.phone)
        elif a:
            ship_to = (a.name, a.line1, a.line2, a.place.city, a.place.region, a.place.code, self.country, a.phone)
        else:
            ship_to = (None,) * 8
        batch["orders"].append(
            (
                order_id,
                f"OG-{_scramble(order_id, 40, self.salt):010X}",
                order.shopper.id,
                order.channel,
                status,
                order.placed_at,
                order.updated_at,
                order.placed_by[0],
                order.placed_by[1],
                self.currency,
                order.subtotal_minor,
                order.shipping_minor,
                order.tax_minor,
                order.total_minor,
                order.cancelled_minor,
                order.refunded_minor,
                order.method.code,
                order.pickup.id if order.pickup else None,
                order.promised_delivery_by,
                order.hold_reason,
                *ship_to,
                self.market,
                order.prices_include_tax,
                rate_ppm(order.shipping_tax_rate) if order.shipping_tax_rate is not None else None,
                point.id if point else None,
                *self._company_columns(order, order_id),
            )
        )
        line_ids = {line: self._line_row(batch, order_id, line) for line in order.lines}
        fo_ids = {fo: self._fulfillment_rows(batch, order_id, fo, line_ids) for fo in order.fulfillments}
        return_id = self._return_rows(batch, order_id, order.return_, line_ids) if order.return_ else None
        self._payment_rows(batch, order_id, order.payment, fo_ids, return_id)
        self.documents.order_documents(
            batch,
            order,
            order_id=order_id,
            order_number=batch["orders"][-1][1],
            line_ids=line_ids,
            return_id=return_id,
            buyer=ship_to[1:6],
        )
        self.events.add_order_events(order_id, order.shopper.id, order.events)

    @staticmethod
    def _company_columns(order: OrderDraft, order_id: int) -> tuple:
        """A company order's columns (the demo company's, id 1); all null on consumers' orders."""
        if not order.awaiting_approval:
            return (None,) * 6
        return (
            1,
            1,
            f"PO-DEMO-{order_id}",
            PaymentMethodKind.CARD,
            ApprovalState.PENDING,
            order.placed_at + APPROVAL_RESERVATION,
        )

    def _line_row(self, batch: Batch, order_id: int, line: LineDraft) -> int:
        line_id = self._id("order_line")
        batch["order_line"].append(
            (
                line_id,
                order_id,
                line.line_number,
                line.item.sku,
                line.item.name,
                line.customization,
                line.quantity,
                line.quantity_cancelled,
                line.quantity_shipped,
                line.quantity_delivered,
                line.quantity_returned,
                line.item.price_minor,
                line.tax_minor,
                self.currency,
                line.item.tax_class,
                rate_ppm(line.tax_rate) if line.tax_rate is not None else None,
            )
        )
        return line_id

    def _fulfillment_rows(
        self, batch: Batch, order_id: int, fo: FulfillmentDraft, line_ids: dict[LineDraft, int]
    ) -> int:
        fo_id = self._id("fulfillment_order")
        batch["fulfillment_order"].append(
            (fo_id, order_id, fo.site.id, fo.kind, fo.status, fo.created_at, fo.updated_at)
        )
        for line in fo.lines:
            if line.active:  # cancelled units leave the fulfillment order, as cancelOrder does
                batch["fulfillment_order_line"].append(
                    (self._id("fulfillment_order_line"), fo_id, line_ids[line], line.active)
                )
                if fo.status in HOLDING:  # units still at the location: what its inventory level holds as reserved
                    self.reserved[line.item.sku, fo.site.id] += line.active
        if fo.shipment:
            self._shipment_rows(batch, order_id, fo_id, fo.shipment)
        return fo_id

    def _shipment_rows(self, batch: Batch, order_id: int, fo_id: int, s: ShipmentDraft) -> None:
        shipment_id = self._id("shipment")
        number = f"{s.carrier.prefix}{_scramble(shipment_id, 64, self.salt):016X}"
        batch["shipment"].append(
            (
                shipment_id,
                order_id,
                fo_id,
                s.carrier.name,
                number,
                s.carrier.tracking_url(number),
                s.status,
                s.shipped_at,
                s.estimated_delivery_at,
                s.delivered_at,
            )
        )
        for index, (status, at, description, where) in enumerate(s.scans, start=1):
            batch["shipment_event"].append(
                (
                    self._id("shipment_event"),
                    shipment_id,
                    status,
                    at,
                    description,
                    where,
                    s.carrier.name,
                    f"{number}-{index}",
                )
            )

    def _return_rows(self, batch: Batch, order_id: int, r: ReturnDraft, line_ids: dict[LineDraft, int]) -> int:
        return_id = self._id("return_request")
        batch["return_request"].append(
            (
                return_id,
                order_id,
                f"RMA-{_scramble(return_id, 32, self.salt):08X}",
                r.status,
                r.method,
                r.drop_off.id if r.drop_off else None,
                self.currency,
                r.refund_minor,
                r.requested_at,
                r.approved_at,
                r.received_at,
                r.refunded_at,
                r.rejected_reason,
            )
        )
        for rl in r.lines:
            batch["return_line"].append(
                (
                    self._id("return_line"),
                    return_id,
                    line_ids[rl.line],
                    rl.quantity,
                    rl.reason,
                    rl.received,
                    rl.restocked,
                )
            )
        return return_id

    def _payment_rows(
        self, batch: Batch, order_id: int, p: PaymentDraft, fo_ids: dict[FulfillmentDraft, int], return_id: int | None
    ) -> None:
        payment_id = self._id("payment")
        kinds = PaymentTransactionKind
        batch["payment"].append(
            (
                payment_id,
                order_id,
                GATEWAY,
                p.reference,
                p.method_description,
                self.currency,
                p.totals[kinds.AUTHORIZATION],
                p.totals[kinds.CAPTURE],
                p.totals[kinds.REFUND],
                p.totals[kinds.VOID],
                p.created_at,
            )
        )
        for t in p.transactions:
            batch["payment_transaction"].append(
                (
                    self._id("payment_transaction"),
                    payment_id,
                    t.kind,
                    t.amount_minor,
                    t.reference,
                    fo_ids[t.fulfillment] if t.fulfillment else None,
                    return_id if t.for_return else None,
                    t.at,
                )
            )

    def stock_rows(self, batch: Batch, rng: random.Random, anchor: datetime) -> None:
        """Every location's stock of what it carries: reserved is exactly what its open fulfillment orders hold.
        The inventory ledger opens with each level as loaded, so it adds up to the levels from the start."""
        carried = {(sku, site.id) for site in self.world.sites for sku in site.skus}
        if missing := set(self.reserved) - carried:
            raise RuntimeError(f"stock reserved where it is not carried: {sorted(missing)[:3]}")
        for site in self.world.sites:
            traits = KIND_TRAITS[site.kind]
            for sku in sorted(site.skus):
                reserved = self.reserved[sku, site.id]
                free = 0 if rng.random() < 0.08 else rng.randint(*traits.free_stock)  # some are sold out
                on_hand = reserved + free
                incoming = rng.randint(20, 200) if free == 0 or rng.random() < 0.2 else 0
                safety = rng.randint(0, 3) if site.kind is LocationKind.STORE else rng.randint(0, 10)
                batch["inventory_level"].append(
                    (self._id("inventory_level"), sku, site.id, on_hand, reserved, incoming, safety, anchor)
                )
                if on_hand:
                    batch["inventory_adjustment"].append(
                        (
                            self._id("inventory_adjustment"),
                            sku,
                            site.id,
                            on_hand,
                            reserved,
                            "opening balance (demo data)",
                            None,
                            ActorKind.SYSTEM,
                            None,
                            anchor,
                        )
                    )
