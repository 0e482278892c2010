"""pipeline: step records of pipeline runs, and the scheduler's job locks

Revision ID: pipeline_0001
Revises: 0001
Create Date: 2026-12-03 13:45:00
"""

from alembic import op
import sqlalchemy as sa


revision = 'pipeline_0001'
down_revision = '0001'
branch_labels = ('pipeline',)
depends_on = '0006_runs'  # pipeline_steps.run_id references job_runs


def upgrade() -> None:
    big = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
    op.create_table('pipeline_steps',
    sa.Column('id', big, autoincrement=True, nullable=False),
    sa.Column('run_id', big, nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('step', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('rows', sa.BigInteger(), nullable=True),
    sa.Column('forecast_run_id', sa.String(length=64), nullable=True),
    sa.Column('plan_run_id', sa.String(length=64), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['job_runs.id'],
                            name=op.f('fk_pipeline_steps_run_id_job_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pipeline_steps'))
    )
    with op.batch_alter_table('pipeline_steps', schema=None) as batch_op:
        batch_op.create_index('ux_pipeline_steps_run_step', ['run_id', 'step'], unique=True)
    op.create_table('job_locks',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('holder', sa.String(length=128), nullable=False),
    sa.Column('acquired_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_job_locks'))
    )


def downgrade() -> None:
    op.drop_table('job_locks')
    with op.batch_alter_table('pipeline_steps', schema=None) as batch_op:
        batch_op.drop_index('ux_pipeline_steps_run_step')
    op.drop_table('pipeline_steps')
