"""reports: deliveries of mailed reports and alert digests

Revision ID: reports_0001
Revises: 0001
Create Date: 2026-12-03 14:20:00
"""

from alembic import op
import sqlalchemy as sa


revision = 'reports_0001'
down_revision = '0001'
branch_labels = ('reports',)
depends_on = None


def upgrade() -> None:
    op.create_table('deliveries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('recipients', sa.Text(), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('items', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deliveries'))
    )
    op.create_index('ix_deliveries_status_created', 'deliveries', ['status', 'created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_deliveries_status_created', table_name='deliveries')
    op.drop_table('deliveries')
