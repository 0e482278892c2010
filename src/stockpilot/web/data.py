"""What the pages show, read from the ledger (SQL) and the history store (Parquet).

Thin on purpose: positions come from :mod:`stockpilot.ledger.positions`, suggestions from the
planning run's ``plans/latest``, forecasts from ``forecasts/latest``; this module only selects
one user's view of them (their locations) and shapes it for templates and charts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Engine, bindparam, select

from stockpilot.alerts.inputs import arrivals
from stockpilot.alerts.projection import ARRIVALS_SCHEMA, project
from stockpilot.domain.movements import MovementKind
from stockpilot.errors import NotFound
from stockpilot.ledger.positions import Position, positions_query
from stockpilot.store import schema as t
from stockpilot.store.history import HistoryStore
from stockpilot.web.cache import HistoryCache, Indexed
from stockpilot.web.users import User

FAN = ("q0.025", "q0.165", "q0.25", "q0.5", "q0.75", "q0.835", "q0.975")
HISTORY_DAYS = 182  # demand history kept in memory per series (the chart shows 120 days)
SHOWN_DAYS = 120


def _uid_cols() -> list[pl.Expr]:
    parts = pl.col("unique_id").str.split_exact("@", 1)
    return [parts.struct.field("field_0").alias("sku"),
            parts.struct.field("field_1").alias("location")]


@dataclass
class Sources:
    """The workspace's stores and the in-memory indexes over its history parts."""

    engine: Engine
    history: HistoryStore

    def __post_init__(self) -> None:
        self.cache = HistoryCache(self.history)

    @property
    def workspace(self) -> Path:
        """The workspace folder (the history store's parent by default)."""
        return self.history.root.parent

    def forecasts(self) -> Indexed | None:
        """``forecasts/latest`` by series (``sku@location``): ds, mean, the fan's quantiles."""
        def build() -> Indexed:
            df = self.history.read("forecasts", "latest")
            keep = [c for c in FAN if c in df.columns]
            return Indexed(df.select("unique_id", "sku", "location", "ds",
                                     pl.col("mean").cast(pl.Float32),
                                     *[pl.col(c).cast(pl.Float32) for c in keep])
                           .sort("unique_id", "ds"), "unique_id")
        return self.cache.get("forecasts", self.cache.part_files("forecasts", "latest"), build)  # type: ignore[return-value]

    def plans(self) -> Indexed | None:
        """``plans/latest`` by series (one row per SKU-location)."""
        def build() -> Indexed:
            df = self.history.read("plans", "latest")
            return Indexed(df.with_columns(_uid_cols()), "unique_id")
        return self.cache.get("plans", self.cache.part_files("plans", "latest"), build)  # type: ignore[return-value]

    def plan_frame(self) -> pl.DataFrame | None:
        """The whole latest plan with ``sku`` and ``location`` columns."""
        idx = self.plans()
        return idx.df if idx is not None else None

    def demand(self) -> Indexed | None:
        """The last :data:`HISTORY_DAYS` of daily demand (all sources summed) by series."""
        def build() -> Indexed:
            lf = self.history.scan("daily")
            assert lf is not None
            end = lf.select(pl.col("date").max()).collect().item()
            df = (lf.filter(pl.col("date") > end - timedelta(days=HISTORY_DAYS))
                  .group_by("sku", "location", "date").agg(pl.col("units").sum())
                  .sort("sku", "location", "date").collect())
            return Indexed(df.with_columns((pl.col("sku") + "@" + pl.col("location"))
                                           .alias("unique_id")), "unique_id")
        return self.cache.get("daily", self.cache.part_files("daily"), build)  # type: ignore[return-value]

    def recommender(self) -> Any:
        """The recommender saved by ``stockpilot recommend train`` (None when there is none)."""
        from stockpilot.recommend.service import FILE, load

        folder = self.workspace / "models" / "recommend"
        return self.cache.get("recommender", [folder / FILE], lambda: load(folder))

    def simulation(self) -> pl.DataFrame | None:
        """The KPI rows of the last simulation saved in the workspace (``simulations``)."""
        return self.cache.get("simulation", self.cache.part_files("simulations", "latest"),  # type: ignore[return-value]
                              lambda: self.history.read("simulations", "latest"))


