"""Lead times learned from receipts; demand over a random lead time against Monte Carlo."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from stockpilot.errors import ImportRejected
from stockpilot.forecast.base import qcol
from stockpilot.planning.supplier_leadtime import (
    demand_over_random_lead_time,
    lead_time_for,
    lead_time_pmfs,
    lead_time_stats,
    supplier_lead_times,
)

D0 = date(2024, 3, 1)
A_X = [5, 6, 6, 7, 7, 7, 7, 8, 9, 14, 6, 7]  # 12 lines: enough for its own distribution
A_Y = [3, 20, 4]
B_Z = [10, 10, 11, 30]


def receipts() -> pl.DataFrame:
    rows = []
    for sup, sku, leads in (("A", "x", A_X), ("A", "y", A_Y), ("B", "z", B_Z)):
        for i, lt in enumerate(leads):
            od = D0 + timedelta(days=3 * i)
            rows.append((sup, sku, od, od + timedelta(days=lt), 10 * (i + 1)))
    return pl.DataFrame(rows, schema=["supplier", "sku", "order_date", "receipt_date", "qty"],
                        orient="row")


def row(stats: pl.DataFrame, level: str, supplier: str, sku: str | None) -> dict:
    f = stats.filter((pl.col("level") == level) & (pl.col("supplier") == supplier))
    f = f.filter(pl.col("sku").is_null() if sku is None else pl.col("sku") == sku)
    assert f.height == 1
    return f.row(0, named=True)


def test_stats_per_supplier_and_pair():
    st = lead_time_stats(receipts(), min_receipts=4)
    assert set(zip(st["level"], st["supplier"], st["sku"], strict=True)) == {
        ("supplier", "A", None), ("supplier", "B", None), ("supplier-sku", "A", "x"),
        ("supplier-sku", "B", "z")}
    for level, sup, sku, leads in (("supplier", "A", None, A_X + A_Y),
                                   ("supplier", "B", None, B_Z),
                                   ("supplier-sku", "A", "x", A_X)):
        r = row(st, level, sup, sku)
        assert r["n_receipts"] == len(leads)
        assert r["mean_days"] == pytest.approx(np.mean(leads))
        assert r["std_days"] == pytest.approx(np.std(leads))
        for t in (0.5, 0.9, 0.95):
            assert r[qcol(t)] == np.quantile(leads, t, method="inverted_cdf")


def test_units_weighting():
    st = lead_time_stats(receipts(), weight="units")
    r = row(st, "supplier", "B", None)
    w = 10 * np.arange(1, 5)
    assert r["mean_days"] == pytest.approx(np.average(B_Z, weights=w))
    # by units, 60 % of B's units had arrived by day 11 (by lines, half by day 10)
    assert r["units"] == w.sum() and r[qcol(0.5)] == 11
    assert row(lead_time_stats(receipts()), "supplier", "B", None)[qcol(0.5)] == 10


def test_bad_receipt_rejected_with_its_row():
    bad = receipts().with_columns(
        pl.when(pl.int_range(pl.len()) == 4).then(pl.col("order_date") - pl.duration(days=1))
        .otherwise(pl.col("receipt_date")).alias("receipt_date"))
    with pytest.raises(ImportRejected, match=r"receipts:5: receipt_date: received before"):
        lead_time_pmfs(bad)


def test_items_take_own_or_supplier_distribution():
    pm = lead_time_pmfs(receipts(), min_receipts=10)
    items = pl.DataFrame({"unique_id": ["x@W", "y@W", "q@W"], "supplier": ["A", "A", "C"],
                          "sku": ["x", "y", "q"]})
    got = lead_time_for(pm, items)
    src = dict(got.select("unique_id", "source").unique().iter_rows())
    # B has only 4 receipts: below the minimum of 10 here, so q is left out too
    assert src == {"x@W": "supplier-sku", "y@W": "supplier"}
    for uid in ("x@W", "y@W"):
        assert got.filter(pl.col("unique_id") == uid)["prob"].sum() == pytest.approx(1.0)
    y = got.filter(pl.col("unique_id") == "y@W")
    assert dict(y.select("lead_time_days", "prob").iter_rows())[20] == pytest.approx(1 / 15)


def history(values: dict[str, np.ndarray]) -> pl.DataFrame:
    return pl.concat([pl.DataFrame({"unique_id": uid,
                                    "ds": [D0 + timedelta(days=i) for i in range(len(y))],
                                    "y": y.astype(float)}) for uid, y in values.items()])


def test_fixed_lead_time_and_constant_demand():
    lt = pl.DataFrame({"unique_id": ["c"], "lead_time_days": [9], "prob": [1.0]})
    got = demand_over_random_lead_time(history({"c": np.full(90, 5)}), lt, review_days=7)
    assert got["mean"][0] == 80 and got[qcol(0.005)][0] == got[qcol(0.995)][0] == 80
    assert got["mean_lead_time_days"][0] == 9


def test_random_lead_time_demand_matches_monte_carlo():
    rng = np.random.default_rng(44)
    y = rng.negative_binomial(2, 0.3, 365)
    leads = np.array([5, 6, 7, 8, 15])
    probs = np.array([0.1, 0.3, 0.3, 0.2, 0.1])
    lt = pl.DataFrame({"unique_id": ["s"] * 5, "lead_time_days": leads, "prob": probs})
    levels = (0.1, 0.5, 0.9, 0.95, 0.99)
    got = demand_over_random_lead_time(history({"s": y}), lt, review_days=7, levels=levels)
    n = 200_000
    ls = rng.choice(leads, size=n, p=probs) + 7
    draws = rng.choice(y, size=(n, ls.max()))
    sample = np.where(np.arange(ls.max())[None, :] < ls[:, None], draws, 0).sum(axis=1)
    assert got["mean"][0] == pytest.approx(y.mean() * (leads @ probs + 7))
    mc = np.quantile(sample, levels, method="inverted_cdf")
    ours = np.array([got[qcol(t)][0] for t in levels])
    assert np.all(np.abs(ours - mc) <= np.maximum(1, 0.02 * mc)), (ours, mc)
    # the random lead time widens the upper tail beyond the mean lead time's
    fixed = demand_over_random_lead_time(
        history({"s": y}), pl.DataFrame({"unique_id": ["s"], "lead_time_days": [7],
                                         "prob": [1.0]}), review_days=7, levels=levels)
    assert got[qcol(0.99)][0] > fixed[qcol(0.99)][0] + 10


def po_receipts(po_lines: list[tuple[int, str, int]], supplier: str = "S") -> pl.DataFrame:
    """Receipts of ``(po_id, sku, lead_time_days)`` lines, PO n ordered on day 3n."""
    rows = [(supplier, po, sku, D0 + timedelta(days=3 * po),
             D0 + timedelta(days=3 * po + lead), 5) for po, sku, lead in po_lines]
    return pl.DataFrame(rows, schema=["supplier", "po_id", "sku", "order_date", "receipt_date",
                                      "qty"], orient="row")


def test_two_lines_of_one_po_on_one_day_do_not_zero_the_lead_time():
    """Regression (issue 13): one PO, two lines received the day it was placed.

    Before, those two lines were the supplier's whole distribution, δ(0), so every SKU of the
    supplier planned with a 0-day lead time. One receipt is below the minimum sample: the
    stated 14 days stand.
    """
    got = po_receipts([(1, "a", 0), (1, "b", 0)])
    items = pl.DataFrame({"unique_id": ["a@W", "b@W", "c@W"], "supplier": ["S"] * 3,
                          "sku": ["a", "b", "c"], "lead_time_days": [14, 14, 14]})
    assert lead_time_for(lead_time_pmfs(got), items).is_empty()
    terms = items.select("supplier", "sku", "lead_time_days")
    row = supplier_lead_times(got, terms).row(0, named=True)
    assert row["n_receipts"] == 1 and not row["used"]
    assert row["planned_mean_days"] == 14 and row["measured_mean_days"] == 0


def test_lines_of_one_po_on_one_day_count_once():
    # 5 POs with 2 lines each: 5 receipts of the supplier, not 10; one per SKU and PO
    lines = [(po, sku, 20) for po in range(5) for sku in ("a", "b")]
    pm = lead_time_pmfs(po_receipts(lines))
    assert pm.filter(pl.col("level") == "supplier")["n_receipts"].to_list() == [5]
    assert set(pm.filter(pl.col("level") == "supplier-sku")["n_receipts"]) == {5}
    # a PO received in two deliveries on two days is two receipts
    split = po_receipts([(0, "a", 20), (0, "a", 25), *[(po, "a", 20) for po in range(1, 4)]])
    got = lead_time_pmfs(split).group_by("level").agg(pl.col("n_receipts").first())
    assert dict(got.iter_rows()) == {"supplier": 5, "supplier-sku": 5}


def test_learned_lead_time_is_shrunk_towards_the_stated_one():
    lines = [(po, "a", 20) for po in range(5)]
    items = pl.DataFrame({"unique_id": ["a@W"], "supplier": ["S"], "sku": ["a"],
                          "lead_time_days": [10]})
    got = lead_time_for(lead_time_pmfs(po_receipts(lines)), items)
    pmf = dict(got.select("lead_time_days", "prob").iter_rows())
    # Z = 5 / (5 + 5): half measured (20 d), half stated (10 d)
    assert pmf == pytest.approx({10: 0.5, 20: 0.5})
    assert got["source"][0] == "supplier-sku" and got["n_receipts"][0] == 5
    more = lead_time_for(lead_time_pmfs(po_receipts([(po, "a", 20) for po in range(15)])),
                         items)
    assert dict(more.select("lead_time_days", "prob").iter_rows())[20] == pytest.approx(0.75)
    row = supplier_lead_times(po_receipts(lines), items.drop("unique_id")).row(0, named=True)
    assert row["used"] and row["planned_mean_days"] == pytest.approx(15.0)
    assert row["measured_p90_days"] == 20 and row["stated_days"] == 10
