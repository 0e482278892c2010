"""Notifiers: signed webhook, Slack-compatible webhook, SMTP e-mail, SMS — with retry and backoff.

Each ``send`` raises on failure; :func:`deliver` retries transient failures under the one
retry policy (:mod:`stockpilot.retry`) and returns
how many attempts it took and the last error, which the service records (a final failure is a
dead-letter row in ``notifications``).

The webhook body is JSON; ``X-Stockpilot-Signature: sha256=<hex>`` is the HMAC-SHA256 of the
exact body bytes with the shared secret (as GitHub and Stripe sign theirs), so a receiver
verifies it with :func:`verify`.

SMS goes through any gateway speaking Twilio's Messages API: a form POST of ``To``, ``From``
and ``Body`` to ``{base}/2010-04-01/Accounts/{sid}/Messages.json`` with HTTP basic auth
(account SID, auth token); one message per recipient.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import mimetypes
import smtplib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx

from stockpilot import retry

_CLIENT: list[httpx.Client] = []


def _http() -> httpx.Client:
    """One shared client: keeps connections open; building a client per send cost ~10 ms."""
    if not _CLIENT:
        _CLIENT.append(httpx.Client())
    return _CLIENT[0]


def signature(secret: str, body: bytes) -> str:
    """The header value for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str) -> bool:
    """Constant-time check of a received signature."""
    return hmac.compare_digest(signature(secret, body), header)


@dataclass(frozen=True)
class Webhook:
    """POST the alert as signed JSON."""

    url: str
    secret: str
    timeout_s: float = 5.0
    channel: str = "webhook"

    def send(self, alert: dict[str, Any]) -> None:
        """Deliver once; raise on any non-2xx answer."""
        body = json.dumps(alert, default=str, separators=(",", ":")).encode()
        r = _http().post(self.url, content=body, timeout=self.timeout_s,
                       headers={"Content-Type": "application/json",
                                "X-Stockpilot-Signature": signature(self.secret, body)})
        r.raise_for_status()


@dataclass(frozen=True)
class Slack:
    """POST ``{"text": …}`` to a Slack-compatible incoming webhook."""

    url: str
    timeout_s: float = 5.0
    channel: str = "slack"

    def send(self, alert: dict[str, Any]) -> None:
        """Deliver once; raise on any non-2xx answer."""
        text = f"[{alert['severity']}] {alert['rule']} {alert['sku']}@{alert['location']}: " \
               f"{alert['message']}"
        _http().post(self.url, json={"text": text}, timeout=self.timeout_s).raise_for_status()


@dataclass(frozen=True)
class Email:
    """Send a plain-text e-mail over SMTP."""

    host: str
    port: int
    sender: str
    to: tuple[str, ...]
    channel: str = "email"

    def send(self, alert: dict[str, Any]) -> None:
        """Deliver once; raise on SMTP errors."""
        msg = EmailMessage()
        msg["Subject"] = f"[stockpilot] {alert['rule']}: {alert['sku']} at {alert['location']}"
        msg["From"], msg["To"] = self.sender, ", ".join(self.to)
        msg.set_content(f"{alert['message']}\n\nseverity: {alert['severity']}\n"
                        f"alert id: {alert.get('id')}\n")
        with smtplib.SMTP(self.host, self.port, timeout=10) as smtp:
            smtp.send_message(msg)

    def send_mail(self, subject: str, body: str, attachments: Sequence[Path] = ()) -> None:
        """Send one mail with files attached (typed by name); raise on SMTP errors."""
        msg = EmailMessage()
        msg["Subject"], msg["From"], msg["To"] = subject, self.sender, ", ".join(self.to)
        msg.set_content(body)
        for path in attachments:
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            main, sub = kind.split("/", 1)
            msg.add_attachment(path.read_bytes(), maintype=main, subtype=sub,
                               filename=path.name)
        with smtplib.SMTP(self.host, self.port, timeout=10) as smtp:
            smtp.send_message(msg)

    def send_digest(self, alerts: Sequence[dict[str, Any]], period: str) -> None:
        """One mail listing every alert of ``period`` (instead of one mail per alert)."""
        self.send_mail(digest_subject(alerts, period), digest_text(alerts, period))


def digest_subject(alerts: Sequence[dict[str, Any]], period: str) -> str:
    """``[stockpilot] 3 alerts (1 critical) — <period>``."""
    critical = sum(a["severity"] == "critical" for a in alerts)
    return (f"[stockpilot] {len(alerts)} alert{'s' if len(alerts) != 1 else ''}"
            f"{f' ({critical} critical)' if critical else ''} — {period}")


def digest_text(alerts: Sequence[dict[str, Any]], period: str) -> str:
    """The digest's body: the alerts by rule, most severe first within each rule."""
    rank = {"critical": 0, "warning": 1, "info": 2}
    lines = [f"Alerts raised {period}: {len(alerts)}", ""]
    by_rule: dict[str, list[dict[str, Any]]] = {}
    for a in alerts:
        by_rule.setdefault(a["rule"], []).append(a)
    for rule in sorted(by_rule):
        lines.append(f"{rule} ({len(by_rule[rule])})")
        for a in sorted(by_rule[rule], key=lambda a: (rank.get(a["severity"], 3), a["sku"])):
            lines.append(f"  [{a['severity']}] {a['sku']}@{a['location']}: {a['message']}"
                         f" (alert {a.get('id')}, {a.get('status', 'open')})")
        lines.append("")
    return "\n".join(lines)


SMS_LIMIT = 160  # one GSM-7 segment; longer bodies are cut rather than split and billed twice


@dataclass(frozen=True)
class Sms:
    """Send a short text through a Twilio-compatible HTTP SMS gateway."""

    base_url: str
    account_sid: str
    auth_token: str
    sender: str
    to: tuple[str, ...]
    timeout_s: float = 5.0
    channel: str = "sms"

    def send(self, alert: dict[str, Any]) -> None:
        """Deliver to every recipient once; raise on any non-2xx answer."""
        url = f"{self.base_url.rstrip('/')}/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        for number in self.to:
            r = _http().post(url, data={"To": number, "From": self.sender,
                                      "Body": sms_text(alert)},
                           auth=(self.account_sid, self.auth_token), timeout=self.timeout_s)
            r.raise_for_status()


def sms_text(alert: dict[str, Any]) -> str:
    """The alert in at most :data:`SMS_LIMIT` characters."""
    text = f"stockpilot {alert['rule']} {alert['sku']}@{alert['location']}: {alert['message']}"
    return text if len(text) <= SMS_LIMIT else text[:SMS_LIMIT - 1] + "…"


def deliver(notifier: Any, alert: dict[str, Any],
            sleep: Callable[[float], None] = time.sleep) -> tuple[bool, int, str | None]:
    """Send under the project's retry policy: (sent?, attempts made, last error).

    Transient failures are retried (:func:`stockpilot.retry.is_transient_delivery_error`,
    limits in :mod:`stockpilot.retry`); a permanent one (e.g. HTTP 401) ends at once.
    """
    tries = 0

    def send() -> None:
        nonlocal tries
        tries += 1
        notifier.send(alert)

    try:
        retry.call(send, retry.is_transient_delivery_error, sleep=sleep)
    except Exception as exc:  # recorded as the notification's last error (a dead letter)
        return False, tries, f"{type(exc).__name__}: {exc}"
    return True, tries, None
