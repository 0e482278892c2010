"""Problem bodies never carry the database's words; the log has them under a request id."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import insert

from stockpilot.api import problems
from stockpilot.store import schema as t


def _app(engine) -> FastAPI:
    """The real handlers over a route that breaks a real CHECK of the stock table."""
    app = FastAPI()
    problems.install(app)

    @app.post("/oversell")
    def oversell() -> dict[str, str]:
        with engine.begin() as conn:
            conn.execute(insert(t.stock).values(sku="A", location="W", on_hand=-5, reserved=0))
        return {}

    @app.post("/crash")
    def crash() -> dict[str, str]:
        raise RuntimeError("secret internals: password=hunter2")

    return app


def test_database_refusal_is_a_409_without_internals(engine, caplog):
    client = TestClient(_app(engine), raise_server_exceptions=False)
    with caplog.at_level(logging.WARNING, "stockpilot.api"):
        r = client.post("/oversell", headers={"X-Request-ID": "req-42"})
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["request_id"] == "req-42" == r.headers["x-request-id"]
    for leak in ("ck_", "constraint", "CHECK", "stock"):
        assert leak not in body["detail"], body
    logged = [rec.getMessage() for rec in caplog.records if "req-42" in rec.getMessage()]
    assert logged and "POST /oversell" in logged[0]


def test_a_crash_is_logged_with_a_fresh_request_id(sqlite_engine, caplog):
    client = TestClient(_app(sqlite_engine), raise_server_exceptions=False)
    with caplog.at_level(logging.ERROR, "stockpilot.api"):
        r = client.post("/crash", headers={"X-Request-ID": "bad id with spaces"})
    assert r.status_code == 500 and "hunter2" not in r.text
    rid = r.json()["request_id"]
    assert rid != "bad id with spaces" and len(rid) == 16
    assert any(rid in rec.getMessage() and "hunter2" in rec.getMessage()
               for rec in caplog.records)
