"""Tables of the imports area: the commit record that makes an import atomic across stores.

An import writes its history parts to a staging folder first; the database transaction that
writes its rows also inserts one ``history_commits`` row naming that staging folder. The
parts are moved into place only after the commit, and a half-done move is finished (or a
stage without its row thrown away) by :func:`stockpilot.store.staging.recover` on the next
run — so the database and the Parquet history hold both of an import or neither.
"""

from __future__ import annotations

from sqlalchemy import Column, String, Table

from stockpilot.store.schema import Tz, metadata

history_commits = Table(
    "history_commits",
    metadata,
    Column("stage_id", String(64), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("committed_at", Tz, nullable=False),
)
