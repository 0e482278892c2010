"""network: location geography, capacity and costs

Revision ID: network_0001
Revises: 0001
Create Date: 2026-12-03 09:40:00
"""

from alembic import op
import sqlalchemy as sa


revision = 'network_0001'
down_revision = '0001'
branch_labels = ('network',)
depends_on = None


def upgrade() -> None:
    op.create_table('location_sites',
    sa.Column('location', sa.String(length=64), nullable=False),
    sa.Column('latitude', sa.Float(), nullable=False),
    sa.Column('longitude', sa.Float(), nullable=False),
    sa.Column('capacity_units', sa.BigInteger(), nullable=True),
    sa.Column('capacity_volume_m3', sa.Numeric(precision=14, scale=3), nullable=True),
    sa.Column('handling_cost_per_unit', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.Column('fixed_cost_per_period', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.Column('opens_on', sa.Date(), nullable=True),
    sa.Column('closes_on', sa.Date(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('latitude >= -90 AND latitude <= 90', name=op.f('ck_location_sites_latitude_range')),
    sa.CheckConstraint('longitude >= -180 AND longitude <= 180', name=op.f('ck_location_sites_longitude_range')),
    sa.CheckConstraint('capacity_units IS NULL OR capacity_units >= 0', name=op.f('ck_location_sites_capacity_nonneg')),
    sa.CheckConstraint('capacity_volume_m3 IS NULL OR capacity_volume_m3 >= 0', name=op.f('ck_location_sites_volume_nonneg')),
    sa.CheckConstraint('handling_cost_per_unit >= 0', name=op.f('ck_location_sites_handling_nonneg')),
    sa.CheckConstraint('fixed_cost_per_period >= 0', name=op.f('ck_location_sites_fixed_nonneg')),
    sa.CheckConstraint('closes_on IS NULL OR opens_on IS NULL OR closes_on >= opens_on', name=op.f('ck_location_sites_open_before_close')),
    sa.ForeignKeyConstraint(['location'], ['locations.location'], name=op.f('fk_location_sites_location_locations')),
    sa.PrimaryKeyConstraint('location', name=op.f('pk_location_sites'))
    )


def downgrade() -> None:
    op.drop_table('location_sites')
