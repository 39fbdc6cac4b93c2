"""Inbound shipments, receiving, stock thresholds per level, and stores' opening hours (#18)."""

from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any, TypeVar

import strawberry

from ordergraph import models
from ordergraph.models import enums
from ordergraph.resolvers import inbound, inventory, opening_hours
from ordergraph.schema.common import Connection, UserError
from ordergraph.schema.info import Info
from ordergraph.schema.location import InventoryLevelPayload, Location, SetInventoryThresholdsInput
from ordergraph.schema.node import encode_global_id, parse_global_id

P = TypeVar("P")


async def answer(payload: Callable[[Any, list[UserError]], P], action: Callable[[], Awaitable[Any]]) -> P:
    """schema/mutation.py's `answer` (imported when called: mutation.py mixes this module's mutations in)."""
    from ordergraph.schema.mutation import answer as answered

    return await answered(payload, action)


InboundKind = strawberry.enum(enums.InboundKind)
InboundStatus = strawberry.enum(enums.InboundStatus)


@strawberry.type
class InboundShipmentLine:
    sku: str
    quantity: int = strawberry.field(description="Units announced.")
    received: int = strawberry.field(description="Units received into on-hand stock so far.")
    damaged: int = strawberry.field(description="Units that arrived damaged (never on hand).")

    @strawberry.field(description="Units still expected: quantity - received - damaged.")
    def outstanding(root: models.InboundShipmentLine) -> int:
        return root.outstanding


@strawberry.type(description="A purchase order or advance shipping notice: stock on its way to a location.")
class InboundShipment:
    @strawberry.field
    def id(root: models.InboundShipment) -> strawberry.ID:
        return strawberry.ID(encode_global_id("InboundShipment", root.id))

    kind: InboundKind
    status: InboundStatus
    reference: str | None
    expected_on: date
    created_at: datetime
    received_at: datetime | None = strawberry.field(description="When its last unit was accounted for.")

    @strawberry.field
    async def location(root: models.InboundShipment, info: Info) -> Location:
        return await info.context.loaders.location.load(root.location_id)

    @strawberry.field
    async def lines(root: models.InboundShipment, info: Info) -> list[InboundShipmentLine]:
        return await inbound.shipment_lines(info.context, root.id)  # type: ignore[return-value]


@strawberry.input
class InboundLineInput:
    sku: str
    quantity: int


@strawberry.input
class CreateInboundShipmentInput:
    location_id: strawberry.ID
    kind: InboundKind
    expected_on: date
    lines: list[InboundLineInput]
    reference: str | None = None


@strawberry.input
class ReceiptLineInput:
    sku: str
    received: int
    damaged: int = 0


@strawberry.input
class ReceiveInboundShipmentInput:
    shipment_id: strawberry.ID
    lines: list[ReceiptLineInput]


@strawberry.type
class InboundShipmentPayload:
    inbound_shipment: InboundShipment | None
    user_errors: list[UserError]


@strawberry.input
class OpeningIntervalInput:
    opens: str = strawberry.field(description="HH:MM, 24-hour, local time.")
    closes: str = strawberry.field(description="HH:MM, after `opens` the same day.")


@strawberry.input
class OpeningDayInput:
    weekday: int = strawberry.field(description="ISO weekday: 1 = Monday … 7 = Sunday.")
    intervals: list[OpeningIntervalInput]


@strawberry.input
class SetLocationOpeningHoursInput:
    location_id: strawberry.ID
    days: list[OpeningDayInput] = strawberry.field(description="The whole week: a weekday left out is closed.")
    timezone: str | None = strawberry.field(default=None, description="IANA name; the location's stays when null.")


@strawberry.input
class LocationClosureInput:
    location_id: strawberry.ID
    date: date
    reason: str | None = None


@strawberry.type
class LocationPayload:
    location: Location | None
    user_errors: list[UserError]


@strawberry.input
class InventoryLevelFilter:
    sku: list[str] | None = None
    location_id: list[strawberry.ID] | None = None
    below_reorder_point: bool | None = strawberry.field(
        default=None, description="Levels whose on hand - reserved + incoming is at or below their reorder point."
    )
    over_maximum: bool | None = strawberry.field(
        default=None, description="Levels whose on hand + incoming exceeds their maximum."
    )

    def to_domain(self) -> inventory.InventoryFilter:
        return inventory.InventoryFilter(
            skus=list(self.sku) if self.sku is not None else None,
            location_ids=[parse_global_id(i, "Location")[1] for i in self.location_id]
            if self.location_id is not None
            else None,
            below_reorder_point=self.below_reorder_point,
            over_maximum=self.over_maximum,
        )


