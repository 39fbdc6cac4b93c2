"""The life of each demo order: its draft, what will happen to it (a Scenario), the OrderFactory that plans it
and simulates it up to the anchor, and the stream of every order in the order it was placed.

How it stays true to the domain (docs/domain.md): an order is placed at a time in the HISTORY before `anchor`,
planned (channel, a delivery method open at that local time, lines, sourcing, tax, the promise) and then
lived - fraud hold, cancellation, picking, shipping, carrier scans, pickup, return and refund - and only what
has happened by `anchor` is recorded. Where the API's own rule can be called it is: the status is
`derive_order_status`, the cancelled value `cancelled_value_minor`, the carrier calendar `models.routing`'s,
tax `TableTaxCalculator` (`rate` for US sales tax, `rate_for` by tax class for VAT) with `tax_minor` or
`models.tax.line_tax_minor`, what tax adds on top `models.tax.added_tax` (nothing where prices include it), every
share of money `models.money.share`. Sourcing is docs/domain.md's routing done cheaply (OrderFactory._source).
The market (world.profile, server/seed/markets.py) gives the methods and their weights; a point method (CZ_BOX,
CZ_POINT) is open when a point of its network is near the shopper, and its order ships to that point.
The first customer gets an order in every status (the showcase,
`showcase_orders`), for `serve --demo`.

Invariants:
- Nothing happens after the anchor: every event, scan, payment transaction and status change recorded is at or
  before it, and a step that would come later is left undone, so the draft is the order as of the anchor.
- Money adds up: the authorisation is the order's total; voids are the cancelled value; captures add up to the
  total less cancellations once every fulfillment order has left; refunds never exceed what was captured.
- `order_stream` yields orders by non-decreasing `placed_at` (rows.py's EventLog numbers events on that
  promise), and an order's first event is its placement.
- Deterministic: every choice is drawn from the generators passed in, in a fixed order; nothing reads a clock,
  and the caches below only remember pure functions.
- Drafts point only downwards (order -> lines, fulfillment orders -> lines, transactions -> fulfillment
  orders), with no reference cycles, so reference counting frees them (bulk.py pauses the cycle collector).
- Imports world.py only, within the package.
"""

import math
import random
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from itertools import accumulate, pairwise
from typing import Literal
from zoneinfo import ZoneInfo

from ordergraph.models.enums import (
    ActorKind,
    Channel,
    DeliveryKind,
    EventType,
    EventVisibility,
    FulfillmentOrderStatus,
    LocationKind,
    OrderStatus,
    PaymentTransactionKind,
    ReturnMethod,
    ReturnReason,
    ReturnStatus,
    ShipmentStatus,
)
from ordergraph.models.money import share
from ordergraph.models.order import cancelled_value_minor
from ordergraph.models.routing import DELIVERED_BY, NEXT_DAY_START, Method, carrier_days_after
from ordergraph.models.status import LineQuantities, derive_order_status
from ordergraph.models.tax import added_tax, line_tax_minor
from ordergraph.resolvers.events import SYSTEM
from ordergraph.resolvers.ports.carrier import BUILTIN_CARRIERS, TemplateCarrier
from ordergraph.resolvers.ports.payment import TestPaymentGateway
from ordergraph.resolvers.ports.tax import TableTaxCalculator, tax_minor
from ordergraph.server.seed.markets import money_text
from ordergraph.server.seed.world import (
    COUNTRY,
    DAY,
    HOUR,
    KIND_TRAITS,
    MINUTE,
    Address,
    Item,
    MethodSpec,
    Place,
    Point,
    Shopper,
    Site,
    World,
    between,
    zone,
)

HISTORY = timedelta(days=365)  # orders are placed in this span before the anchor

Weighted = tuple[tuple, tuple[float, ...]]  # choices and their cumulative weights


def _weighted(weights: dict) -> Weighted:
    return tuple(weights), tuple(accumulate(weights.values()))


def _pick(rng: random.Random, choices: Sequence, cumulative: Sequence[float]):
    """random.choices(...)[0] without its per-call overhead (it is called a dozen times per order)."""
    return choices[bisect_right(cumulative, rng.random() * cumulative[-1], 0, len(choices) - 1)]


# --- How shoppers order, and the words staff, carriers and reviewers use ---------------------------------

METHOD_WEIGHTS = {"STANDARD": 55, "NEXT_DAY": 12, "SAME_DAY": 7, "ONE_HOUR": 3, "WEEKEND": 4, "PICKUP": 15}


@cache
def _method_weights(weights: tuple[tuple[str, int], ...], closed: frozenset[str]) -> Weighted:
    """The market's methods (its profile's weights, in order) less those closed to this order."""
    return _weighted({code: weight for code, weight in weights if code not in closed})


CHANNELS = _weighted({Channel.WEB: 70, Channel.MARKETPLACE: 12, Channel.AGENT: 10, Channel.STORE: 8})
LINES_PER_ORDER = _weighted({1: 46, 2: 28, 3: 14, 4: 7, 5: 3, 6: 2})
UNITS_PER_LINE = _weighted({1: 78, 2: 15, 3: 4, 4: 2, 6: 1})
DAYS_LATE = _weighted({0: 86, 1: 10, 2: 4})
RETURN_REASONS = _weighted(
    {
        ReturnReason.DAMAGED: 8,
        ReturnReason.DEFECTIVE: 10,
        ReturnReason.WRONG_ITEM: 6,
        ReturnReason.NOT_AS_DESCRIBED: 12,
        ReturnReason.NO_LONGER_NEEDED: 25,
        ReturnReason.SIZE_OR_FIT: 30,
        ReturnReason.OTHER: 9,
    }
)
PICKUP_RADIUS_KM = 50  # pickup is offered when a pickup store is this close to the customer
ONE_HOUR_OPENS = time(8)
CARRIERS = {carrier.name: carrier for carrier in BUILTIN_CARRIERS}

AGENTS = ("Jordan Reyes", "Priya Natarajan", "Sam O'Connor", "Alex Kim", "Morgan Blake", "Taylor Brooks")
FLOOR_STAFF = ("Chris Park", "Dana Whitfield", "Luis Ortega", "Kim Tran", "Pat Morales", "Robin Adeyemi")
MARKETPLACES = ("Amazon Marketplace", "Walmart Marketplace", "eBay")
CARDS = tuple(TestPaymentGateway.CARDS.values())

