"""Tables of cycle counting: sessions, their lines (frozen book, counts, approval), scans, barcodes.

A session belongs to one location. Its lines freeze the book quantity (``frozen_on_hand``)
when the session starts; each scan stores the book at that moment too (``book_on_hand`` =
frozen + the movements recorded since), so the variance is judged against what the ledger
expected when the shelf was counted. An approved line names the ledger event that posted it.
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
)

from stockpilot.store.schema import BigId, Id, Tz, metadata

count_sessions = Table(
    "count_sessions",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("location", Id, ForeignKey("locations.location"), nullable=False),
    Column("status", String(16), nullable=False),  # open | closed
    Column("started_by", String(128), nullable=False),
    Column("started_at", Tz, nullable=False),
    Column("closed_at", Tz),
    CheckConstraint("status IN ('open', 'closed')", name="status_known"),
    Index("ix_count_sessions_location", "location", "status"),
)

# One line per SKU of a session. ``status``: pending (not counted yet) → recount (the count
# was past the tolerance) → counted (awaiting approval) → posted (approved, in the ledger).
count_lines = Table(
    "count_lines",
    metadata,
    Column("session_id", BigId, ForeignKey("count_sessions.id"), primary_key=True),
    Column("sku", Id, ForeignKey("skus.sku"), primary_key=True),
    Column("location", Id, nullable=False),
    Column("rank", Integer, nullable=False),
    Column("abc", String(1), nullable=False),
    Column("risk", Float, nullable=False),
    Column("unit_cost", Float, nullable=False),
    Column("frozen_on_hand", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("book_on_hand", Integer),  # the book when last counted (frozen + since)
    Column("counted", Integer),
    Column("first_counted", Integer),
    Column("variance", Integer),
    Column("counted_by", String(128)),
    Column("counted_at", Tz),
    Column("approved_by", String(128)),
    Column("approved_at", Tz),
    Column("event_id", String(128)),  # the ledger event that posted the variance
    CheckConstraint("status IN ('pending', 'recount', 'counted', 'posted')",
                    name="status_known"),
    CheckConstraint("counted IS NULL OR counted >= 0", name="counted_nonneg"),
    CheckConstraint("attempts >= 0", name="attempts_nonneg"),
    Index("ix_count_lines_sku", "sku", "location"),
)

# Every scan, in order: the audit trail behind a line's counted quantity.
count_scans = Table(
    "count_scans",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("session_id", BigId, nullable=False),
    Column("sku", Id, nullable=False),
    Column("code", String(128), nullable=False),  # what was scanned (barcode or SKU)
    Column("quantity", Integer, nullable=False),
    Column("book_on_hand", Integer, nullable=False),
    Column("variance", Integer, nullable=False),
    Column("recount", Integer, nullable=False),  # 1: this scan asked for a recount
    Column("scanned_by", String(128), nullable=False),
    Column("scanned_at", Tz, nullable=False),
    ForeignKeyConstraint(["session_id", "sku"], ["count_lines.session_id", "count_lines.sku"],
                         name="fk_count_scans_line"),
    CheckConstraint("quantity >= 0", name="quantity_nonneg"),
)

# Barcodes (EAN/UPC/GTIN or a shop's own labels) that name a SKU when scanned.
sku_barcodes = Table(
    "sku_barcodes",
    metadata,
    Column("barcode", String(64), primary_key=True),
    Column("sku", Id, ForeignKey("skus.sku"), nullable=False),
)