@strawberry.input
class InboundShipmentFilter:
    location_id: list[strawberry.ID] | None = None
    sku: str | None = None
    open: bool = strawberry.field(default=False, description="Only shipments with units still expected.")


def _location_id(global_id: strawberry.ID) -> int:
    return parse_global_id(global_id, "Location")[1]


def _location_payload(location: models.Location | None, errors: list[UserError]) -> LocationPayload:
    return LocationPayload(location=location, user_errors=errors)  # type: ignore[arg-type]


def _shipment_payload(shipment: models.InboundShipment | None, errors: list[UserError]) -> InboundShipmentPayload:
    return InboundShipmentPayload(inbound_shipment=shipment, user_errors=errors)  # type: ignore[arg-type]


@strawberry.type
class StockInQueries:
    """Mixed into the root Query type (schema/query.py)."""

    @strawberry.field(description="Agents and analysts: inbound shipments, newest first.")
    async def inbound_shipments(
        self,
        info: Info,
        filter: InboundShipmentFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[InboundShipment]:
        wanted = filter or InboundShipmentFilter()
        return await inbound.list_inbound_shipments(  # type: ignore[return-value]
            info.context,
            shipments=inbound.InboundFilter(
                location_ids=[_location_id(i) for i in wanted.location_id] if wanted.location_id is not None else None,
                sku=wanted.sku,
                open_only=wanted.open,
            ),
            first=first,
            after=after,
        )


@strawberry.type
class StockInMutations:
    """Mixed into the root Mutation type (schema/mutation.py)."""

    @strawberry.mutation(
        description="Agents: announce stock on its way to a location (raises `incoming` of each line's level)."
    )
    async def create_inbound_shipment(self, info: Info, input: CreateInboundShipmentInput) -> InboundShipmentPayload:
        return await answer(
            _shipment_payload,
            lambda: inbound.create_inbound_shipment(
                info.context,
                location_id=_location_id(input.location_id),
                kind=enums.InboundKind(input.kind.value),
                expected_on=input.expected_on,
                lines=[inbound.InboundLine(line.sku, line.quantity) for line in input.lines],
                reference=input.reference,
            ),
        )

    @strawberry.mutation(
        description="Agents: receive some or all of an inbound shipment: received units go on hand, damaged ones "
        "do not; both leave `incoming`. More than is still expected is refused (OVER_RECEIVED)."
    )
    async def receive_inbound_shipment(self, info: Info, input: ReceiveInboundShipmentInput) -> InboundShipmentPayload:
        return await answer(
            _shipment_payload,
            lambda: inbound.receive_inbound_shipment(
                info.context,
                shipment_id=parse_global_id(input.shipment_id, "InboundShipment")[1],
                lines=[inbound.ReceiptLine(line.sku, line.received, line.damaged) for line in input.lines],
            ),
        )

    @strawberry.mutation(
        description="Agents: a level's safety stock, reorder point and maximum (null: none), in that order or equal."
    )
    async def set_inventory_thresholds(self, info: Info, input: SetInventoryThresholdsInput) -> InventoryLevelPayload:
        return await answer(
            lambda level, errors: InventoryLevelPayload(inventory_level=level, user_errors=errors),
            lambda: inventory.set_thresholds(
                info.context,
                sku=input.sku,
                location_id=_location_id(input.location_id),
                safety_stock=input.safety_stock,
                reorder_point=input.reorder_point,
                maximum=input.maximum,
            ),
        )

    @strawberry.mutation(description="Agents: replace a location's weekly opening hours (and time zone).")
    async def set_location_opening_hours(self, info: Info, input: SetLocationOpeningHoursInput) -> LocationPayload:
        return await answer(
            _location_payload,
            lambda: opening_hours.set_opening_hours(
                info.context,
                location_id=_location_id(input.location_id),
                days=[
                    opening_hours.DayHours(day.weekday, [(i.opens, i.closes) for i in day.intervals])
                    for day in input.days
                ],
                timezone=input.timezone,
            ),
        )

    @strawberry.mutation(description="Agents: close a location for a whole local date.")
    async def add_location_closure(self, info: Info, input: LocationClosureInput) -> LocationPayload:
        return await answer(
            _location_payload,
            lambda: opening_hours.add_closure(
                info.context, location_id=_location_id(input.location_id), on=input.date, reason=input.reason
            ),
        )

    @strawberry.mutation(description="Agents: take back a location's closure on a date.")
    async def remove_location_closure(self, info: Info, input: LocationClosureInput) -> LocationPayload:
        return await answer(
            _location_payload,
            lambda: opening_hours.remove_closure(
                info.context, location_id=_location_id(input.location_id), on=input.date
            ),
        )
