"""Planner overrides as an actor sees them: its locations and every-location ones."""

from __future__ import annotations

from datetime import date

import pytest

from stockpilot.errors import NotFound
from stockpilot.ledger.catalogue import upsert_locations, upsert_skus
from stockpilot.store.uow import reading, writing
from stockpilot.usecases.actor import SYSTEM, Actor, Forbidden
from stockpilot.usecases.overrides import (
    OverrideIn,
    list_overrides,
    planned_overrides,
    remove_override,
    set_override,
)

ANN = Actor("planner", frozenset({"S1"}), name="ann")


@pytest.fixture
def ids(engine):
    with engine.begin() as conn:
        upsert_skus(conn, [{"sku": "A", "name": "A"}])
        upsert_locations(conn, [{"location": x} for x in ("S1", "S2")])
    with writing(engine) as uow:
        return {loc or "*": set_override(uow.conn, OverrideIn(
            "A", "min", 5, "test", location=loc, expires=date(2099, 1, 1)))
            for loc in ("S1", "S2", None)}


def _listed(engine, actor):
    with reading(engine) as uow:
        return dict(zip(list_overrides(uow, actor)["location"],
                        list_overrides(uow, actor)["active"], strict=True))


def test_an_actor_sees_its_locations_and_every_location_overrides(engine, ids):
    assert _listed(engine, SYSTEM) == {"S1": True, "S2": True, "*": True}
    assert _listed(engine, ANN) == {"S1": True, "*": True}


def test_an_actor_removes_only_overrides_at_its_locations(engine, ids):
    for loc in ("S2", "*"):
        with pytest.raises(NotFound, match="no such override"), writing(engine) as uow:
            remove_override(uow, ANN, ids[loc])
    with pytest.raises(Forbidden), writing(engine) as uow:
        remove_override(uow, Actor("viewer", None, name="v"), ids["S1"])
    with writing(engine) as uow:
        remove_override(uow, ANN, ids["S1"])
    assert _listed(engine, SYSTEM) == {"S2": True, "*": True}
    with pytest.raises(NotFound), writing(engine) as uow:
        remove_override(uow, SYSTEM, ids["S1"])


def test_planned_overrides_spread_every_location_ones(engine, ids):
    import polars as pl

    with reading(engine) as uow:
        got = planned_overrides(uow, pl.Series(["A@S1", "A@S2"]))
    assert sorted(got["unique_id"].to_list()) == ["A@S1", "A@S1", "A@S2", "A@S2"]
