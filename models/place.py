"""Places: the cities of the markets without a postal-code table (CZ, SA, AE), to locate a destination by its
city, region or country. Reference data (models/reference/places.csv.gz, GeoNames CC BY 4.0), loaded by
migration 0006 and never written by the app."""

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


class Place(SQLModel, table=True):
    __tablename__ = "place"

    # The GeoNames id: stable across rebuilds of the table.
    id: int = Field(sa_column=sa.Column(sa.BigInteger(), primary_key=True, autoincrement=False))
    country: str = Field(max_length=2)
    # The ISO 3166-2 subdivision without its country prefix ("10" for CZ-10, "DU" for AE-DU), as the US stores "NY".
    region: str | None = Field(default=None, max_length=3)
    name: str
    latitude: float
    longitude: float
    timezone: str
    population: int
    metro_area: str | None = None

    __table_args__ = (sa.Index("ix_place_country_region", "country", "region", "population"),)


class PlaceName(SQLModel, table=True):
    """One way of writing a place's name, as `models.text.place_key` folds it (Latin and Arabic script)."""

    __tablename__ = "place_name"

    country: str = Field(primary_key=True, max_length=2)
    key: str = Field(primary_key=True)
    place_id: int = Field(sa_column=sa.Column(sa.BigInteger(), sa.ForeignKey("place.id"), primary_key=True))
