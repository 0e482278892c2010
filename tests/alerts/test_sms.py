"""SMS through a Twilio-compatible gateway: a local HTTP server reads what we send."""

from __future__ import annotations

import base64
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import parse_qs

import pytest
from sqlalchemy import select

from stockpilot import retry
from stockpilot.alerts import rules
from stockpilot.alerts.notifiers import SMS_LIMIT, Sms, deliver, sms_text
from stockpilot.alerts.service import raise_alerts
from stockpilot.store import schema_events as te

SID, TOKEN = "AC0123456789abcdef", "tok3n"


class _Gateway(BaseHTTPRequestHandler):
    got: ClassVar[list[dict]] = []
    fail_first = 0
    status_when_failing = 503

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        if _Gateway.fail_first > 0:
            _Gateway.fail_first -= 1
            self.send_response(_Gateway.status_when_failing)
            self.end_headers()
            return
        _Gateway.got.append({"path": self.path, "auth": self.headers.get("Authorization"),
                             "type": self.headers.get("Content-Type"),
                             "form": {k: v[0] for k, v in parse_qs(body).items()}})
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"sid": "SM1", "status": "queued"}')

    def log_message(self, *args):
        pass


@pytest.fixture
def gateway():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Gateway)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    _Gateway.got, _Gateway.fail_first = [], 0
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()


ALERT = {"id": 3, "rule": "projected_stockout", "sku": "A", "location": "W",
         "severity": "critical", "message": "2.0 days of cover < lead time 7 d"}


def test_sms_is_a_form_post_with_basic_auth_per_recipient(gateway):
    Sms(gateway, SID, TOKEN, "+15550000", ("+15550101", "+15550102")).send(ALERT)
    assert [g["form"]["To"] for g in _Gateway.got] == ["+15550101", "+15550102"]
    g = _Gateway.got[0]
    assert g["path"] == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert g["type"] == "application/x-www-form-urlencoded"
    assert g["auth"] == "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    assert g["form"]["From"] == "+15550000"
    assert g["form"]["Body"] == "stockpilot projected_stockout A@W: 2.0 days of cover < lead " \
                                "time 7 d"


def test_sms_body_fits_one_segment():
    long = {**ALERT, "message": "x" * 500}
    assert len(sms_text(long)) == SMS_LIMIT and sms_text(long).endswith("…")


def test_sms_retries_with_backoff_then_succeeds(gateway):
    _Gateway.fail_first = 2
    waits = []
    sent, attempts, error = deliver(Sms(gateway, SID, TOKEN, "+1", ("+2",)), ALERT,
                                    sleep=waits.append)
    assert (sent, attempts, error) == (True, 3, None)
    # exponential backoff with full jitter: wait n is drawn from [0, FIRST_WAIT_S * 2^n]
    assert len(waits) == 2
    assert all(0 <= w <= retry.FIRST_WAIT_S * 2 ** n for n, w in enumerate(waits, 1))
    assert len(_Gateway.got) == 1


def test_sms_final_failure_is_a_dead_letter(gateway, sqlite_engine):
    _Gateway.fail_first, _Gateway.status_when_failing = 99, 401
    sms = Sms(gateway, SID, "wrong", "+1", ("+2",), timeout_s=2)
    [alert_id] = raise_alerts(sqlite_engine, [rules.Finding("projected_stockout", "A", "W",
                                                            "critical", "soon")], [sms])
    with sqlite_engine.connect() as conn:
        [n] = conn.execute(select(te.notifications)).all()
    # 401 is permanent (wrong credentials): one attempt, not retried
    assert (n.alert_id, n.channel, n.status, n.attempts) == (alert_id, "sms", "failed", 1)
    assert "401" in n.last_error
    _Gateway.status_when_failing = 503
