"""Reports mailed and alert digests sent to a local SMTP server (aiosmtpd on 127.0.0.1);
a failed delivery is recorded and listed."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta

import pytest

from stockpilot.alerts.notifiers import Email
from stockpilot.alerts.routing import Router
from stockpilot.alerts.rules import Finding
from stockpilot.alerts.service import raise_alerts
from stockpilot.errors import ConfigError
from stockpilot.store.uow import reading, writing
from stockpilot.usecases import deliveries
from stockpilot.usecases.actor import SYSTEM, Actor


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]




def test_the_report_is_mailed_as_an_attachment(sqlite_engine, tmp_path, smtp):
    port, box = smtp
    # any file will do (writing a real PDF is tested in test_report_files and costs seconds)
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 8)
    mail = Email("127.0.0.1", port, "sp@localhost", ("boss@shop.example",))
    with writing(sqlite_engine) as uow:
        d = deliveries.mail_report(uow, SYSTEM, mail, [pdf], "weekly report", "attached")
    assert (d.status, d.attempts) == ("sent", 1)
    [msg] = box
    assert msg["To"] == "boss@shop.example" and msg["Subject"] == "weekly report"
    [part] = [p for p in msg.walk() if p.get_filename()]
    assert part.get_filename() == "r.pdf" and part.get_content_type() == "application/pdf"
    assert part.get_payload(decode=True) == pdf.read_bytes()


def test_one_digest_lists_the_periods_alerts(engine, smtp):
    port, box = smtp
    now = datetime.now(UTC)
    raise_alerts(engine, [Finding("low_stock", "A", "W", "warning", "available 3 ≤ 10"),
                          Finding("projected_stockout", "B", "W", "critical", "in 2 days"),
                          Finding("low_stock", "C", "S", "warning", "available 1 ≤ 5")],
                 now=now - timedelta(hours=2))
    raise_alerts(engine, [Finding("low_stock", "D", "W", "warning", "old")],
                 now=now - timedelta(days=3))
    mail = Email("127.0.0.1", port, "sp@localhost", ("ops@shop.example",))
    with writing(engine) as uow:
        [d] = deliveries.send_digest(uow, SYSTEM, [mail], now - timedelta(hours=24), now)
    assert (d.status, d.items) == ("sent", 3)
    [msg] = box  # one mail, not one per alert
    body = msg.get_payload()
    assert "3 alerts (1 critical)" in msg["Subject"]
    assert all(s in body for s in ("A@W", "B@W", "C@S", "in 2 days")) and "D@W" not in body
    assert body.index("projected_stockout") < body.index("[critical]")
    with writing(engine) as uow:  # a shop's key gets only its location's alerts
        [shop] = deliveries.send_digest(uow, Actor("planner", frozenset({"S"})), [mail],
                                        now - timedelta(hours=24), now)
    assert shop.items == 1 and "C@S" in box[1].get_payload() and "A@W" not in \
        box[1].get_payload()


def test_a_failed_delivery_is_recorded_and_listed(engine, tmp_path):
    raise_alerts(engine, [Finding("low_stock", "A", "W", "warning", "low")])
    nobody = Email("127.0.0.1", _free_port(), "sp@localhost", ("ops@shop.example",))
    now = datetime.now(UTC)
    with writing(engine) as uow:
        [d] = deliveries.send_digest(uow, SYSTEM, [nobody], now - timedelta(hours=1),
                                     now + timedelta(seconds=1), sleep=lambda _s: None)
    assert d.status == "failed" and d.attempts > 1 and "Connection" in (d.error or "")
    with reading(engine) as uow:
        [row] = deliveries.deliveries(uow, SYSTEM, failed_only=True)
    assert (row["kind"], row["channel"], row["recipients"], row["items"]) == (
        "digest", "email", "ops@shop.example", 1)
    assert row["last_error"] == d.error


def test_digest_channels_get_no_mail_per_alert():
    mail = Email("127.0.0.1", 25, "sp@localhost", ("ops@shop.example",))
    hook = object()
    r = Router({"email": mail, "webhook": hook}, {"default": ["webhook", "email"]}, ("email",))
    assert r.for_rule("low_stock") == [hook] and r.digest_channels() == [mail]
    with pytest.raises(ConfigError, match="cannot send a digest"):
        Router({"email": mail, "webhook": hook}, {}, ("webhook",))
    with pytest.raises(ConfigError, match=r"sms.*not configured"):
        Router({"email": mail}, {}, ("sms",))
