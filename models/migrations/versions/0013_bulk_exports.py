"""bulk export jobs (#20)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 02:30:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import ordergraph.models.columns

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = ordergraph.models.columns.UTCDateTime
TEXT = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "bulk_export",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("owner_subject", TEXT(length=200), nullable=False),
        sa.Column("owner_role", TEXT(length=16), nullable=False),
        sa.Column("format", sa.String(length=32), nullable=False),
        sa.Column("query", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=True),
        sa.Column("rows_written", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", UTC(), nullable=True),
        sa.Column("error_code", TEXT(length=40), nullable=True),
        sa.Column("error_message", TEXT(length=500), nullable=True),
        sa.Column("file_name", TEXT(length=200), nullable=True),
        sa.Column("file_bytes", sa.BigInteger(), nullable=True),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("started_at", UTC(), nullable=True),
        sa.Column("finished_at", UTC(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulk_export")),
    )
    op.create_index("ix_bulk_export_status_lease", "bulk_export", ["status", "lease_until"])


def downgrade() -> None:
    op.drop_index("ix_bulk_export_status_lease", table_name="bulk_export")
    op.drop_table("bulk_export")