# --- the SKU page ----------------------------------------------------------------------------

@lru_cache(maxsize=4)
def _statements(today: date) -> dict[str, Any]:
    """The SKU page's queries, built once a day with bound parameters.

    Building SQLAlchemy statements per request cost more than running them (measured).
    """
    s, lo, m = t.stock.c, t.lots.c, t.movements.c
    return {
        "positions": positions_query(today).where(s.sku == bindparam("k_sku")),
        "item": select(t.skus.c.name, t.skus.c.unit_cost, t.skus.c.price)
        .where(t.skus.c.sku == bindparam("k_sku")),
        "lots": select(lo.lot_code, lo.expiry, lo.on_hand, lo.reserved)
        .where(lo.sku == bindparam("k_sku"), lo.location == bindparam("k_loc"), lo.on_hand > 0)
        .order_by(lo.expiry, lo.lot_code),
        "movements": select(m.occurred_at, m.kind, m.on_hand_delta, m.reserved_delta,
                            m.lot_code, m.reference, m.event_id)
        .where(m.sku == bindparam("k_sku"), m.location == bindparam("k_loc"))
        .order_by(m.occurred_at.desc(), m.id.desc()).limit(30),
    }


def sku_page(src: Sources, user: User, sku: str, location: str | None) -> dict[str, Any]:
    """Everything the SKU page shows for one SKU at one of the user's locations."""
    q = _statements(datetime.now(UTC).date())
    with src.engine.connect() as conn:
        positions = [Position(**r._mapping) for r in conn.execute(q["positions"],
                                                                  {"k_sku": sku})]
        positions = [p for p in positions if user.sees(p.location)]
        item = conn.execute(q["item"], {"k_sku": sku}).first()
        if item is None or not positions:
            raise NotFound(f"no SKU {sku!r} at your locations")
        here = next((p for p in positions if p.location == location), positions[0])
        loc = here.location
        key = {"k_sku": sku, "k_loc": loc}
        lots = [dict(r._mapping) for r in conn.execute(q["lots"], key)]
        moves = [{**r._mapping, "kind": _kind(r.kind)} for r in conn.execute(q["movements"], key)]
        coming = arrivals(conn, [(sku, loc)])
    plan = _plan_row(src, sku, loc)
    return {"sku": sku, "name": item.name, "unit_cost": item.unit_cost, "price": item.price,
            "location": loc, "position": here, "positions": positions, "plan": plan,
            "lots": lots, "movements": moves,
            "chart": sku_chart(src, sku, loc, here, plan, coming)}


def _plan_row(src: Sources, sku: str, loc: str) -> dict[str, Any] | None:
    idx = src.plans()
    if idx is None:
        return None
    rows = idx.get(f"{sku}@{loc}")
    return rows.row(0, named=True) if rows.height else None


def sku_chart(src: Sources, sku: str, loc: str, pos: Position,
              plan: dict[str, Any] | None, coming: pl.DataFrame | None = None
              ) -> dict[str, Any]:
    """Chart data: demand history, forecast quantile bands, projected stock, ROP and OUT.

    The projected stock is the alerts' projection (:func:`stockpilot.alerts.projection.project`):
    available today, the forecast mean out each day, open POs and transfers (``coming``) in
    on their expected dates.
    """
    out: dict[str, Any] = {"uid": f"{sku}@{loc}", "history": [], "fan": None,
                           "projected": [], "reorder_point": None, "order_up_to": None}
    demand = src.demand()
    if demand is not None:
        out["history"] = _filled(demand.get(out["uid"]))
    fc_idx = src.forecasts()
    fc = fc_idx.get(out["uid"]) if fc_idx else None
    if fc is not None and fc.height:
        ds = [d.isoformat() for d in fc["ds"].to_list()]
        out["fan"] = {"ds": ds, **{q: [round(v, 2) for v in fc[q].to_list()]
                                   for q in FAN if q in fc.columns}}
        uid = out["uid"]
        start = pl.DataFrame({"unique_id": [uid], "available": [max(pos.available, 0)]})
        arr = coming if coming is not None else pl.DataFrame(schema=ARRIVALS_SCHEMA)
        # arrivals keep their distance from today on the forecast's calendar (a replayed
        # data set's forecast may start years before today)
        first = fc["ds"].min()
        shift = first - datetime.now(UTC).date()  # type: ignore[operator]
        arr = arr.with_columns(pl.col("expected_at") + shift)
        proj = project(start, fc.select(pl.lit(uid).alias("unique_id"), "ds", "mean"), arr,
                       first, fc.height)
        out["projected"] = [[d.isoformat(), round(v, 1)] for d, v in
                            zip(proj["ds"].to_list(), proj["projected"].to_list(), strict=True)]
    if plan:
        out["reorder_point"] = plan.get("reorder_point")
        out["order_up_to"] = plan.get("order_up_to")
    return out