HOLD_REASONS = (
    "Review: new customer's high-value order to an address never used before.",
    "Review: several cards were tried before this one was accepted.",
    "Review: billing and shipping names differ.",
)
NOTES = (
    "Customer called to confirm the delivery window.",
    "Gift order: no prices on the packing slip.",
    "Customer asked whether the items can ship together.",
    "Verified the address with the customer by phone.",
)
SCAN_EXCEPTIONS = (
    "Weather delay in the carrier network",
    "Delivery attempted: no access to the building",
    "Address information needed: carrier contacting the recipient",
)
DELIVERY_NOTES = ("Delivered, front door", "Delivered, handed to resident", "Delivered, mailroom", "Delivered, porch")
RETURN_REJECTIONS = ("Outside the 30-day return policy.", "The item shows wear and cannot be resold.")
CUSTOMIZATION_PHRASES = ("Happy birthday!", "Best dad ever", "Adventure awaits", "Est. 2024", "Go team")


# --- Order drafts: an order and what happened to it, before ids ----------------------------------------------


@dataclass(eq=False, slots=True)
class LineDraft:
    line_number: int
    item: Item
    customization: str | None
    quantity: int
    site: Site | None = None  # a line is sourced whole from one location
    tax_minor: int = 0
    tax_rate: Decimal | None = None
    quantity_cancelled: int = 0
    quantity_shipped: int = 0
    quantity_delivered: int = 0
    quantity_returned: int = 0

    @property
    def unit_price_minor(self) -> int:
        return self.item.price_minor

    @property
    def active(self) -> int:
        return self.quantity - self.quantity_cancelled


Scan = tuple[ShipmentStatus, datetime, str, str]  # status, when, description, where


@dataclass(eq=False, slots=True)
class ShipmentDraft:
    carrier: TemplateCarrier
    shipped_at: datetime
    estimated_delivery_at: datetime
    status: ShipmentStatus = ShipmentStatus.LABEL_CREATED
    delivered_at: datetime | None = None
    scans: list[Scan] = field(default_factory=list)


@dataclass(eq=False, slots=True)
class FulfillmentDraft:
    site: Site
    kind: DeliveryKind
    lines: list[LineDraft]
    created_at: datetime
    departs_at: datetime  # when work may start: at once before the cut-off, else the next carrier day
    promised_at: datetime
    status: FulfillmentOrderStatus = FulfillmentOrderStatus.OPEN
    updated_at: datetime | None = None
    shipment: ShipmentDraft | None = None

    @property
    def units(self) -> int:
        return sum(line.active for line in self.lines)


@dataclass(slots=True)
class TransactionDraft:
    kind: PaymentTransactionKind
    amount_minor: int
    reference: str
    at: datetime
    fulfillment: FulfillmentDraft | None = None
    for_return: bool = False


@dataclass(slots=True)
class PaymentDraft:
    reference: str
    method_description: str
    created_at: datetime
    transactions: list[TransactionDraft] = field(default_factory=list)
    totals: Counter[PaymentTransactionKind] = field(default_factory=Counter)

    def add(self, transaction: TransactionDraft) -> None:
        self.transactions.append(transaction)
        self.totals[transaction.kind] += transaction.amount_minor


@dataclass(slots=True)
class ReturnLineDraft:
    line: LineDraft
    quantity: int
    reason: ReturnReason
    received: int = 0
    restocked: int = 0


@dataclass(slots=True)
class ReturnDraft:
    method: ReturnMethod
    drop_off: Site | None
    requested_at: datetime
    lines: list[ReturnLineDraft]
    status: ReturnStatus = ReturnStatus.REQUESTED
    refund_minor: int | None = None
    approved_at: datetime | None = None
    received_at: datetime | None = None
    refunded_at: datetime | None = None
    rejected_reason: str | None = None


EventDraft = tuple[datetime, EventType, str, EventVisibility, ActorKind, str | None]


@dataclass(eq=False, slots=True)
class OrderDraft:
    shopper: Shopper
    channel: Channel
    placed_at: datetime
    placed_by: tuple[ActorKind, str | None]
    method: MethodSpec
    address: Address | None
    pickup: Site | None
    lines: list[LineDraft]
    fulfillments: list[FulfillmentDraft]
    subtotal_minor: int
    shipping_minor: int
    tax_minor: int
    promised_delivery_by: datetime
    payment: PaymentDraft
    cancelled_minor: int = 0
    refunded_minor: int = 0
    hold_reason: str | None = None
    return_: ReturnDraft | None = None
    events: list[EventDraft] = field(default_factory=list)
    currency: str = "USD"
    prices_include_tax: bool = False  # the market's: VAT inside the prices (CZ, SA, AE) or added on top (US)
    shipping_tax_rate: Decimal | None = None
    point: Point | None = None  # the pickup point or parcel locker a point method ships to
    # A company order (#21) waiting for its company's approver: placed for the demo company (rows.py) and undecided.
    awaiting_approval: bool = False

    @property
    def total_minor(self) -> int:
        return self.subtotal_minor + self.shipping_minor + added_tax(self.tax_minor, included=self.prices_include_tax)

    @property
    def status(self) -> OrderStatus:
        return derive_order_status(
            on_hold=self.hold_reason is not None,
            awaiting_approval=self.awaiting_approval,
            lines=[
                LineQuantities(
                    line.quantity,
                    line.quantity_cancelled,
                    line.quantity_shipped,
                    line.quantity_delivered,
                    line.quantity_returned,
                )
                for line in self.lines
            ],
            fulfillment_statuses=[fo.status for fo in self.fulfillments],
        )

    @property
    def updated_at(self) -> datetime:
        return max(event[0] for event in self.events)

    def record(
        self,
        at: datetime,
        type: EventType,
        message: str,
        visibility: EventVisibility,
        actor: tuple[ActorKind, str | None],
    ) -> None:
        self.events.append((at, type, message, visibility, actor[0], actor[1]))


Extent = Literal["none", "some", "all"]


@dataclass(frozen=True, slots=True)
class Scenario:
    """What will happen to an order, decided when it is placed; time decides how much of it has by the anchor."""

    hold: bool = False
    hold_ends_in_cancellation: bool = False  # the review finds fraud
    cancel: Extent = "none"
    return_: Extent = "none"
    return_rejected: bool = False
    note: bool = False
    approval: bool = False  # a company order above its company's approval threshold, not decided by the anchor

    @classmethod
    def draw(cls, rng: random.Random, channel: Channel) -> "Scenario":
        hold = channel is not Channel.MARKETPLACE and rng.random() < 0.025
        cancel, return_ = rng.random(), rng.random()
        return cls(
            hold=hold,
            hold_ends_in_cancellation=hold and rng.random() < 0.2,
            cancel="all" if cancel < 0.045 else "some" if cancel < 0.07 else "none",
            return_="all" if return_ < 0.04 else "some" if return_ < 0.09 else "none",
            return_rejected=rng.random() < 0.07,
            note=rng.random() < 0.03,
        )


# --- Planning and living an order: the OrderFactory and what it leans on -------------------------------------

