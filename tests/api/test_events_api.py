"""POST /events: one event answers its rejection as a problem; a batch answers per event."""

from __future__ import annotations

from sqlalchemy import func, select

from stockpilot.store import schema as t
from stockpilot.store import schema_events as te

T0 = "2024-06-02T10:00:00+00:00"


def _sale(event_id: str, qty: object, sku: str = "B", loc: str = "S") -> dict[str, object]:
    return {"kind": "sale", "event_id": event_id, "sku": sku, "location": loc,
            "quantity": qty, "occurred_at": T0}


def _on_hand(world, sku: str, loc: str) -> int:
    with world.engine.connect() as conn:
        return int(conn.execute(select(t.stock.c.on_hand).where(
            t.stock.c.sku == sku, t.stock.c.location == loc)).scalar_one())


def _dead_count(world) -> int:
    with world.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(te.dead_letters)).scalar_one())


def test_single_oversell_is_409_naming_sku_location_and_quantities(world):
    r = world.client.post("/events", json=_sale("big", 5000), headers=world.h("operator"))
    assert r.status_code == 409, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["title"] == "Insufficient stock" and body["error_type"] == "InsufficientStock"
    assert (body["sku"], body["location"], body["requested"], body["available"]) == \
        ("B", "S", 5000, 1000)
    assert "requested 5000, available 1000" in body["detail"]
    assert _on_hand(world, "B", "S") == 1000 and _dead_count(world) == 0  # nothing written


def test_single_unknown_sku_and_bad_field_are_422(world):
    h = world.h("operator")
    r = world.client.post("/events", json=_sale("u1", 1, sku="NOPE"), headers=h)
    assert r.status_code == 422 and r.json()["sku"] == "NOPE", r.text
    assert "unknown SKU 'NOPE'" in r.json()["detail"]
    r = world.client.post("/events", json=_sale("q1", "two"), headers=h)
    assert r.status_code == 422 and "quantity" in r.json()["detail"], r.text


def test_single_applied_then_duplicate(world):
    h = world.h("operator")
    first = world.client.post("/events", json=_sale("ok-1", 3), headers=h)
    assert first.status_code == 200 and first.json() == {
        "event_id": "ok-1", "status": "applied", "movements": 1}
    again = world.client.post("/events", json=_sale("ok-1", 3), headers=h)
    assert again.json()["status"] == "duplicate"
    assert _on_hand(world, "B", "S") == 997


def test_rejected_event_does_not_burn_the_idempotency_key(world):
    h = {**world.h("operator"), "Idempotency-Key": "sale-77"}
    sale = _sale("s-77", 1500)
    assert world.client.post("/events", json=sale, headers=h).status_code == 409
    world.client.post("/events", headers=world.h("operator"), json={"kind": "receipt",
                      "event_id": "r-77", "sku": "B", "location": "S", "quantity": 600,
                      "occurred_at": T0})
    retry = world.client.post("/events", json=sale, headers=h)
    assert retry.status_code == 200 and retry.json()["status"] == "applied", retry.text
    assert _on_hand(world, "B", "S") == 100
    replay = world.client.post("/events", json=sale, headers=h)  # now the key is kept
    assert replay.headers.get("idempotent-replayed") == "true"


