"""reason codes and internal notes

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 21:07:47.290181
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import ordergraph.models.columns  # noqa: F401  (autogenerate names column types through it)


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

order_event = sa.table(
    'order_event',
    sa.column('id', sa.BigInteger()),
    sa.column('type', sa.String()),
    sa.column('message', sa.String()),
    sa.column('actor_kind', sa.String()),
    sa.column('reason_code', sa.String()),
    sa.column('internal_note', sa.String()),
)
CANCELLATIONS = ('ORDER_CANCELLED', 'LINES_CANCELLED')
QUOTED = ' Reason: '  # how a cancellation's message quoted the free-text reason before this revision


def upgrade() -> None:
    with op.batch_alter_table('order_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.add_column(sa.Column('internal_note', sqlmodel.sql.sqltypes.AutoString(), nullable=True))

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hold_reason_code', sa.Enum('PAYMENT_REVIEW', 'ADDRESS_VERIFICATION', 'STOCK_CHECK', 'CUSTOMER_REQUEST', 'OTHER', name='holdreason', native_enum=False, length=32), nullable=True))

    # Cancellations recorded before reason codes get the code they would have had (CUSTOMER_REQUEST when the
    # customer cancelled, OTHER otherwise); the free-text reason their CUSTOMER-visible message quoted
    # ("Order … cancelled. Reason: …") moves to the internal note, which only agents read.
    # Holds recorded before keep no code: their ORDER_HELD events were INTERNAL, and so is their release.
    cancellations = order_event.c.type.in_(CANCELLATIONS)
    op.execute(
        order_event.update()
        .where(cancellations)
        .values(reason_code=sa.case((order_event.c.actor_kind == 'CUSTOMER', 'CUSTOMER_REQUEST'), else_='OTHER'))
    )
    bind = op.get_bind()
    quoting = bind.execute(
        sa.select(order_event.c.id, order_event.c.message).where(
            cancellations, order_event.c.message.like(f'%{QUOTED}%')
        )
    ).all()
    for event_id, message in quoting:
        said, _, note = message.partition(QUOTED)
        bind.execute(
            order_event.update().where(order_event.c.id == event_id).values(message=said, internal_note=note)
        )


def downgrade() -> None:
    bind = op.get_bind()
    noted = bind.execute(
        sa.select(order_event.c.id, order_event.c.message, order_event.c.internal_note).where(
            order_event.c.type.in_(CANCELLATIONS), order_event.c.internal_note.is_not(None)
        )
    ).all()
    for event_id, message, note in noted:
        bind.execute(
            order_event.update().where(order_event.c.id == event_id).values(message=f'{message}{QUOTED}{note}')
        )

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('hold_reason_code')

    with op.batch_alter_table('order_event', schema=None) as batch_op:
        batch_op.drop_column('internal_note')
        batch_op.drop_column('reason_code')
