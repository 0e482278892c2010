"""orders: suggestion edits and snoozes, purchase-order details, the audit trail

Revision ID: orders_0001
Revises: 0001
Create Date: 2026-12-03 13:50:00
"""

from alembic import op
import sqlalchemy as sa


revision = 'orders_0001'
down_revision = '0001'
branch_labels = ('orders',)
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('suggestion_edits',
    sa.Column('plan_run_id', sa.String(length=64), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('location', sa.String(length=64), nullable=False),
    sa.Column('supplier', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('edited_by', sa.String(length=128), nullable=False),
    sa.Column('edited_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("action IN ('quantity', 'drop', 'add')", name=op.f('ck_suggestion_edits_action_known')),
    sa.CheckConstraint('quantity IS NULL OR quantity > 0', name=op.f('ck_suggestion_edits_quantity_pos')),
    sa.PrimaryKeyConstraint('plan_run_id', 'sku', 'location', name=op.f('pk_suggestion_edits'))
    )
    op.create_table('suggestion_snoozes',
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('location', sa.String(length=64), nullable=False),
    sa.Column('until', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('snoozed_by', sa.String(length=128), nullable=False),
    sa.Column('snoozed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('sku', 'location', name=op.f('pk_suggestion_snoozes'))
    )
    op.create_table('po_details',
    sa.Column('po_id', BigId, nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('approved_by', sa.String(length=128), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_to', sa.String(length=255), nullable=True),
    sa.Column('sent_by', sa.String(length=128), nullable=True),
    sa.ForeignKeyConstraint(['po_id'], ['purchase_orders.id'], name=op.f('fk_po_details_po_id_purchase_orders')),
    sa.PrimaryKeyConstraint('po_id', name=op.f('pk_po_details'))
    )
    op.create_table('audit_log',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('po_id', BigId, nullable=True),
    sa.Column('sku', sa.String(length=64), nullable=True),
    sa.Column('location', sa.String(length=64), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    op.create_index('ix_audit_log_po', 'audit_log', ['po_id'], unique=False)
    op.create_index('ix_audit_log_sku', 'audit_log', ['sku', 'location'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_audit_log_sku', table_name='audit_log')
    op.drop_index('ix_audit_log_po', table_name='audit_log')
    op.drop_table('audit_log')
    op.drop_table('po_details')
    op.drop_table('suggestion_snoozes')
    op.drop_table('suggestion_edits')