def test_batch_answers_per_event_and_keeps_no_key_while_any_is_dead(world):
    h = {**world.h("operator", scoped=True), "Idempotency-Key": "batch-1"}
    body = {"events": [_sale("b-ok", 2), _sale("b-big", 2000), _sale("b-sku", 1, sku="ZZ"),
                       _sale("b-two", "two"), _sale("b-out", 1, loc="W")]}
    r = world.client.post("/events", json=body, headers=h)
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["applied"], out["dead"], out["refused_out_of_scope"]) == (1, 3, ["b-out"])
    by_id = {x["event_id"]: x for x in out["results"]}
    assert [x["event_id"] for x in out["results"]] == [e["event_id"] for e in body["events"]]
    assert by_id["b-ok"]["status"] == "applied" and by_id["b-ok"]["reason"] is None
    assert by_id["b-big"]["error_type"] == "InsufficientStock"
    assert "requested 2000, available 998" in by_id["b-big"]["reason"]
    assert by_id["b-sku"]["error_type"] == "UnknownSku"
    assert by_id["b-two"]["error_type"] == "BadMessage" and "quantity" in by_id["b-two"]["reason"]
    assert by_id["b-out"]["status"] == "refused_out_of_scope"
    # stock arrives; the same key and body now applies the oversold sale
    world.client.post("/events", headers=world.h("operator"), json={"kind": "receipt",
                      "event_id": "r-b", "sku": "B", "location": "S", "quantity": 5000,
                      "occurred_at": T0})
    again = world.client.post("/events", json=body, headers=h).json()
    by_id = {x["event_id"]: x["status"] for x in again["results"]}
    assert by_id["b-ok"] == "duplicate" and by_id["b-big"] == "applied"
    assert _on_hand(world, "B", "S") == 1000 - 2 + 5000 - 2000


def test_dead_letters_are_paged_scoped_and_operator_only(world):
    bad = [_sale(f"d-{loc}-{i}", 10**6, loc=loc) for loc in ("S", "W") for i in range(3)]
    bad.append({"kind": "sale", "event_id": "d-two", "sku": "B", "location": "S",
                "quantity": "two", "occurred_at": T0})
    world.client.post("/events", json={"events": bad}, headers=world.h("operator"))
    c = world.client
    everything = c.get("/dead-letters", params={"limit": 500}, headers=world.h("operator"))
    assert everything.status_code == 200 and everything.json()["total"] == 7
    scoped = c.get("/dead-letters", params={"limit": 2, "offset": 1, "sort": "id"},
                   headers=world.h("operator", scoped=True)).json()
    assert scoped["total"] == 4  # S's three oversells and the bad quantity at S
    # parse failures are dead-lettered first (lowest id), then the oversells in order
    assert [x["message_id"] for x in scoped["items"]] == ["d-S-0", "d-S-1"]
    assert {x["location"] for x in scoped["items"]} == {"S"}
    first = c.get("/dead-letters", params={"error_type": "BadMessage"},
                  headers=world.h("operator", scoped=True)).json()["items"]
    assert [x["message_id"] for x in first] == ["d-two"] and "quantity" in first[0]["reason"]
    assert c.get("/dead-letters", headers=world.h("planner")).status_code == 403


def test_loose_types_are_refused(world):
    c, h = world.client, world.h("admin")
    r = c.post("/locations", json={"location": "X1", "allows_backorders": 0}, headers=h)
    assert r.status_code == 422 and "allows_backorders" in r.json()["detail"], r.text
    assert c.post("/locations", json={"location": "X1", "allows_backorders": False},
                  headers=h).status_code == 201
    r = c.get("/lots", params={"expires_before": 0}, headers=h)
    assert r.status_code == 422 and "expires_before" in r.json()["detail"], r.text
    assert c.get("/lots", params={"expires_before": "2024-07-02"}, headers=h).json()["total"] == 2
    assert c.get("/movements", params={"since": "0"}, headers=h).status_code == 422
    r = c.post("/purchase-orders", headers=world.h("planner"), json={
        "supplier": "ACME", "expected_at": 0,
        "lines": [{"sku": "A", "location": "S", "quantity": 1}]})
    assert r.status_code == 422 and "expected_at" in r.json()["detail"], r.text


def test_405_allows_every_method_of_the_path(world):
    r = world.client.delete("/skus/A", headers=world.h("admin"))
    assert r.status_code == 405
    assert set(r.headers["allow"].split(", ")) == {"GET", "HEAD", "PATCH"}
    assert r.headers["content-type"] == "application/problem+json"


def test_a_path_id_beyond_the_column_is_a_422_not_a_crash(world):
    """Found by schemathesis (25 cases per operation): SQLite cannot bind ints past 64 bits."""
    r = world.client.delete(f"/overrides/{2**70}", headers=world.h("planner"))
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
