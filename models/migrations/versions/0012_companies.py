"""companies, buyers, ship-to locations, price lists, on-account invoices and approvals (#21)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 02:30:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import ordergraph.models.columns

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = ordergraph.models.columns.UTCDateTime
TEXT = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "price_list",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("name", TEXT(length=200), nullable=False),
        sa.Column("currency", TEXT(length=3), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_price_list")),
    )
    op.create_table(
        "price_list_entry",
        sa.Column("price_list_id", BIG_ID, nullable=False),
        sa.Column("sku", TEXT(), nullable=False),
        sa.Column("unit_price_minor", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["price_list_id"], ["price_list.id"], name=op.f("fk_price_list_entry_price_list_id_price_list")
        ),
        sa.ForeignKeyConstraint(["sku"], ["product.sku"], name=op.f("fk_price_list_entry_sku_product")),
        sa.PrimaryKeyConstraint("price_list_id", "sku", name=op.f("pk_price_list_entry")),
    )
    op.create_table(
        "company",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("name", TEXT(length=200), nullable=False),
        sa.Column("tax_id", TEXT(length=40), nullable=True),
        sa.Column("market_code", TEXT(length=8), nullable=False),
        sa.Column("billing_name", TEXT(), nullable=True),
        sa.Column("billing_line1", TEXT(), nullable=False),
        sa.Column("billing_line2", TEXT(), nullable=True),
        sa.Column("billing_city", TEXT(), nullable=False),
        sa.Column("billing_region", TEXT(), nullable=True),
        sa.Column("billing_postal_code", TEXT(), nullable=False),
        sa.Column("billing_country", TEXT(length=2), nullable=False),
        sa.Column("purchase_order_required", sa.Boolean(), nullable=False),
        sa.Column("payment_terms_days", sa.Integer(), nullable=True),
        sa.Column("credit_limit_minor", sa.BigInteger(), nullable=False),
        sa.Column("credit_used_minor", sa.BigInteger(), nullable=False),
        sa.Column("approval_threshold_minor", sa.BigInteger(), nullable=True),
        sa.Column("price_list_id", BIG_ID, nullable=True),
        sa.Column("created_at", UTC(), nullable=False),
        sa.CheckConstraint(
            "credit_used_minor >= 0 AND credit_used_minor <= credit_limit_minor", name=op.f("ck_company_credit")
        ),
        sa.ForeignKeyConstraint(["market_code"], ["market.code"], name=op.f("fk_company_market_code_market")),
        sa.ForeignKeyConstraint(["price_list_id"], ["price_list.id"], name=op.f("fk_company_price_list_id_price_list")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company")),
    )
    op.create_table(
        "company_location",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("company_id", BIG_ID, nullable=False),
        sa.Column("label", TEXT(length=200), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("name", TEXT(), nullable=True),
        sa.Column("line1", TEXT(), nullable=False),
        sa.Column("line2", TEXT(), nullable=True),
        sa.Column("city", TEXT(), nullable=False),
        sa.Column("region", TEXT(), nullable=True),
        sa.Column("postal_code", TEXT(), nullable=False),
        sa.Column("country", TEXT(length=2), nullable=False),
        sa.Column("phone", TEXT(), nullable=True),
        sa.ForeignKeyConstraint(["company_id"], ["company.id"], name=op.f("fk_company_location_company_id_company")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company_location")),
    )
    op.create_index(op.f("ix_company_location_company_id"), "company_location", ["company_id"], unique=False)
    op.create_table(
        "company_buyer",
        sa.Column("customer_id", BIG_ID, nullable=False),
        sa.Column("company_id", BIG_ID, nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["company.id"], name=op.f("fk_company_buyer_company_id_company")),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], name=op.f("fk_company_buyer_customer_id_customer")),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_company_buyer")),
    )
    op.create_index(op.f("ix_company_buyer_company_id"), "company_buyer", ["company_id"], unique=False)
    op.create_table(
        "invoice_payment",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("invoice_id", BIG_ID, nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("reference", TEXT(length=200), nullable=False),
        sa.Column("received_at", UTC(), nullable=False),
        sa.Column("recorded_by", TEXT(), nullable=True),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoice.id"], name=op.f("fk_invoice_payment_invoice_id_invoice")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_payment")),
    )
    op.create_index(op.f("ix_invoice_payment_invoice_id"), "invoice_payment", ["invoice_id"], unique=False)

    # Plain ADD COLUMN on tables other tables refer to (a batch copy would drop them, which SQLite refuses with
    # foreign keys on); the company references are kept by the code, as order_event's shipment_id is.
    for column in (
        sa.Column("company_id", BIG_ID, nullable=True),
        sa.Column("company_location_id", BIG_ID, nullable=True),
        sa.Column("purchase_order_number", TEXT(length=64), nullable=True),
        sa.Column("payment_method", sa.String(length=32), nullable=True),
        sa.Column("payment_terms_days", sa.Integer(), nullable=True),
        sa.Column("approval_state", sa.String(length=32), nullable=True),
        sa.Column("approval_expires_at", UTC(), nullable=True),
        sa.Column("approval_decided_at", UTC(), nullable=True),
        sa.Column("approval_decided_by", TEXT(), nullable=True),
    ):
        op.add_column("orders", column)
    op.create_index("ix_orders_company_placed", "orders", ["company_id", "placed_at", "id"], unique=False)
    # A unique index (not a constraint): SQLite cannot add a constraint to an existing table. NULLs are distinct
    # on both databases, so consumers' orders (no company, no PO) never collide.
    op.create_index("uq_orders_company_po", "orders", ["company_id", "purchase_order_number"], unique=True)
    for column in (
        sa.Column("company_id", BIG_ID, nullable=True),
        sa.Column("buyer_company_name", TEXT(), nullable=True),
        sa.Column("purchase_order_number", TEXT(length=64), nullable=True),
        sa.Column("due_at", UTC(), nullable=True),
        sa.Column("paid_minor", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("settled_at", UTC(), nullable=True),
    ):
        op.add_column("invoice", column)
    op.create_index(op.f("ix_invoice_company_id"), "invoice", ["company_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_invoice_company_id"), table_name="invoice")
    for name in ("settled_at", "paid_minor", "due_at", "purchase_order_number", "buyer_company_name", "company_id"):
        op.drop_column("invoice", name)
    op.drop_index("uq_orders_company_po", table_name="orders")
    op.drop_index("ix_orders_company_placed", table_name="orders")
    for name in (
        "approval_decided_by",
        "approval_decided_at",
        "approval_expires_at",
        "approval_state",
        "payment_terms_days",
        "payment_method",
        "purchase_order_number",
        "company_location_id",
        "company_id",
    ):
        op.drop_column("orders", name)
    op.drop_index(op.f("ix_invoice_payment_invoice_id"), table_name="invoice_payment")
    op.drop_table("invoice_payment")
    op.drop_index(op.f("ix_company_buyer_company_id"), table_name="company_buyer")
    op.drop_table("company_buyer")
    op.drop_index(op.f("ix_company_location_company_id"), table_name="company_location")
    op.drop_table("company_location")
    op.drop_table("company")
    op.drop_table("price_list_entry")
    op.drop_table("price_list")
