"""counts: cycle count sessions, lines, scans, barcodes

Revision ID: counts_0001
Revises: 0001
Create Date: 2026-12-03 13:40:00
"""

from alembic import op
import sqlalchemy as sa


revision = 'counts_0001'
down_revision = '0001'
branch_labels = ('counts',)
depends_on = None


def upgrade() -> None:
    op.create_table('count_sessions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('location', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('started_by', sa.String(length=128), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('open', 'closed')", name=op.f('ck_count_sessions_status_known')),
    sa.ForeignKeyConstraint(['location'], ['locations.location'], name=op.f('fk_count_sessions_location_locations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_count_sessions'))
    )
    op.create_index('ix_count_sessions_location', 'count_sessions', ['location', 'status'], unique=False)
    op.create_table('sku_barcodes',
    sa.Column('barcode', sa.String(length=64), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['sku'], ['skus.sku'], name=op.f('fk_sku_barcodes_sku_skus')),
    sa.PrimaryKeyConstraint('barcode', name=op.f('pk_sku_barcodes'))
    )
    op.create_table('count_lines',
    sa.Column('session_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('location', sa.String(length=64), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('abc', sa.String(length=1), nullable=False),
    sa.Column('risk', sa.Float(), nullable=False),
    sa.Column('unit_cost', sa.Float(), nullable=False),
    sa.Column('frozen_on_hand', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('book_on_hand', sa.Integer(), nullable=True),
    sa.Column('counted', sa.Integer(), nullable=True),
    sa.Column('first_counted', sa.Integer(), nullable=True),
    sa.Column('variance', sa.Integer(), nullable=True),
    sa.Column('counted_by', sa.String(length=128), nullable=True),
    sa.Column('counted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('approved_by', sa.String(length=128), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('event_id', sa.String(length=128), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'recount', 'counted', 'posted')", name=op.f('ck_count_lines_status_known')),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_count_lines_attempts_nonneg')),
    sa.CheckConstraint('counted IS NULL OR counted >= 0', name=op.f('ck_count_lines_counted_nonneg')),
    sa.ForeignKeyConstraint(['session_id'], ['count_sessions.id'], name=op.f('fk_count_lines_session_id_count_sessions')),
    sa.ForeignKeyConstraint(['sku'], ['skus.sku'], name=op.f('fk_count_lines_sku_skus')),
    sa.PrimaryKeyConstraint('session_id', 'sku', name=op.f('pk_count_lines'))
    )
    op.create_index('ix_count_lines_sku', 'count_lines', ['sku', 'location'], unique=False)
    op.create_table('count_scans',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('session_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('code', sa.String(length=128), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('book_on_hand', sa.Integer(), nullable=False),
    sa.Column('variance', sa.Integer(), nullable=False),
    sa.Column('recount', sa.Integer(), nullable=False),
    sa.Column('scanned_by', sa.String(length=128), nullable=False),
    sa.Column('scanned_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('quantity >= 0', name=op.f('ck_count_scans_quantity_nonneg')),
    sa.ForeignKeyConstraint(['session_id', 'sku'], ['count_lines.session_id', 'count_lines.sku'], name='fk_count_scans_line'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_count_scans'))
    )


def downgrade() -> None:
    op.drop_table('count_scans')
    op.drop_index('ix_count_lines_sku', table_name='count_lines')
    op.drop_table('count_lines')
    op.drop_table('sku_barcodes')
    op.drop_index('ix_count_sessions_location', table_name='count_sessions')
    op.drop_table('count_sessions')
