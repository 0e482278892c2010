"""Edges that cannot be abused (issue 17 items 6 and 7): body size, JSON depth, unknown keys
rate-limited per IP without a database lookup per attempt."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from stockpilot.api.app import create_app
from stockpilot.api.auth import create_key
from stockpilot.api.guards import json_depth_over
from stockpilot.config import Settings
from stockpilot.config_limits import LimitSettings
from stockpilot.store.history import HistoryStore


@pytest.fixture
def api(engine, tmp_path):
    limits = LimitSettings(max_body_bytes=64 * 1024, max_json_depth=16)
    settings = Settings(limits=limits, rate_limit_per_second=0)
    app = create_app(engine, HistoryStore(tmp_path / "history"), tmp_path, settings)
    secret = create_key(engine, "ops", "operator")
    return TestClient(app), {"X-API-Key": secret}, engine


def _event(i: int) -> dict[str, object]:
    return {"kind": "receipt", "event_id": f"e{i}", "sku": "NOPE", "location": "NOPE",
            "quantity": 1, "occurred_at": "2024-01-01T00:00:00Z"}


def test_a_body_over_the_limit_is_refused_before_parsing(api):
    c, h, _ = api
    big = json.dumps({"events": [_event(i) for i in range(2000)]})  # ~250 kB
    r = c.post("/events", content=big, headers={**h, "content-type": "application/json"})
    assert r.status_code == 413 and "65536 bytes" in r.json()["detail"]

    def chunks():  # no Content-Length: the limit holds on the bytes actually read
        for _ in range(100):
            yield b" " * 1024
    r = c.post("/events", content=chunks(), headers={**h, "content-type": "application/json"})
    assert r.status_code == 413


def test_deep_json_is_a_400_not_a_500(api):
    c, h, _ = api
    deep = '{"events": ' + "[" * 400 + "]" * 400 + "}"
    r = c.post("/events", content=deep, headers={**h, "content-type": "application/json"})
    assert r.status_code == 400 and "16 levels" in r.json()["detail"]
    ok = c.post("/events", json={"events": [_event(1)]}, headers=h)
    assert ok.status_code < 500 and ok.status_code != 400


def test_json_depth_ignores_brackets_inside_strings():
    assert not json_depth_over(b'{"a": "[[[[[[[[[[[[", "b": [1, [2]]}', 3)
    assert json_depth_over(b'{"a": [[[1]]]}', 3)
    assert not json_depth_over(b'{"a": "\\"[[[[["}', 1)


def test_unknown_keys_are_rate_limited_per_ip_without_a_lookup_each(api):
    c, h, engine = api
    statements: list[str] = []
    listen = lambda *a: statements.append(str(a[2]))  # noqa: E731 -- counts SQL sent
    event.listen(engine, "before_cursor_execute", listen)
    try:
        codes = [c.get("/stock", headers={"X-API-Key": f"guess-{i}"}).status_code
                 for i in range(30)]
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    assert codes[:10] == [401] * 10 and set(codes[10:]) == {429}
    lookups = [s for s in statements if "api_keys" in s]
    assert len(lookups) == 10  # the 20 throttled guesses never reached the database
    assert c.get("/stock", headers=h).status_code == 429  # same IP, uncached key: waits too


def test_a_valid_cached_key_still_works_while_its_ip_is_throttled(api):
    c, h, _ = api
    assert c.get("/stock", headers=h).status_code == 200  # cached now
    for i in range(12):
        c.get("/stock", headers={"X-API-Key": f"guess-{i}"})
    assert c.get("/stock", headers=h).status_code == 200


@pytest.mark.parametrize("quantity", [1e20, 10**20, 2**63])
def test_a_huge_event_quantity_is_dead_lettered_not_a_500(api, quantity):
    c, h, _ = api  # /events answers per event (the consumer's core): a dead letter, not 500
    r = c.post("/events", json={"events": [{**_event(1), "quantity": quantity}]}, headers=h)
    assert r.status_code == 200 and r.json()["dead"] == 1


@pytest.mark.parametrize(("path", "body"), [
    ("/purchase-orders", {"supplier": "X", "lines": [{"sku": "A", "location": "W",
                                                      "quantity": 1e20}]}),
    ("/transfers", {"sku": "A", "from_location": "W", "to_location": "S",
                    "quantity": 1e20}),
])
def test_a_huge_quantity_is_a_422_naming_the_field(api, path, body):
    c, h, _ = api
    r = c.post(path, json=body, headers=h)
    assert r.status_code == 422, r.text
    assert "quantity" in r.text
