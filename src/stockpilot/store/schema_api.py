"""Tables of the API: keys (stored hashed, shown once) with a role and optional locations."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Integer, String, Table, UniqueConstraint

from stockpilot.store.schema import BigId, Tz, metadata

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(128), nullable=False),
    Column("prefix", String(16), nullable=False),  # shown in lists, never the secret
    Column("secret_sha256", String(64), nullable=False),
    Column("role", String(16), nullable=False),  # viewer | planner | operator | admin
    Column("locations", JSON),  # null: every location
    Column("created_at", Tz, nullable=False),
    Column("revoked_at", Tz),
    UniqueConstraint("secret_sha256", name="uq_api_keys_secret"),
)

# Idempotency-Key records, written in the same transaction as the request's effect: the same
# key and body replay the stored response; another body is refused.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("key_id", BigId, primary_key=True),
    Column("idem_key", String(255), primary_key=True),
    Column("body_sha256", String(64), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("response", JSON, nullable=False),
    Column("created_at", Tz, nullable=False),
)
