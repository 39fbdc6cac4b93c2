"""customer records, address books, activity and erasure (#18)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 23:20:00
"""

import re

import sqlalchemy as sa
from alembic import op

import ordergraph.models.columns

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

BigIntId = ordergraph.models.columns.BigIntId
UTCDateTime = ordergraph.models.columns.UTCDateTime


def upgrade() -> None:
    # Plain ALTER TABLE on both backends: a batch copy of `customer` would drop a table others reference, which
    # SQLite refuses with foreign keys on.
    op.add_column("customer", sa.Column("phone_digits", sa.String(), nullable=True))
    op.add_column("customer", sa.Column("erased_at", UTCDateTime(), nullable=True))
    op.add_column(
        "customer_address", sa.Column("default_shipping", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column(
        "customer_address", sa.Column("default_billing", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    # Existing customers: search by phone digits, and the first saved address is the default of both kinds.
    bind = op.get_bind()
    customers = bind.execute(sa.text("SELECT id, phone FROM customer WHERE phone IS NOT NULL")).all()
    for customer_id, phone in customers:
        bind.execute(
            sa.text("UPDATE customer SET phone_digits = :digits WHERE id = :id"),
            {"digits": re.sub(r"\D", "", phone) or None, "id": customer_id},
        )
    first = sa.text(
        "UPDATE customer_address SET default_shipping = :yes, default_billing = :yes WHERE id IN ("
        " SELECT min(a.id) FROM customer_address a WHERE a.position = ("
        "  SELECT min(b.position) FROM customer_address b WHERE b.customer_id = a.customer_id)"
        " GROUP BY a.customer_id)"
    )
    bind.execute(first, {"yes": True})
    op.create_table(
        "customer_erasure",
        sa.Column("id", BigIntId, nullable=False),
        sa.Column(
            "customer_id",
            BigIntId,
            sa.ForeignKey("customer.id", name="fk_customer_erasure_customer_id_customer"),
            nullable=False,
        ),
        sa.Column("erased_at", UTCDateTime(), nullable=False),
        sa.Column("actor_kind", sa.String(length=32), nullable=False),
        sa.Column("actor_name", sa.String(), nullable=True),
        sa.Column("actor_subject", sa.String(), nullable=True),
        sa.Column("scrubbed", sa.String(), nullable=False),
        sa.Column("outbox_files_deleted", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_customer_erasure"),
        sa.UniqueConstraint("customer_id", name="uq_customer_erasure_customer_id"),
    )


def downgrade() -> None:
    op.drop_table("customer_erasure")
    for table, column in (
        ("customer_address", "default_billing"),
        ("customer_address", "default_shipping"),
        ("customer", "erased_at"),
        ("customer", "phone_digits"),
    ):
        op.drop_column(table, column)
