"""initial schema and postal codes

Revision ID: 0001
Revises: 
"""

import csv
import gzip
from pathlib import Path

import sqlalchemy as sa
import sqlmodel
from alembic import op

import ordergraph.models.columns

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('customer',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('created_at', ordergraph.models.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('notify_email', sa.Boolean(), nullable=False),
    sa.Column('notify_sms', sa.Boolean(), nullable=False),
    sa.Column('sms_phone', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer')),
    sa.UniqueConstraint('email', name=op.f('uq_customer_email'))
    )
    op.create_table('delivery_method',
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('kind', sa.Enum('SHIP', 'PICKUP', name='deliverykind', native_enum=False, length=32), nullable=False),
    sa.Column('price_minor', sa.Integer(), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('carrier', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('cutoff_local', sa.Time(), nullable=False),
    sa.Column('transit_days', sa.Integer(), nullable=False),
    sa.Column('transit_hours', sa.Integer(), nullable=False),
    sa.Column('weekend_delivery', sa.Boolean(), nullable=False),
    sa.Column('metro_only', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_delivery_method'))
    )
    op.create_table('location',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('kind', sa.Enum('WAREHOUSE', 'STORE', 'DISTRIBUTION_CENTER', 'THIRD_PARTY', name='locationkind', native_enum=False, length=32), nullable=False),
    sa.Column('line1', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('city', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('region', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('postal_code', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('country', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('metro_area', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('latitude', sa.Float(), nullable=False),
    sa.Column('longitude', sa.Float(), nullable=False),
    sa.Column('timezone', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('ships', sa.Boolean(), nullable=False),
    sa.Column('pickup', sa.Boolean(), nullable=False),
    sa.Column('returns_drop_off', sa.Boolean(), nullable=False),
    sa.Column('customization', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_location')),
    sa.UniqueConstraint('code', name=op.f('uq_location_code'))
    )
    op.create_table('postal_code',
    sa.Column('country', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('region', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('city', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('latitude', sa.Float(), nullable=False),
    sa.Column('longitude', sa.Float(), nullable=False),
    sa.Column('metro_area', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('timezone', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.PrimaryKeyConstraint('country', 'code', name=op.f('pk_postal_code'))
    )
    with op.batch_alter_table('postal_code', schema=None) as batch_op:
        batch_op.create_index('ix_postal_code_region', ['country', 'region'], unique=False)

    op.create_table('product',
    sa.Column('sku', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('price_minor', sa.Integer(), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('customizable', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('sku')
    )
    op.create_table('customer_address',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('line1', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('line2', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('city', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('region', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('postal_code', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('country', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_customer_address_customer_id_customer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_address')),
    sa.UniqueConstraint('customer_id', 'position', name=op.f('uq_customer_address_customer_id_position'))
    )
    with op.batch_alter_table('customer_address', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_address_customer_id'), ['customer_id'], unique=False)

    op.create_table('inventory_level',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('sku', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('location_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('on_hand', sa.Integer(), nullable=False),
    sa.Column('reserved', sa.Integer(), nullable=False),
    sa.Column('incoming', sa.Integer(), nullable=False),
    sa.Column('safety_stock', sa.Integer(), nullable=False),
    sa.Column('updated_at', ordergraph.models.columns.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('incoming >= 0 AND safety_stock >= 0', name=op.f('ck_inventory_level_nonnegative')),
    sa.CheckConstraint('reserved >= 0 AND reserved <= on_hand', name=op.f('ck_inventory_level_reserved')),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], name=op.f('fk_inventory_level_location_id_location')),
    sa.ForeignKeyConstraint(['sku'], ['product.sku'], name=op.f('fk_inventory_level_sku_product')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inventory_level')),
    sa.UniqueConstraint('sku', 'location_id', name=op.f('uq_inventory_level_sku_location_id'))
    )
    with op.batch_alter_table('inventory_level', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inventory_level_location_id'), ['location_id'], unique=False)

    op.create_table('orders',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('number', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('channel', sa.Enum('WEB', 'AGENT', 'STORE', 'MARKETPLACE', name='channel', native_enum=False, length=32), nullable=False),
    sa.Column('status', sa.Enum('ON_HOLD', 'CONFIRMED', 'PROCESSING', 'PARTIALLY_SHIPPED', 'SHIPPED', 'READY_FOR_PICKUP', 'DELIVERED', 'CANCELLED', 'RETURNED', name='orderstatus', native_enum=False, length=32), nullable=False),
    sa.Column('placed_at', ordergraph.models.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', ordergraph.models.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('placed_by_kind', sa.Enum('CUSTOMER', 'AGENT', 'SYSTEM', 'CARRIER', name='actorkind', native_enum=False, length=32), nullable=False),
    sa.Column('placed_by_name', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('subtotal_minor', sa.Integer(), nullable=False),
    sa.Column('shipping_minor', sa.Integer(), nullable=False),
    sa.Column('tax_minor', sa.Integer(), nullable=False),
    sa.Column('total_minor', sa.Integer(), nullable=False),
    sa.Column('cancelled_minor', sa.Integer(), nullable=False),
    sa.Column('refunded_minor', sa.Integer(), nullable=False),
    sa.Column('delivery_method_code', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('pickup_location_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('promised_delivery_by', ordergraph.models.columns.UTCDateTime(timezone=True), nullable=True),
    sa.Column('hold_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('ship_name', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('ship_line1', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('ship_line2', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('ship_city', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('ship_region', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('ship_postal_code', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('ship_country', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('ship_phone', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('idempotency_scope', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('idempotency_key', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('request_hash', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_orders_customer_id_customer')),
    sa.ForeignKeyConstraint(['delivery_method_code'], ['delivery_method.code'], name=op.f('fk_orders_delivery_method_code_delivery_method')),
    sa.ForeignKeyConstraint(['pickup_location_id'], ['location.id'], name=op.f('fk_orders_pickup_location_id_location')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders')),
    sa.UniqueConstraint('idempotency_scope', 'idempotency_key', name='uq_orders_idempotency'),
    sa.UniqueConstraint('number', name=op.f('uq_orders_number'))
    )
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index('ix_orders_channel_placed', ['channel', 'placed_at', 'id'], unique=False)
        batch_op.create_index('ix_orders_customer_placed', ['customer_id', 'placed_at', 'id'], unique=False)
        batch_op.create_index('ix_orders_placed', ['placed_at', 'id'], unique=False)
        batch_op.create_index('ix_orders_status_placed', ['status', 'placed_at', 'id'], unique=False)

    op.create_table('fulfillment_order',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('location_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.Enum('SHIP', 'PICKUP', name='deliverykind', native_enum=False, length=32), nullable=False),
    sa.Column('status', sa.Enum('OPEN', 'IN_PROGRESS', 'SHIPPED', 'DELIVERED', 'READY_FOR_PICKUP', 'PICKED_UP', 'CANCELLED', name='fulfillmentorderstatus', native_enum=False, length=32), nullable=False),
    sa.Column('created_at', ordergraph.models.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', ordergraph.models.columns.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], name=op.f('fk_fulfillment_order_location_id_location')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_fulfillment_order_order_id_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fulfillment_order'))
    )
    with op.batch_alter_table('fulfillment_order', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fulfillment_order_location_id'), ['location_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fulfillment_order_order_id'), ['order_id'], unique=False)

    op.create_table('inventory_adjustment',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('sku', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('location_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('on_hand_delta', sa.Integer(), nullable=False),
    sa.Column('reserved_delta', sa.Integer(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('actor_kind', sa.Enum('CUSTOMER', 'AGENT', 'SYSTEM', 'CARRIER', name='actorkind', native_enum=False, length=32), nullable=False),
    sa.Column('actor_name', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('created_at', ordergraph.models.columns.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], name=op.f('fk_inventory_adjustment_location_id_location')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_inventory_adjustment_order_id_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inventory_adjustment'))
    )
    with op.batch_alter_table('inventory_adjustment', schema=None) as batch_op:
        batch_op.create_index('ix_inventory_adjustment_sku_location', ['sku', 'location_id', 'created_at'], unique=False)

    op.create_table('order_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('sequence', sa.BigInteger(), nullable=True),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('type', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('message', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('visibility', sa.Enum('CUSTOMER', 'INTERNAL', name='eventvisibility', native_enum=False, length=32), nullable=False),
    sa.Column('actor_kind', sa.Enum('CUSTOMER', 'AGENT', 'SYSTEM', 'CARRIER', name='actorkind', native_enum=False, length=32), nullable=False),
    sa.Column('actor_name', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('occurred_at', ordergraph.models.columns.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_order_event_customer_id_customer')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_order_event_order_id_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_event')),
    sa.UniqueConstraint('sequence', name=op.f('uq_order_event_sequence'))
    )
    with op.batch_alter_table('order_event', schema=None) as batch_op:
        batch_op.create_index('ix_order_event_customer_sequence', ['customer_id', 'sequence'], unique=False)
        batch_op.create_index('ix_order_event_order_sequence', ['order_id', 'sequence'], unique=False)

    op.create_table('order_line',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('line_number', sa.Integer(), nullable=False),
    sa.Column('sku', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('product_name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('customization', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('quantity_cancelled', sa.Integer(), nullable=False),
    sa.Column('quantity_shipped', sa.Integer(), nullable=False),
    sa.Column('quantity_delivered', sa.Integer(), nullable=False),
    sa.Column('quantity_returned', sa.Integer(), nullable=False),
    sa.Column('unit_price_minor', sa.Integer(), nullable=False),
    sa.Column('tax_minor', sa.Integer(), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.CheckConstraint('quantity > 0 AND quantity_cancelled >= 0 AND quantity_shipped >= 0 AND quantity_cancelled + quantity_shipped <= quantity AND quantity_delivered <= quantity_shipped AND quantity_returned <= quantity_delivered', name=op.f('ck_order_line_ledger')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_order_line_order_id_orders')),
    sa.ForeignKeyConstraint(['sku'], ['product.sku'], name=op.f('fk_order_line_sku_product')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_line'))
    )
    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_line_order_id'), ['order_id'], unique=False)

    op.create_table('payment',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('gateway', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('gateway_reference', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('method_description', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('authorized_minor', sa.Integer(), nullable=False),
    sa.Column('captured_minor', sa.Integer(), nullable=False),
    sa.Column('refunded_minor', sa.Integer(), nullable=False),
    sa.Column('voided_minor', sa.Integer(), nullable=False),
    sa.Column('created_at', ordergraph.models.columns.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_payment_order_id_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment'))
    )
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_order_id'), ['order_id'], unique=False)

    op.create_table('return_request',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('rma_number', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('status', sa.Enum('REQUESTED', 'APPROVED', 'RECEIVED', 'REFUNDED', 'REJECTED', name='returnstatus', native_enum=False, length=32), nullable=False),
    sa.Column('method', sa.Enum('MAIL', 'STORE_DROP_OFF', name='returnmethod', native_enum=False, length=32), nullable=False),
    sa.Column('drop_off_location_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('refund_minor', sa.Integer(), nullable=True),
    sa.Column('requested_at', ordergraph.models.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('approved_at', ordergraph.models.columns.UTCDateTime(timezone=True), nullable=True),
    sa.Column('received_at', ordergraph.models.columns.UTCDateTime(timezone=True), nullable=True),
    sa.Column('refunded_at', ordergraph.models.columns.UTCDateTime(timezone=True), nullable=True),
    sa.Column('rejected_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.ForeignKeyConstraint(['drop_off_location_id'], ['location.id'], name=op.f('fk_return_request_drop_off_location_id_location')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_return_request_order_id_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_return_request')),
    sa.UniqueConstraint('rma_number', name=op.f('uq_return_request_rma_number'))
    )
    with op.batch_alter_table('return_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_return_request_order_id'), ['order_id'], unique=False)

    op.create_table('fulfillment_order_line',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('fulfillment_order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('order_line_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['fulfillment_order_id'], ['fulfillment_order.id'], name=op.f('fk_fulfillment_order_line_fulfillment_order_id_fulfillment_order')),
    sa.ForeignKeyConstraint(['order_line_id'], ['order_line.id'], name=op.f('fk_fulfillment_order_line_order_line_id_order_line')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fulfillment_order_line'))
    )
    with op.batch_alter_table('fulfillment_order_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fulfillment_order_line_fulfillment_order_id'), ['fulfillment_order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fulfillment_order_line_order_line_id'), ['order_line_id'], unique=False)

    op.create_table('notification',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('event_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('channel', sa.Enum('EMAIL', 'SMS', name='notificationchannel', native_enum=False, length=32), nullable=False),
    sa.Column('recipient', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('status', sa.Enum('PENDING', 'SENT', 'FAILED', name='notificationstatus', native_enum=False, length=32), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('next_attempt_at', ordergraph.models.columns.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sent_at', ordergraph.models.columns.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['event_id'], ['order_event.id'], name=op.f('fk_notification_event_id_order_event')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification')),
    sa.UniqueConstraint('event_id', 'channel', name='uq_notification_event_channel')
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index('ix_notification_pending', ['status', 'next_attempt_at'], unique=False)

    op.create_table('payment_transaction',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('payment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.Enum('AUTHORIZATION', 'CAPTURE', 'VOID', 'REFUND', name='paymenttransactionkind', native_enum=False, length=32), nullable=False),
    sa.Column('amount_minor', sa.Integer(), nullable=False),
    sa.Column('gateway_reference', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('fulfillment_order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('return_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', ordergraph.models.columns.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['fulfillment_order_id'], ['fulfillment_order.id'], name=op.f('fk_payment_transaction_fulfillment_order_id_fulfillment_order')),
    sa.ForeignKeyConstraint(['payment_id'], ['payment.id'], name=op.f('fk_payment_transaction_payment_id_payment')),
    sa.ForeignKeyConstraint(['return_id'], ['return_request.id'], name=op.f('fk_payment_transaction_return_id_return_request')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_transaction'))
    )
    with op.batch_alter_table('payment_transaction', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_transaction_payment_id'), ['payment_id'], unique=False)

    op.create_table('return_line',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('return_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('order_line_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Enum('DAMAGED', 'DEFECTIVE', 'WRONG_ITEM', 'NOT_AS_DESCRIBED', 'NO_LONGER_NEEDED', 'SIZE_OR_FIT', 'OTHER', name='returnreason', native_enum=False, length=32), nullable=False),
    sa.Column('quantity_received', sa.Integer(), nullable=False),
    sa.Column('quantity_restocked', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['order_line_id'], ['order_line.id'], name=op.f('fk_return_line_order_line_id_order_line')),
    sa.ForeignKeyConstraint(['return_id'], ['return_request.id'], name=op.f('fk_return_line_return_id_return_request')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_return_line'))
    )
    with op.batch_alter_table('return_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_return_line_order_line_id'), ['order_line_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_return_line_return_id'), ['return_id'], unique=False)

    op.create_table('shipment',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('fulfillment_order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('carrier', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('tracking_number', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('tracking_url', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('status', sa.Enum('LABEL_CREATED', 'IN_TRANSIT', 'OUT_FOR_DELIVERY', 'DELIVERED', 'EXCEPTION', name='shipmentstatus', native_enum=False, length=32), nullable=False),
    sa.Column('shipped_at', ordergraph.models.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('estimated_delivery_at', ordergraph.models.columns.UTCDateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', ordergraph.models.columns.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['fulfillment_order_id'], ['fulfillment_order.id'], name=op.f('fk_shipment_fulfillment_order_id_fulfillment_order')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_shipment_order_id_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shipment'))
    )
    with op.batch_alter_table('shipment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shipment_fulfillment_order_id'), ['fulfillment_order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_shipment_order_id'), ['order_id'], unique=False)

    op.create_table('shipment_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('shipment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status', sa.Enum('LABEL_CREATED', 'IN_TRANSIT', 'OUT_FOR_DELIVERY', 'DELIVERED', 'EXCEPTION', name='shipmentstatus', native_enum=False, length=32), nullable=False),
    sa.Column('occurred_at', ordergraph.models.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('location', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('carrier', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('carrier_event_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipment.id'], name=op.f('fk_shipment_event_shipment_id_shipment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shipment_event')),
    sa.UniqueConstraint('carrier', 'carrier_event_id', name='uq_shipment_event_carrier_event')
    )
    with op.batch_alter_table('shipment_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shipment_event_shipment_id'), ['shipment_id'], unique=False)
    load_postal_codes()


POSTAL_CODES = Path(ordergraph.models.columns.__file__).resolve().parent / "reference" / "postal_codes.csv.gz"


def load_postal_codes() -> None:
    """Reference data that ships with the project: the demo country's postal codes."""
    table = sa.table(
        "postal_code",
        *(sa.column(name) for name in ("country", "code", "region", "city", "metro_area", "timezone")),
        sa.column("latitude", sa.Float),
        sa.column("longitude", sa.Float),
    )
    with gzip.open(POSTAL_CODES, "rt", newline="") as fh:
        rows = [
            {**row, "latitude": float(row["latitude"]), "longitude": float(row["longitude"]), "metro_area": row["metro_area"] or None}
            for row in csv.DictReader(fh)
        ]
    op.bulk_insert(table, rows)


def downgrade() -> None:
    with op.batch_alter_table('shipment_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shipment_event_shipment_id'))

    op.drop_table('shipment_event')
    with op.batch_alter_table('shipment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shipment_order_id'))
        batch_op.drop_index(batch_op.f('ix_shipment_fulfillment_order_id'))

    op.drop_table('shipment')
    with op.batch_alter_table('return_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_return_line_return_id'))
        batch_op.drop_index(batch_op.f('ix_return_line_order_line_id'))

    op.drop_table('return_line')
    with op.batch_alter_table('payment_transaction', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_transaction_payment_id'))

    op.drop_table('payment_transaction')
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_pending')

    op.drop_table('notification')
    with op.batch_alter_table('fulfillment_order_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fulfillment_order_line_order_line_id'))
        batch_op.drop_index(batch_op.f('ix_fulfillment_order_line_fulfillment_order_id'))

    op.drop_table('fulfillment_order_line')
    with op.batch_alter_table('return_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_return_request_order_id'))

    op.drop_table('return_request')
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_order_id'))

    op.drop_table('payment')
    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_line_order_id'))

    op.drop_table('order_line')
    with op.batch_alter_table('order_event', schema=None) as batch_op:
        batch_op.drop_index('ix_order_event_order_sequence')
        batch_op.drop_index('ix_order_event_customer_sequence')

    op.drop_table('order_event')
    with op.batch_alter_table('inventory_adjustment', schema=None) as batch_op:
        batch_op.drop_index('ix_inventory_adjustment_sku_location')

    op.drop_table('inventory_adjustment')
    with op.batch_alter_table('fulfillment_order', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fulfillment_order_order_id'))
        batch_op.drop_index(batch_op.f('ix_fulfillment_order_location_id'))

    op.drop_table('fulfillment_order')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_status_placed')
        batch_op.drop_index('ix_orders_placed')
        batch_op.drop_index('ix_orders_customer_placed')
        batch_op.drop_index('ix_orders_channel_placed')

    op.drop_table('orders')
    with op.batch_alter_table('inventory_level', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inventory_level_location_id'))

    op.drop_table('inventory_level')
    with op.batch_alter_table('customer_address', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_address_customer_id'))

    op.drop_table('customer_address')
    op.drop_table('product')
    with op.batch_alter_table('postal_code', schema=None) as batch_op:
        batch_op.drop_index('ix_postal_code_region')

    op.drop_table('postal_code')
    op.drop_table('location')
    op.drop_table('delivery_method')
    op.drop_table('customer')
