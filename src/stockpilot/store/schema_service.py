"""Tables of the use-case layer: which plan lines were approved into which purchase order."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, String, Table

from stockpilot.store.schema import BigId, Id, Tz, metadata

# One row per approved plan line. The primary key (plan run, SKU, location) makes approval
# idempotent by the identity of the lines approved: a replay finds its lines taken and creates
# nothing; another location's lines of the same supplier are other keys; a new plan is a new
# run id. Two concurrent approvals of one line collide here, and only one commits.
plan_approvals = Table(
    "plan_approvals",
    metadata,
    Column("plan_run_id", String(64), primary_key=True),
    Column("sku", Id, primary_key=True),
    Column("location", Id, primary_key=True),
    Column("supplier", Id, nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("po_id", BigId, ForeignKey("purchase_orders.id"), nullable=False),
    Column("approved_by", String(128), nullable=False),
    Column("approved_at", Tz, nullable=False),
)
