"""The sourcing network as an actor sees and replaces it: all or nothing, rows named."""

from __future__ import annotations

import pytest

from stockpilot.errors import ImportRejected
from stockpilot.ledger.catalogue import upsert_locations
from stockpilot.store.uow import reading, writing
from stockpilot.usecases.actor import SYSTEM, Actor, Forbidden
from stockpilot.usecases.sourcing import import_sourcing, routes


@pytest.fixture
def shop(engine):
    with engine.begin() as conn:
        upsert_locations(conn, [{"location": x} for x in ("DC", "S1", "S2")])
    return engine


def _import(engine, path, actor=SYSTEM):
    with writing(engine) as uow:
        return import_sourcing(uow, actor, path)


def _routes(engine, actor=SYSTEM, overrides=None):
    with reading(engine) as uow:
        return {r["location"]: (r["source_kind"], r["source"])
                for r in routes(uow, actor, overrides).iter_rows(named=True)}


def test_import_replaces_the_routes_and_an_actor_sees_its_own(shop, tmp_path):
    path = tmp_path / "routes.csv"
    path.write_text("location,source\nDC,supplier\nS1,dc:DC\nS2,dc:DC\n")
    assert _import(shop, path) == 3
    assert _routes(shop) == {"DC": ("supplier", None), "S1": ("dc", "DC"), "S2": ("dc", "DC")}
    assert _routes(shop, Actor("viewer", frozenset({"S2"}))) == {"S2": ("dc", "DC")}
    assert _routes(shop, overrides={"S2": "supplier"})["S2"] == ("supplier", None)


def test_a_bad_file_or_a_limited_actor_changes_nothing(shop, tmp_path):
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text("location,source\nS1,dc:DC\n")
    bad.write_text("location,source\nS2,dc:DC\nNOPE,supplier\nS1,dc:NOWHERE\n")
    _import(shop, good)
    with pytest.raises(ImportRejected) as exc:
        _import(shop, bad)
    assert [(p.row, p.field) for p in exc.value.problems] == [(3, "location"), (4, "source")]
    with pytest.raises(Forbidden, match="every location"):
        _import(shop, bad, Actor("admin", frozenset({"S1", "S2"})))
    assert _routes(shop) == {"S1": ("dc", "DC")}
