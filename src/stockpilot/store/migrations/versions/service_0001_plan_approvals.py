"""service: plan lines approved into purchase orders

Revision ID: service_0001
Revises: 0001
Create Date: 2026-12-03 09:50:00
"""

from alembic import op
import sqlalchemy as sa


revision = 'service_0001'
down_revision = '0001'
branch_labels = ('service',)
depends_on = None


def upgrade() -> None:
    op.create_table('plan_approvals',
    sa.Column('plan_run_id', sa.String(length=64), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('location', sa.String(length=64), nullable=False),
    sa.Column('supplier', sa.String(length=64), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('po_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('approved_by', sa.String(length=128), nullable=False),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['po_id'], ['purchase_orders.id'], name=op.f('fk_plan_approvals_po_id_purchase_orders')),
    sa.PrimaryKeyConstraint('plan_run_id', 'sku', 'location', name=op.f('pk_plan_approvals'))
    )


def downgrade() -> None:
    op.drop_table('plan_approvals')
