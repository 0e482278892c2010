"""The report's sections computed from frames (no I/O): KPI trends, stock flow, waste, accuracy.

Every function takes polars frames already limited to the caller's locations (the use case
:mod:`stockpilot.usecases.reports` reads and scopes them) and returns one table of the report.
Weeks end on the report's ``as_of`` day and go back :data:`WEEKS` weeks.

Definitions (GLOSSARY, and Silver, Pyke & Thomas (2017) §2.6 for turns and cover):

* stock value — Σ on_hand × unit cost at the end of the week (today's balances with the
  ledger's later movements taken back out);
* fill rate — units sold ÷ units demanded in the week, where demanded raises censored
  (stockout) days to their seasonal baseline (:mod:`stockpilot.forecast.censoring`);
* turns — cost of goods sold over the trailing 28 days, annualised, ÷ stock value;
* days of cover — stock value ÷ cost of goods sold per day over the trailing 28 days.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from stockpilot.domain.movements import MovementKind as K

WEEKS = 12
TRAILING_DAYS = 28
SLOW_DAYS = 56  # no sale for 8 weeks with stock on hand: a slow mover

#: Ledger kinds grouped into the flow chart's series (reservations move no stock).
FLOW_GROUPS = {"receipts": (K.RECEIPT, K.TRANSFER_IN), "sales": (K.SALE, K.RETURN),
               "adjustments": (K.ADJUSTMENT, K.COUNT, K.TRANSFER_OUT),
               "write_offs": (K.WRITE_OFF,)}
MOVES_SCHEMA = {"sku": pl.Utf8, "location": pl.Utf8, "day": pl.Date, "kind": pl.Int64,
                "delta": pl.Int64}


def week_ends(as_of: date, weeks: int = WEEKS) -> list[date]:
    """The last day of each reported week, oldest first (the last one is ``as_of``)."""
    return [as_of - timedelta(days=7 * (weeks - 1 - i)) for i in range(weeks)]


def stock_value_trend(pos: pl.DataFrame, moves: pl.DataFrame, ends: list[date]) -> list[float]:
    """Stock value at each week end: today's value less the value moved in after that day.

    Args:
        pos: ``sku, location, on_hand, unit_cost`` now.
        moves: ``sku, day, delta`` of on-hand changes (any kinds) since the first week.
        ends: the week ends.
    """
    now = float((pos["on_hand"] * pos["unit_cost"]).sum()) if pos.height else 0.0
    cost = pos.select("sku", "unit_cost").unique("sku")
    valued = moves.join(cost, on="sku", how="left").with_columns(
        (pl.col("delta") * pl.col("unit_cost").fill_null(0.0)).alias("v"))
    return [now - float(valued.filter(pl.col("day") > d)["v"].sum()) for d in ends]


def weekly_sales(sales: pl.DataFrame, ends: list[date]) -> pl.DataFrame:
    """``week_end, units, demand, cogs`` per week from daily ``day, units, demand, cogs``."""
    weeks = pl.DataFrame({"week_end": ends}, schema={"week_end": pl.Date})
    if sales.is_empty():
        return weeks.with_columns(*(pl.lit(0.0).alias(c) for c in ("units", "demand", "cogs")))
    first = ends[0] - timedelta(days=6)
    tagged = sales.filter(pl.col("day").is_between(first, ends[-1])).with_columns(
        (pl.lit(ends[-1]) - pl.duration(days=((pl.lit(ends[-1]) - pl.col("day"))
                                             .dt.total_days() // 7) * 7))
        .cast(pl.Date).alias("week_end"))
    agg = tagged.group_by("week_end").agg(pl.col("units").sum(), pl.col("demand").sum(),
                                          pl.col("cogs").sum())
    return weeks.join(agg, on="week_end", how="left").fill_null(0.0)


def trailing_cogs(sales: pl.DataFrame, ends: list[date]) -> list[float]:
    """Cost of goods sold per day over the :data:`TRAILING_DAYS` days up to each week end."""
    out = []
    for d in ends:
        win = sales.filter(pl.col("day").is_between(d - timedelta(days=TRAILING_DAYS - 1), d))
        out.append(float(win["cogs"].sum()) / TRAILING_DAYS if win.height else 0.0)
    return out


def kpi_trend(pos: pl.DataFrame, moves: pl.DataFrame, sales: pl.DataFrame,
              ends: list[date]) -> pl.DataFrame:
    """``week_end, fill_rate, stock_value, turns, days_of_cover`` (None where undefined)."""
    value = stock_value_trend(pos, moves, ends)
    week = weekly_sales(sales, ends)
    cogs_day = trailing_cogs(sales, ends)
    fill = [u / d if d > 0 else None for u, d in zip(week["units"], week["demand"], strict=True)]
    turns = [c * 365 / v if v > 0 else None for c, v in zip(cogs_day, value, strict=True)]
    cover = [v / c if c > 0 else None for c, v in zip(cogs_day, value, strict=True)]
    return pl.DataFrame({"week_end": ends, "fill_rate": fill, "stock_value": value,
                         "turns": turns, "days_of_cover": cover},
                        schema={"week_end": pl.Date, "fill_rate": pl.Float64,
                                "stock_value": pl.Float64, "turns": pl.Float64,
                                "days_of_cover": pl.Float64})


def stock_flow(moves: pl.DataFrame, ends: list[date]) -> pl.DataFrame:
    """Units per week by flow group: ``week_end, receipts, sales, adjustments, write_offs``.

    Sales and write-offs are shown as positive units out; adjustments keep their sign.
    """
    weeks = pl.DataFrame({"week_end": ends}, schema={"week_end": pl.Date})
    group = pl.lit(None, pl.Utf8)
    for name, kinds in FLOW_GROUPS.items():
        group = pl.when(pl.col("kind").is_in([int(k) for k in kinds])).then(pl.lit(name)) \
            .otherwise(group)
    last = pl.lit(ends[-1])
    df = moves.filter(pl.col("day").is_between(ends[0] - timedelta(days=6), ends[-1])) \
        .with_columns(group.alias("group"), (last - pl.duration(
            days=((last - pl.col("day")).dt.total_days() // 7) * 7)).cast(pl.Date)
            .alias("week_end")).drop_nulls("group")
    wide = df.group_by("week_end", "group").agg(pl.col("delta").sum()).pivot(
        on="group", index="week_end", values="delta") if df.height else pl.DataFrame(
        schema={"week_end": pl.Date})
    for name in FLOW_GROUPS:
        if name not in wide.columns:
            wide = wide.with_columns(pl.lit(0, pl.Int64).alias(name))
    out = weeks.join(wide, on="week_end", how="left").fill_null(0)
    return out.select("week_end", "receipts", (-pl.col("sales")).alias("sales"),
                      "adjustments", (-pl.col("write_offs")).alias("write_offs"))


def value_by_class(pos: pl.DataFrame, plan: pl.DataFrame | None) -> pl.DataFrame:
    """``abc, skus, on_hand, stock_value`` (``-``: not in the plan), largest value first."""
    cls = (plan.select("sku", "location", pl.col("klass").str.slice(0, 1).alias("abc"))
           if plan is not None and "klass" in plan.columns
           else pl.DataFrame(schema={"sku": pl.Utf8, "location": pl.Utf8, "abc": pl.Utf8}))
    df = pos.join(cls, on=["sku", "location"], how="left").with_columns(
        pl.col("abc").fill_null("-"), (pl.col("on_hand") * pl.col("unit_cost")).alias("v"))
    return df.group_by("abc").agg(pl.col("sku").n_unique().alias("skus"),
                                  pl.col("on_hand").sum(), pl.col("v").sum().alias(
                                      "stock_value")).sort("stock_value", descending=True)


def excess(pos: pl.DataFrame, plan: pl.DataFrame | None) -> pl.DataFrame:
    """Stock above the plan's order-up-to level: ``excess_units`` and ``excess_value``."""
    if plan is None or "order_up_to" not in plan.columns or pos.is_empty():
        return pl.DataFrame(schema={"sku": pl.Utf8, "location": pl.Utf8, "on_hand": pl.Int64,
                                    "order_up_to": pl.Int64, "excess_units": pl.Int64,
                                    "excess_value": pl.Float64})
    df = pos.join(plan.select("sku", "location", pl.col("order_up_to").cast(pl.Int64)),
                  on=["sku", "location"])
    return df.with_columns((pl.col("on_hand") + pl.col("on_order") - pl.col("order_up_to"))
                           .alias("excess_units")).filter(pl.col("excess_units") > 0) \
        .with_columns((pl.col("excess_units") * pl.col("unit_cost")).alias("excess_value")) \
        .select("sku", "location", "on_hand", "order_up_to", "excess_units", "excess_value") \
        .sort("excess_value", "sku", descending=[True, False])


