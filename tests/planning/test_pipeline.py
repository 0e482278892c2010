"""The one planning pipeline on hand-made frames: invariants, position, caps, guard, bad input."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from stockpilot.planning import demand_laws as dl
from stockpilot.planning.invariants import IMPLAUSIBLE, InvalidPlanInput, check_plan
from stockpilot.planning.pipeline import PlanInputs, PlanOptions, build_plan

START = date(2024, 1, 1)


def _inputs(daily: dict[str, list[float]], *, lead: int = 7, moq: int = 0, pack: int = 1,
            on_hand: int = 0, expired: int = 0, level: float = 0.95,
            shelf_life: int | None = None) -> PlanInputs:
    rows = [(u, START + timedelta(days=i), float(y)) for u, ys in daily.items()
            for i, y in enumerate(ys)]
    history = pl.DataFrame(rows, schema={"unique_id": pl.Utf8, "ds": pl.Date, "y": pl.Float64},
                           orient="row")
    end = history["ds"].max()
    ids = sorted(daily)
    forecast = pl.DataFrame([(u, end + timedelta(days=h), float(np.mean(daily[u][-28:])))
                             for u in ids for h in range(1, 60)],
                            schema={"unique_id": pl.Utf8, "ds": pl.Date, "mean": pl.Float64},
                            orient="row")
    cv = pl.DataFrame([(u, end - timedelta(days=56 - 28 * w), end, h, float(daily[u][-h - 28 * w]),
                        float(np.mean(daily[u][-28:]))) for u in ids for w in (0, 1)
                       for h in range(1, 29)],
                      schema={"unique_id": pl.Utf8, "cutoff": pl.Date, "ds": pl.Date,
                              "h": pl.Int64, "y": pl.Float64, "mean": pl.Float64}, orient="row")
    terms = pl.DataFrame({"unique_id": ids, "supplier": "S", "lead_time_days": lead,
                          "moq": moq, "pack_size": pack, "unit_cost": 2.0, "order_cost": 0.0})
    positions = pl.DataFrame({"unique_id": ids, "on_hand": on_hand, "on_order": 0,
                              "reserved": 0, "expired": expired})
    service = pl.DataFrame({"unique_id": ids, "klass": "AX", "service_level": level})
    shelf = pl.DataFrame({"unique_id": ids, "shelf_life_days": shelf_life},
                         schema={"unique_id": pl.Utf8, "shelf_life_days": pl.Int64})
    return PlanInputs(history=history, forecast=forecast, cv=cv, positions=positions,
                      terms=terms, service=service,
                      shelf_life=shelf if shelf_life else PlanInputs.__dataclass_fields__[
                          "shelf_life"].default_factory())  # type: ignore[misc]


def _series(seed: int, n: int = 200, p: float = 0.3, lump: float = 40.0) -> list[float]:
    rng = np.random.default_rng(seed)
    return list(np.where(rng.random(n) < p, rng.geometric(1 / lump, n), 0).astype(float))


def test_expired_units_are_not_counted_in_the_position():
    plan = build_plan(_inputs({"A@X": _series(1)}, on_hand=503, expired=500))
    r = plan.row(0, named=True)
    assert r["sellable"] == 3 and r["inventory_position"] == 3
    assert "500 expired not counted" in r["reason"]
    assert r["order_qty"] == r["order_up_to"] - 3


def test_expiry_cap_keeps_pack_and_moq():
    inp = _inputs({"A@X": [20.0] * 200}, pack=5, moq=10, shelf_life=5)
    r = build_plan(inp).row(0, named=True)
    assert r["order_qty"] % 5 == 0 and r["order_qty"] >= 10
    assert r["order_qty"] <= 20 * 5 + 1
    assert "shelf life" in r["reason"]


def test_reason_states_mean_and_quantile_and_they_add_up():
    r = build_plan(_inputs({"A@X": _series(3)})).row(0, named=True)
    daily = r["mean"] / r["protection_days"]
    assert r["reason"].startswith(f"mean {daily:,.1f}/d × 14 d = {r['mean']:,.0f}; 95% quantile ")
    assert r["safety_stock"] == round(r["order_up_to"] - r["mean"])


def test_bad_input_names_sku_and_location():
    inp = _inputs({"A@X": _series(4)})
    bad = inp.forecast.with_columns(pl.when(pl.col("ds") == pl.col("ds").min())
                                    .then(-1.0).otherwise(pl.col("mean")).alias("mean"))
    with pytest.raises(InvalidPlanInput, match=r"SKU 'A' at 'X'.*forecast mean -1.0"):
        build_plan(PlanInputs(**{**inp.__dict__, "forecast": bad}))
    orphan = pl.concat([inp.positions, inp.positions.with_columns(
        pl.lit("B@Y").alias("unique_id"))])
    hist = pl.concat([inp.history, inp.history.with_columns(pl.lit("B@Y").alias("unique_id"))])
    with pytest.raises(InvalidPlanInput, match=r"SKU 'B' at 'Y'.*no supplier terms"):
        build_plan(PlanInputs(**{**inp.__dict__, "positions": orphan, "history": hist}))


def test_guard_flags_a_level_no_history_supports_and_names_the_method():
    quiet = [0.0] * 150 + [1.0] * 50
    inp = _inputs({"A@X": quiet})
    loud = inp.forecast.with_columns(pl.lit(50.0).alias("mean"))  # forecast far above history
    plan = build_plan(PlanInputs(**{**inp.__dict__, "forecast": loud}),
                      PlanOptions(methods={"*": dl.FORECAST}))
    r = plan.row(0, named=True)
    assert r["flags"] == [IMPLAUSIBLE]
    assert "CHECK: order-up-to" in r["reason"] and "forecast-quantiles" in r["reason"]


@pytest.mark.parametrize("method", dl.METHODS)
def test_every_method_gives_a_plan_that_keeps_the_invariants(method):
    daily = {f"S{i}@X": _series(i, p=0.1 + 0.2 * i, lump=5 + 20 * i) for i in range(4)}
    plan = build_plan(_inputs(daily, pack=6, moq=12), PlanOptions(methods={"*": method}))
    assert set(plan["method"]) == {method}
    check_plan(plan)
    assert (plan["reorder_point"] <= plan["order_up_to"]).all()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=hs.integers(0, 10_000), p=hs.floats(0.02, 1.0), lump=hs.floats(1.0, 200.0),
       lead=hs.integers(0, 30), pack=hs.integers(1, 48), moq_packs=hs.integers(0, 4),
       on_hand=hs.integers(0, 5000), level=hs.floats(0.5, 0.995),
       shelf=hs.one_of(hs.none(), hs.integers(1, 60)),
       method=hs.sampled_from(dl.METHODS))
def test_invariants_hold_on_any_plan(seed, p, lump, lead, pack, moq_packs, on_hand, level,
                                     shelf, method):
    inp = _inputs({"A@X": _series(seed, p=p, lump=lump)}, lead=lead, pack=pack,
                  moq=pack * moq_packs, on_hand=on_hand, level=level, shelf_life=shelf)
    r = build_plan(inp, PlanOptions(methods={"*": method})).row(0, named=True)
    assert r["safety_stock"] >= 0
    assert r["reorder_point"] <= r["order_up_to"]
    assert r["order_up_to"] >= r["mean"] - 1e-9
    assert r["order_qty"] % pack == 0
    assert r["order_qty"] == 0 or r["order_qty"] >= pack * moq_packs


def test_calibrated_levels_read_the_target_off_the_earlier_curve():
    from stockpilot.planning.pipeline import quantile_levels

    curve = {"lumpy": ((0.9, 0.95, 0.97), (0.8, 0.9, 0.95)), "*": ((0.5, 1.0), (0.5, 1.0))}
    got = quantile_levels(np.array([0.95, 0.96, 0.7]), ["lumpy", "lumpy", "smooth"], curve)
    np.testing.assert_allclose(got, [0.9, 0.925, 0.7])
    plan = build_plan(_inputs({"A@X": _series(8)}), PlanOptions(
        level_map={"*": ((0.9, 0.99), (0.5, 0.6))}))
    r = plan.row(0, named=True)
    assert r["service_level"] == 0.95 and 0.5 < r["quantile_level"] < 0.6
    assert "95% service (calibrated) →" in r["reason"]


def test_worked_example_by_hand():
    """A given law q(τ) = 100·τ over 14 days, mean 50: every number recomputed by hand."""
    inp = _inputs({"a@W": _series(9)}, pack=12, moq=24)
    law = pl.DataFrame({"unique_id": ["a@W"], "days": [14], "method": ["given"],
                        "mean": [50.0], **{c: [100 * t] for c, t in zip(dl.QCOLS, dl.LEVELS,
                                                                         strict=True)}})
    positions = pl.DataFrame({"unique_id": ["a@W"], "on_hand": [12], "on_order": [5],
                              "reserved": [2]})
    service = inp.service.with_columns(pl.lit(0.975).alias("service_level"))
    r = build_plan(PlanInputs(**{**inp.__dict__, "extra_laws": law, "positions": positions,
                                 "service": service})).row(0, named=True)
    # S = ⌈97.5⌉ = 98, safety stock 98 − 50 = 48, position 12 + 5 − 2 = 15, need 83,
    # 7 packs of 12 = 84 ≥ MOQ 24
    assert (r["order_up_to"], r["safety_stock"], r["inventory_position"], r["need"],
            r["order_qty"]) == (98, 48, 15, 83, 84)
    assert r["reason"].startswith("mean 3.6/d × 14 d = 50; 97.5% quantile 98 (given) → "
                                  "safety stock 48; order-up-to 98")
    assert r["reason"].endswith("need 83, rounded to pack 12 and MOQ 24 → order 84")