ARRIVED = (FulfillmentOrderStatus.DELIVERED, FulfillmentOrderStatus.PICKED_UP)
CUSTOMER_EVENT, INTERNAL_EVENT = EventVisibility.CUSTOMER, EventVisibility.INTERNAL


def _reference(rng: random.Random, kind: str) -> str:
    """A gateway reference shaped like the test gateway's own."""
    return f"test_{kind}_{rng.getrandbits(128):032x}"


def _money(minor: int, currency: str = "USD") -> str:
    return money_text(minor, currency)  # USD as always: "$1,234.56"


def _placement_message(order: OrderDraft) -> str:
    placer = order.placed_by[1]
    if order.channel is Channel.WEB:
        return "Order placed on the web store."
    if order.channel is Channel.MARKETPLACE:
        return f"Order placed on {placer}."
    if order.channel is Channel.AGENT:
        return f"Order placed by {placer} for the customer."
    return f"Order placed in store by {placer}."


@cache  # few distinct days, times and zones, asked for over and over
def _utc(day: date, at: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


@cache
def _calendar(method: MethodSpec) -> Method:
    """The method as routing sees it: the one carrier calendar placement and promises use."""
    return Method(
        method.code,
        method.kind,
        method.cutoff_local,
        method.transit_days,
        method.transit_hours,
        method.weekend_delivery,
        method.metro_only,
        frozenset(int(digit) - 1 for digit in method.carrier_weekdays),  # ISO 1-7 -> weekday() 0-6,
    )


@cache  # few distinct methods, days and counts, asked for over and over
def _carrier_days_after(method: MethodSpec, day: date, days: int) -> date:
    return carrier_days_after(_calendar(method), day, days)


@dataclass(slots=True)
class Schedule:
    """When a fulfillment order would move on, if nothing stopped it."""

    fulfillment: FulfillmentDraft
    starts_at: datetime
    leaves_at: datetime  # shipped, or picked up
    ready_at: datetime | None = None  # pickup only
    scans: list[Scan] = field(default_factory=list)  # shipments only, the last one the delivery

    @property
    def arrives_at(self) -> datetime:
        return self.scans[-1][1] if self.scans else self.leaves_at


def _km(a: Place, b: Place) -> float:
    """Equirectangular distance: plenty for ranking locations within a country."""
    dx = math.radians(b.longitude - a.longitude) * math.cos(math.radians((a.latitude + b.latitude) / 2))
    dy = math.radians(b.latitude - a.latitude)
    return 6371.0 * math.hypot(dx, dy)


def _nearest_first(sites: list[Site], place: Place) -> list[Site]:
    """The sites by distance from `place` (squared equirectangular: ranks as the real distance does)."""
    scale = math.cos(math.radians(place.latitude))
    return sorted(
        sites,
        key=lambda site: (
            (site.place.latitude - place.latitude) ** 2 + ((site.place.longitude - place.longitude) * scale) ** 2
        ),
    )


class OrderFactory:
    """Plans an order (who, what, how it is delivered, where it is sourced) and simulates it up to the anchor."""

    def __init__(self, world: World, anchor: datetime) -> None:
        self.world = world
        self.anchor = anchor
        self._tax = TableTaxCalculator()
        self._tax_rates: dict[str, Decimal] = {}
        self._shipping_sites: dict[Place, list[Site]] = {}  # place -> shipping locations, nearest first
        self._pickup_store: dict[Place, tuple[Site, float]] = {}
        self._nearest_points: dict[tuple[Place, str], tuple[Point, float] | None] = {}
        profile = world.profile
        self._us = profile.country == COUNTRY
        self._weights = tuple(profile.method_weights.items())
        self._roles = {  # today's US codes -> this market's method of the same role (the showcase asks by role)
            "STANDARD": profile.methods[0].code,
            "PICKUP": next(m.code for m in profile.methods if m.kind is DeliveryKind.PICKUP),
        }
        self._shipping = [site for site in world.sites if site.ships]
        self._stores = [site for site in world.sites if site.pickup]
        self._store_assortments: dict[int, tuple[list[Item], list[float]]] = {}

    # Planning -----------------------------------------------------------------------------------------------

    def plan(
        self,
        rng: random.Random,
        shopper: Shopper,
        placed_at: datetime,
        *,
        method_code: str | None = None,
        split_to: LocationKind | None = None,
    ) -> OrderDraft:
        """An order placed at `placed_at`; `split_to` makes one of its lines come from a location of that kind."""
        channel = _pick(rng, *CHANNELS)
        address = shopper.addresses[0 if len(shopper.addresses) == 1 or rng.random() < 0.8 else 1]
        if method_code is not None and method_code not in self.world.methods:
            method_code = self._roles[method_code]
        method = self.world.methods[method_code or self._choose_method(rng, address, placed_at, channel)]
        pickup = self._nearest_store(address.place)[0] if method.kind is DeliveryKind.PICKUP else None
        point = self._nearest_point(address.place, method.pickup_point_network) if method.pickup_point_network else None
        lines = self._choose_lines(rng, pickup, at_least=2 if split_to else 1)
        self._source(rng, lines, method, address.place, pickup, split_to)
        region = pickup.place.region if pickup else point[0].region if point else address.place.region
        profile, included = self.world.profile, self.world.profile.prices_include_tax
        if self._us:
            rate = shipping_rate = self._tax_rate(region)
            for line in lines:
                line.tax_minor, line.tax_rate = tax_minor(line.item.price_minor * line.quantity, rate), rate
            shipping_tax = tax_minor(method.price_minor, rate)
        else:
            for line in lines:
                line.tax_rate = self._class_rate(region, line.item.tax_class)
                line.tax_minor = line_tax_minor(line.item.price_minor * line.quantity, line.tax_rate, included=included)
            shipping_rate = self._class_rate(region, "STANDARD")
            shipping_tax = line_tax_minor(method.price_minor, shipping_rate, included=included)
        destination_tz = zone((pickup or address).place.timezone)
        fulfillments = self._fulfillment_orders(lines, method, placed_at, destination_tz)
        return OrderDraft(
            shopper=shopper,
            channel=channel,
            placed_at=placed_at,
            placed_by=self._placed_by(rng, channel, shopper),
            method=method,
            address=None if pickup else address,
            pickup=pickup,
            lines=lines,
            fulfillments=fulfillments,
            subtotal_minor=sum(line.item.price_minor * line.quantity for line in lines),
            shipping_minor=method.price_minor,
            tax_minor=sum(line.tax_minor for line in lines) + shipping_tax,
            promised_delivery_by=max(fo.promised_at for fo in fulfillments),
            payment=PaymentDraft(_reference(rng, "auth"), rng.choice(CARDS), placed_at),
            currency=profile.currency,
            prices_include_tax=included,
            shipping_tax_rate=shipping_rate,
            point=point[0] if point else None,
        )

    def _choose_method(self, rng: random.Random, address: Address, placed_at: datetime, channel: Channel) -> str:
        """Among the methods open to this address at this local time (same-day before its cut-off, one-hour in
        courier hours, both in metro areas only; pickup near a store, not for marketplace orders)."""
        place = address.place
        local = placed_at.astimezone(zone(place.timezone)).time()
        closed = set()
        for m in self.world.methods.values():  # metro methods: one-hour in courier hours, same-day before cut-off
            if m.metro_only and m.transit_hours == 1:
                is_open = bool(place.metro_area) and ONE_HOUR_OPENS <= local < m.cutoff_local
            elif m.metro_only:
                is_open = bool(place.metro_area) and local < m.cutoff_local
            elif m.kind is DeliveryKind.PICKUP:
                is_open = channel is not Channel.MARKETPLACE and self._nearest_store(place)[1] <= PICKUP_RADIUS_KM
            elif m.pickup_point_network:  # a pickup point or parcel locker of the network near the shopper
                is_open = self._nearest_point(place, m.pickup_point_network) is not None
            else:
                continue
            if not is_open:
                closed.add(m.code)
        return _pick(rng, *_method_weights(self._weights, frozenset(closed)))

    def _placed_by(self, rng: random.Random, channel: Channel, shopper: Shopper) -> tuple[ActorKind, str | None]:
        if channel is Channel.WEB:
            return ActorKind.CUSTOMER, shopper.name
        if channel is Channel.MARKETPLACE:
            return ActorKind.SYSTEM, rng.choice(MARKETPLACES)
        return ActorKind.AGENT, rng.choice(AGENTS if channel is Channel.AGENT else FLOOR_STAFF)

    def _choose_lines(self, rng: random.Random, pickup: Site | None, at_least: int) -> list[LineDraft]:
        """Distinct products by popularity; a pickup order only what its store carries."""
        count = _pick(rng, *LINES_PER_ORDER)
        count = max(count, at_least)
        items, popularity = self._assortment(pickup)
        chosen: dict[str, Item] = {}
        for _ in range(count * 5):  # popular items repeat: a few more draws than lines
            if len(chosen) == count:
                break
            item = _pick(rng, items, popularity)
            chosen.setdefault(item.sku, item)
        lines = []
        for number, item in enumerate(chosen.values(), start=1):
            customized = item.customizable and rng.random() < 0.3 and (pickup is None or pickup.customization)
            lines.append(
                LineDraft(
                    number,
                    item,
                    self._customization(rng) if customized else None,
                    _pick(rng, *UNITS_PER_LINE),
                    site=pickup,
                )
            )
        return lines

    def _assortment(self, store: Site | None) -> tuple[list[Item], list[float]]:
        """The items an order may hold with their cumulative popularity: the catalog, or a pickup store's stock."""
        if store is None:
            return self.world.items, self.world.item_popularity
        if store.id not in self._store_assortments:
            weights = [right - left for left, right in pairwise([0.0, *self.world.item_popularity])]
            carried = [
                (item, weight) for item, weight in zip(self.world.items, weights, strict=True) if item.sku in store.skus
            ]
            self._store_assortments[store.id] = ([item for item, _ in carried], list(accumulate(w for _, w in carried)))
        return self._store_assortments[store.id]

    @staticmethod
    def _customization(rng: random.Random) -> str:
        if rng.random() < 0.5:
            return "Monogram: " + "".join(rng.choice("ABCDEFGHJKLMNPRSTW") for _ in range(3))
        return f'Engraving: "{rng.choice(CUSTOMIZATION_PHRASES)}"'

    def _source(
        self,
        rng: random.Random,
        lines: list[LineDraft],
        method: MethodSpec,
        destination: Place,
        pickup: Site | None,
        split_to: LocationKind | None,
    ) -> None:
        """docs/domain.md's routing, cheaply: the nearest eligible location that can supply the whole cart (fewest
        splits first); now and then it is short of one line, which then comes from the next nearest (of kind
        `split_to`, when given)."""
        if pickup is not None:
            return  # every line was chosen from the store's own stock
        candidates = self._candidates(method, destination)
        whole = next((site for site in candidates if all(self._supplies(site, line) for line in lines)), None)
        short = rng.choice(lines) if len(lines) > 1 and (split_to or rng.random() < 0.12) else None
        for line in lines:
            if whole is not None and line is not short:
                line.site = whole
                continue
            line.site = next(
                (
                    site
                    for site in candidates
                    if site is not whole and self._supplies(site, line) and split_to in (None, site.kind)
                ),
                whole,
            )
            if line.site is None:
                raise RuntimeError(f"no location supplies {line.item.sku}: the demo assortment is inconsistent")

    @staticmethod
    def _supplies(site: Site, line: LineDraft) -> bool:
        return line.item.sku in site.skus and (line.customization is None or site.customization)

    def _candidates(self, method: MethodSpec, destination: Place) -> list[Site]:
        sites = self._shipping_sites.get(destination)
        if sites is None:
            sites = self._shipping_sites[destination] = _nearest_first(self._shipping, destination)
        if method.metro_only:
            return [site for site in sites if site.place.metro_area == destination.metro_area]
        return sites

    def _nearest_store(self, place: Place) -> tuple[Site, float]:
        found = self._pickup_store.get(place)
        if found is None:
            store = _nearest_first(self._stores, place)[0]
            found = self._pickup_store[place] = (store, _km(store.place, place))
        return found

    def _nearest_point(self, place: Place, network: str) -> tuple[Point, float] | None:
        """The network's nearest point within PICKUP_RADIUS_KM of the shopper, if any."""
        key = (place, network)
        if key not in self._nearest_points:
            measured = [(_km(point, place), point.id, point) for point in self.world.points if point.network == network]
            nearest = min(measured, default=None)
            self._nearest_points[key] = (nearest[2], nearest[0]) if nearest and nearest[0] <= PICKUP_RADIUS_KM else None
        return self._nearest_points[key]

    def _class_rate(self, region: str, tax_class: str) -> Decimal:
        rate = self._tax.rate_for(self.world.profile.country, region, tax_class)
        if rate is None:
            raise RuntimeError(f"no {tax_class} tax rate in {self.world.profile.country}: the demo catalog is wrong")
        return rate

    def _tax_rate(self, region: str) -> Decimal:
        if region not in self._tax_rates:
            self._tax_rates[region] = self._tax.rate(COUNTRY, region)
        return self._tax_rates[region]

    def _fulfillment_orders(
        self, lines: list[LineDraft], method: MethodSpec, placed_at: datetime, destination_tz: ZoneInfo
    ) -> list[FulfillmentDraft]:
        """One per location, with when it can leave and the delivery it promises (the order promises the latest)."""
        by_site: dict[int, FulfillmentDraft] = {}
        for line in lines:
            fo = by_site.get(line.site.id)
            if fo is None:
                departs_at = self._departure(method, line.site, placed_at)
                fo = by_site[line.site.id] = FulfillmentDraft(
                    line.site,
                    method.kind,
                    [],
                    placed_at,
                    departs_at,
                    self._arrival(method, line.site, departs_at, destination_tz),
                    updated_at=placed_at,
                )
            fo.lines.append(line)
        return list(by_site.values())

    def _departure(self, method: MethodSpec, site: Site, ready: datetime) -> datetime:
        """Work starts at once before the cut-off on a carrier day, else on the next carrier day's morning."""
        local = ready.astimezone(site.tz)
        if _calendar(method).runs_on(local.date()) and local.time() < method.cutoff_local:
            return ready
        return _utc(_carrier_days_after(method, local.date(), 1), NEXT_DAY_START, site.tz)

    @staticmethod
    def _handover(method: MethodSpec, site: Site, packed_at: datetime) -> datetime:
        """The carrier collects on its working days: a parcel packed on any other waits for the next one."""
        local = packed_at.astimezone(site.tz)
        if _calendar(method).runs_on(local.date()):
            return packed_at
        return _utc(_carrier_days_after(method, local.date(), 1), NEXT_DAY_START, site.tz)

    def _arrival(self, method: MethodSpec, site: Site, departure: datetime, destination_tz: ZoneInfo) -> datetime:
        if method.transit_hours:
            return departure + method.transit_hours * HOUR
        day = _carrier_days_after(method, departure.astimezone(site.tz).date(), method.transit_days)
        return _utc(day, DELIVERED_BY, destination_tz)

    # Simulation ---------------------------------------------------------------------------------------------

    def simulate(self, rng: random.Random, order: OrderDraft, scenario: Scenario) -> OrderDraft:
        """Lives the order from placement to the anchor; what would happen later does not happen."""
        released_at = self._place(rng, order, scenario)
        if released_at is None:
            return order
        schedules = [self._schedule(rng, order, fo, released_at) for fo in order.fulfillments]
        first_start = min(schedule.starts_at for schedule in schedules)
        if scenario.note:
            self._note(rng, order, released_at)
        if scenario.cancel != "none":
            cancelled_at = released_at + (first_start - released_at) * rng.uniform(0.1, 0.9)
            if cancelled_at <= self.anchor:
                self._cancel(rng, order, cancelled_at, everything=scenario.cancel == "all")
        live = [s for s in schedules if s.fulfillment.status is not FulfillmentOrderStatus.CANCELLED]
        if not live:
            return order
        live.sort(key=lambda schedule: schedule.leaves_at)
        for schedule in live:
            self._fulfil(rng, order, schedule, last=schedule is live[-1])
        if scenario.return_ != "none" and all(s.fulfillment.status in ARRIVED for s in live):
            self._return(rng, order, scenario, max(schedule.arrives_at for schedule in live))
        return order

    def _place(self, rng: random.Random, order: OrderDraft, scenario: Scenario) -> datetime | None:
        """Placement's events, authorisation and reservations; then the hold. Returns when fulfillment may start,
        or None when it never does by the anchor (still held, or cancelled after review)."""
        at = order.placed_at
        order.record(at, EventType.ORDER_PLACED, _placement_message(order), CUSTOMER_EVENT, order.placed_by)
        order.payment.add(
            TransactionDraft(PaymentTransactionKind.AUTHORIZATION, order.total_minor, order.payment.reference, at)
        )
        order.record(
            at,
            EventType.PAYMENT_AUTHORIZED,
            f"Payment of {_money(order.total_minor, order.currency)} authorised ({order.payment.method_description}).",
            INTERNAL_EVENT,
            SYSTEM,
        )
        if scenario.hold:
            order.hold_reason = rng.choice(HOLD_REASONS)
            order.record(at, EventType.ORDER_HELD, order.hold_reason, INTERNAL_EVENT, SYSTEM)
        if scenario.approval:
            order.awaiting_approval = True
            message = "Order awaits your company's approval."
            order.record(at, EventType.ORDER_APPROVAL_REQUESTED, message, CUSTOMER_EVENT, SYSTEM)
        sites = ", ".join(fo.site.name for fo in order.fulfillments)
        order.record(at, EventType.ORDER_ROUTED, f"Routed to {sites}.", INTERNAL_EVENT, SYSTEM)
        if scenario.approval:
            return None  # nobody has decided by the anchor: nothing of it moves
        if not scenario.hold:
            return at
        reviewed_at = at + between(rng, HOUR, 30 * HOUR)
        if reviewed_at > self.anchor:
            return None
        agent = (ActorKind.AGENT, rng.choice(AGENTS))
        order.hold_reason = None
        order.record(
            reviewed_at, EventType.ORDER_HOLD_RELEASED, "Review complete: hold released.", INTERNAL_EVENT, agent
        )
        if scenario.hold_ends_in_cancellation:
            self._cancel(rng, order, reviewed_at, everything=True, actor=agent)
            return None
        return reviewed_at

    def _schedule(self, rng: random.Random, order: OrderDraft, fo: FulfillmentDraft, released_at: datetime) -> Schedule:
        method, site = order.method, fo.site
        if released_at != order.placed_at:  # a hold kept it from leaving when promised
            fo.departs_at = self._departure(method, site, released_at)
            fo.promised_at = self._arrival(
                method, site, fo.departs_at, zone(order.address.place.timezone) if order.address else site.tz
            )
        quick = method.metro_only or method.kind is DeliveryKind.PICKUP
        # Warehouses, distribution centres and partners pick around the clock; a store starts the day's orders
        # when it opens.
        picking_from = fo.departs_at if site.kind is LocationKind.STORE else released_at
        starts_at = picking_from + between(rng, 5 * MINUTE, (20 if quick else 90) * MINUTE)
        if method.kind is DeliveryKind.PICKUP:
            ready_at = starts_at + between(rng, 30 * MINUTE, 2 * HOUR)
            return Schedule(fo, starts_at, ready_at + between(rng, HOUR, 4 * DAY), ready_at=ready_at)
        low, high = (10 * MINUTE, 35 * MINUTE) if method.metro_only else KIND_TRAITS[site.kind].handling
        packed_at = max(starts_at + between(rng, low, high), fo.departs_at)
        shipped_at = self._handover(method, site, packed_at)
        scans = self._scans(rng, method, site, order.address.place, shipped_at)
        return Schedule(fo, starts_at, shipped_at, scans=scans)

    def _scans(
        self, rng: random.Random, method: MethodSpec, site: Site, destination: Place, shipped_at: datetime
    ) -> list[Scan]:
        """The carrier's tracking events up to delivery; a few shipments meet an exception and arrive a day late."""
        origin, there = site.place.label, destination.label
        scans: list[Scan] = [(ShipmentStatus.LABEL_CREATED, shipped_at, "Shipping label created", origin)]
        if method.metro_only:
            out = shipped_at + between(rng, 3 * MINUTE, 12 * MINUTE)
            delivered = shipped_at + (
                between(rng, 20 * MINUTE, 55 * MINUTE) if method.transit_hours else between(rng, 90 * MINUTE, 5 * HOUR)
            )
            return [
                *scans,
                (ShipmentStatus.OUT_FOR_DELIVERY, out, "Out for delivery with the courier", there),
                (ShipmentStatus.DELIVERED, delivered, rng.choice(DELIVERY_NOTES), there),
            ]
        tz = zone(destination.timezone)
        picked_up = shipped_at + between(rng, HOUR, 4 * HOUR)
        scans.append((ShipmentStatus.IN_TRANSIT, picked_up, "Picked up by the carrier", origin))
        exception = rng.random() < 0.04
        late = _pick(rng, *DAYS_LATE) + exception
        day = _carrier_days_after(method, shipped_at.astimezone(site.tz).date(), method.transit_days + late)
        if exception:
            at = max(_utc(day - DAY, time(14), tz) + between(rng, timedelta(0), 4 * HOUR), picked_up + 30 * MINUTE)
            scans.append((ShipmentStatus.EXCEPTION, at, rng.choice(SCAN_EXCEPTIONS), there))
        arrived = _utc(day, time(3), tz) + between(rng, timedelta(0), 2 * HOUR)
        if arrived > scans[-1][1] + HOUR:
            scans.append((ShipmentStatus.IN_TRANSIT, arrived, "Arrived at the local facility", there))
        out = max(_utc(day, time(7), tz) + between(rng, timedelta(0), 150 * MINUTE), scans[-1][1] + 20 * MINUTE)
        delivered = max(_utc(day, time(10), tz) + between(rng, timedelta(0), 570 * MINUTE), out + 20 * MINUTE)
        return [
            *scans,
            (ShipmentStatus.OUT_FOR_DELIVERY, out, "Out for delivery", there),
            (ShipmentStatus.DELIVERED, delivered, rng.choice(DELIVERY_NOTES), there),
        ]

    def _note(self, rng: random.Random, order: OrderDraft, released_at: datetime) -> None:
        at = released_at + between(rng, 10 * MINUTE, 3 * DAY)
        if at <= self.anchor:
            agent = (ActorKind.AGENT, rng.choice(AGENTS))
            order.record(at, EventType.ORDER_NOTE_ADDED, rng.choice(NOTES), INTERNAL_EVENT, agent)

    def _cancel(
        self,
        rng: random.Random,
        order: OrderDraft,
        at: datetime,
        *,
        everything: bool,
        actor: tuple[ActorKind, str | None] | None = None,
    ) -> None:
        """cancelOrder before anything has left: the units leave their fulfillment orders (and so the
        reservation), and their value is voided from the authorisation."""
        if actor is None:
            by_customer = rng.random() < 0.7
            actor = (ActorKind.CUSTOMER, order.shopper.name) if by_customer else (ActorKind.AGENT, rng.choice(AGENTS))
        cuts = {line: line.active for line in order.lines} if everything else self._some_units(rng, order)
        if not cuts:
            return
        value_before = order.cancelled_minor
        for line, units in cuts.items():
            line.quantity_cancelled += units
        for fo in order.fulfillments:
            if fo.units == 0:
                fo.status, fo.updated_at = FulfillmentOrderStatus.CANCELLED, at
        # The same rule as cancelOrder's; the drafts carry every column it reads.
        order.cancelled_minor = cancelled_value_minor(order, order.lines)  # type: ignore[arg-type]
        voided = order.cancelled_minor - value_before
        order.payment.add(TransactionDraft(PaymentTransactionKind.VOID, voided, _reference(rng, "void"), at))
        whole = all(line.active == 0 for line in order.lines)
        units = sum(cuts.values())
        order.record(
            at,
            EventType.ORDER_CANCELLED if whole else EventType.LINES_CANCELLED,
            "Order cancelled." if whole else f"{units} unit(s) cancelled.",
            CUSTOMER_EVENT,
            actor,
        )
        order.record(
            at,
            EventType.PAYMENT_VOIDED,
            f"{_money(voided, order.currency)} of the authorisation voided.",
            INTERNAL_EVENT,
            SYSTEM,
        )

    @staticmethod
    def _some_units(rng: random.Random, order: OrderDraft) -> dict[LineDraft, int]:
        """Some units of one line, never the whole order."""
        line = rng.choice(order.lines)
        most = line.active if len(order.lines) > 1 else line.active - 1
        return {line: rng.randint(1, most)} if most > 0 else {}

    def _fulfil(self, rng: random.Random, order: OrderDraft, schedule: Schedule, *, last: bool) -> None:
        fo, anchor = schedule.fulfillment, self.anchor
        if schedule.starts_at > anchor:
            return
        staff = (ActorKind.AGENT, FLOOR_STAFF[fo.site.id % len(FLOOR_STAFF)])
        fo.status, fo.updated_at = FulfillmentOrderStatus.IN_PROGRESS, schedule.starts_at
        order.record(
            schedule.starts_at, EventType.FULFILLMENT_STARTED, f"{fo.site.name} started picking.", INTERNAL_EVENT, staff
        )
        if fo.kind is DeliveryKind.PICKUP:
            if schedule.ready_at > anchor:
                return
            fo.status, fo.updated_at = FulfillmentOrderStatus.READY_FOR_PICKUP, schedule.ready_at
            order.record(
                schedule.ready_at,
                EventType.READY_FOR_PICKUP,
                f"Ready for pickup at {fo.site.name}.",
                CUSTOMER_EVENT,
                staff,
            )
            if schedule.leaves_at <= anchor:
                fo.status = FulfillmentOrderStatus.PICKED_UP
                self._leave(rng, order, fo, schedule.leaves_at, last, staff, delivered=True)
                order.record(
                    schedule.leaves_at, EventType.PICKED_UP, f"Picked up at {fo.site.name}.", CUSTOMER_EVENT, staff
                )
            return
        if schedule.leaves_at > anchor:
            return
        fo.status = FulfillmentOrderStatus.SHIPPED
        carrier = CARRIERS[order.method.carrier]
        fo.shipment = ShipmentDraft(carrier, schedule.leaves_at, fo.promised_at)
        order.record(
            schedule.leaves_at,
            EventType.SHIPMENT_CREATED,
            f"Shipped from {fo.site.name} with {carrier.name}.",
            CUSTOMER_EVENT,
            staff,
        )
        self._leave(rng, order, fo, schedule.leaves_at, last, staff, delivered=False)
        self._track(order, fo, schedule.scans)

    def _leave(
        self,
        rng: random.Random,
        order: OrderDraft,
        fo: FulfillmentDraft,
        at: datetime,
        last: bool,
        staff: tuple[ActorKind, str | None],
        *,
        delivered: bool,
    ) -> None:
        """The units leave the location (and the reservation), and the payment for them is captured."""
        fo.updated_at = at
        amount = self._capture_amount(order, fo, last)  # before the ledger moves: it counts the units left before
        for line in fo.lines:
            line.quantity_shipped += line.active
            line.quantity_delivered += line.active if delivered else 0
        order.payment.add(
            TransactionDraft(PaymentTransactionKind.CAPTURE, amount, _reference(rng, "capture"), at, fulfillment=fo)
        )
        order.record(
            at,
            EventType.PAYMENT_CAPTURED,
            f"{_money(amount, order.currency)} captured for {fo.units} unit(s) from {fo.site.name}.",
            INTERNAL_EVENT,
            SYSTEM,
        )

    @staticmethod
    def _capture_amount(order: OrderDraft, fo: FulfillmentDraft, last: bool) -> int:
        """shipFulfillmentOrder's rule: the units' price, their line tax and their part of shipping with its tax,
        each by cumulative share of units; the last to leave takes what is left of the authorisation, so the
        captures add up to the order's total less cancellations exactly."""
        if last:
            return order.total_minor - order.cancelled_minor - order.payment.totals[PaymentTransactionKind.CAPTURE]
        value = sum(
            line.item.price_minor * line.active
            + added_tax(
                share(line.tax_minor, line.quantity_shipped + line.active, line.quantity)
                - share(line.tax_minor, line.quantity_shipped, line.quantity),
                included=order.prices_include_tax,
            )
            for line in fo.lines
        )
        shipping_tax = order.tax_minor - sum(line.tax_minor for line in order.lines)
        shipping = order.shipping_minor + added_tax(shipping_tax, included=order.prices_include_tax)
        active = sum(line.active for line in order.lines)
        left_before = sum(line.quantity_shipped for line in order.lines)
        return value + share(shipping, left_before + fo.units, active) - share(shipping, left_before, active)

    def _track(self, order: OrderDraft, fo: FulfillmentDraft, scans: list[Scan]) -> None:
        shipment, carrier = fo.shipment, (ActorKind.CARRIER, fo.shipment.carrier.name)
        in_transit_told = False
        for status, at, description, where in scans:
            if at > self.anchor:
                return
            shipment.scans.append((status, at, description, where))
            shipment.status = status
            if status is ShipmentStatus.IN_TRANSIT and not in_transit_told:
                in_transit_told = True
                order.record(
                    at, EventType.SHIPMENT_IN_TRANSIT, f"In transit with {carrier[1]}.", CUSTOMER_EVENT, carrier
                )
            elif status is ShipmentStatus.EXCEPTION:
                order.record(at, EventType.SHIPMENT_EXCEPTION, description, CUSTOMER_EVENT, carrier)
            elif status is ShipmentStatus.OUT_FOR_DELIVERY:
                order.record(at, EventType.SHIPMENT_OUT_FOR_DELIVERY, "Out for delivery.", CUSTOMER_EVENT, carrier)
            elif status is ShipmentStatus.DELIVERED:
                shipment.delivered_at = at
                fo.status, fo.updated_at = FulfillmentOrderStatus.DELIVERED, at
                for line in fo.lines:
                    line.quantity_delivered += line.active
                order.record(at, EventType.SHIPMENT_DELIVERED, f"{description}.", CUSTOMER_EVENT, carrier)

    def _return(self, rng: random.Random, order: OrderDraft, scenario: Scenario, delivered_at: datetime) -> None:
        """An RMA within the 30-day window: requested, then approved or rejected, received, refunded."""
        requested_at = delivered_at + between(rng, DAY, 25 * DAY)
        if requested_at > self.anchor:
            return
        if scenario.return_ == "all":
            wanted = [(line, line.quantity_delivered) for line in order.lines if line.quantity_delivered]
        else:
            line = rng.choice([line for line in order.lines if line.quantity_delivered])
            wanted = [(line, rng.randint(1, line.quantity_delivered))]
        drop_off = self._nearest_store(order.pickup.place if order.pickup else order.address.place)[0]
        by_mail = rng.random() < 0.7
        order.return_ = ret = ReturnDraft(
            ReturnMethod.MAIL if by_mail else ReturnMethod.STORE_DROP_OFF,
            None if by_mail else drop_off,
            requested_at,
            [ReturnLineDraft(line, quantity, _pick(rng, *RETURN_REASONS)) for line, quantity in wanted],
        )
        customer = (ActorKind.CUSTOMER, order.shopper.name)
        agent = (ActorKind.AGENT, rng.choice(AGENTS))
        units = sum(rl.quantity for rl in ret.lines)
        order.record(
            requested_at, EventType.RETURN_REQUESTED, f"Return of {units} unit(s) requested.", CUSTOMER_EVENT, customer
        )
        if scenario.return_rejected:
            rejected_at = requested_at + between(rng, 3 * HOUR, 2 * DAY)
            if rejected_at <= self.anchor:
                ret.status, ret.rejected_reason = ReturnStatus.REJECTED, rng.choice(RETURN_REJECTIONS)
                order.record(
                    rejected_at,
                    EventType.RETURN_REJECTED,
                    f"Return rejected: {ret.rejected_reason}",
                    CUSTOMER_EVENT,
                    agent,
                )
            return
        ret.approved_at = requested_at + between(rng, HOUR, 30 * HOUR)
        if ret.approved_at > self.anchor:
            ret.approved_at = None
            return
        ret.status = ReturnStatus.APPROVED
        how = "a prepaid label was issued" if by_mail else f"drop it off at {drop_off.name}"
        order.record(ret.approved_at, EventType.RETURN_APPROVED, f"Return approved: {how}.", CUSTOMER_EVENT, agent)
        in_transit = between(rng, 2 * DAY, 8 * DAY) if by_mail else between(rng, 6 * HOUR, 4 * DAY)
        received_at = ret.approved_at + in_transit
        if received_at > self.anchor:
            return
        self._receive(order, ret, received_at, agent)
        refunded_at = received_at + between(rng, HOUR, 2 * DAY)
        if refunded_at <= self.anchor:
            ret.status, ret.refunded_at = ReturnStatus.REFUNDED, refunded_at
            order.refunded_minor += ret.refund_minor
            order.payment.add(
                TransactionDraft(
                    PaymentTransactionKind.REFUND,
                    ret.refund_minor,
                    _reference(rng, "refund"),
                    refunded_at,
                    for_return=True,
                )
            )
            order.record(
                refunded_at,
                EventType.REFUND_ISSUED,
                f"{_money(ret.refund_minor, order.currency)} refunded.",
                CUSTOMER_EVENT,
                SYSTEM,
            )

    def _receive(self, order: OrderDraft, ret: ReturnDraft, at: datetime, agent: tuple[ActorKind, str | None]) -> None:
        """The units are back: counted as returned, restocked unless damaged or defective, and the refund (their
        price and tax, never more than was captured) is known."""
        ret.status, ret.received_at = ReturnStatus.RECEIVED, at
        refund = 0
        for rl in ret.lines:
            rl.received = rl.quantity
            rl.restocked = 0 if rl.reason in (ReturnReason.DAMAGED, ReturnReason.DEFECTIVE) else rl.quantity
            rl.line.quantity_returned += rl.quantity
            refund += rl.line.item.price_minor * rl.quantity + added_tax(
                share(rl.line.tax_minor, rl.quantity, rl.line.quantity), included=order.prices_include_tax
            )
        payment = order.payment
        refundable = payment.totals[PaymentTransactionKind.CAPTURE] - payment.totals[PaymentTransactionKind.REFUND]
        ret.refund_minor = min(refund, refundable)
        order.record(
            at,
            EventType.RETURN_RECEIVED,
            f"Return received: {sum(rl.quantity for rl in ret.lines)} unit(s).",
            CUSTOMER_EVENT,
            agent,
        )


# --- The order stream: placement times, the showcase customer, chronological order ---------------------------

# Orders per local hour of the day (US Eastern), from midnight.
HOURLY_ACTIVITY = (2, 1, 1, 1, 1, 2, 4, 6, 8, 9, 10, 10, 11, 10, 10, 10, 10, 11, 12, 13, 13, 11, 8, 4)
EASTERN = zone("America/New_York")


def placement_times(rng: random.Random, count: int, start: datetime, end: datetime) -> Iterator[datetime]:
    """`count` times between start and end in increasing order, denser in the evening, at weekends, in the
    holiday season and as the business grows."""
    hours = int((end - start) / HOUR)
    weights = []
    for hour in range(hours):
        at = start + hour * HOUR
        local = at.astimezone(EASTERN)
        weekend = 1.15 if local.weekday() >= 5 else 1.0
        season = 1.5 if date(local.year, 11, 20) <= local.date() <= date(local.year, 12, 20) else 1.0
        growth = 0.8 + 0.4 * hour / hours
        weights.append(HOURLY_ACTIVITY[local.hour] * weekend * season * growth)
    cumulative = list(accumulate(weights))
    total = cumulative[-1]
    for index in range(count):
        target = (index + rng.random()) / count * total  # one draw per slice of the year keeps the times sorted
        hour = min(bisect_right(cumulative, target), hours - 1)
        before = cumulative[hour - 1] if hour else 0.0
        yield start + (hour + (target - before) / weights[hour]) * HOUR


@dataclass(frozen=True, slots=True)
class Showcase:
    """An order of the first customer in a given state, so `serve --demo` shows every status on one account."""

    status: OrderStatus
    age: tuple[timedelta, timedelta]
    method_code: str | None = "STANDARD"
    split_to: LocationKind | None = None  # one line comes from a location of this kind
    scenario: Scenario = Scenario()


# In-flight states take any delivery method: whatever day the anchor falls on, some method is at work then.
SHOWCASE = (
    Showcase(OrderStatus.ON_HOLD, (10 * MINUTE, HOUR), scenario=Scenario(hold=True)),
    # A company order of the demo company (#21) waiting for its approver, well within the reservation time.
    Showcase(OrderStatus.AWAITING_APPROVAL, (10 * MINUTE, HOUR), scenario=Scenario(approval=True)),
    Showcase(OrderStatus.CONFIRMED, (5 * MINUTE, 2 * HOUR)),
    Showcase(OrderStatus.PROCESSING, (30 * MINUTE, 3 * DAY), method_code=None),
    Showcase(OrderStatus.READY_FOR_PICKUP, (3 * HOUR, 2 * DAY), method_code="PICKUP"),
    # A partner takes a day or two longer than the warehouse that ships the rest.
    Showcase(OrderStatus.PARTIALLY_SHIPPED, (HOUR, 4 * DAY), split_to=LocationKind.THIRD_PARTY),
    Showcase(OrderStatus.SHIPPED, (DAY, 4 * DAY)),
    Showcase(OrderStatus.DELIVERED, (8 * DAY, 25 * DAY), scenario=Scenario(return_="some")),
    Showcase(OrderStatus.CANCELLED, (3 * DAY, 60 * DAY), scenario=Scenario(cancel="all")),
    Showcase(OrderStatus.RETURNED, (30 * DAY, 90 * DAY), method_code=None, scenario=Scenario(return_="all")),
)
SHOWCASE_ATTEMPTS = 500
FIRST_CUSTOMER_ORDERS = 14  # of the ordinary stream, besides the showcase


def showcase_orders(factory: OrderFactory, rng: random.Random, count: int) -> list[OrderDraft]:
    """Orders of the first customer in the states SHOWCASE asks for: each is simulated like any other order,
    at ages drawn until the simulation lands in that state."""
    shopper, drafts = factory.world.shoppers[0], []
    for showcase in SHOWCASE[:count]:
        for _ in range(SHOWCASE_ATTEMPTS):
            placed_at = factory.anchor - between(rng, *showcase.age)
            order = factory.plan(rng, shopper, placed_at, method_code=showcase.method_code, split_to=showcase.split_to)
            order = factory.simulate(rng, order, showcase.scenario)
            if order.status is showcase.status:
                drafts.append(order)
                break
        else:
            raise RuntimeError(f"no {showcase.status} showcase order in {SHOWCASE_ATTEMPTS} attempts")
    return sorted(drafts, key=lambda order: order.placed_at)


def order_stream(
    factory: OrderFactory, rng: random.Random, showcase_rng: random.Random, orders: int
) -> Iterator[OrderDraft]:
    """Every order in the order it was placed: the ordinary stream with the showcase orders merged in."""
    world = factory.world
    showcase = showcase_orders(factory, showcase_rng, min(len(SHOWCASE), orders))
    ordinary = orders - len(showcase)
    stride = max(ordinary // FIRST_CUSTOMER_ORDERS, 1)
    times = placement_times(rng, ordinary, factory.anchor - HISTORY, factory.anchor)
    for slot, placed_at in enumerate(times):
        while showcase and showcase[0].placed_at <= placed_at:
            yield showcase.pop(0)
        if slot % stride == 0 or len(world.shoppers) == 1:
            shopper = world.shoppers[0]
        else:
            shopper = _pick(rng, world.shoppers, world.shopper_loyalty)
        order = factory.plan(rng, shopper, placed_at)
        yield factory.simulate(rng, order, Scenario.draw(rng, order.channel))
    yield from showcase
