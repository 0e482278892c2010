"""Idempotency-Key on every POST, and the per-key rate limit."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from stockpilot.api.app import create_app
from stockpilot.api.ratelimit import TokenBuckets
from stockpilot.config import Settings
from stockpilot.store import schema as t
from stockpilot.store import schema_api as ta
from stockpilot.store.history import HistoryStore


def test_every_post_documents_idempotency_key(world):
    spec = world.client.get("/openapi.json").json()
    posts = [(p, op) for p, ops in spec["paths"].items() for m, op in ops.items() if m == "post"]
    assert len(posts) >= 15
    for path, op in posts:
        names = {p["name"] for p in op.get("parameters", []) if p["in"] == "header"}
        assert "idempotency-key" in {n.lower() for n in names}, path


def test_same_key_same_body_replays_other_body_refused(world):
    c = world.client
    h = {**world.h("planner"), "Idempotency-Key": "po-1"}
    body = {"supplier": "ACME", "lines": [{"sku": "B", "location": "S", "quantity": 4}]}
    first = c.post("/purchase-orders", json=body, headers=h)
    again = c.post("/purchase-orders", json=body, headers=h)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and again.headers["idempotent-replayed"] == "true"
    with world.engine.connect() as conn:
        n = conn.execute(select(t.purchase_orders.c.id)).all()
    assert len(n) == 3  # the two seeded + one
    other = c.post("/purchase-orders", json={**body, "reference": "x"}, headers=h)
    assert other.status_code == 422 and other.json()["title"] == "Idempotency-Key reused"
    # the same key on another route is another request
    assert c.post("/suppliers", json={"supplier": "Q"}, headers=h).status_code == 422
    # another key's namespace is separate
    h2 = {**world.h("admin"), "Idempotency-Key": "po-1"}
    assert c.post("/suppliers", json={"supplier": "Q"}, headers=h2).status_code == 201


def test_a_failed_request_stores_nothing_and_can_be_retried(world):
    c = world.client
    h = {**world.h("operator"), "Idempotency-Key": "tr-9"}
    body = {"sku": "B", "from_location": "W", "to_location": "S", "quantity": 5000}
    assert c.post("/transfers", json=body, headers=h).status_code == 409  # too few at W
    c.post("/events", headers=world.h("operator"), json={"events": [{
        "kind": "receipt", "event_id": "more", "sku": "B", "location": "W", "quantity": 4000,
        "occurred_at": "2024-06-02T00:00:00+00:00"}]})
    assert c.post("/transfers", json=body, headers=h).status_code == 201


def test_a_request_racing_one_in_flight_gets_409(world):
    """The record is written in the effect's transaction: a second request with the key,
    which passed the replay check before the first committed, is refused at commit."""
    c = world.client
    h = {**world.h("planner"), "Idempotency-Key": "race"}
    key_id = next(k for k in _key_ids(world) if k[1] == world.keys[("planner", False)])[0]
    out = {}
    with world.engine.connect() as conn, conn.begin():
        # the "first" request: it holds its record uncommitted (SQLite: the write lock)
        conn.execute(insert(ta.idempotency_keys).values(
            key_id=key_id, idem_key="race", body_sha256="x" * 64, status_code=201,
            response={}, created_at=datetime.now(UTC)))
        thread = threading.Thread(target=lambda: out.update(
            r=c.post("/suppliers", json={"supplier": "RACE"}, headers=h)))
        thread.start()
        time.sleep(2.0)  # long enough, even on a busy machine, to pass the replay check
    thread.join(30)
    assert out["r"].status_code == 409, out["r"].text
    assert out["r"].json()["title"] == "Request in flight"
    with world.engine.connect() as conn:  # and its effect was rolled back
        assert conn.execute(select(t.suppliers.c.supplier).where(
            t.suppliers.c.supplier == "RACE")).first() is None


def _key_ids(world):
    from hashlib import sha256

    with world.engine.connect() as conn:
        rows = conn.execute(select(ta.api_keys.c.id, ta.api_keys.c.secret_sha256)).all()
    by_hash = {h: i for i, h in rows}
    return [(by_hash[sha256(s.encode()).hexdigest()], s) for s in world.keys.values()]


def test_token_bucket_refills_at_its_rate():
    now = [0.0]
    b = TokenBuckets(rate=2.0, burst=3, clock=lambda: now[0])
    assert [b.take(1) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert b.take(1) == 0.5 and b.take(2) == 0.0  # keys have their own buckets
    now[0] = 0.5
    assert b.take(1) == 0.0 and b.take(1) > 0
    assert TokenBuckets(rate=0, burst=1).take(1) == 0.0  # off


def test_rate_limit_answers_429_with_retry_after(world):
    app = create_app(world.engine, HistoryStore(world.workspace / "history"), world.workspace,
                     Settings(rate_limit_per_second=0.5, rate_limit_burst=2))
    c = TestClient(app)
    codes = [c.get("/health", headers=world.h("viewer")).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    r = c.get("/health", headers=world.h("viewer"))
    assert r.headers["content-type"] == "application/problem+json"
    assert int(r.headers["retry-after"]) >= 1
    assert c.get("/health", headers=world.h("admin")).status_code == 200  # per key


def _slow_plan(calls: list[int]):
    """A stand-in planner (the job machinery is under test, not the plan): slow enough that
    concurrent requests overlap it."""
    import polars as pl

    def run_plan(*args, **kwargs):
        calls.append(1)
        time.sleep(1.0)
        return pl.DataFrame({"order_qty": [3, 0], "order_value": [12.5, 0.0]})

    return run_plan


def test_concurrent_job_posts_with_one_key_run_the_job_once(world, monkeypatch):
    """Three concurrent POST /jobs/plan with one Idempotency-Key: the key is claimed before
    the plan runs, so one runs and records; the others are told it is in flight (409) or,
    once it finished, get its answer replayed. No run is left ``running``."""
    from stockpilot.store import schema_runs as tr

    calls: list[int] = []
    monkeypatch.setattr("stockpilot.jobs.plan.run_plan", _slow_plan(calls))

    c, h = world.client, {**world.h("planner"), "Idempotency-Key": "plan-once"}
    with world.engine.connect() as conn:
        before = conn.execute(select(tr.job_runs.c.id)).all()
    answers: list = []
    threads = [threading.Thread(target=lambda: answers.append(
        c.post("/jobs/plan", json={"review_days": 7}, headers=h))) for _ in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    codes = sorted(a.status_code for a in answers)
    assert codes.count(201) >= 1 and set(codes) <= {201, 409}, [a.text for a in answers]
    with world.engine.connect() as conn:
        runs = conn.execute(select(tr.job_runs.c.status).where(
            tr.job_runs.c.id.not_in([r.id for r in before]))).scalars().all()
    assert runs == ["succeeded"] and len(calls) == 1, runs
    ok = [a.json() for a in answers if a.status_code == 201]
    assert all(o == ok[0] for o in ok)
    again = c.post("/jobs/plan", json={"review_days": 7}, headers=h)
    assert again.status_code == 201 and again.json() == ok[0]
    assert again.headers["idempotent-replayed"] == "true"


def test_a_failed_job_frees_its_key(world, monkeypatch):
    from stockpilot.store import schema_runs as tr

    def boom(*a, **k):
        raise RuntimeError("planner exploded")

    monkeypatch.setattr("stockpilot.jobs.plan.run_plan", boom)
    h = {**world.h("planner"), "Idempotency-Key": "plan-fail"}
    client = TestClient(world.client.app, raise_server_exceptions=False)
    r = client.post("/jobs/plan", json={"review_days": 7}, headers=h)
    assert r.status_code == 500 and "planner exploded" not in r.text
    with world.engine.connect() as conn:
        last = conn.execute(select(tr.job_runs).order_by(tr.job_runs.c.id.desc())).first()
    assert last.status == "failed" and "planner exploded" in last.error
    monkeypatch.setattr("stockpilot.jobs.plan.run_plan", _slow_plan([]))
    assert client.post("/jobs/plan", json={"review_days": 7},
                       headers=h).status_code == 201  # the key was not burned
