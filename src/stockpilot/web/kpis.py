"""The overview's KPIs, each with a short trend for its sparkline and the list behind it.

The stock counts (out of stock, projected stockouts, below reorder point, overstock) are the
definitions of :mod:`stockpilot.usecases.kpis`, counted over the SKU worklist's rows
(:func:`stockpilot.usecases.worklist_frames.stock_table`): a card's number is the length of
the list it links to, and the alert rules raise on the same definitions.

* stock value — Σ on_hand × unit cost (the catalogue's, else the primary supplier's) now;
  the trend replays the ledger's movements backwards
  over the last 28 days (value at the end of each day);
* below reorder point — inventory position ≤ the plan's reorder point (the ``low_stock``
  rule); the trend replays available stock backwards (on-order history is not kept);
* projected stockouts — the ``projected_stockout`` rule: projected stock runs out within
  the lead time; the trend is that count by day ahead (a look forward, not back);
* out of stock — available ≤ 0 now; overstock — above order-up-to with > 90 days of cover;
* order value — Σ the latest plan's due suggestions (order_qty × unit cost);
* fill rate, last 28 days — Σ sales ÷ Σ demand, where demand is sales with censored
  (stockout) days raised to their seasonal baseline (:mod:`stockpilot.forecast.censoring`);
  daily values for the sparkline;
* open alerts — open or acknowledged alerts now; trend: how many were open at each day's end.

"Today" is the data's own last day (the newest of daily history and ledger movements), so a
workspace replaying an old data set reads as of its own date.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

import polars as pl

from stockpilot.domain.series import unique_id
from stockpilot.store.uow import reading
from stockpilot.usecases import alerts, kpis, stock, worklist_frames
from stockpilot.usecases.actor import Actor as User
from stockpilot.web.data import Sources

WINDOW = 28
TTL_SECONDS = 30.0
_memo: dict[tuple[int, frozenset[str] | None], tuple[float, dict[str, Any]]] = {}


def overview(src: Sources, user: User) -> dict[str, Any]:
    """KPIs for the user's locations (memoised for :data:`TTL_SECONDS`)."""
    key = (id(src), user.locations)
    hit = _memo.get(key)
    if hit is not None and time.monotonic() - hit[0] < TTL_SECONDS:
        return hit[1]
    value = _compute(src, user)
    _memo[key] = (time.monotonic(), value)
    return value


def _compute(src: Sources, user: User) -> dict[str, Any]:
    with reading(src.engine) as uow:
        pos = pl.DataFrame([p.to_dict() for p in stock.positions(uow, user)],
                           schema={"sku": pl.Utf8, "location": pl.Utf8, "on_hand": pl.Int64,
                                   "reserved": pl.Int64, "available": pl.Int64,
                                   "on_order": pl.Int64, "projected": pl.Int64,
                                   "expired": pl.Int64})
        cost = pl.DataFrame(list(stock.unit_costs(uow, user).items()),
                            schema={"sku": pl.Utf8, "unit_cost": pl.Float64}, orient="row")
        as_of = _as_of(stock.last_movement_day(uow), src)
        moves = _moves(uow, as_of, user)
        timeline = alerts.timeline(uow, user)
        table = worklist_frames.stock_table(uow, src.store, user)
    pos = pos.join(cost, on="sku", how="left").with_columns(pl.col("unit_cost").fill_null(0.0))
    plan = src.plan_frame()
    n = kpis.counts(table)
    due = worklist_frames.suggestion_table(table)
    return {"as_of": as_of, "skus": pos.height,
            "stock_value": _stock_value(pos, moves, as_of),
            "below_rop": {**_below_rop(pos, plan, moves, as_of), "value": n["reorder"]},
            "stockouts": _stockouts(table, n["stockout"]),
            "out_of_stock": {"value": n["out"], "trend": []},
            "overstock": {"value": n["overstock"], "trend": []},
            "order_value": {"value": float(due["order_value"].fill_null(0).sum()),
                            "lines": due.height, "trend": []},
            "fill_rate": _fill_rate(src, as_of, user),
            "alerts": _open_alerts(timeline)}


def _as_of(last_move: date | None, src: Sources) -> date:
    days = [last_move] if last_move is not None else []
    demand = src.demand()
    if demand is not None and demand.df.height:
        last = demand.df["date"].max()
        if isinstance(last, date):
            days.append(last)
    return max(days) if days else datetime.now(UTC).date()


def _days(as_of: date) -> list[date]:
    return [as_of - timedelta(days=WINDOW - 1 - i) for i in range(WINDOW)]


def _moves(uow: Any, as_of: date, user: User) -> pl.DataFrame:
    """On-hand changes after each of the window's days: sku, location, day, delta."""
    start = datetime.combine(as_of - timedelta(days=WINDOW - 1), datetime.min.time(), UTC)
    df = pl.DataFrame(stock.on_hand_changes(uow, user, start),
                      schema={"sku": pl.Utf8, "location": pl.Utf8, "day": pl.Date,
                              "delta": pl.Int64}, orient="row")
    return df.group_by("sku", "location", "day").agg(pl.col("delta").sum())


