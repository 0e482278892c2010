"""Tables of the dashboard: users (argon2 password hashes) and server-side sessions."""

from __future__ import annotations

from sqlalchemy import JSON, Column, ForeignKey, Index, String, Table, UniqueConstraint

from stockpilot.store.schema import BigId, Tz, metadata

web_users = Table(
    "web_users",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False),
    Column("password_hash", String(255), nullable=False),  # argon2id, never the password
    Column("role", String(16), nullable=False),  # viewer | planner | operator | admin
    Column("locations", JSON),  # null: every location
    Column("created_at", Tz, nullable=False),
    Column("disabled_at", Tz),
    UniqueConstraint("username", name="uq_web_users_username"),
)

# One row per signed-in browser. The cookie carries a random token (signed with the workspace
# secret); only its SHA-256 is stored, so a database dump does not hand out live sessions.
# Logging out deletes the row. The CSRF token is bound to the session.
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("token_sha256", String(64), primary_key=True),
    Column("user_id", BigId, ForeignKey("web_users.id"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", Tz, nullable=False),
    Column("expires_at", Tz, nullable=False),
    Index("ix_web_sessions_user", "user_id"),
)
