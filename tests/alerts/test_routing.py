"""Per-rule routing from stockpilot.toml ([alerts.channels], [alerts.routes]) and env vars."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from stockpilot.alerts import rules
from stockpilot.alerts.notifiers import Email, Sms, Webhook
from stockpilot.alerts.routing import Router
from stockpilot.alerts.service import raise_alerts
from stockpilot.config import load_settings
from stockpilot.errors import ConfigError

TOML = """
[stockpilot]
default_location = "W"

[alerts]
cooldown_hours = 6

[alerts.channels]
webhook_url = "http://127.0.0.1:9/hook"
webhook_secret = "s3cret"
smtp_host = "127.0.0.1"
smtp_port = 2525
email_to = ["planner@shop.example"]
sms_base_url = "http://127.0.0.1:9"
sms_account_sid = "AC1"
sms_auth_token = "t"
sms_from = "+1"
sms_to = ["+2"]

[alerts.routes]
low_stock = ["webhook", "email"]
projected_stockout = ["webhook", "email", "sms"]
default = ["webhook"]
"""


def test_routes_from_the_workspace_toml(tmp_path, monkeypatch):
    for k in list(__import__("os").environ):
        if k.startswith("STOCKPILOT_"):
            monkeypatch.delenv(k)
    (tmp_path / "stockpilot.toml").write_text(TOML)
    s = load_settings(tmp_path)
    assert s.default_location == "W" and s.alerts.cooldown_hours == 6
    router = Router.from_settings(s.alerts)
    kinds = {r: [type(n) for n in router.for_rule(r)]
             for r in ("low_stock", "projected_stockout", "phantom_stock")}
    assert kinds == {"low_stock": [Webhook, Email], "projected_stockout": [Webhook, Email, Sms],
                     "phantom_stock": [Webhook]}  # unlisted → default
    assert router.for_rule("low_stock")[0].secret == "s3cret"


def test_env_overrides_one_channel_setting_and_keeps_the_rest(tmp_path, monkeypatch):
    (tmp_path / "stockpilot.toml").write_text(TOML)
    monkeypatch.setenv("STOCKPILOT_ALERTS__CHANNELS__WEBHOOK_SECRET", "from-env")
    s = load_settings(tmp_path)
    assert s.alerts.channels.webhook_secret == "from-env"
    assert s.alerts.channels.webhook_url == "http://127.0.0.1:9/hook"
    assert s.alerts.routes["low_stock"] == ["webhook", "email"]


def test_without_routes_every_rule_goes_to_every_configured_channel(tmp_path):
    (tmp_path / "stockpilot.toml").write_text(
        '[alerts.channels]\nwebhook_url = "http://x/h"\nslack_url = "http://x/s"\n')
    router = Router.from_settings(load_settings(tmp_path).alerts)
    assert sorted(n.channel for n in router.for_rule("expiring_lot")) == ["slack", "webhook"]


def test_routing_to_an_unconfigured_channel_is_a_config_error(tmp_path):
    (tmp_path / "stockpilot.toml").write_text(
        '[alerts.channels]\nwebhook_url = "http://x/h"\n'
        '[alerts.routes]\nprojected_stockout = ["webhook", "sms"]\n')
    with pytest.raises(ConfigError, match=r"projected_stockout names channel.*sms"):
        Router.from_settings(load_settings(tmp_path).alerts)


@dataclass
class Recorder:
    """A hand-written fake notifier: remembers what it was asked to send."""

    channel: str
    sent: list[Any] = field(default_factory=list)

    def send(self, alert: dict[str, Any]) -> None:
        self.sent.append((alert["rule"], alert["sku"]))


def test_raise_alerts_delivers_each_rule_only_to_its_channels(engine):
    web, mail, sms = Recorder("webhook"), Recorder("email"), Recorder("sms")
    router = Router({"webhook": web, "email": mail, "sms": sms},
                    {"low_stock": ["webhook", "email"],
                     "projected_stockout": ["webhook", "email", "sms"], "default": []})
    raise_alerts(engine, [rules.Finding("low_stock", "A", "W", "warning", "m"),
                          rules.Finding("projected_stockout", "B", "W", "critical", "m"),
                          rules.Finding("phantom_stock", "C", "W", "warning", "m")], router)
    assert web.sent == [("low_stock", "A"), ("projected_stockout", "B")]
    assert mail.sent == web.sent
    assert sms.sent == [("projected_stockout", "B")]
