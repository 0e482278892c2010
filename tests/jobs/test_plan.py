"""The planning run on the vendored real sample: methods per SKU, shelf life, budgets, receipts."""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest
from sqlalchemy import update

from stockpilot.forecast.pipeline import run_forecast
from stockpilot.jobs.demo import import_sample
from stockpilot.jobs.plan import load_receipts, run_plan
from stockpilot.ledger.purchasing import OrderLine, create_purchase_order, receive_purchase_order
from stockpilot.planning.pipeline import DEFAULT_METHODS
from stockpilot.store import schema as t
from stockpilot.store.artifacts import ArtifactStore
from stockpilot.store.history import HistoryStore
from stockpilot.store.uow import reading, transact, writing
from stockpilot.usecases.actor import SYSTEM
from stockpilot.usecases.purchasing import approve_plan

REASON = re.compile(r"mean ([\d.,]+)/d × (\d+) d = ([\d,]+); ([\d.]+)% quantile ([\d,]+) "
                    r"\(([^)]+)\) → safety stock ([\d,]+); order-up-to ([\d,]+), reorder point "
                    r"([\d,]+) \(class \w+\); on hand ([\d,]+).*, on order ([\d,]+), in transit "
                    r"([\d,]+), reserved ([\d,]+) → position (-?[\d,]+)")


def _num(text: str) -> int:
    return int(text.replace(",", ""))


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    from stockpilot.store.db import make_engine
    from stockpilot.store.migrate import upgrade

    root = tmp_path_factory.mktemp("shop")
    engine = make_engine(f"sqlite:///{root / 'stockpilot.db'}")
    upgrade(engine)
    history = HistoryStore(root / "history")
    import_sample(engine, history)
    run_forecast(history, horizon=28, models=("SeasonalNaive", "CrostonOptimized"))
    yield engine, history
    engine.dispose()


def test_plan_says_which_method_each_sku_got_and_reasons_add_up(shop):
    engine, history = shop
    plan = run_plan(engine, history)
    methods = set(plan["method"].to_list())
    assert {"negative-binomial", "compound-poisson"} <= methods
    assert all(DEFAULT_METHODS[c] == m for c, m in plan.select("demand_class", "method").rows())
    for r in plan.iter_rows(named=True):
        m = REASON.match(r["reason"])
        assert m, r["reason"]
        assert int(m.group(2)) == r["protection_days"] == r["lead_time_days"] + 7
        assert m.group(6) == r["method"]
        assert _num(m.group(3)) == round(r["mean"])
        assert _num(m.group(5)) == round(r["demand_quantile"])
        assert r["order_up_to"] == max(math.ceil(r["demand_quantile"] - 1e-9),
                                       math.ceil(r["mean"] - 1e-9))
        assert _num(m.group(7)) == r["safety_stock"] == round(r["order_up_to"] - r["mean"])
        assert _num(m.group(8)) == r["order_up_to"] >= r["reorder_point"] == _num(m.group(9))
        assert _num(m.group(14)) == r["inventory_position"]
        if r["order_qty"]:
            assert r["need"] == r["order_up_to"] - r["inventory_position"]
            assert r["order_qty"] % r["pack_size"] == 0 and r["order_qty"] >= r["moq"]


def test_demo_plan_passes_the_guard_and_expired_lots_do_not_count(shop):
    engine, history = shop
    plan = run_plan(engine, history)
    flagged = plan.filter(pl.col("flags").list.len() > 0)
    assert flagged.height <= 0.02 * plan.height, flagged.select("unique_id", "reason").rows()
    assert (plan["order_up_to"] <= 1.5 * plan["largest_past_demand"]).all()
    row = plan.filter(pl.col("on_hand") >= 5).row(0, named=True)
    sku, location = row["unique_id"].split("@")
    with engine.begin() as conn:
        conn.execute(t.lots.insert().values(sku=sku, location=location, lot_code="OLD",
                                            expiry=date(2011, 1, 1), on_hand=5, reserved=0))
    try:
        again = run_plan(engine, history).filter(pl.col("unique_id") == row["unique_id"]) \
            .row(0, named=True)
    finally:
        with engine.begin() as conn:
            conn.execute(t.lots.delete().where(t.lots.c.lot_code == "OLD"))
    assert again["sellable"] == row["on_hand"] - 5
    assert again["inventory_position"] == row["inventory_position"] - 5
    assert "5 expired not counted" in again["reason"]


def test_budget_defers_the_least_valuable_lines(shop):
    engine, history = shop
    free = run_plan(engine, history)
    due = free.filter(pl.col("order_qty") > 0)
    supplier = due.group_by("supplier").len().sort("len", descending=True)["supplier"][0]
    spend = due.filter(pl.col("supplier") == supplier)["order_value"].sum()
    budget = spend / 3
    plan = run_plan(engine, history, budgets={supplier: budget})
    mine = plan.filter(pl.col("supplier") == supplier)
    kept = mine.filter(pl.col("order_qty") > 0)
    deferred = mine.filter(pl.col("deferred_qty") > 0)
    assert kept["order_value"].sum() <= budget + 1e-6
    assert not deferred.is_empty() and not kept.is_empty()
    assert all("over the budget → deferred" in r for r in deferred["reason"])
    assert all("within the budget" in r for r in kept["reason"])
    # Other suppliers are untouched.
    other = plan.filter(pl.col("supplier") != supplier, pl.col("order_qty") > 0)
    assert other.height == due.filter(pl.col("supplier") != supplier).height


