"""opening hours, closures, inbound shipments and stock thresholds (#18)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 23:20:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import ordergraph.models.columns

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "location_opening_hours",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("location_id", BIG_ID, nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("opens", sa.Time(), nullable=False),
        sa.Column("closes", sa.Time(), nullable=False),
        sa.CheckConstraint(
            "weekday BETWEEN 1 AND 7 AND opens < closes", name=op.f("ck_location_opening_hours_interval")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["location.id"], name=op.f("fk_location_opening_hours_location_id_location")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_location_opening_hours")),
        sa.UniqueConstraint(
            "location_id", "weekday", "opens", name=op.f("uq_location_opening_hours_location_id_weekday_opens")
        ),
    )
    with op.batch_alter_table("location_opening_hours", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_location_opening_hours_location_id"), ["location_id"], unique=False)

    op.create_table(
        "location_closure",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("location_id", BIG_ID, nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.ForeignKeyConstraint(
            ["location_id"], ["location.id"], name=op.f("fk_location_closure_location_id_location")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_location_closure")),
        sa.UniqueConstraint("location_id", "closed_on", name=op.f("uq_location_closure_location_id_closed_on")),
    )

    op.create_table(
        "inbound_shipment",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("location_id", BIG_ID, nullable=False),
        sa.Column(
            "kind",
            sa.Enum("PURCHASE_ORDER", "ADVANCE_SHIPPING_NOTICE", name="inboundkind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("reference", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("expected_on", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("OPEN", "PARTIALLY_RECEIVED", "RECEIVED", name="inboundstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("created_at", ordergraph.models.columns.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_at", ordergraph.models.columns.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["location_id"], ["location.id"], name=op.f("fk_inbound_shipment_location_id_location")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_shipment")),
    )
    with op.batch_alter_table("inbound_shipment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inbound_shipment_location_id"), ["location_id"], unique=False)

    op.create_table(
        "inbound_shipment_line",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("shipment_id", BIG_ID, nullable=False),
        sa.Column("sku", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("damaged", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "quantity > 0 AND received >= 0 AND damaged >= 0", name=op.f("ck_inbound_shipment_line_nonnegative")
        ),
        sa.CheckConstraint("received + damaged <= quantity", name=op.f("ck_inbound_shipment_line_not_over_received")),
        sa.ForeignKeyConstraint(
            ["shipment_id"], ["inbound_shipment.id"], name=op.f("fk_inbound_shipment_line_shipment_id_inbound_shipment")
        ),
        sa.ForeignKeyConstraint(["sku"], ["product.sku"], name=op.f("fk_inbound_shipment_line_sku_product")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_shipment_line")),
        sa.UniqueConstraint("shipment_id", "sku", name=op.f("uq_inbound_shipment_line_shipment_id_sku")),
    )
    with op.batch_alter_table("inbound_shipment_line", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inbound_shipment_line_shipment_id"), ["shipment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_inbound_shipment_line_sku"), ["sku"], unique=False)

    with op.batch_alter_table("inventory_level", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reorder_point", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("maximum", sa.Integer(), nullable=True))

    with op.batch_alter_table("inventory_adjustment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("incoming_delta", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("damaged_delta", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("inbound_shipment_id", BIG_ID, nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_inventory_adjustment_inbound_shipment_id_inbound_shipment"),
            "inbound_shipment",
            ["inbound_shipment_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("inventory_adjustment", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_inventory_adjustment_inbound_shipment_id_inbound_shipment"), type_="foreignkey"
        )
        batch_op.drop_column("inbound_shipment_id")
        batch_op.drop_column("damaged_delta")
        batch_op.drop_column("incoming_delta")
    with op.batch_alter_table("inventory_level", schema=None) as batch_op:
        batch_op.drop_column("maximum")
        batch_op.drop_column("reorder_point")
    op.drop_table("inbound_shipment_line")
    op.drop_table("inbound_shipment")
    op.drop_table("location_closure")
    op.drop_table("location_opening_hours")
