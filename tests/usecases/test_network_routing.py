"""Routing the transfers over stored sites, with the fleet and windows of ``[routing]``."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from stockpilot.config import RoutingSettings
from stockpilot.errors import NotFound, StockpilotError
from stockpilot.ingest import files
from stockpilot.store.uow import reading
from stockpilot.usecases import routing
from stockpilot.usecases.actor import SYSTEM, Actor
from stockpilot.usecases.routing import MissingCoordinates, routed_dict, window_of

SITES = """location,kind,latitude,longitude
DC,warehouse,52.4862,-1.8904
S_LON,store,51.5074,-0.1278
S_MAN,store,53.4808,-2.2426
S_BRI,store,51.4545,-2.5879
S_OXF,store,51.7520,-1.2577
NOGEO,store,,
"""
LINES = pl.DataFrame({"sku": ["A", "B", "A", "A", "A", "A"],
                      "from_location": ["DC", "DC", "DC", "DC", "DC", "ELSE"],
                      "to_location": ["S_LON", "S_LON", "S_MAN", "S_BRI", "S_OXF", "S_MAN"],
                      "qty": [400, 300, 250, 300, 120, 999]})


def route_transfers(engine, *args, actor=SYSTEM, **kwargs):
    with reading(engine) as uow:
        return routing.route_transfers(uow, actor, *args, **kwargs)


@pytest.fixture
def sites(engine, tmp_path: Path):
    path = tmp_path / "loc.csv"
    path.write_text(SITES)
    files.import_catalogue(engine, "locations", path)
    return engine


def test_routes_sum_units_per_destination_and_keep_windows(sites):
    settings = RoutingSettings(vehicles=4, capacity_units=800, fixed_cost_per_vehicle=50,
                               windows={"S_LON": "08:00-11:00"})
    routed = route_transfers(sites, LINES, "DC", settings, time_limit_s=1)
    got = {v.stop: v for r in routed.plan.routes for v in r.visits}
    assert {k: v.units for k, v in got.items()} == {"S_LON": 700, "S_MAN": 250, "S_BRI": 300,
                                                    "S_OXF": 120}
    assert 120 <= got["S_LON"].arrival_min <= 300
    assert all(r.load_units <= 800 for r in routed.plan.routes)
    data = routed_dict(routed)
    assert data["baseline"]["trips"] == 4
    assert data["cost"] == pytest.approx(sum(r["cost"] for r in data["routes"]))
    assert data["cost"] < data["baseline"]["cost"]


def test_an_actor_routes_from_its_dc_to_its_stores_only(sites):
    mine = Actor("planner", frozenset({"DC", "S_BRI", "S_OXF"}), name="p")
    routed = route_transfers(sites, LINES, "DC", RoutingSettings(), time_limit_s=0.5,
                             actor=mine)
    assert sorted(s.stop for s in routed.stops) == ["S_BRI", "S_OXF"]
    with pytest.raises(NotFound, match="no such location 'DC'"):
        route_transfers(sites, LINES, "DC", RoutingSettings(), time_limit_s=0.5,
                        actor=Actor("planner", frozenset({"S_BRI"}), name="s"))


def test_missing_coordinates_are_named(sites):
    lines = LINES.with_columns(pl.lit("NOGEO").alias("to_location"))
    with pytest.raises(MissingCoordinates, match="NOGEO"):
        route_transfers(sites, lines, "DC", RoutingSettings(), time_limit_s=0.5)


def test_windows_are_minutes_after_the_shift_start():
    s = RoutingSettings(shift_start="06:00", shift_hours=10, windows={"A": "08:30-20:00"})
    assert window_of(s, "A") == (150, 600)
    assert window_of(s, "B") == (0, None)
    with pytest.raises(StockpilotError, match="HH:MM-HH:MM"):
        window_of(RoutingSettings(windows={"A": "8h"}), "A")
