"""``[limits]`` of the settings: how much one request may cost the server.

Kept apart from :mod:`stockpilot.config` so the edge limits read as one block; the values
are overridable like every setting (``stockpilot.toml`` ``[limits]`` or
``STOCKPILOT_LIMITS__MAX_BODY_BYTES=…``).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class LimitSettings(BaseModel):
    """Request size and shape limits and the per-IP limit on failed sign-ins and keys."""

    model_config = ConfigDict(extra="forbid")

    # A request body over this many bytes is refused (413) before it is parsed: a 200 MB
    # body otherwise grows the server by ~3× its size while pydantic parses it.
    max_body_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    # JSON nested deeper than this is refused (400): deep nesting only costs (a 400-level
    # field made error serialisation fail with "maximum serialization depth").
    max_json_depth: int = Field(default=32, ge=2, le=500)
    # Failed sign-ins and unknown API keys per client IP: a burst of ``failed_auth_burst``
    # then one per ``60 / failed_auth_per_minute`` seconds; 0 turns the limit off.
    failed_auth_per_minute: float = Field(default=10.0, ge=0)
    failed_auth_burst: int = Field(default=10, ge=1)
