"""What the pages show: use cases for the ledger (SQL), the artifact store for derived data.

Thin on purpose: positions, lots, movements and orders come from :mod:`stockpilot.usecases`
(limited to the user's locations there), the plan and forecast from the artifact store's one
cache; this module only shapes them for templates and charts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import polars as pl

from stockpilot.alerts.inputs import arrivals
from stockpilot.alerts.projection import ARRIVALS_SCHEMA, project
from stockpilot.domain.series import SeriesKey, unique_id
from stockpilot.ledger.positions import Position
from stockpilot.store.artifacts import ArtifactStore, Indexed
from stockpilot.store.history import HistoryStore
from stockpilot.store.uow import reading
from stockpilot.usecases import catalogue, simulations, stock
from stockpilot.usecases.actor import Actor

if TYPE_CHECKING:
    from stockpilot.store.db import Engine

FAN = ("q0.025", "q0.165", "q0.25", "q0.5", "q0.75", "q0.835", "q0.975")
HISTORY_DAYS = 182  # demand history kept in memory per series (the chart shows 120 days)
SHOWN_DAYS = 120


@dataclass
class Sources:
    """The workspace's database and artifact store, with in-memory indexes over its parts."""

    engine: Engine
    history: HistoryStore
    artifacts: ArtifactStore | None = field(default=None)

    def __post_init__(self) -> None:
        if self.artifacts is None:
            self.artifacts = ArtifactStore(self.history)
        self.store: ArtifactStore = self.artifacts

    @property
    def workspace(self) -> Path:
        """The workspace folder (the history store's parent by default)."""
        return self.history.root.parent

    def forecasts(self) -> Indexed | None:
        """``forecasts/latest`` by series (``sku@location``): ds, mean, the fan's quantiles."""
        def build() -> Indexed:
            df = self.store.forecast()
            keep = [c for c in FAN if c in df.columns]
            return Indexed(df.select("unique_id", "sku", "location", "ds",
                                     pl.col("mean").cast(pl.Float32),
                                     *[pl.col(c).cast(pl.Float32) for c in keep])
                           .sort("unique_id", "ds"), "unique_id")
        return self.store.cached("web:forecasts", "forecasts", "latest", build)

    def plans(self) -> Indexed | None:
        """``plans/latest`` by series (one row per SKU-location)."""
        return self.store.cached("web:plans", "plans", "latest",
                                 lambda: Indexed(self.store.plan().frame, "unique_id"))

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
            return Indexed(df.with_columns(unique_id()), "unique_id")
        return self.store.cached("web:daily", "daily", None, build)

    def recommender(self) -> Any:
        """The served recommender (``[stockpilot.recommend] model``; None when not trained)."""
        from stockpilot.config import load_settings
        from stockpilot.recommend.service import load, path_of

        name = load_settings(self.workspace).recommend.model
        folder = self.workspace / "models" / "recommend"
        return self.store.cache.get(f"recommender:{name}", [path_of(folder, name)],
                                    lambda: load(folder, name))

    def simulation(self, user: Actor) -> list[dict[str, Any]]:
        """The KPI rows of the newest stored simulation (SQL, as the CLI and API store them)."""
        with reading(self.engine) as uow:
            return simulations.latest_rows(uow, user)


# --- the SKU page ----------------------------------------------------------------------------

def sku_page(src: Sources, user: Actor, sku: str, location: str | None) -> dict[str, Any]:
    """Everything the SKU page shows for one SKU at one of the user's locations."""
    with reading(src.engine) as uow:
        v = stock.sku_view(uow, user, sku, location)
        coming = arrivals(uow.conn, [(sku, v.location)])
    plan = _plan_row(src, sku, v.location)
    return {"sku": sku, "name": v.name, "unit_cost": v.unit_cost, "price": v.price,
            "location": v.location, "position": v.position, "positions": v.positions,
            "plan": plan, "lots": v.lots, "movements": v.movements,
            "chart": sku_chart(src, sku, v.location, v.position, plan, coming)}


def _plan_row(src: Sources, sku: str, loc: str) -> dict[str, Any] | None:
    idx = src.plans()
    if idx is None:
        return None
    rows = idx.get(str(SeriesKey(sku, loc)))
    return rows.row(0, named=True) if rows.height else None


def sku_chart(src: Sources, sku: str, loc: str, pos: Position,
              plan: dict[str, Any] | None, coming: pl.DataFrame | None = None
              ) -> dict[str, Any]:
    """Chart data: demand history, forecast quantile bands, projected stock, ROP and OUT.

    The projected stock is the alerts' projection (:func:`stockpilot.alerts.projection.project`):
    available today, the forecast mean out each day, open POs and transfers (``coming``) in
    on their expected dates.
    """
    out: dict[str, Any] = {"uid": str(SeriesKey(sku, loc)), "history": [], "returns": [],
                           "fan": None, "projected": [], "reorder_point": None,
                           "order_up_to": None}
    demand = src.demand()
    if demand is not None:
        # a day's net units below zero are returns: drawn apart, not as negative demand
        days = _filled(demand.get(out["uid"]))
        out["history"] = [[d, max(u, 0)] for d, u in days]
        out["returns"] = [[d, u] for d, u in days if u < 0]
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
        first = cast(date, fc["ds"].min())
        shift = first - datetime.now(UTC).date()
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


# --- lists -----------------------------------------------------------------------------------

def search_skus(src: Sources, user: Actor, text: str, limit: int = 20) -> list[dict[str, Any]]:
    """SKUs whose id or name contains ``text``."""
    with reading(src.engine) as uow:
        return catalogue.search_skus(uow, user, text, limit)
