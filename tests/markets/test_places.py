"""The places table (models/reference/places.csv.gz, loaded by migration 0006) and locating by city, region and
country (resolvers/sourcing.locate)."""

import csv
import gzip
from collections import Counter
from importlib import resources

import pytest
from sqlmodel import text

from ordergraph.models.text import place_key
from ordergraph.resolvers.sourcing import locate


def shipped_rows() -> list[dict[str, str]]:
    with (
        resources.files("ordergraph.models.reference").joinpath("places.csv.gz").open("rb") as raw,
        gzip.open(raw, "rt", encoding="utf-8", newline="") as fh,
    ):
        return list(csv.DictReader(fh))


def test_every_name_folds_to_one_of_its_keys():
    """The drift guard: the shipped keys were built by the same place_key the lookups use."""
    rows = shipped_rows()
    assert all(place_key(row["name"]) in row["keys"].split("|") for row in rows)
    counts = Counter(row["country"] for row in rows)
    assert counts["CZ"] >= 1400
    assert counts["SA"] >= 150
    assert counts["AE"] >= 100
    assert not {row["country"] for row in rows} - {"CZ", "SA", "AE"}


async def test_the_migration_loads_every_place(empty_db):
    async with empty_db.read() as session:
        places = (await session.exec(text("SELECT count(*) FROM place"))).one()[0]
        names = (await session.exec(text("SELECT count(*) FROM place_name"))).one()[0]
        us = (await session.exec(text("SELECT count(*) FROM place WHERE country = 'US'"))).one()[0]
    rows = shipped_rows()
    assert places == len(rows)
    assert names == sum(len(row["keys"].split("|")) for row in rows)
    assert us == 0


# Czech places are keyed by their Latin-script names only; Saudi and Emirati ones by Arabic ones too.
CITIES = [
    ("CZ", ("Praha", "Prague", "PRAHA", "Praha 5"), "Europe/Prague", "Praha", 50.08),
    ("CZ", ("Brno", "brno"), "Europe/Prague", "Brno", 49.19),
    ("CZ", ("Ostrava",), "Europe/Prague", "Ostrava", 49.83),
    ("SA", ("Riyadh", "الرياض"), "Asia/Riyadh", "Riyadh", 24.68),
    ("SA", ("Jeddah", "جدة", "جده"), "Asia/Riyadh", "Jeddah", 21.54),
    ("AE", ("Dubai", "دبي", "dubai"), "Asia/Dubai", "Dubai", 25.07),
    ("AE", ("Abu Dhabi", "أبو ظبي", "ابوظبي"), "Asia/Dubai", "Abu Dhabi", 24.45),
]


@pytest.mark.parametrize(("country", "names", "timezone", "metro", "latitude"), CITIES)
async def test_cities_are_found_by_english_local_and_arabic_names(empty_db, country, names, timezone, metro, latitude):
    async with empty_db.read() as session:
        for name in names:
            found = await locate(session, country=country, postal_code="", city=name)
            assert found is not None, name
            assert (found.timezone, found.metro_area) == (timezone, metro), name
            assert found.latitude == pytest.approx(latitude, abs=0.1), name


async def test_fallbacks_to_region_country_and_nothing(empty_db):
    async with empty_db.read() as session:
        sharjah = await locate(session, country="AE", postal_code="", city="Sharjah")
        assert sharjah is not None
        assert sharjah.metro_area == "Dubai"
        by_region = await locate(session, country="CZ", postal_code="", region="64", city="Nowhereville")
        assert by_region is not None
        assert by_region.metro_area is None
        assert by_region.latitude == pytest.approx(49.19, abs=0.1)  # Brno, the region's largest
        by_country = await locate(session, country="SA", postal_code="", city=None)
        assert by_country is not None
        assert by_country.timezone == "Asia/Riyadh"
        assert by_country.metro_area is None
        assert await locate(session, country="FR", postal_code="75001", city="Paris") is None
        us = await locate(session, country="US", postal_code="10001", city="Praha")
        assert us is not None
        assert us.metro_area == "New York"
