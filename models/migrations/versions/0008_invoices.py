"""invoices, credit notes, number series and the accounting journal (#17)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 23:20:00

Orders captured or refunded before this revision have no documents: invoicing starts with the next capture.
"""

import sqlalchemy as sa
from alembic import op

import ordergraph.models.columns  # noqa: F401  (the column types below)
from ordergraph.models.columns import BigIntId, UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _id() -> sa.Column:
    return sa.Column("id", BigIntId, nullable=False)


def upgrade() -> None:
    op.create_table(
        "document_series",
        sa.Column("series", sa.String(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("series", "year", name=op.f("pk_document_series")),
    )
    op.create_table(
        "invoice",
        _id(),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("series", sa.String(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("order_id", BigIntId, nullable=False),
        sa.Column("issued_at", UTCDateTime(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("market_code", sa.String(length=8), nullable=False),
        sa.Column("prices_include_tax", sa.Boolean(), nullable=False),
        sa.Column("net_minor", sa.Integer(), nullable=False),
        sa.Column("tax_minor", sa.Integer(), nullable=False),
        sa.Column("total_minor", sa.Integer(), nullable=False),
        sa.Column("corrects_invoice_id", BigIntId, nullable=True),
        sa.Column("return_id", BigIntId, nullable=True),
        sa.Column("seller_name", sa.String(), nullable=False),
        sa.Column("seller_line1", sa.String(), nullable=False),
        sa.Column("seller_city", sa.String(), nullable=False),
        sa.Column("seller_postal_code", sa.String(), nullable=False),
        sa.Column("seller_country", sa.String(length=2), nullable=False),
        sa.Column("seller_tax_id", sa.String(), nullable=False),
        sa.Column("customer_id", BigIntId, nullable=False),
        sa.Column("buyer_name", sa.String(), nullable=False),
        sa.Column("buyer_email", sa.String(), nullable=False),
        sa.Column("buyer_tax_id", sa.String(), nullable=True),
        sa.Column("buyer_line1", sa.String(), nullable=True),
        sa.Column("buyer_line2", sa.String(), nullable=True),
        sa.Column("buyer_city", sa.String(), nullable=True),
        sa.Column("buyer_region", sa.String(), nullable=True),
        sa.Column("buyer_postal_code", sa.String(), nullable=True),
        sa.Column("buyer_country", sa.String(length=2), nullable=True),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_invoice_order_id_orders")),
        sa.ForeignKeyConstraint(
            ["corrects_invoice_id"], ["invoice.id"], name=op.f("fk_invoice_corrects_invoice_id_invoice")
        ),
        sa.ForeignKeyConstraint(["return_id"], ["return_request.id"], name=op.f("fk_invoice_return_id_return_request")),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], name=op.f("fk_invoice_customer_id_customer")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice")),
        sa.UniqueConstraint("number", name=op.f("uq_invoice_number")),
        sa.UniqueConstraint("series", "year", "sequence", name="uq_invoice_series_year_sequence"),
    )
    op.create_index(op.f("ix_invoice_order_id"), "invoice", ["order_id"], unique=False)
    op.create_index(op.f("ix_invoice_corrects_invoice_id"), "invoice", ["corrects_invoice_id"], unique=False)
    op.create_table(
        "invoice_line",
        _id(),
        sa.Column("invoice_id", BigIntId, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("order_line_id", BigIntId, nullable=True),
        sa.Column("is_shipping", sa.Boolean(), nullable=False),
        sa.Column("sku", sa.String(), nullable=True),
        sa.Column("description", sa.String(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_minor", sa.Integer(), nullable=False),
        sa.Column("tax_rate_ppm", sa.Integer(), nullable=True),
        sa.Column("net_minor", sa.Integer(), nullable=False),
        sa.Column("tax_minor", sa.Integer(), nullable=False),
        sa.Column("gross_minor", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoice.id"], name=op.f("fk_invoice_line_invoice_id_invoice")),
        sa.ForeignKeyConstraint(
            ["order_line_id"], ["order_line.id"], name=op.f("fk_invoice_line_order_line_id_order_line")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_line")),
    )
    op.create_index(op.f("ix_invoice_line_invoice_id"), "invoice_line", ["invoice_id"], unique=False)
    op.create_table(
        "journal_entry",
        _id(),
        sa.Column("posted_at", UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("order_id", BigIntId, nullable=False),
        sa.Column("order_number", sa.String(), nullable=False),
        sa.Column("document_number", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_journal_entry_order_id_orders")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_entry")),
    )
    op.create_index(op.f("ix_journal_entry_order_id"), "journal_entry", ["order_id"], unique=False)
    op.create_index("ix_journal_entry_posted", "journal_entry", ["posted_at", "id"], unique=False)
    op.create_table(
        "journal_line",
        _id(),
        sa.Column("entry_id", BigIntId, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(length=32), nullable=False),
        sa.Column("debit_minor", sa.Integer(), nullable=False),
        sa.Column("credit_minor", sa.Integer(), nullable=False),
        sa.Column("tax_rate_ppm", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "debit_minor >= 0 AND credit_minor >= 0 AND (debit_minor = 0 OR credit_minor = 0)",
            name=op.f("ck_journal_line_one_side"),
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["journal_entry.id"], name=op.f("fk_journal_line_entry_id_journal_entry")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_line")),
    )
    op.create_index(op.f("ix_journal_line_entry_id"), "journal_line", ["entry_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_journal_line_entry_id"), table_name="journal_line")
    op.drop_table("journal_line")
    op.drop_index("ix_journal_entry_posted", table_name="journal_entry")
    op.drop_index(op.f("ix_journal_entry_order_id"), table_name="journal_entry")
    op.drop_table("journal_entry")
    op.drop_index(op.f("ix_invoice_line_invoice_id"), table_name="invoice_line")
    op.drop_table("invoice_line")
    op.drop_index(op.f("ix_invoice_corrects_invoice_id"), table_name="invoice")
    op.drop_index(op.f("ix_invoice_order_id"), table_name="invoice")
    op.drop_table("invoice")
    op.drop_table("document_series")
