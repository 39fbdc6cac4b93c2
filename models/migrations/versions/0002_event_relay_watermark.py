"""event relay watermark

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('event_relay',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('published_sequence', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_relay'))
    )
    # Events already in the log when the relay arrives are history, not news: start after them.
    op.execute("INSERT INTO event_relay (id, published_sequence) SELECT 1, COALESCE(MAX(sequence), 0) FROM order_event")


def downgrade() -> None:
    op.drop_table('event_relay')
