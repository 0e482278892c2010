"""Planning tables of issue 13 (items 6 and 8): transit, sourcing routes, planner overrides."""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from stockpilot.store.schema import BigId, Id, Tz, metadata

# A shipment between two locations: out of the source at ``shipped_at`` (a TRANSFER_OUT
# movement), into the destination when received (TRANSFER_IN). Until then it is in transit:
# counted in the destination's inventory position, so it is never supplied twice.
transfers_in_transit = Table(
    "transfers_in_transit",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("event_id", String(128), nullable=False, unique=True),
    Column("sku", Id, nullable=False),
    Column("from_location", Id, nullable=False),
    Column("to_location", Id, nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("lot_code", String(64)),
    Column("expiry", Date),
    Column("status", String(16), nullable=False),  # in_transit | received
    Column("shipped_at", Tz, nullable=False),
    Column("expected_at", Date),
    Column("received_at", Tz),
    CheckConstraint("quantity > 0", name="quantity_positive"),
    Index("ix_transfers_in_transit_open", "status", "sku", "to_location"),
)

# Each location's source (a supplier, or a DC location), from ``stockpilot sourcing import``;
# ``[sourcing]`` in stockpilot.toml overrides a row.
sourcing_routes = Table(
    "sourcing_routes",
    metadata,
    Column("location", Id, primary_key=True),
    Column("source_kind", String(16), nullable=False),  # supplier | dc
    Column("source", Id),
    Column("transfer_days", Integer, nullable=False, default=1),
    CheckConstraint("source_kind in ('supplier', 'dc')", name="source_kind_known"),
)

# A planner's override of the plan for one SKU (at one location, or all when location is
# null). ``kind``: service_level, order_up_to, min, max, forecast_factor, forecast_units.
planner_overrides = Table(
    "planner_overrides",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("sku", Id, nullable=False),
    Column("location", Id),
    Column("kind", String(24), nullable=False),
    Column("value", Float, nullable=False),
    Column("start", Date),
    Column("end", Date),
    Column("author", String(128), nullable=False),
    Column("expires", Date),
    Column("note", Text),
    Column("created_at", Tz, nullable=False),
    Index("ix_planner_overrides_sku", "sku", "location"),
)
