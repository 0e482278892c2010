"""Tables of the events area: the embedded queue and the dead letters."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table, Text, UniqueConstraint

from stockpilot.domain import bounds as b
from stockpilot.store.schema import BigId, Tz, metadata

# The embedded queue: publishing inserts a row; the consumer applies a batch to the ledger and
# marks its rows done in the same transaction, so a restart loses and repeats nothing.
inbox = Table(
    "inbox",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("message_id", String(b.EVENT_ID_LEN), nullable=False),
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
    Column("message_id", String(b.MESSAGE_ID_LEN), nullable=False),
    Column("body", Text, nullable=False),
    Column("error_type", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_at", Tz, nullable=False),
    UniqueConstraint("source", "message_id", name="uq_dead_letters_source_message"),
)

# Alerts raised by the rules: one open alert per (rule, SKU, location) — re-raising an open
# one only updates it (dedup); a resolved one may be raised again after the cooldown.
alerts = Table(
    "alerts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("rule", String(48), nullable=False),
    Column("sku", String(b.ID_LEN), nullable=False),
    Column("location", String(b.ID_LEN), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("message", Text, nullable=False),
    Column("status", String(16), nullable=False),  # open | acked | resolved
    Column("created_at", Tz, nullable=False),
    Column("updated_at", Tz, nullable=False),
    Index("ix_alerts_key_status", "rule", "sku", "location", "status"),
)

# Every delivery attempt of an alert to a channel; a final failure stays here as a dead letter.
notifications = Table(
    "notifications",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("alert_id", BigId, nullable=False),
    Column("channel", String(32), nullable=False),
    Column("status", String(16), nullable=False),  # sent | failed
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text),
    Column("created_at", Tz, nullable=False),
)

# The life of every alert, append-only: raised, updated (the condition still holds, message
# refreshed), acked, resolved, and raised again after the cooldown — who and when.
alert_history = Table(
    "alert_history",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("alert_id", BigId, nullable=False),
    Column("action", String(16), nullable=False),  # raised | updated | acked | resolved
    Column("status", String(16), nullable=False),  # the alert's status after the action
    Column("message", Text),
    Column("actor", String(64)),
    Column("at", Tz, nullable=False),
    Index("ix_alert_history_alert", "alert_id", "id"),
)
