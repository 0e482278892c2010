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

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from stockpilot.config_limits import LimitSettings
from stockpilot.errors import ConfigError

CONFIG_NAME = "stockpilot.toml"
DEFAULT_SECRET = "change-me-insecure-default-secret"  # noqa: S105 - refused when serving publicly
#: Settings that must not keep their default when serving beyond loopback (a session secret
#: added by the dashboard belongs here too).
SECRET_FIELDS: tuple[str, ...] = ("secret_key", "session_secret")


class AlertChannels(BaseModel):
    """Where alerts can go; a channel is configured when its address is set."""

    model_config = ConfigDict(extra="forbid")

    webhook_url: str = ""
    webhook_secret: str = ""
    slack_url: str = ""
    smtp_host: str = ""
    smtp_port: int = 25
    email_from: str = "stockpilot@localhost"
    email_to: list[str] = Field(default_factory=list)
    sms_base_url: str = Field(default="", description="Twilio-compatible gateway base URL")
    sms_account_sid: str = ""
    sms_auth_token: str = ""
    sms_from: str = ""
    sms_to: list[str] = Field(default_factory=list)


class AlertSettings(BaseModel):
    """``[alerts]`` in stockpilot.toml: channels, per-rule routes, cooldown.

    ``routes`` maps a rule to the channels it goes to, e.g. ``projected_stockout = ["webhook",
    "email", "sms"]``; ``default`` covers rules not listed; without a ``default`` an unlisted
    rule goes to every configured channel.
    """

    model_config = ConfigDict(extra="forbid")

    channels: AlertChannels = Field(default_factory=AlertChannels)
    routes: dict[str, list[str]] = Field(default_factory=dict)
    cooldown_hours: float = 24.0
    digest: list[str] = Field(default_factory=list, description=(
        "channels that get one digest of the period's alerts (`stockpilot report digest`) "
        "instead of one message per alert"))


class RecommendSettings(BaseModel):
    """``[stockpilot.recommend]`` in stockpilot.toml: which trained model serves, how re-ranked.

    ``model`` names a model trained with ``stockpilot recommend train --model NAME``; a request
    may ask for another with ``model=``. ``mode`` is the stock-aware re-ranking (``filter``,
    ``substitute`` or ``boost``).
    """

    model_config = ConfigDict(extra="forbid")

    model: str = "hybrid"
    mode: str = Field(default="substitute", pattern="^(filter|substitute|boost)$")
    #: in ``boost`` mode, how much an overstocked item's score rises (× the top score at full
    #: overstock); an A/B variant may set its own (``params.boost_weight``)
    boost_weight: float = Field(default=0.2, ge=0.0, le=10.0)


class RoutingSettings(BaseModel):
    """``[routing]`` in stockpilot.toml: the fleet that carries DC → store transfers.

    ``windows`` maps a location to its receiving window as ``"HH:MM-HH:MM"`` (clock time; the
    shift starts at ``shift_start``); a location not listed receives all shift long.
    """

    model_config = ConfigDict(extra="forbid")

    vehicles: int = Field(default=10, ge=1)
    capacity_units: int = Field(default=1000, ge=1)
    speed_kmh: float = Field(default=60.0, gt=0)
    cost_per_km: float = Field(default=1.0, ge=0)
    cost_per_hour: float = Field(default=0.0, ge=0)
    fixed_cost_per_vehicle: float = Field(default=0.0, ge=0)
    service_minutes: float = Field(default=15.0, ge=0)
    shift_start: str = Field(default="06:00", pattern=r"^\d{2}:\d{2}$")
    shift_hours: float = Field(default=10.0, gt=0, le=24)
    circuity: float = Field(default=1.2, ge=1.0, description="road km per great-circle km")
    windows: dict[str, str] = Field(default_factory=dict)


class PurchasingSettings(BaseModel):
    """``[purchasing]``: the currency of purchase orders, sending them, receiving them."""

    model_config = ConfigDict(extra="forbid")

    currency: str = Field(default="EUR", min_length=3, max_length=3)
    smtp_host: str = ""
    smtp_port: int = 25
    email_from: str = "purchasing@localhost"
    # a receipt may exceed a line's open quantity by this share without a confirmation
    over_receipt_tolerance: float = Field(default=0.1, ge=0)