def test_shelf_life_caps_the_order_and_reports_waste(shop):
    engine, history = shop
    due = run_plan(engine, history).filter(pl.col("order_qty") > 0).sort("order_qty",
                                                                         descending=True)
    row = due.row(0, named=True)
    sku = row["unique_id"].split("@")[0]
    with engine.begin() as conn:
        conn.execute(update(t.skus).where(t.skus.c.sku == sku).values(shelf_life_days=3))
    try:
        capped = run_plan(engine, history).filter(pl.col("unique_id") == row["unique_id"]) \
            .row(0, named=True)
    finally:
        with engine.begin() as conn:
            conn.execute(update(t.skus).where(t.skus.c.sku == sku).values(shelf_life_days=None))
    assert capped["order_qty"] < row["order_qty"]
    assert "shelf life" in capped["reason"] and capped["expected_waste_units"] is not None
    daily = row["mean"] / row["protection_days"]
    assert capped["order_qty"] <= daily * 3 + 1


def test_lead_time_learned_from_receipts(shop):
    engine, history = shop
    plan = run_plan(engine, history)
    row = plan.filter(pl.col("method") == "compound-poisson").row(0, named=True)
    sku, location = row["unique_id"].split("@")
    start = datetime.now(UTC)
    for n in range(12):
        po, _ = transact(engine, create_purchase_order,
                         row["supplier"], [OrderLine(sku, location, 1)],
                                   reference=f"lt-test-{n}")
        transact(engine, receive_purchase_order, po, occurred_at=start + timedelta(days=20 + n % 3))
    with reading(engine) as uow:
        receipts = load_receipts(uow)
    assert receipts.filter(pl.col("sku") == sku).height == 12
    lead = (receipts["receipt_date"] - receipts["order_date"]).dt.total_days()
    assert lead.min() >= 20 and lead.max() <= 23
    learned = run_plan(engine, history).filter(pl.col("unique_id") == row["unique_id"]) \
        .row(0, named=True)
    assert learned["method"].startswith("lead time learned from 12 receipts")
    # 12 receipts blended with the stated lead time at credibility 12 / (12 + 5)
    blend = (12 * float(lead.mean()) + 5 * row["lead_time_days"]) / 17
    assert abs(learned["lead_time_days"] - blend) <= 0.5
    assert learned["protection_days"] == learned["lead_time_days"] + 7


def test_approve_creates_orders_for_due_lines_only(shop):
    engine, history = shop
    run_plan(engine, history, budgets={"FAR-EAST": 1.0})
    plan = ArtifactStore(history).plan()
    with writing(engine) as uow:
        ids = approve_plan(uow, SYSTEM, plan).purchase_orders
    assert ids
    plan = plan.frame
    with engine.connect() as conn:
        lines = conn.execute(t.purchase_order_lines.select().where(
            t.purchase_order_lines.c.po_id.in_(ids))).all()
    assert len(lines) == plan.filter(pl.col("order_qty") > 0).height


def test_transfers_from_a_dc_cover_store_needs_within_dc_stock(shop):
    from stockpilot.domain.commands import ReceiveStock
    from stockpilot.jobs.transfers import apply_transfers, plan_transfers
    from stockpilot.ledger.catalogue import upsert_locations
    from stockpilot.ledger.invariants import check_ledger
    from stockpilot.ledger.service import apply_events

    engine, history = shop
    plan = run_plan(engine, history)
    needy = plan.filter(pl.col("need") > 0).sort("need", descending=True).head(3)
    skus = [u.split("@")[0] for u in needy["unique_id"]]
    with engine.begin() as conn:
        upsert_locations(conn, [{"location": "DC"}])
    dc_units = {s: int(n) // 2 + 1 for s, n in zip(skus, needy["need"], strict=True)}
    transact(engine, apply_events,
             [ReceiveStock(event_id=f"dc-{s}", sku=s, location="DC", quantity=q,
                           occurred_at=datetime(2011, 9, 30, tzinfo=UTC))
              for s, q in dc_units.items()])
    lines = plan_transfers(engine, history, "DC", transfer_cost=0.01)
    assert set(lines["sku"]) == set(skus)
    for s in skus:
        got = lines.filter(pl.col("sku") == s)
        assert got["qty"].sum() == dc_units[s]  # stock is short: all of it goes out
        assert (got["qty"] <= got["target"]).all()
        assert all(r.startswith("store need ") for r in got["reason"])
    # too dear to move: nothing is sent
    assert plan_transfers(engine, history, "DC", transfer_cost=1e6).is_empty()
    at = datetime(2011, 10, 1, 9, tzinfo=UTC)
    done = apply_transfers(engine, lines, at=at)
    assert (done.applied, done.rejected) == (lines.height, [])
    again = apply_transfers(engine, lines, at=at)  # replay: idempotent
    assert (again.applied, again.duplicates) == (0, lines.height)
    from stockpilot.ledger.positions import get_positions

    with engine.connect() as conn:
        at_dc = {p.sku: p.on_hand for p in get_positions(conn, location="DC")}
        assert all(at_dc[s] == 0 for s in skus)
        assert check_ledger(conn) == []
