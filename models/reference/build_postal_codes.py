"""Regenerate postal_codes.csv.gz, the demo country's (US) postal-code reference table.

The data comes from the `zipcodes` package (MIT), which is needed only to run this script:
    pip install zipcodes && python models/reference/build_postal_codes.py
A code within METRO_RADIUS_KM of a metro centre belongs to that metro area; same-day and one-hour
delivery are offered only inside a metro area.
"""

import csv
import gzip
import math
from pathlib import Path

import zipcodes

METRO_RADIUS_KM = 50.0
METRO_CENTRES = {
    "New York": (40.7128, -74.0060),
    "Chicago": (41.8781, -87.6298),
    "Los Angeles": (34.0522, -118.2437),
    "San Francisco Bay Area": (37.7749, -122.4194),
    "Seattle": (47.6062, -122.3321),
    "Dallas": (32.7767, -96.7970),
    "Houston": (29.7604, -95.3698),
    "Atlanta": (33.7490, -84.3880),
    "Boston": (42.3601, -71.0589),
    "Miami": (25.7617, -80.1918),
}


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


def main() -> None:
    rows = []
    for z in zipcodes.list_all():
        if not z["active"] or not z["lat"] or not z["timezone"] or z["country"] != "US":
            continue
        lat, lon = float(z["lat"]), float(z["long"])
        rows.append(
            (z["zip_code"], "US", z["state"], z["city"], f"{lat:.4f}", f"{lon:.4f}", metro_of(lat, lon), z["timezone"])
        )
    rows.sort()
    out = Path(__file__).with_name("postal_codes.csv.gz")
    with gzip.open(out, "wt", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["code", "country", "region", "city", "latitude", "longitude", "metro_area", "timezone"])
        writer.writerows(rows)
    print(f"wrote {len(rows)} postal codes to {out}")


if __name__ == "__main__":
    main()
