"""The resources end to end over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import polars as pl

from stockpilot.api.app import create_app
from stockpilot.config import Settings
from stockpilot.domain.commands import ReceiveStock
from stockpilot.ledger.service import apply_events
from stockpilot.store.history import HistoryStore
from stockpilot.store.uow import transact

NOW = datetime(2024, 6, 1, tzinfo=UTC)


def _on(world, sku: str, loc: str, field: str = "on_hand") -> int:
    rows = world.client.get(f"/stock/{sku}", headers=world.h()).json()
    return {p["location"]: p[field] for p in rows}[loc]


def test_paging_filtering_sorting(world):
    c, h = world.client, world.h("viewer")
    page = c.get("/stock", params={"limit": 2, "sort": "-location,sku"}, headers=h).json()
    assert page["total"] == 8 and len(page["items"]) == 2 and page["limit"] == 2
    assert [p["location"] for p in page["items"]] == ["W", "W"]
    rest = c.get("/stock", params={"limit": 500, "offset": 2, "sort": "-location,sku"},
                 headers=h).json()["items"]
    assert len(rest) == 6
    assert c.get("/stock", params={"location": "S", "sku": "A"}, headers=h).json()["total"] == 1
    assert c.get("/skus", params={"category": "toys"}, headers=h).json()["total"] == 1
    for params in ({"limit": 501}, {"limit": 0}, {"offset": -1}, {"sort": "price;drop"},
                   {"sort": "secret"}):
        r = c.get("/skus", params=params, headers=h)
        assert r.status_code == 422, params
        assert r.headers["content-type"] == "application/problem+json"
    moves = c.get("/movements", params={"kind": "transfer_out", "sort": "-id"}, headers=h)
    assert {m["location"] for m in moves.json()["items"]} == {"S", "W"}


def test_request_bodies_refuse_unknown_fields(world):
    c, h = world.client, world.h()
    assert c.post("/skus", json={"sku": "Z", "colour": "red"}, headers=h).status_code == 422
    assert c.patch("/skus/A", json={"sku": "B"}, headers=h).status_code == 422
    assert c.post("/transfers", json={"sku": "A", "from_location": "S", "to_location": "S2",
                                      "quantity": 1.5}, headers=h).status_code == 422
    r = c.post("/skus", json={"sku": "A"}, headers=h)
    assert r.status_code == 409 and r.json()["title"] == "Already exists"


def test_catalogue_create_update_read(world):
    c, h = world.client, world.h("planner")
    r = c.post("/skus", json={"sku": "NEW", "name": "new", "price": 2.5}, headers=h)
    assert r.status_code == 201 and r.json()["price"] == 2.5
    assert r.json()["created_at"].endswith(("Z", "+00:00"))
    assert c.patch("/skus/NEW", json={"category": "c"}, headers=h).json()["category"] == "c"
    assert c.get("/skus/NOPE", headers=h).status_code == 404
    r = c.post("/suppliers/ACME/items", json={"sku": "NEW", "lead_time_days": 3, "moq": 6},
               headers=h)
    assert r.status_code == 201 and r.json()["moq"] == 6
    r = c.post("/locations", json={"location": "NEWLOC"}, headers=h)
    assert r.status_code == 403
    assert c.post("/locations", json={"location": "NEWLOC"}, headers=world.h()).status_code \
        == 201


def test_purchase_order_lifecycle(world):
    c, h = world.client, world.h("operator", scoped=True)
    r = c.post("/purchase-orders", headers=h, json={
        "supplier": "ACME", "lines": [{"sku": "B", "location": "S", "quantity": 12}]})
    assert r.status_code == 201, r.text
    po = r.json()
    assert po["status"] == "open" and _on(world, "B", "S", "on_order") == 12
    r = c.post(f"/purchase-orders/{po['id']}/receive", json={"lines": {"1": 5}}, headers=h)
    assert r.json()["purchase_order"]["status"] == "partial"
    assert [x["status"] for x in r.json()["receipts"]] == ["applied"]
    assert _on(world, "B", "S") == 1005 and _on(world, "B", "S", "on_order") == 7
    r = c.post(f"/purchase-orders/{po['id']}/cancel", json={}, headers=h)
    assert r.json()["status"] == "cancelled" and _on(world, "B", "S", "on_order") == 0
    listed = c.get("/purchase-orders", params={"status": "cancelled"}, headers=h).json()
    assert [p["id"] for p in listed["items"]] == [po["id"]]


def test_transfers_move_stock_or_refuse(world):
    c, h = world.client, world.h("operator")
    r = c.post("/transfers", json={"sku": "B", "from_location": "W", "to_location": "S",
                                   "quantity": 10, "event_id": "tr-1"}, headers=h)
    assert r.status_code == 201 and r.json()["quantity"] == 10
    assert _on(world, "B", "W") == 990 and _on(world, "B", "S") == 1010
    r = c.post("/transfers", json={"sku": "B", "from_location": "W", "to_location": "S",
                                   "quantity": 10_000}, headers=h)
    assert r.status_code == 409 and "available 990" in r.json()["detail"]
    listed = c.get("/transfers", params={"sku": "B"}, headers=h).json()["items"]
    assert [(t["from_location"], t["to_location"], t["quantity"]) for t in listed] == [
        ("W", "S", 10)]


def test_alerts_ack_and_resolve(world):
    c, h = world.client, world.h("operator", scoped=True)
    a = world.ids["alert_in"]
    assert c.post(f"/alerts/{a}/ack", json={}, headers=h).json()["status"] == "acked"
    assert c.post(f"/alerts/{a}/resolve", json={}, headers=h).json()["status"] == "resolved"
    assert c.get("/alerts", params={"status": "open"}, headers=h).json()["total"] == 0
    assert c.post(f"/alerts/{world.ids['alert_out']}/ack", json={}, headers=h).status_code \
        == 404


def test_forecasts_policies_and_approval(world):
    c = world.client
    fc = c.get("/forecasts/A", headers=world.h("viewer", scoped=True)).json()
    assert {f["location"] for f in fc} == {"S"} and fc[0]["quantiles"]["0.5"] == 2.0
    pol = c.get("/policies", headers=world.h("viewer")).json()["items"]
    assert {(p["location"], p["order_up_to"], p["reorder_point"]) for p in pol} == {
        ("S", 28, 12), ("W", 28, 12)}
    r = c.post("/suggestions/approve", json={"as_of": "2024-06-01"},
               headers=world.h("planner", scoped=True))
    (po_id,) = r.json()["purchase_orders"]
    lines = c.get(f"/purchase-orders/{po_id}", headers=world.h()).json()["lines"]
    assert [(ln["location"], ln["quantity"]) for ln in lines] == [("S", 24)]
    again = c.post("/suggestions/approve", json={"as_of": "2024-06-01"},
                   headers=world.h("planner", scoped=True))
    assert again.json()["purchase_orders"] == [po_id]  # once per day


def test_recommendations_are_stock_aware(world, trained_model):
    c, h = world.client, world.h("viewer", scoped=True)
    items = c.get("/recommendations/popular", params={"location": "S", "k": 5},
                  headers=h).json()["items"]
    assert items == []  # nothing of the model's catalogue is stocked at S yet
    from stockpilot.ledger.catalogue import upsert_skus
    from stockpilot.recommend.service import load

    model = load(trained_model)
    stocked = model.items[:40]
    with world.engine.begin() as conn:
        upsert_skus(conn, [{"sku": s} for s in stocked])
    transact(world.engine, apply_events, [ReceiveStock(event_id=f"rr-{s}", sku=s, location="S",
                                             quantity=3, occurred_at=NOW) for s in stocked])
    for url in ("/recommendations/customers/12347", "/recommendations/customers/nobody",
                "/recommendations/popular", f"/recommendations/similar/{stocked[0]}"):
        got = c.get(url, params={"location": "S", "k": 5}, headers=h).json()
        assert got["location"] == "S" and 0 < len(got["items"]) <= 5, url
        assert all(i["sku"] in stocked and i["available"] == 3 for i in got["items"]), url
    r = c.post("/recommendations/basket", json={"skus": stocked[:2], "k": 3}, headers=h)
    assert r.status_code == 200 and r.json()["location"] == "S"  # settings default
    assert c.get("/recommendations/similar/NOT-A-SKU", headers=h).status_code == 404


def test_recommendations_without_a_model_answer_404(engine, tmp_path):
    from fastapi.testclient import TestClient

    from stockpilot.api.auth import create_key

    key = create_key(engine, "v", "viewer")
    app = create_app(engine, HistoryStore(tmp_path / "h"), tmp_path, Settings())
    r = TestClient(app).get("/recommendations/popular", headers={"X-API-Key": key})
    assert r.status_code == 404 and "recommend train" in r.json()["detail"]
    assert r.headers["content-type"] == "application/problem+json"


def test_a_scoped_key_sees_only_simulations_over_its_locations(world):
    """Issue 17 item 5: KPIs aggregated over other locations are not a scoped key's."""
    c = world.client
    every = {r["id"] for r in c.get("/simulations", headers=world.h("viewer")).json()["items"]}
    scoped = c.get("/simulations", headers=world.h("viewer", scoped=True)).json()
    assert every == {world.ids["simulation"], world.ids["simulation_in"]}
    assert [r["id"] for r in scoped["items"]] == [world.ids["simulation_in"]]
    assert scoped["total"] == 1


