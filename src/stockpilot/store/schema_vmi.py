"""Tables of vendor-managed inventory: supplier credentials, agreed bounds, ASNs, audit trail.

Supplier API keys and dashboard users live in their own tables, apart from the shop's
``api_keys`` and ``web_users``: a supplier credential is unknown to every shop route, so it can
only ever reach the supplier routes, which scope everything to its own items.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from stockpilot.store.schema import BigId, Id, Tz, metadata

supplier_keys = Table(
    "supplier_keys",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("supplier", Id, ForeignKey("suppliers.supplier"), nullable=False),
    Column("name", String(128), nullable=False),
    Column("secret_sha256", String(64), nullable=False),
    Column("created_at", Tz, nullable=False),
    Column("revoked_at", Tz),
    UniqueConstraint("secret_sha256", name="uq_supplier_keys_secret_sha256"),
)

supplier_users = Table(
    "supplier_users",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("supplier", Id, ForeignKey("suppliers.supplier"), nullable=False),
    Column("username", String(64), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("created_at", Tz, nullable=False),
    UniqueConstraint("username", name="uq_supplier_users_username"),
)

supplier_sessions = Table(
    "supplier_sessions",
    metadata,
    Column("token_sha256", String(64), primary_key=True),
    Column("user_id", BigId, ForeignKey("supplier_users.id"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("expires_at", Tz, nullable=False),
)

# What the shop agreed with the supplier per SKU-location: an ASN that keeps the inventory
# position within [min_units, max_units] is approved without the shop.
vmi_bounds = Table(
    "vmi_bounds",
    metadata,
    Column("supplier", Id, ForeignKey("suppliers.supplier"), primary_key=True),
    Column("sku", Id, ForeignKey("skus.sku"), primary_key=True),
    Column("location", Id, ForeignKey("locations.location"), primary_key=True),
    Column("min_units", Integer, nullable=False),
    Column("max_units", Integer, nullable=False),
    CheckConstraint("min_units >= 0 AND max_units >= min_units", name="bounds_ordered"),
)

asns = Table(
    "asns",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("supplier", Id, ForeignKey("suppliers.supplier"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("auto_approved", Boolean, nullable=False, default=False),
    Column("expected_at", Date),
    Column("note", Text),
    Column("created_by", String(128), nullable=False),
    Column("created_at", Tz, nullable=False),
    Column("decided_by", String(128)),
    Column("decided_at", Tz),
    Column("po_id", BigId, ForeignKey("purchase_orders.id")),
    Column("idempotency_key", String(255)),  # the supplier's Idempotency-Key, if it sent one
    CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status_known"),
    UniqueConstraint("supplier", "idempotency_key", name="uq_asns_supplier_idempotency_key"),
    Index("ix_asns_supplier_status", "supplier", "status"),
)

asn_lines = Table(
    "asn_lines",
    metadata,
    Column("asn_id", BigId, ForeignKey("asns.id"), primary_key=True),
    Column("line_no", Integer, primary_key=True),
    Column("sku", Id, ForeignKey("skus.sku"), nullable=False),
    Column("location", Id, ForeignKey("locations.location"), nullable=False),
    Column("quantity", Integer, nullable=False),
    CheckConstraint("quantity > 0", name="quantity_pos"),
)

vmi_audit = Table(
    "vmi_audit",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", Tz, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("supplier", Id, nullable=False),
    Column("action", String(32), nullable=False),
    Column("asn_id", BigId),
    Column("detail", JSON, nullable=False),
    Index("ix_vmi_audit_supplier_at", "supplier", "at"),
)
