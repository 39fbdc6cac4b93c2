"""Pickup points and parcel lockers, and the inputs that send an order to one."""

import strawberry

from ordergraph import models
from ordergraph.models import enums
from ordergraph.resolvers.destination import Recipient
from ordergraph.schema.common import Address
from ordergraph.schema.info import Info
from ordergraph.schema.node import Node, encode_global_id

PickupPointKind = strawberry.enum(
    enums.PickupPointKind,
    description="PICKUP_POINT: a staffed counter; PARCEL_LOCKER: a locker opened with a code sent to the "
    "recipient's phone.",
)


@strawberry.type(description="A carrier network's pickup point or parcel locker, where a parcel waits.")
class PickupPoint(Node):
    @classmethod
    def is_type_of(cls, obj: object, _info: Info) -> bool:
        return isinstance(obj, models.PickupPoint)

    @strawberry.field
    def id(root: models.PickupPoint) -> strawberry.ID:
        return strawberry.ID(encode_global_id("PickupPoint", root.id))

    network: str
    external_id: str = strawberry.field(description="The network's own code for the point.")
    kind: PickupPointKind
    name: str

    @strawberry.field
    def address(root: models.PickupPoint) -> Address:
        return Address(
            name=None,
            line1=root.line1,
            line2=None,
            city=root.city,
            region=root.region,
            postal_code=root.postal_code,
            country=root.country,
            phone=None,
        )

    latitude: float
    longitude: float
    timezone: str
    opening_hours: str = strawberry.field(description="In OpenStreetMap opening_hours syntax, as the network gives it.")


@strawberry.type
class PickupPointResult:
    point: PickupPoint
    distance_km: float | None = strawberry.field(description="From the place searched; null without one.")


@strawberry.input
class GeoPointInput:
    latitude: float
    longitude: float


@strawberry.input(
    description="Who collects the parcel at a pickup point. name: default the customer's. phone: required for a "
    "PARCEL_LOCKER (it receives the code); default the customer's phone."
)
class RecipientInput:
    name: str | None = None
    phone: str | None = None

    def to_domain(self) -> Recipient:
        return Recipient(name=self.name, phone=self.phone)
