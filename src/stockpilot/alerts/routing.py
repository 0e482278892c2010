"""Per-rule routing: which notifiers each rule's alerts go to (``[alerts.routes]``).

    [alerts.channels]
    webhook_url = "https://ops.example/hooks/stock"
    smtp_host = "mail.example"
    email_to = ["planner@shop.example"]
    sms_base_url = "https://api.twilio.com"
    sms_to = ["+15550100"]

    [alerts.routes]
    low_stock = ["webhook", "email"]
    projected_stockout = ["webhook", "email", "sms"]
    default = ["webhook"]

    [alerts]
    digest = ["email"]   # these channels get one digest per period, not a mail per alert

A rule that is not listed takes ``default``; without a ``default`` it goes to every configured
channel. Naming a channel that is not configured is a :class:`ConfigError` when the router is
built, not a silent drop at 3 a.m.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from stockpilot.alerts import notifiers as n
from stockpilot.config import AlertChannels, AlertSettings
from stockpilot.errors import ConfigError


def channels_from(cfg: AlertChannels) -> dict[str, Any]:
    """The notifiers whose addresses are configured, by channel name."""
    out: dict[str, Any] = {}
    if cfg.webhook_url:
        out["webhook"] = n.Webhook(cfg.webhook_url, cfg.webhook_secret)
    if cfg.slack_url:
        out["slack"] = n.Slack(cfg.slack_url)
    if cfg.smtp_host and cfg.email_to:
        out["email"] = n.Email(cfg.smtp_host, cfg.smtp_port, cfg.email_from, tuple(cfg.email_to))
    if cfg.sms_base_url and cfg.sms_to:
        out["sms"] = n.Sms(cfg.sms_base_url, cfg.sms_account_sid, cfg.sms_auth_token,
                           cfg.sms_from, tuple(cfg.sms_to))
    return out


@dataclass(frozen=True)
class Router:
    """Maps a rule to its notifiers."""

    channels: Mapping[str, Any]
    routes: Mapping[str, Sequence[str]] = field(default_factory=dict)
    digest: Sequence[str] = ()

    def __post_init__(self) -> None:
        unknown = [c for c in self.digest if c not in self.channels]
        if unknown:
            raise ConfigError(f"[alerts] digest names channel(s) {', '.join(unknown)} that "
                              f"are not configured (configured: "
                              f"{', '.join(sorted(self.channels)) or 'none'})")
        no_digest = [c for c in self.digest if not hasattr(self.channels[c], "send_digest")]
        if no_digest:
            raise ConfigError(f"[alerts] digest: channel(s) {', '.join(no_digest)} cannot "
                              "send a digest (email can)")
        for rule, names in self.routes.items():
            unknown = [c for c in names if c not in self.channels]
            if unknown:
                have = ", ".join(sorted(self.channels)) or "none"
                raise ConfigError(f"[alerts.routes] {rule} names channel(s) "
                                  f"{', '.join(unknown)} that are not configured "
                                  f"(configured: {have})")

    def for_rule(self, rule: str) -> list[Any]:
        """The notifiers an alert of ``rule`` goes to, in the configured order."""
        names = self.routes.get(rule, self.routes.get("default", list(self.channels)))
        return [self.channels[c] for c in names if c not in self.digest]

    def digest_channels(self) -> list[Any]:
        """The notifiers that get the period's digest instead of each alert."""
        return [self.channels[c] for c in self.digest]

    @classmethod
    def from_settings(cls, cfg: AlertSettings, extra: Mapping[str, Any] | None = None
                      ) -> Router:
        """The router of ``[alerts]``; ``extra`` channels (e.g. CLI flags) are added."""
        return cls({**channels_from(cfg.channels), **(extra or {})}, cfg.routes,
                   tuple(cfg.digest))


def route(notifiers: Sequence[Any] | Router, rule: str) -> list[Any]:
    """Notifiers for ``rule``: a plain sequence means every rule goes everywhere."""
    return notifiers.for_rule(rule) if isinstance(notifiers, Router) else list(notifiers)
