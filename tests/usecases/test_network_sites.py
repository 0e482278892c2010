"""Locations with geography: imported with the catalogue, validated, designed over."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from stockpilot.errors import ImportRejected, NotFound
from stockpilot.ingest import files
from stockpilot.planning.network import DesignOptions, Zone
from stockpilot.store import schema as t
from stockpilot.store import schema_network as tn
from stockpilot.store.uow import reading
from stockpilot.usecases import network
from stockpilot.usecases.actor import SYSTEM, Actor, Forbidden
from stockpilot.usecases.network import NoSites, read_zones

SITES = ("location,name,kind,latitude,longitude,capacity_units,handling_cost_per_unit,"
         "fixed_cost_per_period,opens_on,closes_on\n") + """\
LON,London,warehouse,51.5085,-0.1257,,0.05,0,2020-01-01,
BER,Berlin,candidate,52.5244,13.4105,60000,0.05,8000,,
PAR,Paris,candidate,48.8534,2.3488,60000,0.05,9000,,
S1,Shop without coordinates,store,,,,,,,
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def list_sites(engine, actor=SYSTEM):
    with reading(engine) as uow:
        return network.list_sites(uow, actor)


def design_network(engine, *args, actor=SYSTEM, **kwargs):
    with reading(engine) as uow:
        return network.design_network(uow, actor, *args, **kwargs)


def test_sites_import_with_locations_and_reimport_updates(engine, tmp_path):
    files.import_catalogue(engine, "locations", write(tmp_path, "loc.csv", SITES))
    rows = list_sites(engine)
    assert [r.location for r in rows] == ["BER", "LON", "PAR"]
    ber = rows[0]
    assert (ber.kind, ber.capacity_units, ber.fixed_cost_per_period) == ("candidate", 60000, 8000)
    assert rows[1].capacity_units is None and str(rows[1].opens_on) == "2020-01-01"
    files.import_catalogue(engine, "locations", write(
        tmp_path, "loc2.csv", "location,latitude,longitude,capacity_units\nBER,52.5,13.4,1000\n"))
    again = {r.location: r for r in list_sites(engine)}
    assert again["BER"].capacity_units == 1000 and again["BER"].latitude == 52.5
    assert [r.location for r in list_sites(engine, Actor("viewer", frozenset({"LON"})))] == ["LON"]


@pytest.mark.parametrize(("line", "field", "reason"), [
    ("X,x,store,95,0,,,,,", "latitude", "between -90 and 90"),
    ("X,x,store,51,,,,,,", "longitude", "go together"),
    ("X,x,store,,,100,,,,", "latitude", "needs coordinates"),
    ("X,x,store,51,0,-5,,,,", "capacity_units", "negative"),
    ("X,x,store,51,0,,,,2024-02-01,2024-01-01", "closes_on", "before opens_on"),
])
def test_bad_site_rows_import_nothing_and_are_named(engine, tmp_path, line, field, reason):
    header = SITES.splitlines()[0]
    path = write(tmp_path, "bad.csv", f"{header}\nOK,ok,store,1,1,,,,,\n{line}\n")
    with pytest.raises(ImportRejected) as exc:
        files.import_catalogue(engine, "locations", path)
    bad = exc.value.problems[0]
    assert (bad.row, bad.field) == (3, field) and reason in bad.reason
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.locations)).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(tn.location_sites)).scalar_one() == 0


def test_design_compares_with_the_current_network(engine, tmp_path):
    files.import_catalogue(engine, "locations", write(tmp_path, "loc.csv", SITES))
    zones = read_zones(write(tmp_path, "zones.csv", "zone,latitude,longitude,demand_units\n"
                             "GB,51.5,-0.12,300000\nDE,52.52,13.41,8000\nPL,52.23,21.01,9000\n"
                             "AT,48.2,16.37,7000\n"))
    answer = design_network(engine, zones, DesignOptions(cost_per_unit_km=0.002),
                            keep_current=True)
    assert answer.current_sites == ("LON",)
    assert "LON" in answer.design.open_sites
    assert answer.current is not None
    assert answer.saving == pytest.approx(answer.current.total_cost - answer.design.total_cost)
    assert answer.saving >= 0
    # a dear enough continental site is not worth opening: same as today
    cheap = design_network(engine, zones, DesignOptions(cost_per_unit_km=0.00001),
                           keep_current=True)
    assert cheap.design.open_sites == ("LON",) and cheap.saving == pytest.approx(0)


def test_design_without_sites_says_what_to_do(engine):
    with pytest.raises(NoSites, match="latitude and"):
        design_network(engine, [Zone("a", 0, 0, 1)], DesignOptions())


def test_design_needs_a_planner_naming_only_its_own_sites(engine, tmp_path):
    files.import_catalogue(engine, "locations", write(tmp_path, "loc.csv", SITES))
    zones = [Zone("GB", 51.5, -0.12, 1000)]
    with pytest.raises(Forbidden):
        design_network(engine, zones, DesignOptions(), actor=Actor("viewer"))
    lon = Actor("planner", frozenset({"LON"}), name="p")
    with pytest.raises(NotFound, match="no such site"):
        design_network(engine, zones, DesignOptions(), current=["BER"], actor=lon)
    assert design_network(engine, zones, DesignOptions(), current=["LON"],
                          actor=lon).current_sites == ("LON",)
