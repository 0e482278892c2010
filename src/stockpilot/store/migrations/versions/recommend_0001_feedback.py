"""recommend: shopper feedback on recommendations and A/B experiments

Revision ID: recommend_0001
Revises: 0001
Create Date: 2026-12-03 10:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = 'recommend_0001'
down_revision = '0001'
branch_labels = ('recommend',)
depends_on = None


def upgrade() -> None:
    op.create_table('rec_feedback',
    sa.Column('event_id', sa.String(length=160), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('customer_id', sa.String(length=64), nullable=True),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('location', sa.String(length=64), nullable=False),
    sa.Column('model', sa.String(length=64), nullable=True),
    sa.Column('experiment', sa.String(length=64), nullable=True),
    sa.Column('variant', sa.String(length=64), nullable=True),
    sa.Column('position', sa.Integer(), nullable=True),
    sa.Column('value', sa.Numeric(precision=14, scale=4), nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('impression', 'click', 'add_to_cart', 'purchase')", name=op.f('ck_rec_feedback_kind_known')),
    sa.CheckConstraint('position IS NULL OR position >= 1', name=op.f('ck_rec_feedback_position_pos')),
    sa.CheckConstraint('value IS NULL OR value >= 0', name=op.f('ck_rec_feedback_value_nonneg')),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_rec_feedback'))
    )
    op.create_index('ix_rec_feedback_experiment', 'rec_feedback', ['experiment', 'variant', 'kind'], unique=False)
    op.create_index('ix_rec_feedback_model', 'rec_feedback', ['model', 'position'], unique=False)
    op.create_index('ix_rec_feedback_time', 'rec_feedback', ['occurred_at'], unique=False)
    op.create_table('rec_experiments',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('variants', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('stopped_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('running', 'stopped')", name=op.f('ck_rec_experiments_status_known')),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_rec_experiments'))
    )
    op.create_index('ix_rec_experiments_status', 'rec_experiments', ['status'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_rec_experiments_status', table_name='rec_experiments')
    op.drop_table('rec_experiments')
    op.drop_index('ix_rec_feedback_time', table_name='rec_feedback')
    op.drop_index('ix_rec_feedback_model', table_name='rec_feedback')
    op.drop_index('ix_rec_feedback_experiment', table_name='rec_feedback')
    op.drop_table('rec_feedback')
