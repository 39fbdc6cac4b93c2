"""webhook subscriptions, deliveries and their watermark (#17)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 23:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BigIntId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Moment = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "webhook_subscription",
        sa.Column("id", BigIntId, nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("event_types", sa.JSON(), nullable=False),
        sa.Column("document", sa.String(), nullable=False),
        sa.Column("masked", sa.Boolean(), nullable=False),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("disabled_reason", sa.String(), nullable=True),
        sa.Column("disabled_at", Moment, nullable=True),
        sa.Column("failing_since", Moment, nullable=True),
        sa.Column("start_sequence", sa.BigInteger(), nullable=False),
        sa.Column("created_at", Moment, nullable=False),
        sa.Column("created_by", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_subscription")),
    )
    op.create_table(
        "webhook_delivery",
        sa.Column("id", BigIntId, nullable=False),
        sa.Column("subscription_id", BigIntId, nullable=False),
        sa.Column("event_id", BigIntId, nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("order_id", BigIntId, nullable=True),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("body", sa.String(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", Moment, nullable=True),
        sa.Column("created_at", Moment, nullable=False),
        sa.Column("first_attempt_at", Moment, nullable=True),
        sa.Column("delivered_at", Moment, nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("redelivery_of", BigIntId, nullable=True),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["webhook_subscription.id"],
            name=op.f("fk_webhook_delivery_subscription_id_webhook_subscription"),
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["order_event.id"], name=op.f("fk_webhook_delivery_event_id_order_event")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_delivery")),
    )
    op.create_index("ix_webhook_delivery_due", "webhook_delivery", ["status", "next_attempt_at"])
    op.create_index(
        "ix_webhook_delivery_in_order", "webhook_delivery", ["subscription_id", "order_id", "status", "sequence"]
    )
    op.create_index("ix_webhook_delivery_log", "webhook_delivery", ["subscription_id", "id"])
    op.create_table(
        "webhook_attempt",
        sa.Column("id", BigIntId, nullable=False),
        sa.Column("delivery_id", BigIntId, nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("attempted_at", Moment, nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(
            ["delivery_id"], ["webhook_delivery.id"], name=op.f("fk_webhook_attempt_delivery_id_webhook_delivery")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_attempt")),
    )
    op.create_index(op.f("ix_webhook_attempt_delivery_id"), "webhook_attempt", ["delivery_id"])
    op.create_table(
        "webhook_log_entry",
        sa.Column("id", BigIntId, nullable=False),
        sa.Column("subscription_id", BigIntId, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("occurred_at", Moment, nullable=False),
        sa.Column("detail", sa.String(), nullable=True),
        sa.Column("actor", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["webhook_subscription.id"],
            name=op.f("fk_webhook_log_entry_subscription_id_webhook_subscription"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_log_entry")),
    )
    op.create_index(op.f("ix_webhook_log_entry_subscription_id"), "webhook_log_entry", ["subscription_id"])
    # No row yet: the first worker to start creates it at the relay's watermark (server.webhooks).
    op.create_table(
        "webhook_watermark",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("queued_sequence", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_watermark")),
    )


def downgrade() -> None:
    op.drop_table("webhook_watermark")
    op.drop_index(op.f("ix_webhook_log_entry_subscription_id"), table_name="webhook_log_entry")
    op.drop_table("webhook_log_entry")
    op.drop_index(op.f("ix_webhook_attempt_delivery_id"), table_name="webhook_attempt")
    op.drop_table("webhook_attempt")
    op.drop_index("ix_webhook_delivery_log", table_name="webhook_delivery")
    op.drop_index("ix_webhook_delivery_in_order", table_name="webhook_delivery")
    op.drop_index("ix_webhook_delivery_due", table_name="webhook_delivery")
    op.drop_table("webhook_delivery")
    op.drop_table("webhook_subscription")
