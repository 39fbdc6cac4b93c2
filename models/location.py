import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ordergraph.models.columns import BigIntId, enum_column
from ordergraph.models.enums import LocationKind


class Location(SQLModel, table=True):
    """Somewhere stock is held: a warehouse, store, distribution centre or third party."""

    __tablename__ = "location"

    id: int | None = Field(default=None, sa_type=BigIntId, primary_key=True)
    code: str = Field(unique=True)
    name: str
    kind: LocationKind = Field(sa_type=enum_column(LocationKind))
    line1: str
    city: str
    region: str | None = None
    postal_code: str
    country: str = Field(max_length=2)
    metro_area: str | None = None
    latitude: float
    longitude: float
    timezone: str  # IANA name: cut-off times are this location's local time
    ships: bool = True
    pickup: bool = False
    returns_drop_off: bool = False
    customization: bool = False


class PostalCode(SQLModel, table=True):
    """Reference data for locating a destination (models/reference/postal_codes.csv.gz)."""

    __tablename__ = "postal_code"

    country: str = Field(primary_key=True, max_length=2)
    code: str = Field(primary_key=True)
    region: str
    city: str
    latitude: float
    longitude: float
    metro_area: str | None = None
    timezone: str

    __table_args__ = (sa.Index("ix_postal_code_region", "country", "region"),)
