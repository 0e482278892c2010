"""Purchasing use cases: approval idempotent by plan lines, scoped per role × location.

Regression tests for issue 12, bug 1 (approval by a date reference): two locations approving
one supplier both get their order, also concurrently; a replay creates nothing; a new plan can
be approved the same day. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
import time

import polars as pl
import pytest
from sqlalchemy import func, select

from stockpilot.errors import NotFound
from stockpilot.ledger.catalogue import upsert_locations, upsert_skus, upsert_suppliers
from stockpilot.ledger.invariants import check_ledger
from stockpilot.ledger.purchasing import OrderLine
from stockpilot.store import schema as t
from stockpilot.store.artifacts import PlanRun
from stockpilot.store.uow import UnitOfWork, reading, writing
from stockpilot.usecases import purchasing
from stockpilot.usecases.actor import ROLES, SYSTEM, Actor, Forbidden

LOCATIONS = ("S", "W")


def _plan(run_id: str = "run-1", qty: int = 24) -> PlanRun:
    rows = [{"unique_id": f"{s}@{loc}", "sku": s, "location": loc, "supplier": "SUP",
             "order_qty": qty if s == "A" else 0} for s in ("A", "B") for loc in LOCATIONS]
    return PlanRun(run_id, pl.DataFrame(rows))


@pytest.fixture
def shop(engine):
    with engine.begin() as conn:
        upsert_skus(conn, [{"sku": "A"}, {"sku": "B"}])
        upsert_locations(conn, [{"location": loc} for loc in LOCATIONS])
        upsert_suppliers(conn, [{"supplier": "SUP", "name": "Supplier"}])
    return engine


def _orders(engine) -> list[tuple[int, str, int]]:
    ln = t.purchase_order_lines.c
    with engine.connect() as conn:
        return sorted(conn.execute(select(ln.po_id, ln.location, ln.quantity)).all())


def _on_order(engine) -> dict[str, int]:
    s = t.stock.c
    with engine.connect() as conn:
        assert check_ledger(conn) == []
        return dict(conn.execute(select(s.location, s.on_order).where(s.sku == "A")).all())


def _approve(engine, actor: Actor, plan: PlanRun) -> purchasing.Approval:
    with writing(engine) as uow:
        return purchasing.approve_plan(uow, actor, plan)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("scope", [None, frozenset({"S"}), frozenset({"W"})],
                         ids=["all", "S", "W"])
def test_approval_per_role_and_location(shop, role, scope):
    actor = Actor(role, scope, name="someone")
    if role == "viewer":
        with pytest.raises(Forbidden):
            _approve(shop, actor, _plan())
        assert _orders(shop) == []
        return
    done = _approve(shop, actor, _plan())
    (po_id,) = done.created
    expected = sorted(scope or LOCATIONS)
    assert [(loc, q) for _, loc, q in _orders(shop)] == [(loc, 24) for loc in expected]
    assert {loc: q for loc, q in _on_order(shop).items() if q} == dict.fromkeys(expected, 24)
    for other in LOCATIONS:  # the order is visible only to actors who see all its lines
        viewer = Actor("viewer", frozenset({other}))
        with reading(shop) as uow:
            if set(expected) <= {other}:
                assert purchasing.get_order(uow, viewer, po_id).id == po_id
            else:
                with pytest.raises(NotFound):
                    purchasing.get_order(uow, viewer, po_id)


def test_two_locations_approving_one_supplier_each_get_their_order(shop):
    at_s = _approve(shop, Actor("planner", frozenset({"S"})), _plan())
    at_w = _approve(shop, Actor("planner", frozenset({"W"})), _plan())
    assert at_s.created and at_w.created and at_s.created != at_w.created
    assert _on_order(shop) == {"S": 24, "W": 24}


def test_replayed_approval_creates_nothing_and_answers_the_first_orders(shop):
    first = _approve(shop, SYSTEM, _plan())
    again = _approve(shop, SYSTEM, _plan())
    assert again.created == [] and again.purchase_orders == first.purchase_orders
    # a location approving after the whole plan was approved finds its line taken
    local = _approve(shop, Actor("planner", frozenset({"S"})), _plan())
    assert local.created == [] and local.purchase_orders == first.purchase_orders
    assert _on_order(shop) == {"S": 24, "W": 24}


def test_unlimited_approval_after_a_local_one_orders_only_the_rest(shop):
    local = _approve(shop, Actor("planner", frozenset({"S"})), _plan())
    rest = _approve(shop, SYSTEM, _plan())
    assert rest.purchase_orders == local.created + rest.created
    assert [(loc, q) for po, loc, q in _orders(shop) if po in rest.created] == [("W", 24)]


def test_a_new_plan_can_be_approved_the_same_day(shop):
    first = _approve(shop, SYSTEM, _plan("run-1", 24))
    second = _approve(shop, SYSTEM, _plan("run-2", 30))  # re-planned after new sales
    assert second.created and set(second.created).isdisjoint(first.created)
    assert _on_order(shop) == {"S": 54, "W": 54}


@pytest.mark.parametrize("same_lines", [True, False], ids=["same-lines", "two-locations"])
def test_concurrent_approvals(shop, same_lines):
    """The first transaction holds its approval uncommitted while the second starts."""
    second_actor = SYSTEM if same_lines else Actor("planner", frozenset({"W"}))
    first_actor = SYSTEM if same_lines else Actor("planner", frozenset({"S"}))
    got: dict[str, object] = {}

    def second() -> None:
        try:
            got["second"] = _approve(shop, second_actor, _plan())
        except Exception as exc:  # pragma: no cover - reported by the assertion below
            got["second"] = exc

    with UnitOfWork(shop) as uow:
        first = purchasing.approve_plan(uow, first_actor, _plan())
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.5)  # the second is now waiting on the first's write lock / key
        uow.commit()
    thread.join(30)
    other = got["second"]
    assert isinstance(other, purchasing.Approval), other
    if same_lines:
        assert other.created == [] and other.purchase_orders == first.created
    else:
        assert other.created and other.created != first.created
    with shop.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.purchase_orders)).scalar() \
            == (1 if same_lines else 2)
    assert _on_order(shop) == {"S": 24, "W": 24}


def test_create_order_outside_the_scope_is_not_found(shop):
    with writing(shop) as uow, pytest.raises(NotFound):
        purchasing.create_order(uow, Actor("planner", frozenset({"S"})), "SUP",
                                [OrderLine("A", "W", 5)])