def test_small_simulation_is_run_and_stored(world):
    history = HistoryStore(world.workspace / "history")
    days = [date(2024, 1, 1) + timedelta(days=i) for i in range(90)]
    history.write_daily("import", pl.DataFrame({
        "sku": ["A"] * 90 + ["B"] * 90, "location": ["S"] * 180, "date": days * 2,
        "units": [i % 5 for i in range(90)] + [2] * 90}))
    c, h = world.client, world.h("planner")
    r = c.post("/simulations", json={"name": "small", "start": "2024-03-01",
                                     "end": "2024-03-21", "max_series": 2}, headers=h)
    assert r.status_code == 201, r.text
    run = r.json()
    assert {row["policy"] for row in run["rows"]} >= {"ours", "erp_min_max", "oracle"}
    assert c.get(f"/simulations/{run['id']}", headers=h).json()["rows"] == run["rows"]
    r = c.post("/simulations", json={"start": "2024-03-01", "end": "2024-12-01"}, headers=h)
    assert r.status_code == 422


def test_jobs_record_failed_plan_runs(world):
    c = world.client
    r = c.post("/jobs/plan", json={}, headers=world.h("planner"))
    assert r.status_code == 400 and "no forecasts" in r.json()["detail"]
    runs = c.get("/jobs", params={"status": "failed"}, headers=world.h("viewer")).json()
    assert runs["total"] == 1 and "no forecasts" in runs["items"][0]["error"]


