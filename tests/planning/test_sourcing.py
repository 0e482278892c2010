"""The sourcing network in the pipeline: stores netted against their DC, the DC's echelon.

The issue's double-supply case: stores were ordered from the supplier while the DC held 200,
and one store got an approved order of 45 AND a transfer of 45.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import polars as pl
import pytest

from stockpilot.planning.invariants import InvalidPlanInput
from stockpilot.planning.pipeline import PlanInputs, build_plan
from stockpilot.planning.sourcing import apply_sourcing

START = date(2024, 1, 1)
NETWORK = pl.DataFrame({"location": ["DC", "S1", "S2"], "source_kind": ["supplier", "dc", "dc"],
                        "source": ["SUP", "DC", "DC"]})


def inputs(dc_on_hand: int = 200, store_on_hand: int = 0, in_transit: int = 0) -> PlanInputs:
    """Two stores selling 5 a day, a DC selling nothing itself; lead time 7, review 7."""
    ids = ["A@DC", "A@S1", "A@S2"]
    daily = {"A@DC": 0.0, "A@S1": 5.0, "A@S2": 5.0}
    history = pl.DataFrame([(u, START + timedelta(days=i), daily[u]) for u in ids
                            for i in range(120)],
                           schema={"unique_id": pl.Utf8, "ds": pl.Date, "y": pl.Float64},
                           orient="row")
    end = history["ds"].max()
    forecast = pl.DataFrame([(u, end + timedelta(days=h), daily[u]) for u in ids
                             for h in range(1, 40)],
                            schema={"unique_id": pl.Utf8, "ds": pl.Date, "mean": pl.Float64},
                            orient="row")
    cv = pl.DataFrame([(u, end - timedelta(days=28), end, h, daily[u], daily[u])
                       for u in ids for h in range(1, 29)],
                      schema={"unique_id": pl.Utf8, "cutoff": pl.Date, "ds": pl.Date,
                              "h": pl.Int64, "y": pl.Float64, "mean": pl.Float64}, orient="row")
    terms = pl.DataFrame({"unique_id": ids, "supplier": "SUP", "lead_time_days": 7, "moq": 1,
                          "pack_size": 1, "unit_cost": 2.0, "order_cost": 0.0})
    positions = pl.DataFrame({"unique_id": ids, "on_hand": [dc_on_hand, store_on_hand,
                                                            store_on_hand],
                              "on_order": 0, "reserved": 0,
                              "in_transit": [0, in_transit, 0]})
    service = pl.DataFrame({"unique_id": ids, "klass": "AX", "service_level": 0.95})
    return PlanInputs(history=history, forecast=forecast, cv=cv, positions=positions,
                      terms=terms, service=service)


def rows(plan: pl.DataFrame) -> dict[str, dict]:
    return {r["location"]: r for r in plan.iter_rows(named=True)}


def test_without_a_network_stores_order_from_the_supplier_despite_the_dc():
    r = rows(build_plan(inputs()))
    assert r["S1"]["order_qty"] > 0 and r["S1"]["source"] == "SUP"  # the old behaviour


def test_stores_take_dc_stock_before_any_supplier_order():
    r = rows(build_plan(replace(inputs(), sourcing=NETWORK)))
    for store in ("S1", "S2"):
        s = r[store]
        need = s["order_up_to"] - s["inventory_position"]
        assert s["order_qty"] == 0 and s["source"] == "DC"
        assert s["transfer_from"] == "DC" and s["transfer_qty"] == need
        assert f"sourced from DC (no purchase order): need {need}, 200 free" in s["reason"]
        assert "position covers it" not in s["reason"]
    # the DC holds enough for both: its echelon needs nothing
    assert r["S1"]["transfer_qty"] + r["S2"]["transfer_qty"] <= 200
    assert r["DC"]["transfer_qty"] == 0 and r["DC"]["source"] == "SUP"


def test_dc_orders_for_its_stores_echelon():
    r = rows(build_plan(replace(inputs(dc_on_hand=20), sourcing=NETWORK)))
    s1, s2, dc = r["S1"], r["S2"], r["DC"]
    # 20 free at the DC go to the stores, largest need first (equal needs: by id)
    assert s1["transfer_qty"] + s2["transfer_qty"] == 20
    assert "short: DC orders it" in s2["reason"]
    # echelon: DC's own S + stores' S + 10/d over the DC's 7-day lead time − positions
    target = dc["order_up_to"] + s1["order_up_to"] + s2["order_up_to"] + 70
    assert dc["order_qty"] == target - (20 + 0 + 0)
    assert "echelon of 2 stores" in dc["reason"]


def test_in_transit_units_are_not_supplied_twice():
    """A transfer shipped but not received counts in the store's position: no second one."""
    first = rows(build_plan(replace(inputs(), sourcing=NETWORK)))["S1"]
    sent = first["transfer_qty"]
    again = rows(build_plan(replace(inputs(dc_on_hand=200 - sent, in_transit=sent),
                                    sourcing=NETWORK)))["S1"]
    assert again["in_transit"] == sent
    assert again["transfer_qty"] == 0 and again["order_qty"] == 0


def test_a_location_without_a_source_is_named():
    partial = NETWORK.filter(pl.col("location") != "S2")
    with pytest.raises(InvalidPlanInput, match=r"SKU 'A' at 'S2': the location has no source"):
        build_plan(replace(inputs(), sourcing=partial))


def test_a_store_whose_dc_has_no_line_for_the_sku_is_named():
    plan = pl.DataFrame({"unique_id": ["A@S1"], "sku": ["A"], "location": ["S1"],
                         "supplier": ["SUP"], "lead_time_days": [7], "protection_days": [14],
                         "mean": [70.0], "order_up_to": [80], "sellable": [0], "reserved": [0],
                         "inventory_position": [0], "need": [80]})
    with pytest.raises(InvalidPlanInput, match=r"'A' at 'S1': its DC 'DC' has no plan line"):
        apply_sourcing(plan, NETWORK)
