"""End to end, as issue 4 says "done": point a stream at stockpilot, watch positions move, and
receive a signed webhook and an e-mail when a SKU is about to stock out.

Real processes and servers: ``stockpilot stream --alerts`` (a subprocess) consumes what
``stockpilot events publish`` sends (embedded queue or NATS JetStream); a local HTTP receiver
checks the HMAC-SHA256 signature with its own ``hmac`` code; aiosmtpd receives the e-mail.
The plan and forecast are written as ``stockpilot plan``/``forecast`` would leave them (those
commands have their own tests); routing comes from the workspace's stockpilot.toml.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import polars as pl
import pytest

SECRET = "e2e-s3cret"


class _Hook(BaseHTTPRequestHandler):
    got: ClassVar[list[dict]] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        want = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        ok = hmac.compare_digest(want, self.headers.get("X-Stockpilot-Signature", ""))
        _Hook.got.append({"valid": ok, **json.loads(body)})
        self.send_response(200 if ok else 401)
        self.end_headers()

    def log_message(self, *args):
        pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(*args: str, ws: Path, **kw) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    env.pop("STOCKPILOT_DB_URL", None)
    proc = subprocess.run([sys.executable, "-m", "stockpilot", *args, "-w", str(ws)],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def _workspace(tmp_path: Path, hook_url: str, smtp_port: int) -> Path:
    ws = tmp_path / "shop"
    cli("init", ws=ws)
    from stockpilot.ledger.catalogue import upsert_locations, upsert_skus
    from stockpilot.store.db import make_engine

    eng = make_engine(f"sqlite:///{ws / 'stockpilot.db'}")
    with eng.begin() as conn:
        upsert_skus(conn, [{"sku": "A", "name": "Apple"}, {"sku": "B", "name": "Banana"}])
        upsert_locations(conn, [{"location": "W"}])
    eng.dispose()
    with (ws / "stockpilot.toml").open("a") as f:
        f.write(f'\n[alerts.channels]\nwebhook_url = "{hook_url}"\nwebhook_secret = "{SECRET}"\n'
                f'smtp_host = "127.0.0.1"\nsmtp_port = {smtp_port}\n'
                f'email_to = ["planner@shop.example"]\n\n[alerts.routes]\n'
                f'low_stock = ["webhook"]\nprojected_stockout = ["webhook", "email"]\n')
    hist = ws / "history"
    from stockpilot.store.history import HistoryStore

    hs = HistoryStore(hist)
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    hs.write("forecasts", "latest", pl.DataFrame({
        "unique_id": ["A@W"] * 7 + ["B@W"] * 7,
        "ds": [tomorrow + timedelta(days=d) for d in range(7)] * 2,
        "mean": [2.0] * 14}))
    hs.write("plans", "latest", pl.DataFrame({"unique_id": ["A@W", "B@W"],
                                              "reorder_point": [10, 10],
                                              "protection_days": [14, 14]}))
    return ws


def _events(path: Path, rows: list[tuple[str, str, str, int]]) -> Path:
    now = datetime.now(UTC).isoformat()
    path.write_text("".join(json.dumps({"v": 1, "kind": k, "event_id": e, "sku": s,
                                        "location": "W", "quantity": q, "occurred_at": now})
                            + "\n" for k, e, s, q in rows))
    return path


def _on_hand(ws: Path, sku: str) -> int | None:
    """Polled in process (read-only); the CLI's ``stock show`` is checked once at the end."""
    from stockpilot.ledger.positions import get_positions
    from stockpilot.store.db import make_engine

    eng = make_engine(f"sqlite:///{ws / 'stockpilot.db'}")
    try:
        with eng.connect().execution_options(readonly=True) as conn:
            got = get_positions(conn, sku=sku, location="W")
    finally:
        eng.dispose()
    return got[0].on_hand if got else None


def _shown(ws: Path, sku: str) -> int | None:
    out = cli("stock", "show", "--sku", sku, ws=ws).stdout
    for line in out.splitlines():
        cells = [c.strip() for c in line.replace("│", "|").split("|") if c.strip()]
        if cells[:2] == [sku, "W"]:
            return int(cells[2])
    return None


def _wait(cond, timeout: float = 60.0) -> bool:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.slow
@pytest.mark.parametrize("source", ["embedded", pytest.param("nats", marks=pytest.mark.nats)])
def test_stream_to_signed_webhook_and_email_on_projected_stockout(source, tmp_path, request):
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    box: list = []

    class Keep(Message):
        def handle_message(self, message):
            box.append(message)

    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    _Hook.got = []
    smtp_port = _free_port()
    smtp = Controller(Keep(), hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    ws = _workspace(tmp_path, f"http://127.0.0.1:{srv.server_address[1]}/hook", smtp_port)
    name = f"T_{uuid.uuid4().hex[:10].upper()}"
    bus = ["--source", source, "--stream-name", name]
    if source == "nats":
        bus += ["--url", request.getfixturevalue("nats_url")]
    env = {**os.environ}
    env.pop("STOCKPILOT_DB_URL", None)
    consumer = subprocess.Popen([sys.executable, "-m", "stockpilot", "stream", *bus,
                                 "--alerts", "--batch", "50", "-w", str(ws)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        cli("events", "publish", str(_events(tmp_path / "in.jsonl", [
            ("receipt", "r-a", "A", 30), ("receipt", "r-b", "B", 30)])), *bus, ws=ws)
        assert _wait(lambda: _on_hand(ws, "A") == 30), "positions did not move"
        assert _Hook.got == [] and box == []          # 30 on hand: 15 days of cover
        cli("events", "publish", str(_events(tmp_path / "sales.jsonl", [
            ("sale", "s-a1", "A", 20), ("sale", "s-a2", "A", 7), ("sale", "s-b1", "B", 5)])),
            *bus, ws=ws)
        assert _wait(lambda: _on_hand(ws, "A") == 3)
        assert _wait(lambda: len(_Hook.got) >= 2 and len(box) >= 1), (_Hook.got, box)
    finally:
        consumer.terminate()
        consumer.wait(timeout=30)
        smtp.stop()
        srv.shutdown()
        if source == "nats":
            from stockpilot.events import nats_js

            nats_js.reset(request.getfixturevalue("nats_url"), name)
    assert _shown(ws, "A") == 3 and _shown(ws, "B") == 25     # what a user sees
    assert all(h["valid"] for h in _Hook.got)
    assert sorted((h["rule"], h["sku"]) for h in _Hook.got) == [
        ("low_stock", "A"), ("projected_stockout", "A")]       # B (25 left) stays quiet
    [mail] = box                                              # e-mail only for the stockout
    assert mail["To"] == "planner@shop.example"
    assert mail["Subject"] == "[stockpilot] projected_stockout: A at W"
    assert "stock runs out on day 2" in mail.get_payload()  # 3 available at 2/day
