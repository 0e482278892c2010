"""Alert rules, dedup/cooldown, and real deliveries: signed webhook, SMTP, retries."""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import polars as pl
import pytest
from sqlalchemy import select

from stockpilot import retry
from stockpilot.alerts import rules
from stockpilot.alerts.notifiers import Email, Webhook, deliver, verify
from stockpilot.alerts.service import raise_alerts, set_status
from stockpilot.store import schema_events as te
from stockpilot.store.uow import transact

POS = pl.DataFrame({"sku": ["A", "B"], "location": ["W", "W"], "available": [3, 50]})
PLAN = pl.DataFrame({"unique_id": ["A@W", "B@W"], "reorder_point": [10, 10],
                     "protection_days": [14, 14]})


def test_rules_on_frames():
    assert [f.sku for f in rules.low_stock(POS, PLAN)] == ["A"]
    fc = pl.DataFrame({"unique_id": ["A@W", "B@W"], "ds": [date(2024, 1, 2)] * 2,
                       "mean": [1.0, 20.0]})
    out = rules.projected_stockout(POS, fc, PLAN)  # A: 3 days cover, B: 2.5 days; lead 7
    assert sorted(f.sku for f in out) == ["A", "B"]
    counts = pl.DataFrame({"sku": ["A", "B"], "location": ["W", "W"], "variance": [-2, -30],
                           "counted": [48, 20]})
    assert [f.sku for f in rules.count_discrepancy(counts)] == ["B"]
    lots = pl.DataFrame({"sku": ["A"], "location": ["W"], "lot_code": ["L1"],
                         "expiry": [date(2024, 1, 5)], "on_hand": [10]})
    fc2 = pl.DataFrame({"unique_id": ["A@W"] * 3, "ds": [date(2024, 1, d) for d in (2, 3, 4)],
                        "mean": [1.0, 1.0, 1.0]})
    [f] = rules.expiring_lots(lots, fc2, date(2024, 1, 1))
    assert "forecast sells 3" in f.message


class _Catch(BaseHTTPRequestHandler):
    got: ClassVar[list[tuple[bytes, str]]] = []
    fail_first = 0

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if _Catch.fail_first > 0:
            _Catch.fail_first -= 1
            self.send_response(503)
        else:
            _Catch.got.append((body, self.headers.get("X-Stockpilot-Signature", "")))
            self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Catch)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    _Catch.got, _Catch.fail_first = [], 0
    yield f"http://127.0.0.1:{srv.server_address[1]}/hook"
    srv.shutdown()


def test_signed_webhook_with_retry(receiver):
    _Catch.fail_first = 1
    alert = {"id": 1, "rule": "low_stock", "sku": "A", "location": "W", "severity": "warning",
             "message": "available 3 ≤ reorder point 10"}
    sent, attempts, error = deliver(Webhook(receiver, "s3cret"), alert, sleep=lambda _s: None)
    assert (sent, attempts, error) == (True, 2, None)
    [(body, sig)] = _Catch.got
    assert verify("s3cret", body, sig) and not verify("other", body, sig)
    assert json.loads(body)["sku"] == "A"


def test_email_over_a_local_smtp_server(smtp):
    port, box = smtp
    Email("127.0.0.1", port, "sp@localhost",
          ("planner@shop.example",)).send({"id": 7, "rule": "projected_stockout",
                                            "sku": "A", "location": "W",
                                            "severity": "critical", "message": "2 days"})
    [msg] = box
    assert msg["To"] == "planner@shop.example" and "projected_stockout" in msg["Subject"]


def test_dedup_cooldown_ack_resolve_and_dead_letter(engine):
    f = rules.Finding("low_stock", "A", "W", "warning", "low")
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    dead = Webhook("http://127.0.0.1:9/none", "x", timeout_s=0.2)
    [first] = raise_alerts(engine, [f], [dead], now=t0)
    assert raise_alerts(engine, [f], now=t0 + timedelta(hours=1)) == []  # still open
    transact(engine, set_status, first, "acked")
    assert raise_alerts(engine, [f], now=t0 + timedelta(hours=2)) == []
    transact(engine, set_status, first, "resolved")
    with engine.begin() as conn:
        conn.execute(te.alerts.update().values(updated_at=t0))
    assert raise_alerts(engine, [f], now=t0 + timedelta(hours=2)) == []  # cooldown
    assert len(raise_alerts(engine, [f], now=t0 + timedelta(hours=30))) == 1
    with engine.connect() as conn:
        [n] = conn.execute(select(te.notifications)).all()
    # connection refused is transient: retried up to the policy's limit, then a dead letter
    assert (n.status, n.attempts, n.channel) == ("failed", retry.ATTEMPTS, "webhook")