def _filled(h: pl.DataFrame) -> list[list[Any]]:
    """The last :data:`SHOWN_DAYS` days of demand with missing days as 0."""
    if h.is_empty():
        return []
    units = dict(zip(h["date"].to_list(), h["units"].to_list(), strict=True))
    end: date = max(units)
    n = min(SHOWN_DAYS, (end - min(units)).days + 1)
    days = [end - timedelta(days=n - 1 - i) for i in range(n)]
    return [[d.isoformat(), int(units.get(d, 0))] for d in days]


def _kind(code: int) -> str:
    try:
        return MovementKind(code).label
    except ValueError:
        return str(code)


# --- lists -----------------------------------------------------------------------------------

def search_skus(src: Sources, user: User, text: str, limit: int = 20) -> list[dict[str, Any]]:
    """SKUs whose id or name contains ``text``, with their visible locations' availability."""
    s = t.skus.c
    like = f"%{text}%"
    with src.engine.connect() as conn:
        rows = conn.execute(select(s.sku, s.name).where((s.sku.ilike(like)) | (s.name.ilike(like)))
                            .order_by(s.sku).limit(limit)).all()
    return [{"sku": r.sku, "name": r.name} for r in rows]


def suggestions(src: Sources, user: User) -> dict[str, list[dict[str, Any]]]:
    """Today's order suggestions (quantity > 0) at the user's locations, by supplier."""
    plan = src.plan_frame()
    if plan is None:
        return {}
    due = plan.filter(pl.col("order_qty") > 0)
    if user.locations is not None:
        due = due.filter(pl.col("location").is_in(sorted(user.locations)))
    out: dict[str, list[dict[str, Any]]] = {}
    for r in due.sort("supplier", "order_value", descending=[False, True]).iter_rows(named=True):
        out.setdefault(r["supplier"], []).append(r)
    return out


def open_orders(src: Sources, user: User, limit: int = 50) -> list[dict[str, Any]]:
    """Recent purchase orders with lines at the user's locations (newest first)."""
    po, ln = t.purchase_orders.c, t.purchase_order_lines.c
    with src.engine.connect() as conn:
        rows = conn.execute(select(po.id, po.supplier, po.status, po.reference, po.created_at,
                                   ln.location, ln.quantity)
                            .join_from(t.purchase_orders, t.purchase_order_lines,
                                       po.id == ln.po_id)
                            .order_by(po.id.desc())).all()
    orders: dict[int, dict[str, Any]] = {}
    for r in rows:
        if not user.sees(r.location):
            continue
        o = orders.setdefault(r.id, {"id": r.id, "supplier": r.supplier, "status": r.status,
                                     "reference": r.reference, "created_at": r.created_at,
                                     "lines": 0, "units": 0})
        o["lines"] += 1
        o["units"] += r.quantity
    return list(orders.values())[:limit]


def approve_supplier(src: Sources, user: User, supplier: str, as_of: date | None = None
                     ) -> list[int]:
    """Turn one supplier's suggestions at the user's locations into a purchase order."""
    from stockpilot.jobs.plan import approve

    plan = src.plan_frame()
    if plan is None:
        raise NotFound("no plan yet: run `stockpilot plan` first")
    mine = plan.filter(pl.col("supplier") == supplier)
    if user.locations is not None:
        mine = mine.filter(pl.col("location").is_in(sorted(user.locations)))
    if mine.filter(pl.col("order_qty") > 0).is_empty():
        raise NotFound(f"no suggestions for supplier {supplier!r} at your locations")
    return approve(src.engine, mine.drop("sku", "location"), [supplier], as_of=as_of)
