"""Tables of the network area: where locations stand, what they hold, what they cost.

``location_sites`` sits beside ``locations`` (one row per location that has geography), so the
core table stays as it was and a location without coordinates simply has no row here.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    Float,
    ForeignKey,
    Numeric,
    Table,
)

from stockpilot.store.schema import Id, Money, Tz, metadata

location_sites = Table(
    "location_sites",
    metadata,
    Column("location", Id, ForeignKey("locations.location"), primary_key=True),
    Column("latitude", Float, nullable=False),
    Column("longitude", Float, nullable=False),
    Column("capacity_units", BigInteger),  # storage capacity in units (NULL: unlimited)
    Column("capacity_volume_m3", Numeric(14, 3)),  # or in cubic metres
    Column("handling_cost_per_unit", Money, nullable=False, default=0),
    Column("fixed_cost_per_period", Money, nullable=False, default=0),
    Column("opens_on", Date),
    Column("closes_on", Date),
    Column("updated_at", Tz, nullable=False),
    CheckConstraint("latitude >= -90 AND latitude <= 90", name="latitude_range"),
    CheckConstraint("longitude >= -180 AND longitude <= 180", name="longitude_range"),
    CheckConstraint("capacity_units IS NULL OR capacity_units >= 0", name="capacity_nonneg"),
    CheckConstraint("capacity_volume_m3 IS NULL OR capacity_volume_m3 >= 0",
                    name="volume_nonneg"),
    CheckConstraint("handling_cost_per_unit >= 0", name="handling_nonneg"),
    CheckConstraint("fixed_cost_per_period >= 0", name="fixed_nonneg"),
    CheckConstraint("closes_on IS NULL OR opens_on IS NULL OR closes_on >= opens_on",
                    name="open_before_close"),
)
