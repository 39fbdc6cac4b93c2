"""Pickup points: the shipped CZ directory, its idempotent loader, node(id), and the public store finder."""

import dataclasses

from conftest import Api
from market_factories import market_shop  # noqa: F401
from sqlmodel import col, select

from ordergraph.models import PickupPoint
from ordergraph.models.database import Database
from ordergraph.models.enums import PickupPointKind
from ordergraph.resolvers.pickup_points import load_points, shipped_points
from ordergraph.schema.node import encode_global_id

WENCESLAS_SQUARE = {"latitude": 50.0843, "longitude": 14.4237}


async def snapshot(db: Database) -> list[tuple]:
    async with db.read() as session:
        points = (await session.exec(select(PickupPoint).order_by(col(PickupPoint.id)))).all()
        return [tuple(p.model_dump().values()) for p in points]


def test_the_shipped_directory_holds_demo_points_of_two_networks() -> None:
    points = shipped_points("CZ")
    assert len(points) >= 20
    assert {p.network for p in points} == {"PARCELBOX", "VYDEJNA"}
    assert {p.kind for p in points if p.network == "PARCELBOX"} == {PickupPointKind.PARCEL_LOCKER}
    assert all(p.country == "CZ" and "(demo)" in p.name for p in points)
    assert len({(p.network, p.external_id) for p in points}) == len(points)
    first = next(p for p in points if p.external_id == "PB-PRG-001")
    assert (first.line1, first.city, first.postal_code, first.region) == (
        "Václavské náměstí 1",
        "Praha",
        "110 00",
        "10",
    )
    assert shipped_points("SA") == []


async def test_loading_twice_gives_the_same_rows(empty_db: Database) -> None:
    records = shipped_points("CZ")
    async with empty_db.write() as session:
        assert await load_points(session, records) == len(records)
    first = await snapshot(empty_db)
    async with empty_db.write() as session:
        assert await load_points(session, records) == len(records)
    assert await snapshot(empty_db) == first
    assert len(first) == len(records)


async def test_a_point_missing_from_a_reloaded_network_is_deactivated(empty_db: Database) -> None:
    records = shipped_points("CZ")
    async with empty_db.write() as session:
        await load_points(session, records)
    without = [r for r in records if r.external_id != "PB-PRG-002"]
    moved = [
        dataclasses.replace(r, opening_hours="Mo-Su 06:00-22:00") if r.external_id == "PB-BRN-001" else r
        for r in without
    ]
    async with empty_db.write() as session:
        await load_points(session, moved, network="PARCELBOX")
    async with empty_db.read() as session:
        active = {p.external_id: p for p in (await session.exec(select(PickupPoint))).all()}
    assert active["PB-PRG-002"].active is False
    assert all(p.active for key, p in active.items() if key != "PB-PRG-002")  # VYDEJNA was not reloaded
    assert active["PB-BRN-001"].opening_hours == "Mo-Su 06:00-22:00"
    async with empty_db.write() as session:
        await load_points(session, records)
    async with empty_db.read() as session:
        assert (await session.get(PickupPoint, active["PB-PRG-002"].id)).active is True


POINTS = """
query Points($country: String!, $near: GeoPointInput, $network: String, $kinds: [PickupPointKind!], $first: Int) {
  pickupPoints(country: $country, near: $near, network: $network, kinds: $kinds, first: $first) {
    distanceKm
    point { id network externalId kind name openingHours latitude longitude timezone
            address { line1 city region postalCode country } }
  }
}
"""

STORES = """
query Stores($country: String!, $near: GeoPointInput, $first: Int) {
  stores(country: $country, near: $near, first: $first) {
    distanceKm
    location { id name country latitude longitude address { line1 city postalCode country } }
  }
}
"""


