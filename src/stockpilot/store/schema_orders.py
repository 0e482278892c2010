"""Tables of the purchasing workflow: suggestion edits, snoozes, PO terms and the audit trail.

The purchase-order tables themselves live in :mod:`stockpilot.store.schema`; what this area
adds sits beside them (one row per PO in ``po_details``) so the older tables stay untouched.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from stockpilot.store.schema import BigId, Id, Tz, metadata

# A planner's change to one line of one plan run: a new quantity (with a note), a dropped
# line, or a SKU ordered once although the plan does not suggest it. Keyed by the plan run,
# so a new plan starts clean (its quantities are recomputed from the new position).
suggestion_edits = Table(
    "suggestion_edits",
    metadata,
    Column("plan_run_id", String(64), primary_key=True),
    Column("sku", Id, primary_key=True),
    Column("location", Id, primary_key=True),
    Column("supplier", Id, nullable=False),
    Column("action", String(16), nullable=False),
    Column("quantity", Integer),
    Column("note", Text),
    Column("edited_by", String(128), nullable=False),
    Column("edited_at", Tz, nullable=False),
    CheckConstraint("action IN ('quantity', 'drop', 'add')", name="action_known"),
    CheckConstraint("quantity IS NULL OR quantity > 0", name="quantity_pos"),
)

# A line hidden from the suggestions until a date, across plan runs.
suggestion_snoozes = Table(
    "suggestion_snoozes",
    metadata,
    Column("sku", Id, primary_key=True),
    Column("location", Id, primary_key=True),
    Column("until", Date, nullable=False),
    Column("note", Text),
    Column("snoozed_by", String(128), nullable=False),
    Column("snoozed_at", Tz, nullable=False),
)

# What a purchase order carries beyond its lines: currency, who approved it, when it was
# sent and to whom. ``sent_at`` set and nothing received is the "sent" status.
po_details = Table(
    "po_details",
    metadata,
    Column("po_id", BigId, ForeignKey("purchase_orders.id"), primary_key=True),
    Column("currency", String(3), nullable=False),
    Column("approved_by", String(128)),
    Column("approved_at", Tz),
    Column("sent_at", Tz),
    Column("sent_to", String(255)),
    Column("sent_by", String(128)),
)

# Append-only: every change to a suggestion and every step of a purchase order, with who and
# when. ``po_id`` and ``sku``/``location`` are what the PO and SKU pages filter on.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", Tz, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(32), nullable=False),
    Column("po_id", BigId),
    Column("sku", Id),
    Column("location", Id),
    Column("details", JSON, nullable=False),
    Index("ix_audit_log_po", "po_id"),
    Index("ix_audit_log_sku", "sku", "location"),
)
