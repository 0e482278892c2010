"""/network/…: sites scoped by key, a design and routes computed on request."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from stockpilot.api.app import create_app
from stockpilot.api.auth import create_key
from stockpilot.config import RoutingSettings, Settings
from stockpilot.ingest import files
from stockpilot.store.history import HistoryStore

SITES = """location,kind,latitude,longitude,capacity_units,fixed_cost_per_period
DC,warehouse,52.4862,-1.8904,,0
S_LON,store,51.5074,-0.1278,,0
S_MAN,store,53.4808,-2.2426,,0
S_BRI,candidate,51.4545,-2.5879,100000,500
"""


@pytest.fixture
def api(sqlite_engine, tmp_path: Path):
    path = tmp_path / "loc.csv"
    path.write_text(SITES)
    files.import_catalogue(sqlite_engine, "locations", path)
    settings = Settings(workspace=tmp_path, rate_limit_per_second=0,
                        routing=RoutingSettings(vehicles=3, capacity_units=500))
    app = create_app(sqlite_engine, HistoryStore(tmp_path / "history"), tmp_path, settings)
    keys = {"planner": create_key(sqlite_engine, "p", "planner"),
            "viewer": create_key(sqlite_engine, "v", "viewer"),
            "scoped": create_key(sqlite_engine, "s", "planner", ["S_LON"])}
    return TestClient(app), {k: {"X-API-Key": v} for k, v in keys.items()}


def test_sites_are_scoped_by_key(api):
    client, h = api
    assert [s["location"] for s in client.get("/network/sites", headers=h["viewer"]).json()] \
        == ["DC", "S_BRI", "S_LON", "S_MAN"]
    assert [s["location"] for s in client.get("/network/sites", headers=h["scoped"]).json()] \
        == ["S_LON"]


def test_design_answers_and_replays(api):
    client, h = api
    body = {"zones": [{"zone": "W", "latitude": 51.45, "longitude": -2.6, "demand_units": 5000},
                      {"zone": "L", "latitude": 51.5, "longitude": -0.1, "demand_units": 100}],
            "cost_per_unit_km": 0.01, "current": ["DC"], "keep_current": True}
    headers = {**h["planner"], "Idempotency-Key": "d1"}
    first = client.post("/network/design", json=body, headers=headers)
    assert first.status_code == 200, first.text
    got = first.json()
    assert "S_BRI" in got["best"]["open_sites"] and got["saving"] > 0
    again = client.post("/network/design", json=body, headers=headers)
    assert again.json() == got and again.headers["idempotent-replayed"] == "true"
    assert client.post("/network/design", json=body, headers=h["viewer"]).status_code == 403


def test_routes_from_lines_and_scope(api):
    client, h = api
    body = {"dc": "DC", "lines": [{"to_location": "S_LON", "qty": 300},
                                  {"to_location": "S_MAN", "qty": 150}], "time_limit_s": 0.5}
    res = client.post("/network/routes", json=body, headers=h["planner"])
    assert res.status_code == 200, res.text
    got = res.json()
    assert sum(r["load_units"] for r in got["routes"]) == 450
    assert got["baseline"]["trips"] == 2 and got["lower_bound_km"] <= got["distance_km"]
    hidden = client.post("/network/routes", json=body, headers=h["scoped"])
    assert hidden.status_code == 404


def test_routes_without_a_plan_say_so(api):
    client, h = api
    res = client.post("/network/routes", json={"dc": "DC"}, headers=h["planner"])
    assert res.status_code == 400 and "no plan yet" in res.json()["detail"]
