"""Tables of reports and digests: every delivery of a report or an alert digest, sent or not."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table, Text

from stockpilot.store.schema import BigId, Tz, metadata

# One row per delivery (a report mailed, a digest of alerts sent to a channel): the failed
# ones stay here with their error, listed by `stockpilot report deliveries --failed`.
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # report | digest
    Column("channel", String(32), nullable=False),
    Column("recipients", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("status", String(16), nullable=False),  # sent | failed
    Column("attempts", Integer, nullable=False),
    Column("items", Integer, nullable=False),  # alerts in a digest; 1 for a report
    Column("last_error", Text),
    Column("created_at", Tz, nullable=False),
    Index("ix_deliveries_status_created", "status", "created_at"),
)