def slow_movers(pos: pl.DataFrame, last_sale: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """Stock on hand with no sale in :data:`SLOW_DAYS` days (or never): oldest first."""
    df = pos.filter(pl.col("on_hand") > 0).join(last_sale, on=["sku", "location"], how="left")
    df = df.with_columns((pl.lit(as_of) - pl.col("last_sale")).dt.total_days()
                         .alias("days_since_sale"),
                         (pl.col("on_hand") * pl.col("unit_cost")).alias("stock_value"))
    return df.filter(pl.col("days_since_sale").is_null()
                     | (pl.col("days_since_sale") >= SLOW_DAYS)).select(
        "sku", "location", "on_hand", "last_sale", "days_since_sale", "stock_value").sort(
        "stock_value", "sku", descending=[True, False])


def expected_waste(lots: pl.DataFrame, use_by: dict[tuple[str, str, date], float],
                   costs: dict[str, float]) -> pl.DataFrame:
    """Per lot: units expected to be sold before expiry (first expired, first out) and waste.

    Args:
        lots: ``sku, location, lot_code, expiry, on_hand`` of lots expiring in the window.
        use_by: forecast demand of (sku, location) from today through each expiry day.
        costs: unit cost per SKU.

    A lot is sold after the earlier-expiring lots of its series; what demand up to its expiry
    leaves unsold is waste. A loop over lots, not SKU-days: few lots expire in any window.
    """
    rows: list[dict[str, object]] = []
    used: dict[tuple[str, str], float] = {}
    for r in lots.sort("sku", "location", "expiry", "lot_code").iter_rows(named=True):
        key = (r["sku"], r["location"])
        demand = use_by.get((r["sku"], r["location"], r["expiry"]), 0.0)
        free = max(demand - used.get(key, 0.0), 0.0)
        sold = min(float(r["on_hand"]), free)
        used[key] = used.get(key, 0.0) + sold
        waste = r["on_hand"] - sold
        rows.append({**r, "expected_sold": round(sold, 1), "expected_waste": round(waste, 1),
                     "waste_value": round(waste * costs.get(r["sku"], 0.0), 2)})
    return pl.DataFrame(rows, schema={**lots.schema, "expected_sold": pl.Float64,
                                      "expected_waste": pl.Float64,
                                      "waste_value": pl.Float64})


def accuracy_by_class(pairs: pl.DataFrame, classes: pl.DataFrame) -> pl.DataFrame:
    """``abc, series, days, actual, forecast, wape, bias`` from ``unique_id, ds, y, mean``.

    WAPE = Σ|y − ŷ| ÷ Σy; bias = Σ(ŷ − y) ÷ Σy (positive: over-forecast). Hyndman &
    Athanasopoulos (2021) §5.8 on scaled and percentage errors; WAPE stays defined for
    intermittent series where MAPE does not.
    """
    df = pairs.join(classes, on="unique_id", how="left").with_columns(
        pl.col("abc").fill_null("-"))
    out = df.group_by("abc").agg(
        pl.col("unique_id").n_unique().alias("series"), pl.col("ds").n_unique().alias("days"),
        pl.col("y").sum().alias("actual"), pl.col("mean").sum().alias("forecast"),
        (pl.col("y") - pl.col("mean")).abs().sum().alias("abs_err"))
    return out.with_columns(
        pl.when(pl.col("actual") > 0).then(pl.col("abs_err") / pl.col("actual")).alias("wape"),
        pl.when(pl.col("actual") > 0).then((pl.col("forecast") - pl.col("actual"))
                                           / pl.col("actual")).alias("bias"),
    ).drop("abs_err").sort("abc")
