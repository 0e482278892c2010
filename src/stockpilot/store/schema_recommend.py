"""Tables of the recommender in production: shopper feedback and A/B experiments."""

from __future__ import annotations

from sqlalchemy import JSON, CheckConstraint, Column, Index, Integer, String, Table

from stockpilot.store.schema import Id, Money, Tz, metadata

# One row per shopper event on a recommendation: shown (impression), clicked, added to the cart
# or bought (``value`` = revenue). The client's event id is the key, so a retried batch records
# nothing twice. ``model``/``experiment``/``variant``/``position`` come from the served answer.
rec_feedback = Table(
    "rec_feedback",
    metadata,
    Column("event_id", String(160), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("customer_id", Id),
    Column("sku", Id, nullable=False),
    Column("location", Id, nullable=False),
    Column("model", String(64)),
    Column("experiment", String(64)),
    Column("variant", String(64)),
    Column("position", Integer),
    Column("value", Money),
    Column("occurred_at", Tz, nullable=False),
    Column("recorded_at", Tz, nullable=False),
    CheckConstraint("kind IN ('impression', 'click', 'add_to_cart', 'purchase')",
                    name="kind_known"),
    CheckConstraint("position IS NULL OR position >= 1", name="position_pos"),
    CheckConstraint("value IS NULL OR value >= 0", name="value_nonneg"),
    Index("ix_rec_feedback_experiment", "experiment", "variant", "kind"),
    Index("ix_rec_feedback_model", "model", "position"),
    Index("ix_rec_feedback_time", "occurred_at"),
)

# An A/B test: its variants (name, model, re-ranking mode, parameters, traffic weight) and
# whether it runs. At most one experiment runs at a time (checked when one is started).
rec_experiments = Table(
    "rec_experiments",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("variants", JSON, nullable=False),
    Column("status", String(16), nullable=False),  # running | stopped
    Column("started_at", Tz, nullable=False),
    Column("stopped_at", Tz),
    CheckConstraint("status IN ('running', 'stopped')", name="status_known"),
    Index("ix_rec_experiments_status", "status"),
)
