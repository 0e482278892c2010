"""Tables of the events area: the embedded queue and the dead letters."""

from __future__ import annotations

from sqlalchemy import Column, Index, String, Table, Text, UniqueConstraint

from stockpilot.store.schema import BigId, Tz, metadata

# The embedded queue: publishing inserts a row; the consumer applies a batch to the ledger and
# marks its rows done in the same transaction, so a restart loses and repeats nothing.
inbox = Table(
    "inbox",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("message_id", String(128), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", Tz, nullable=False),
    Column("done_at", Tz),
    Index("ix_inbox_pending", "done_at", "id"),
)

# Messages that could not be applied: invalid schema, unknown SKU/location, oversell, reused
# id. Written in the consumer's transaction; unique per (source, message) so a redelivery
# after a crash between commit and ack records nothing twice.
dead_letters = Table(
    "dead_letters",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("source", String(32), nullable=False),
    Column("message_id", String(160), nullable=False),
    Column("body", Text, nullable=False),
    Column("error_type", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_at", Tz, nullable=False),
    UniqueConstraint("source", "message_id", name="uq_dead_letters_source_message"),
)
