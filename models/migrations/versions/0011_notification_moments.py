"""customer locale, notification preferences per moment, quiet hours (#19)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 23:20:00
"""

import sqlalchemy as sa
from alembic import op

import ordergraph.models.columns

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

BigIntId = ordergraph.models.columns.BigIntId


def upgrade() -> None:
    # Plain ADD COLUMN (SQLite has it): a batch copy of `customer` or `order_event` would have to drop a table that
    # other tables' rows refer to, which SQLite refuses with foreign keys on.
    op.add_column("customer", sa.Column("locale", sa.String(length=8), nullable=True))
    op.add_column("customer", sa.Column("time_zone", sa.String(length=64), nullable=True))
    op.add_column("customer", sa.Column("quiet_hours_start", sa.Integer(), nullable=True))
    op.add_column("customer", sa.Column("quiet_hours_end", sa.Integer(), nullable=True))
    op.add_column("order_event", sa.Column("shipment_id", BigIntId, nullable=True))
    op.add_column("order_event", sa.Column("return_id", BigIntId, nullable=True))
    with op.batch_alter_table("notification") as batch:
        batch.add_column(sa.Column("moment", sa.String(length=32), nullable=False, server_default=""))
        batch.drop_constraint("uq_notification_event_channel", type_="unique")
        batch.create_unique_constraint("uq_notification_event_channel_moment", ["event_id", "channel", "moment"])
    op.create_table(
        "notification_moment_preference",
        sa.Column(
            "customer_id",
            BigIntId,
            sa.ForeignKey("customer.id", name="fk_notification_moment_preference_customer_id_customer"),
            nullable=False,
        ),
        sa.Column("moment", sa.String(length=32), nullable=False),
        sa.Column("email", sa.Boolean(), nullable=False),
        sa.Column("sms", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "moment", name="pk_notification_moment_preference"),
    )


def downgrade() -> None:
    op.drop_table("notification_moment_preference")
    with op.batch_alter_table("notification") as batch:
        batch.drop_constraint("uq_notification_event_channel_moment", type_="unique")
        batch.create_unique_constraint("uq_notification_event_channel", ["event_id", "channel"])
        batch.drop_column("moment")
    for table, column in (
        ("order_event", "return_id"),
        ("order_event", "shipment_id"),
        ("customer", "quiet_hours_end"),
        ("customer", "quiet_hours_start"),
        ("customer", "time_zone"),
        ("customer", "locale"),
    ):
        op.drop_column(table, column)