async def test_pickup_points_nearest_first_without_signing_in(market_shop: Api) -> None:  # noqa: F811
    async with market_shop.db.write() as session:
        await load_points(session, shipped_points("CZ"))
    body = (await market_shop.post(POINTS, {"country": "cz", "near": WENCESLAS_SQUARE, "first": 5})).json()
    assert "errors" not in body, body
    results = body["data"]["pickupPoints"]
    assert len(results) == 5
    assert results[0]["point"]["externalId"] == "PB-PRG-001"
    assert results[0]["distanceKm"] == 0
    assert results[0]["point"]["address"] == {
        "line1": "Václavské náměstí 1",
        "city": "Praha",
        "region": "10",
        "postalCode": "110 00",
        "country": "CZ",
    }
    distances = [r["distanceKm"] for r in results]
    assert distances == sorted(distances)
    assert all(r["point"]["address"]["city"] == "Praha" for r in results)
    assert "PB-PRG-099" not in {r["point"]["externalId"] for r in results}  # the fixture's inactive locker

    lockers = (
        await market_shop.post(POINTS, {"country": "CZ", "near": WENCESLAS_SQUARE, "kinds": ["PARCEL_LOCKER"]})
    ).json()["data"]["pickupPoints"]
    assert lockers
    assert {r["point"]["kind"] for r in lockers} == {"PARCEL_LOCKER"}
    vydejna = (await market_shop.post(POINTS, {"country": "CZ", "network": "VYDEJNA", "first": 50})).json()["data"][
        "pickupPoints"
    ]
    assert vydejna
    assert {r["point"]["network"] for r in vydejna} == {"VYDEJNA"}
    assert {r["distanceKm"] for r in vydejna} == {None}  # no centre, no distance

    assert (await market_shop.post(POINTS, {"country": "US"})).json()["data"]["pickupPoints"] == []
    too_many = (await market_shop.post(POINTS, {"country": "CZ", "first": 51})).json()
    assert too_many["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_stores_offering_pickup_nearest_first(market_shop: Api) -> None:  # noqa: F811
    body = (await market_shop.post(STORES, {"country": "CZ", "near": WENCESLAS_SQUARE})).json()
    assert "errors" not in body, body
    stores = body["data"]["stores"]
    assert [s["location"]["name"] for s in stores] == ["Prodejna Brno"]  # the Praha warehouse offers no pickup
    assert stores[0]["location"]["address"] == {
        "line1": "Masarykova 5",
        "city": "Brno",
        "postalCode": "602 00",
        "country": "CZ",
    }
    assert 180 < stores[0]["distanceKm"] < 190


async def test_a_pickup_point_is_a_node_for_anyone_signed_in(market_shop: Api) -> None:  # noqa: F811
    point_id = encode_global_id("PickupPoint", market_shop.world.pickup_points["PB-PRG-001"])
    query = "query($id: ID!) { node(id: $id) { id ... on PickupPoint { externalId kind } } }"
    for token in (market_shop.token("customer", "alice"), market_shop.token("agent")):
        body = (await market_shop.post(query, {"id": point_id}, token=token)).json()
        assert body["data"]["node"] == {"id": point_id, "externalId": "PB-PRG-001", "kind": "PARCEL_LOCKER"}


async def test_points_near_a_city_and_their_metro_area(market_shop: Api) -> None:  # noqa: F811
    async with market_shop.db.write() as session:
        await load_points(session, shipped_points("CZ"))
    async with market_shop.db.read() as session:
        brno = (await session.exec(select(PickupPoint).where(PickupPoint.external_id == "PB-BRN-001"))).one()
    assert brno.metro_area == "Brno"  # located through the places table
    results = (
        await market_shop.post(
            POINTS.replace("near: $near", "city: $city").replace("$near: GeoPointInput", "$city: String"),
            {"country": "CZ", "city": "Brno", "first": 3},
        )
    ).json()
    assert "errors" not in results, results
    assert {r["point"]["address"]["city"] for r in results["data"]["pickupPoints"]} == {"Brno"}