class CountingSettings(BaseModel):
    """``[stockpilot.counting]`` in stockpilot.toml: cycle-count frequencies and tolerances.

    Days between counts per ABC class (A monthly, B quarterly, C yearly by default) and the
    tolerance past which a count asks for a recount: the larger of ``tolerance_units`` and
    ``tolerance_pct`` % of the expected quantity (see :mod:`stockpilot.planning.counting`).
    """

    model_config = ConfigDict(extra="forbid")

    a_days: int = Field(default=30, ge=1)
    b_days: int = Field(default=91, ge=1)
    c_days: int = Field(default=365, ge=1)
    tolerance_units: int = Field(default=2, ge=0)
    tolerance_pct: float = Field(default=5.0, ge=0)


class PipelineSettings(BaseModel):
    """``[pipeline]`` in stockpilot.toml: the nightly pipeline's knobs (:mod:`stockpilot.jobs`).

    The forecast step refits when the served run is ``retrain_days`` old, otherwise only when
    its error on the new days passes ``drift_threshold`` × its backtest error.
    """

    watch_dir: str = Field(default="", description="folder of CSV files to import; '' = off")
    retrain_days: int = Field(default=7, ge=0)
    drift_threshold: float = Field(default=1.5, gt=0)
    horizon: int = Field(default=28, ge=1, le=365)
    windows: int = Field(default=3, ge=1, le=12)
    # not AutoETS by default: on M5 daily it is ~105 of a refit's ~112 CPU seconds, and the
    # four below keep a nightly run of 972 series far inside 5 minutes (docs/benchmarks.md)
    models: list[str] = Field(default_factory=lambda: [
        "SeasonalNaive", "CrostonOptimized", "TSB", "WindowAverage28"])
    review_days: int = Field(default=7, ge=1, le=90)
    report_format: str = Field(default="html", pattern="^(html|pdf|xlsx)$")
    run_scheduler_in_serve: bool = False
    # the notify step: one digest of the alerts raised in the last ``digest_hours`` to the
    # ``[alerts] digest`` channels, and (``mail_report``) the run's report mailed to
    # ``[alerts.channels] email_to``; every mail is recorded (`stockpilot report deliveries`)
    digest_hours: float = Field(default=24.0, gt=0)
    mail_report: bool = False


class Settings(BaseSettings):
    """Workspace settings; see the module docstring for precedence."""

    model_config = SettingsConfigDict(env_prefix="STOCKPILOT_", extra="ignore",
                                      env_nested_delimiter="__")

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
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)  # request size, auth failures
    recommend: RecommendSettings = Field(default_factory=RecommendSettings)
    routing: RoutingSettings = Field(default_factory=RoutingSettings)
    purchasing: PurchasingSettings = Field(default_factory=PurchasingSettings)
    counting: CountingSettings = Field(default_factory=CountingSettings)
    # ``[sourcing]``: location → "supplier" or "dc:LOC" (overrides imported routes).
    sourcing: dict[str, str] = Field(default_factory=dict)
    # ``[service_levels]``: ABC×XYZ class (e.g. "AX") → target cycle service level.
    service_levels: dict[str, float] = Field(default_factory=dict)
    # ``[schedule]``: job → cron ("pipeline" = every step; a step's name runs that step alone).
    schedule: dict[str, str] = Field(default_factory=dict)
    pipeline: PipelineSettings = Field(default_factory=PipelineSettings)
    # Money: the workspace's ISO 4217 currency ("" = from the data: GBP for the Online Retail
    # sample, else USD) and ``[supplier_currencies]``: supplier → code where it differs.
    currency: str = ""
    supplier_currencies: dict[str, str] = Field(default_factory=dict)

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
            doc = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: {exc}") from exc
        values = dict(doc.get("stockpilot", {}))
        if "alerts" in doc:  # a top-level [alerts] table, beside [stockpilot]
            values["alerts"] = _deep_merge(values.get("alerts", {}), doc["alerts"])
        # top-level tables beside [stockpilot]
        for table in ("sourcing", "service_levels", "schedule", "pipeline", "supplier_currencies"):
            if table in doc:
                values[table] = {**values.get(table, {}), **doc[table]}
    from_env = Settings()
    env = {k: v for k, v in from_env.model_dump().items()
           if f"STOCKPILOT_{k.upper()}" in os.environ}
    if any(k.startswith("STOCKPILOT_ALERTS__") for k in os.environ):
        env["alerts"] = _deep_merge(values.get("alerts", {}),
                                    from_env.alerts.model_dump(exclude_unset=True))
    merged = {**values, **env, **{k: v for k, v in overrides.items() if v is not None}}
    merged["workspace"] = ws
    return Settings(**merged)


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = _deep_merge(out[k], v) if isinstance(v, dict) and isinstance(
            out.get(k), dict) else v
    return out
