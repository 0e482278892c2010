"""Recommendations in production over HTTP: any model, feedback, A/B tests (SQLite and PG)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from stockpilot.domain.commands import ReceiveStock
from stockpilot.ledger.catalogue import upsert_skus
from stockpilot.ledger.service import apply_events
from stockpilot.store.uow import transact

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2024, 6, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def ranker_folder(tmp_path_factory) -> Path:
    """The LightGBM ranker trained once on the vendored sample (small settings)."""
    from stockpilot.ingest.online_retail import read_invoices
    from stockpilot.ingest.online_retail_import import split_lines
    from stockpilot.recommend.service import train

    folder = tmp_path_factory.mktemp("ranker")
    kept, _, _ = split_lines(read_invoices(ROOT / "data/sample/online_retail_top300.csv.gz"))
    train(kept, datetime(2011, 9, 1), folder, "ranker",
          {"cutoffs": 2, "candidates": 30, "n_estimators": 40})
    return folder


def _stock(world, skus: list[str], location: str = "S", units: int = 3) -> None:
    with world.engine.begin() as conn:
        upsert_skus(conn, [{"sku": s} for s in skus])
    transact(world.engine, apply_events, [ReceiveStock(event_id=f"pr-{s}-{location}", sku=s,
                                                       location=location, quantity=units,
                                                       occurred_at=NOW) for s in skus])


def test_served_lists_are_the_offline_lists_for_every_model(world, ranker_folder):
    from stockpilot.recommend.service import load, recommend
    from stockpilot.store.uow import reading
    from stockpilot.usecases.actor import SYSTEM
    from stockpilot.usecases.recommendations import available_items

    shutil.copy(ranker_folder / "ranker.pkl", world.workspace / "models" / "recommend")
    folder = world.workspace / "models" / "recommend"
    hybrid, ranker = load(folder, "hybrid"), load(folder, "ranker")
    _stock(world, hybrid.items[::2])  # half the catalogue in stock at S
    with reading(world.engine) as uow:
        available = available_items(uow, SYSTEM, "S", hybrid.items)
    c, h = world.client, world.h("viewer", scoped=True)
    customers = [*hybrid.users[:15], "nobody"]
    differ = 0
    for customer in customers:
        for trained, mode in ((hybrid, "substitute"), (ranker, "filter"), (ranker, "substitute")):
            got = c.get(f"/recommendations/customers/{customer}", headers=h, params={
                "location": "S", "k": 10, "model": trained.name, "mode": mode}).json()
            offline = recommend(trained, customer, available, 10, mode)
            assert [i["sku"] for i in got["items"]] == offline, (customer, trained.name, mode)
            assert got["model"] == trained.name and got["experiment"] is None
            assert all(available[s] > 0 for s in offline)
        differ += recommend(hybrid, customer, available) != recommend(ranker, customer, available)
    assert differ > 5  # the two models really are different models
    default = c.get("/recommendations/customers/nobody", headers=h, params={"location": "S"})
    assert default.json()["model"] == "hybrid"  # the settings' model
    r = c.get("/recommendations/customers/nobody", headers=h, params={"model": "als"})
    assert r.status_code == 404 and "recommend train --model als" in r.json()["detail"]


def test_settings_choose_the_served_model(world, ranker_folder):
    from fastapi.testclient import TestClient

    from stockpilot.api.app import create_app
    from stockpilot.config import Settings
    from stockpilot.store.history import HistoryStore

    shutil.copy(ranker_folder / "ranker.pkl", world.workspace / "models" / "recommend")
    (world.workspace / "stockpilot.toml").write_text(
        '[stockpilot]\ndefault_location = "S"\n[stockpilot.recommend]\nmodel = "ranker"\n'
        'mode = "filter"\n')
    from stockpilot.config import load_settings

    settings = load_settings(world.workspace)
    assert settings.recommend.model == "ranker"
    app = create_app(world.engine, HistoryStore(world.workspace / "history"), world.workspace,
                     Settings(**{**settings.model_dump(), "rate_limit_per_second": 0}))
    got = TestClient(app).get("/recommendations/customers/12347", headers=world.h("viewer"))
    assert got.status_code == 200 and got.json()["model"] == "ranker"


def _event(n: int, kind: str, location: str = "S", **extra) -> dict:
    return {"event_id": f"ev-{n}", "kind": kind, "sku": "85123A", "location": location,
            "occurred_at": "2024-06-02T10:00:00+00:00", "customer_id": "12347",
            "model": "hybrid", "position": 1 + n % 3, **extra}


def test_feedback_is_idempotent_scoped_and_counted(world):
    c, h = world.client, world.h("operator", scoped=True)
    batch = [_event(n, "impression") for n in range(6)] + [_event(10, "click"),
                                                          _event(11, "add_to_cart")]
    r = c.post("/recommendations/feedback", json={"events": batch}, headers=h)
    assert r.status_code == 200 and r.json() == {"recorded": 8, "duplicates": 0}
    again = c.post("/recommendations/feedback", json={"events": [*batch, _event(12, "click")]},
                   headers=h)
    assert again.json() == {"recorded": 1, "duplicates": 8}
    outside = c.post("/recommendations/feedback", headers=h, json={"events": [
        _event(20, "impression"), _event(21, "impression", location="W")]})
    assert outside.status_code == 404  # all or nothing: ev-20 is not kept either
    bad = c.post("/recommendations/feedback", headers=h,
                 json={"events": [_event(22, "impression", position=0)]})
    assert bad.status_code == 422
    rates = c.get("/recommendations/feedback/rates", headers=world.h("viewer"),
                  params={"by": "model"}).json()
    assert rates == [{"model": "hybrid", "position": None, "experiment": None, "variant": None,
                      "location": None, "impressions": 6, "clicks": 2, "add_to_carts": 1,
                      "purchases": 0, "revenue": 0.0, "ctr": pytest.approx(2 / 6),
                      "conversion": pytest.approx(1 / 6)}]
    by_pos = c.get("/recommendations/feedback/rates", headers=world.h("viewer"),
                   params={"by": ["model", "position"]}).json()
    assert [(r["position"], r["impressions"]) for r in by_pos] == [(1, 2), (2, 2), (3, 2)]
    w_only = c.get("/recommendations/feedback/rates", headers=world.h("viewer", scoped=True),
                   params={"by": "location"}).json()
    assert {r["location"] for r in w_only} == {"S"}


def test_experiment_serves_variants_sticky_and_reports(world, ranker_folder):
    shutil.copy(ranker_folder / "ranker.pkl", world.workspace / "models" / "recommend")
    c, h = world.client, world.h("planner")
    body = {"name": "rank-vs-blend", "variants": [
        {"name": "control", "model": "hybrid"},
        {"name": "ranker", "model": "ranker", "mode": "filter"}]}
    r = c.post("/recommendations/experiments", json=body, headers=h)
    assert r.status_code == 201 and r.json()["status"] == "running"
    assert c.post("/recommendations/experiments", headers=h, json={
        **body, "name": "other"}).status_code == 409
    seen = {}
    for customer in ["12347", "12348", "12349", "12350", "12352", "12356", "12359", "12360"]:
        got = [c.get(f"/recommendations/customers/{customer}", headers=world.h("viewer"),
                     params={"location": "S"}).json() for _ in range(2)]
        assert got[0]["experiment"] == "rank-vs-blend" and got[0]["variant"] == got[1]["variant"]
        assert got[0]["model"] == {"control": "hybrid", "ranker": "ranker"}[got[0]["variant"]]
        seen[customer] = got[0]["variant"]
    assert set(seen.values()) == {"control", "ranker"}
    events = [{"event_id": f"x-{v}-{i}", "kind": kind, "sku": "85123A", "location": "S",
               "occurred_at": "2024-06-02T10:00:00+00:00", "experiment": "rank-vs-blend",
               "variant": v, "position": 1, **({"value": "12.5"} if kind == "purchase" else {})}
              for v in ("control", "ranker") for i, kind in enumerate(
                  ["impression"] * 4 + ["click", "add_to_cart", "purchase"])]
    c.post("/recommendations/feedback", json={"events": events}, headers=world.h("operator"))
    rep = c.get("/recommendations/experiments/rank-vs-blend/report",
                headers=world.h("viewer")).json()
    assert [(r["variant"], r["impressions"], r["conversions"]) for r in rep["rows"]] == [
        ("control", 4, 1), ("ranker", 4, 1)]
    assert rep["rows"][1]["revenue_per_impression"] == pytest.approx(12.5 / 4)
    assert rep["winner"] is None
    stopped = c.post("/recommendations/experiments/rank-vs-blend/stop", headers=h, json={})
    assert stopped.status_code == 200 and stopped.json()["status"] == "stopped"
    from stockpilot.usecases.recommend_experiments import _CACHE

    _CACHE.clear()
    after = c.get("/recommendations/customers/12347", headers=world.h("viewer")).json()
    assert after["experiment"] is None
    listed = c.get("/recommendations/experiments", headers=world.h("viewer")).json()
    assert [e["name"] for e in listed] == ["rank-vs-blend"]


def test_boost_variant_lifts_overstocked_items_by_its_own_weight(world):
    """A variant's ``boost_weight`` is applied, with overstock read from the latest plan."""
    import polars as pl

    from stockpilot.recommend.service import load, recommend
    from stockpilot.store.history import HistoryStore
    from stockpilot.store.uow import reading
    from stockpilot.usecases.actor import SYSTEM
    from stockpilot.usecases.recommendations import available_items

    hybrid = load(world.workspace / "models" / "recommend", "hybrid")
    customer = hybrid.users[0]
    _stock(world, hybrid.items[:60])
    with reading(world.engine) as uow:
        available = available_items(uow, SYSTEM, "S", hybrid.items)
    plain = recommend(hybrid, customer, available, 10, "substitute")
    extra = next(s for s in hybrid.items[:60] if s not in plain)
    transact(world.engine, apply_events, [ReceiveStock(
        event_id="over-1", sku=extra, location="S", quantity=97, occurred_at=NOW)])
    with reading(world.engine) as uow:
        available = available_items(uow, SYSTEM, "S", hybrid.items)
    HistoryStore(world.workspace / "history").write("plans", "latest", pl.DataFrame([{
        "unique_id": f"{extra}@S", "supplier": "ACME", "order_up_to": 10, "reorder_point": 5,
        "order_qty": 0, "order_value": 0.0, "reason": "r"}]))
    c, h = world.client, world.h("planner")
    bad = c.post("/recommendations/experiments", headers=h, json={"name": "b", "variants": [
        {"name": "control"}, {"name": "x", "mode": "boost", "params": {"boost": 1.0}}]})
    assert bad.status_code == 422 and "unknown parameter 'boost'" in bad.text
    r = c.post("/recommendations/experiments", headers=h, json={"name": "boost", "variants": [
        {"name": "control", "weight": 0.001},
        {"name": "boosted", "mode": "boost", "weight": 1000, "params": {"boost_weight": 5}}]})
    assert r.status_code == 201, r.text
    got = c.get(f"/recommendations/customers/{customer}", headers=world.h("viewer"),
                params={"location": "S"}).json()
    assert got["variant"] == "boosted"
    items = [i["sku"] for i in got["items"]]
    over = {extra: (available[extra] - 10) / available[extra]}
    assert items == recommend(hybrid, customer, available, 10, "boost", over, 5.0)
    assert items[0] == extra and extra not in plain  # lifted from outside the top 10 to first
    # the settings' weight (0.2) when the mode is asked for outside the experiment
    asked = c.get(f"/recommendations/customers/{customer}", headers=world.h("viewer"),
                  params={"location": "S", "model": "hybrid", "mode": "boost"}).json()
    assert [i["sku"] for i in asked["items"]] == recommend(hybrid, customer, available, 10,
                                                           "boost", over, 0.2)
