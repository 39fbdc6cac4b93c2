"""notification watermark

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # No row yet: the first notifier to start creates it at the relay's watermark (server.notifier), so demo data
    # loaded after this migration is history too.
    op.create_table('notification_watermark',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('queued_sequence', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_watermark'))
    )


def downgrade() -> None:
    op.drop_table('notification_watermark')