def _after(moves: pl.DataFrame, day: date) -> pl.DataFrame:
    return (moves.filter(pl.col("day") > day).group_by("sku", "location")
            .agg(pl.col("delta").sum().alias("later")))


def _stock_value(pos: pl.DataFrame, moves: pl.DataFrame, as_of: date) -> dict[str, Any]:
    now = float((pos["on_hand"] * pos["unit_cost"]).sum()) if pos.height else 0.0
    cost = pos.select("sku", "unit_cost").unique("sku")
    trend = []
    for day in _days(as_of):
        later = _after(moves, day).join(cost, on="sku", how="left")
        trend.append(now - float((later["later"] * later["unit_cost"].fill_null(0)).sum()))
    return {"value": now, "trend": trend}


def _below_rop(pos: pl.DataFrame, plan: pl.DataFrame | None, moves: pl.DataFrame,
               as_of: date) -> dict[str, Any]:
    if plan is None or "reorder_point" not in plan.columns or pos.is_empty():
        return {"value": None, "trend": []}
    df = pos.join(plan.select("sku", "location", "reorder_point"), on=["sku", "location"])
    trend = []
    for day in _days(as_of):
        then = df.join(_after(moves, day), on=["sku", "location"], how="left").with_columns(
            (pl.col("available") - pl.col("later").fill_null(0)).alias("a"))
        trend.append(int((then["a"] <= then["reorder_point"]).sum()))
    return {"value": trend[-1], "trend": trend}


def _stockouts(table: pl.DataFrame, value: int) -> dict[str, Any]:
    """The ``projected_stockout`` count, and by day ahead how many have run out by then."""
    days = table.filter(pl.col("is_stockout"))["stockout_day"].drop_nulls()
    horizon = int(cast(int, table["lead_days"].max())) if days.len() else 0
    trend = [int((days <= d).sum()) for d in range(1, horizon + 1)]
    return {"value": value, "trend": trend}


def _fill_rate(src: Sources, as_of: date, user: User) -> dict[str, Any]:
    from stockpilot.forecast.censoring import impute_censored

    demand = src.demand()
    if demand is None:
        return {"value": None, "trend": []}
    start = as_of - timedelta(days=WINDOW - 1)
    d = demand.df.filter(pl.col("date").is_between(start - timedelta(days=63), as_of))
    if user.locations is not None:
        d = d.filter(pl.col("location").is_in(sorted(user.locations)))
    d = d.select(unique_id(),
                 pl.col("date").alias("ds"), pl.col("units").cast(pl.Float64).alias("y"))
    censored = src.history.scan("stockouts")
    if censored is not None:
        c = censored.collect().select(unique_id(), pl.col("date").alias("ds"))
        demanded = impute_censored(d, c).rename({"y": "demand"})
    else:
        demanded = d.rename({"y": "demand"})
    both = d.join(demanded, on=["unique_id", "ds"]).filter(pl.col("ds") >= start)
    daily = both.group_by("ds").agg(pl.col("y").sum(), pl.col("demand").sum()).sort("ds")
    total = float(daily["demand"].sum())
    trend = [float(y / dem) if dem > 0 else 1.0 for y, dem in
             zip(daily["y"], daily["demand"], strict=True)]
    return {"value": float(daily["y"].sum()) / total if total > 0 else None, "trend": trend}


def _open_alerts(rows: list[Any]) -> dict[str, Any]:
    today = datetime.now(UTC).date()
    trend = []
    for day in _days(today):
        end = datetime.combine(day + timedelta(days=1), datetime.min.time(), UTC)
        trend.append(sum(_aware(r.created_at) < end and not (
            r.status == "resolved" and _aware(r.updated_at) < end) for r in rows))
    return {"value": sum(r.status != "resolved" for r in rows), "trend": trend}


def _aware(ts: datetime) -> datetime:
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def sparkline(values: list[float], width: int = 120, height: int = 28) -> str:
    """An inline SVG polyline of ``values`` (drawn server-side: no JavaScript needed)."""
    pts = [v for v in values if v is not None]
    if len(pts) < 2:
        return ""
    lo, hi = min(pts), max(pts)
    span = (hi - lo) or 1.0
    step = width / (len(pts) - 1)
    coords = " ".join(f"{i * step:.1f},{height - 2 - (v - lo) / span * (height - 4):.1f}"
                      for i, v in enumerate(pts))
    return (f'<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" '
            f'height="{height}" aria-hidden="true"><polyline fill="none" stroke="currentColor" '
            f'stroke-width="1.5" points="{coords}"/></svg>')
