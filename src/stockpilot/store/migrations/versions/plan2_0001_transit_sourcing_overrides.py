"""plan2: transfers in transit, sourcing routes, planner overrides

Revision ID: plan2_0001
Revises: 0001
Create Date: 2026-12-03 10:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = 'plan2_0001'
down_revision = '0001'
branch_labels = ('plan2',)
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('transfers_in_transit',
    sa.Column('id', BIG_ID, autoincrement=True, nullable=False),
    sa.Column('event_id', sa.String(length=128), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('from_location', sa.String(length=64), nullable=False),
    sa.Column('to_location', sa.String(length=64), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('lot_code', sa.String(length=64), nullable=True),
    sa.Column('expiry', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('shipped_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expected_at', sa.Date(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_transfers_in_transit_quantity_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transfers_in_transit')),
    sa.UniqueConstraint('event_id', name=op.f('uq_transfers_in_transit_event_id'))
    )
    op.create_index('ix_transfers_in_transit_open', 'transfers_in_transit',
                    ['status', 'sku', 'to_location'], unique=False)
    op.create_table('sourcing_routes',
    sa.Column('location', sa.String(length=64), nullable=False),
    sa.Column('source_kind', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=True),
    sa.Column('transfer_days', sa.Integer(), nullable=False),
    sa.CheckConstraint("source_kind in ('supplier', 'dc')",
                       name=op.f('ck_sourcing_routes_source_kind_known')),
    sa.PrimaryKeyConstraint('location', name=op.f('pk_sourcing_routes'))
    )
    op.create_table('planner_overrides',
    sa.Column('id', BIG_ID, autoincrement=True, nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('location', sa.String(length=64), nullable=True),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('start', sa.Date(), nullable=True),
    sa.Column('end', sa.Date(), nullable=True),
    sa.Column('author', sa.String(length=128), nullable=False),
    sa.Column('expires', sa.Date(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_planner_overrides'))
    )
    op.create_index('ix_planner_overrides_sku', 'planner_overrides', ['sku', 'location'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_planner_overrides_sku', table_name='planner_overrides')
    op.drop_table('planner_overrides')
    op.drop_table('sourcing_routes')
    op.drop_index('ix_transfers_in_transit_open', table_name='transfers_in_transit')
    op.drop_table('transfers_in_transit')
