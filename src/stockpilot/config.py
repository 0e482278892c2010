"""One ``Settings`` object: embedded defaults, overridden by ``stockpilot.toml`` and env vars.

Precedence (highest first): explicit arguments (CLI flags), ``STOCKPILOT_*`` environment
variables, the workspace's ``stockpilot.toml``, the defaults below. A workspace is a folder
holding ``stockpilot.toml``, the SQLite file and the ``history/`` Parquet store.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from stockpilot.errors import ConfigError

CONFIG_NAME = "stockpilot.toml"
DEFAULT_SECRET = "change-me-insecure-default-secret"  # noqa: S105 - refused when serving publicly
#: Settings that must not keep their default when serving beyond loopback (a session secret
#: added by the dashboard belongs here too).
SECRET_FIELDS: tuple[str, ...] = ("secret_key", "session_secret")


class Settings(BaseSettings):
    """Workspace settings; see the module docstring for precedence."""

    model_config = SettingsConfigDict(env_prefix="STOCKPILOT_", extra="ignore")

    workspace: Path = Field(default=Path("."), description="folder of stockpilot.toml")
    db_url: str = Field(default="", description="SQLAlchemy URL; default SQLite in workspace")
    history_dir: str = Field(default="", description="Parquet history store; default history/")
    sqlite_synchronous: str = Field(default="FULL", description="FULL (durable) or NORMAL")
    secret_key: str = DEFAULT_SECRET
    host: str = "127.0.0.1"
    port: int = 8000
    default_location: str = "ONLINE"
    # API rate limit per key: a token bucket refilled at ``rate_limit_per_second`` holding at
    # most ``rate_limit_burst`` requests; a rate of 0 turns the limit off.
    rate_limit_per_second: float = Field(default=20.0, ge=0)
    rate_limit_burst: int = Field(default=60, ge=1)
    # How long the API trusts a key it looked up (a key revoked by another process keeps
    # working for at most this long; revoking through the API takes effect at once).
    api_key_cache_seconds: float = Field(default=5.0, ge=0)

    def resolved_db_url(self) -> str:
        """The database URL, defaulting to ``<workspace>/stockpilot.db``."""
        return self.db_url or f"sqlite:///{(self.workspace / 'stockpilot.db').resolve()}"

    def resolved_history_dir(self) -> Path:
        """The Parquet history folder, defaulting to ``<workspace>/history``."""
        if not self.history_dir:
            return self.workspace / "history"
        path = Path(self.history_dir)
        return path if path.is_absolute() or "://" in self.history_dir else self.workspace / path

    def default_secrets(self) -> list[str]:
        """Names of the secret settings still at their default (or empty)."""
        return [name for name in SECRET_FIELDS if name in type(self).model_fields
                and getattr(self, name) in (DEFAULT_SECRET, "", None)]

    def check_serving(self, host: str) -> None:
        """Refuse to serve beyond loopback with a default secret (CONVENTIONS §11)."""
        loopback = host in {"127.0.0.1", "localhost", "::1"} or host.startswith("127.")
        unset = self.default_secrets()
        if not loopback and unset:
            names = ", ".join(f"STOCKPILOT_{n.upper()}" for n in unset)
            raise ConfigError(
                f"refusing to serve on {host} with default secrets: set {names} (or "
                f"{', '.join(unset)} in {CONFIG_NAME}), or serve on 127.0.0.1"
            )


def load_settings(workspace: Path | None = None, **overrides: Any) -> Settings:
    """Settings for a workspace: its toml file, then env vars, then explicit overrides."""
    ws = Path(workspace or os.environ.get("STOCKPILOT_WORKSPACE", "."))
    values: dict[str, Any] = {}
    path = ws / CONFIG_NAME
    if path.exists():
        try:
            values = tomllib.loads(path.read_text(encoding="utf-8")).get("stockpilot", {})
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: {exc}") from exc
    env = {k: v for k, v in Settings().model_dump().items()
           if f"STOCKPILOT_{k.upper()}" in os.environ}
    merged = {**values, **env, **{k: v for k, v in overrides.items() if v is not None}}
    merged["workspace"] = ws
    return Settings(**merged)
