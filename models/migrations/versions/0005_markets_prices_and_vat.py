"""markets, prices per market, VAT and pickup points

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 22:00:00

Existing rows are backfilled by the server defaults: every order, delivery method and product is in the US
market, with tax excluded and the STANDARD tax class. Order lines placed before keep a null rate and class.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import ordergraph.models.columns  # noqa: F401  (autogenerate names column types through it)

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

MARKETS = [
    {'code': 'US', 'name': 'United States', 'currency': 'USD', 'prices_include_tax': False,
     'shipping_tax_class': 'STANDARD', 'is_default': True, 'return_auto_approve_max_minor': None, 'position': 1},
    {'code': 'CZ', 'name': 'Czechia', 'currency': 'CZK', 'prices_include_tax': True,
     'shipping_tax_class': 'STANDARD', 'is_default': False, 'return_auto_approve_max_minor': 120000, 'position': 2},
    {'code': 'SA', 'name': 'Saudi Arabia', 'currency': 'SAR', 'prices_include_tax': True,
     'shipping_tax_class': 'STANDARD', 'is_default': False, 'return_auto_approve_max_minor': 20000, 'position': 3},
    {'code': 'AE', 'name': 'United Arab Emirates', 'currency': 'AED', 'prices_include_tax': True,
     'shipping_tax_class': 'STANDARD', 'is_default': False, 'return_auto_approve_max_minor': 20000, 'position': 4},
]


def upgrade() -> None:
    market = op.create_table('market',
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('prices_include_tax', sa.Boolean(), nullable=False),
    sa.Column('shipping_tax_class', sqlmodel.sql.sqltypes.AutoString(length=16), server_default='STANDARD', nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('return_auto_approve_max_minor', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_market'))
    )
    op.bulk_insert(market, MARKETS)

    market_country = op.create_table('market_country',
    sa.Column('country', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('market_code', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.ForeignKeyConstraint(['market_code'], ['market.code'], name=op.f('fk_market_country_market_code_market')),
    sa.PrimaryKeyConstraint('country', name=op.f('pk_market_country'))
    )
    op.create_index(op.f('ix_market_country_market_code'), 'market_country', ['market_code'], unique=False)
    op.bulk_insert(market_country, [{'country': m['code'], 'market_code': m['code']} for m in MARKETS])

    op.create_table('product_price',
    sa.Column('sku', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('market_code', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('price_minor', sa.Integer(), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.CheckConstraint('price_minor >= 0', name=op.f('ck_product_price_price_not_negative')),
    sa.ForeignKeyConstraint(['market_code'], ['market.code'], name=op.f('fk_product_price_market_code_market')),
    sa.ForeignKeyConstraint(['sku'], ['product.sku'], name=op.f('fk_product_price_sku_product')),
    sa.PrimaryKeyConstraint('sku', 'market_code', name=op.f('pk_product_price'))
    )

    op.create_table('pickup_point',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('network', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('external_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('kind', sa.Enum('PICKUP_POINT', 'PARCEL_LOCKER', name='pickuppointkind', native_enum=False, length=32), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('line1', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('city', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('region', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('postal_code', sqlmodel.sql.sqltypes.AutoString(), server_default='', nullable=False),
    sa.Column('country', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('latitude', sa.Float(), nullable=False),
    sa.Column('longitude', sa.Float(), nullable=False),
    sa.Column('timezone', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('metro_area', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('opening_hours', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pickup_point')),
    sa.UniqueConstraint('network', 'external_id', name='uq_pickup_point_network_external_id')
    )
    op.create_index('ix_pickup_point_country_city', 'pickup_point', ['country', 'city'], unique=False)

    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tax_class', sqlmodel.sql.sqltypes.AutoString(length=16), server_default='STANDARD', nullable=False))

    with op.batch_alter_table('delivery_method', schema=None) as batch_op:
        batch_op.add_column(sa.Column('market_code', sqlmodel.sql.sqltypes.AutoString(length=8), server_default='US', nullable=False))
        batch_op.add_column(sa.Column('pickup_point_network', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.add_column(sa.Column('carrier_weekdays', sqlmodel.sql.sqltypes.AutoString(length=7), server_default='12345', nullable=False))
        batch_op.create_foreign_key(batch_op.f('fk_delivery_method_market_code_market'), 'market', ['market_code'], ['code'])

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('market_code', sqlmodel.sql.sqltypes.AutoString(length=8), server_default='US', nullable=False))
        batch_op.add_column(sa.Column('prices_include_tax', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('shipping_tax_rate_ppm', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('pickup_point_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.create_index('ix_orders_market_placed', ['market_code', 'placed_at', 'id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_orders_market_code_market'), 'market', ['market_code'], ['code'])
        batch_op.create_foreign_key(batch_op.f('fk_orders_pickup_point_id_pickup_point'), 'pickup_point', ['pickup_point_id'], ['id'])

    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tax_class', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch_op.add_column(sa.Column('tax_rate_ppm', sa.Integer(), nullable=True))

    with op.batch_alter_table('return_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('refund_minor', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('refund_tax_minor', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('return_line', schema=None) as batch_op:
        batch_op.drop_column('refund_tax_minor')
        batch_op.drop_column('refund_minor')

    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.drop_column('tax_rate_ppm')
        batch_op.drop_column('tax_class')

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_orders_pickup_point_id_pickup_point'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_orders_market_code_market'), type_='foreignkey')
        batch_op.drop_index('ix_orders_market_placed')
        batch_op.drop_column('pickup_point_id')
        batch_op.drop_column('shipping_tax_rate_ppm')
        batch_op.drop_column('prices_include_tax')
        batch_op.drop_column('market_code')

    with op.batch_alter_table('delivery_method', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_delivery_method_market_code_market'), type_='foreignkey')
        batch_op.drop_column('carrier_weekdays')
        batch_op.drop_column('pickup_point_network')
        batch_op.drop_column('market_code')

    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.drop_column('tax_class')

    op.drop_index('ix_pickup_point_country_city', table_name='pickup_point')
    op.drop_table('pickup_point')
    op.drop_table('product_price')
    op.drop_index(op.f('ix_market_country_market_code'), table_name='market_country')
    op.drop_table('market_country')
    op.drop_table('market')
