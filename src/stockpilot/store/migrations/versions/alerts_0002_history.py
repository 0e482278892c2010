"""alert history

Revision ID: alerts_0002_history
Revises: 0003_alerts
Create Date: 2026-11-23 12:20:00
"""

from alembic import op
import sqlalchemy as sa


revision = 'alerts_0002_history'
down_revision = '0003_alerts'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('alert_history',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('alert_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('actor', sa.String(length=64), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_history'))
    )
    with op.batch_alter_table('alert_history', schema=None) as batch_op:
        batch_op.create_index('ix_alert_history_alert', ['alert_id', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('alert_history', schema=None) as batch_op:
        batch_op.drop_index('ix_alert_history_alert')
    op.drop_table('alert_history')