def test_reports_are_listed_and_served_but_nothing_else(world):
    c, h = world.client, world.h("viewer")
    assert [f["name"] for f in c.get("/reports", headers=h).json()] == [
        "index.html", "locations/S+S2/index.html"]
    r = c.get("/reports/index.html", headers=h)
    assert r.status_code == 200 and "sandbox" in r.headers["content-security-policy"]
    (world.workspace / "secret.html").write_text("no")
    for name in ("../secret.html", "..%2Fsecret.html", "%2e%2e/secret.html", "nope.html"):
        assert c.get(f"/reports/{name}", headers=h).status_code == 404, name


def test_a_location_limited_key_sees_only_reports_of_its_locations(world):
    c, h = world.client, world.h("viewer", scoped=True)
    (world.workspace / "report" / "all.pdf").write_bytes(b"%PDF-1.4 every location")
    assert [f["name"] for f in c.get("/reports", headers=h).json()] == ["index.html"]
    assert c.get("/reports/index.html", headers=h).text == "<h1>S</h1>"
    for name in ("all.pdf", "../all.pdf", "../../index.html", "locations/S+S2/index.html"):
        assert c.get(f"/reports/{name}", headers=h).status_code == 404, name
    everyone = [f["name"] for f in c.get("/reports", headers=world.h("viewer")).json()]
    assert everyone == ["all.pdf", "index.html", "locations/S+S2/index.html"]


def test_keys_shown_once_and_revoked(world):
    c, h = world.client, world.h()
    hk = {**h, "Idempotency-Key": "new-key-1"}
    body = {"name": "shop", "role": "operator", "locations": ["S"]}
    first = c.post("/keys", json=body, headers=hk)
    assert first.status_code == 201 and first.json()["secret"].startswith("sp_")
    replay = c.post("/keys", json=body, headers=hk)
    assert replay.status_code == 201 and replay.json()["secret"] is None
    assert replay.json()["id"] == first.json()["id"]
    new = {"X-API-Key": first.json()["secret"]}
    assert c.get("/stock/A", headers=new).status_code == 200
    c.post(f"/keys/{first.json()['id']}/revoke", json={}, headers=h)
    assert c.get("/stock/A", headers=new).status_code == 401
    r = c.post("/keys", json={"name": "x", "role": "admin"}, headers=world.h("admin", True))
    assert r.status_code == 404  # a limited admin cannot mint an unlimited key


def test_stock_cursor_pages_like_offsets(world):
    c, h = world.client, world.h("viewer")
    by_offset = c.get("/stock", params={"limit": 500}, headers=h).json()["items"]
    seen, after = [], None
    while True:
        params = {"limit": 3, **({"after": after} if after else {})}
        page = c.get("/stock", params=params, headers=h).json()
        assert page["total"] == len(by_offset)
        seen += page["items"]
        after = page["next_after"]
        if after is None:
            break
    assert seen == by_offset
    assert c.get("/stock", params={"after": "nonsense"}, headers=h).status_code == 422
    r = c.get("/stock", params={"after": after or "x", "sort": "-on_hand"}, headers=h)
    assert r.status_code == 422


def test_a_new_plan_after_new_sales_can_be_approved_the_same_day(world):
    """Regression (issue 12, bug 1): approval is idempotent by plan lines, not by date."""
    c, h = world.client, world.h("planner")
    first = c.post("/suggestions/approve", json={"as_of": "2024-06-01"}, headers=h).json()
    history = HistoryStore(world.workspace / "history")
    replanned = history.read("plans", "latest").with_columns(
        pl.col("order_qty") + 5, pl.col("on_hand") - 5)  # sales since the first plan
    history.write("plans", "latest", replanned)
    second = c.post("/suggestions/approve", json={"as_of": "2024-06-01"}, headers=h).json()
    assert set(second["purchase_orders"]).isdisjoint(first["purchase_orders"])
    (po_id,) = second["purchase_orders"]
    lines = c.get(f"/purchase-orders/{po_id}", headers=h).json()["lines"]
    assert sorted((ln["location"], ln["quantity"]) for ln in lines) == [("S", 29), ("W", 29)]
    replay = c.post("/suggestions/approve", json={"as_of": "2024-06-01"}, headers=h).json()
    assert replay["purchase_orders"] == second["purchase_orders"]
