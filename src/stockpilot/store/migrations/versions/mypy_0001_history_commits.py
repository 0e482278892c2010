"""imports: history_commits, the record that makes an import atomic across the two stores

Revision ID: mypy_0001
Revises: 0001
Create Date: 2026-12-03 10:10:00
"""

from alembic import op
import sqlalchemy as sa


revision = 'mypy_0001'
down_revision = '0001'
branch_labels = ('mypy',)
depends_on = None


def upgrade() -> None:
    op.create_table('history_commits',
    sa.Column('stage_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('committed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('stage_id', name=op.f('pk_history_commits'))
    )


def downgrade() -> None:
    op.drop_table('history_commits')
