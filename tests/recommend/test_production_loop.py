"""The production loop on real data: feedback stored once, an A/B test replayed from held-back
purchases picks the better variant, feedback folded into training, refresh (SQLite and PG)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from stockpilot.ingest.online_retail import read_invoices
from stockpilot.ingest.online_retail_import import split_lines
from stockpilot.recommend.abtest import Variant
from stockpilot.recommend.data import lines_frame
from stockpilot.recommend.service import fit, recommend
from stockpilot.store.uow import reading, transact
from stockpilot.usecases import recommend_experiments as ex
from stockpilot.usecases import recommend_feedback as fb
from stockpilot.usecases.actor import SYSTEM, Actor

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample" / "online_retail_top300.csv.gz"
CUT, END = datetime(2011, 9, 1), datetime(2011, 10, 1)


@pytest.fixture(scope="module")
def kept() -> pl.DataFrame:
    lines, _, _ = split_lines(read_invoices(SAMPLE))
    return lines


@pytest.fixture(scope="module")
def models(kept):
    return {name: fit(kept, CUT, name) for name in ("popularity", "repeat")}


def _at(n: int) -> datetime:
    return datetime(2011, 9, 2, tzinfo=UTC) + timedelta(seconds=n)


def test_feedback_batches_are_idempotent_and_all_or_nothing(engine):
    e = [fb.Feedback(f"e{i}", "impression", "A", "S", _at(i), "c1", "hybrid", position=i + 1)
         for i in range(3)]
    assert transact(engine, fb.record, e, frozenset({"S"})) == fb.Recorded(3, 0)
    assert transact(engine, fb.record, [*e, e[0]], None) == fb.Recorded(0, 4)
    with pytest.raises(fb.InvalidFeedback, match="e9: kind"):
        transact(engine, fb.record, [fb.Feedback("e8", "click", "A", "S", _at(8)),
                                     fb.Feedback("e9", "like", "A", "S", _at(9))])
    with pytest.raises(Exception, match="no such location"):
        transact(engine, fb.record,
                 [fb.Feedback("e10", "click", "A", "W", _at(10))], frozenset({"S"}))
    with reading(engine) as uow:
        rows = fb.rates(uow, SYSTEM, ["model"])
        assert fb.rates(uow, Actor("viewer", frozenset({"W"})), ["model"]) == []
    assert rows == [{"model": "hybrid", "impressions": 3, "clicks": 0, "add_to_carts": 0,
                     "purchases": 0, "revenue": 0.0, "ctr": 0.0, "conversion": 0.0}]


def test_ab_test_replayed_from_held_back_purchases_picks_the_better_variant(engine, kept,
                                                                             models):
    """Customers are split by hash; each sees its variant's top 10 (everything in stock); an
    item they really bought in the held-back month counts as click, add-to-cart and purchase
    (revenue = what they paid for it)."""
    transact(engine, ex.start, "pop-vs-repeat", [Variant("control", "popularity", "filter"),
                                                 Variant("repeat", "repeat", "filter")])
    after = kept.filter(pl.col("invoiced_at") >= CUT, pl.col("invoiced_at") < END,
                        pl.col("customer_id").is_not_null())
    paid = after.group_by("customer_id", "stock_code").agg(
        (pl.col("quantity") * pl.col("unit_price")).sum().alias("paid"))
    bought = {(r[0], r[1]): r[2] for r in paid.iter_rows() if r[2] > 0}
    customers = sorted({c for c, _ in bought} & set(models["repeat"].users))
    stock = dict.fromkeys(models["repeat"].items, 5)
    events: list[fb.Feedback] = []
    for customer in customers:
        with reading(engine) as uow:
            name, variant = ex.variant_for(uow, customer)
        shown = recommend(models[variant.model], customer, stock, 10, variant.mode)
        for pos, sku in enumerate(shown, 1):
            tag = f"{customer}-{sku}"
            common = {"sku": sku, "location": "S", "occurred_at": _at(pos),
                      "customer_id": customer, "model": variant.model, "experiment": name,
                      "variant": variant.name, "position": pos}
            events.append(fb.Feedback(f"i-{tag}", "impression", **common))
            if (customer, sku) in bought:
                events += [fb.Feedback(f"c-{tag}", "click", **common),
                           fb.Feedback(f"a-{tag}", "add_to_cart", **common),
                           fb.Feedback(f"p-{tag}", "purchase", **common,
                                       value=Decimal(str(round(bought[customer, sku], 2))))]
    for start in range(0, len(events), fb.MAX_BATCH):
        transact(engine, fb.record, events[start:start + fb.MAX_BATCH])
    with reading(engine) as uow:
        rep = ex.experiment_report(uow, SYSTEM, "pop-vs-repeat")
        # a location with no feedback counts nothing
        none = ex.experiment_report(uow, Actor("viewer", frozenset({"NOWHERE"})),
                                    "pop-vs-repeat")
    assert all(r["impressions"] == 0 for r in none["rows"])
    rows = {r["variant"]: r for r in rep["rows"]}
    assert min(r["impressions"] for r in rows.values()) > 1000  # both arms got traffic
    assert rep["winner"] == "repeat" and rep["winner_by_revenue"] == "repeat"
    assert rows["repeat"]["power"] > 0.9
    lo, _ = rows["repeat"]["conversion_ci"]
    assert lo > rows["control"]["conversion_ci"][1]
    with reading(engine) as uow:
        by_pos = fb.rates(uow, SYSTEM, ["variant", "position"])
    assert {r["position"] for r in by_pos} == set(range(1, 11))
    transact(engine, ex.stop, "pop-vs-repeat")


def test_add_to_carts_are_folded_into_the_next_training(engine, kept, models):
    """A customer who added an item to the cart gets it back from repeat purchase."""
    repeat = models["repeat"]
    customer = repeat.users[0]
    stock = dict.fromkeys(repeat.items, 5)
    before = recommend(repeat, customer, stock, 10, "filter")
    new_item = next(i for i in reversed(repeat.items) if i not in before)
    transact(engine, fb.record, [fb.Feedback("cart-1", "add_to_cart", new_item, "S",
                                             datetime(2011, 8, 30, tzinfo=UTC), customer)])
    with reading(engine) as uow:
        implicit = fb.implicit_lines(uow, CUT.replace(tzinfo=UTC))
    lines = fb.fold(lines_frame(kept), implicit)
    assert lines.filter(pl.col("order_id") == "feedback:cart-1").height == 1
    again = fit(lines, CUT, "repeat")
    assert new_item in recommend(again, customer, stock, 10, "filter")
