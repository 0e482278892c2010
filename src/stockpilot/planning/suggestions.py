"""Purchase-order suggestions per supplier, each line with a reason whose numbers add up.

Order-up-to level S = P50 demand over lead time + review plus safety stock for the class's
service level; the order is S − (on hand + on order − reserved), rounded to the supplier's pack
and MOQ. The reason repeats exactly those numbers, so a planner (and a test) can recompute it.
"""

from __future__ import annotations

import itertools

import numpy as np
import numpy.typing as npt
import polars as pl

from stockpilot.forecast.base import QUANTILES, qcol
from stockpilot.planning.budget import select_within_budget
from stockpilot.planning.expiry import expiry_aware_orders
from stockpilot.planning.policies import quantile_at, round_to_supplier

FORECAST = "forecast-quantiles"


def plan_orders(ltd: pl.DataFrame, positions: pl.DataFrame, terms: pl.DataFrame,
                classes: pl.DataFrame, review_days: int) -> pl.DataFrame:
    """Policy parameters and today's order suggestions, one row per SKU-location.

    Args:
        ltd: ``unique_id, days, mean, q…`` — demand over lead time + review (per series, the
            ``days`` must equal its lead_time_days + ``review_days``).
        positions: ``unique_id, on_hand, on_order, reserved``.
        terms: ``unique_id, supplier, lead_time_days, moq, pack_size, unit_cost``.
        classes: ``unique_id, klass, service_level``.
        review_days: the review period R.

    Returns:
        ``unique_id, supplier, klass, service_level, protection_days, p50, mean, safety_stock,
        order_up_to, on_hand, on_order, reserved, inventory_position, need, order_qty,
        order_value, reason`` (``order_qty`` 0 when nothing is due).
    """
    if "method" not in ltd.columns:
        ltd = ltd.with_columns(pl.lit(FORECAST).alias("method"))
    df = (ltd.join(terms, on="unique_id", how="inner")
          .join(classes.select("unique_id", "klass", "service_level"), on="unique_id",
                how="left")
          .join(positions, on="unique_id", how="left")
          .with_columns(pl.col("service_level").fill_null(0.95), pl.col("klass").fill_null("--"),
                        *[pl.col(c).fill_null(0) for c in ("on_hand", "on_order", "reserved")]))
    level = df["service_level"]
    s_level = np.ceil(quantile_at(df, level))
    p50 = np.round(quantile_at(df, 0.5))
    ip = (df["on_hand"] + df["on_order"] - df["reserved"]).to_numpy()
    need = np.maximum(s_level - ip, 0.0)
    qty = round_to_supplier(need, df["moq"].to_numpy().astype(float),
                            df["pack_size"].to_numpy().astype(float))
    out = df.with_columns(
        pl.Series("p50", p50), pl.Series("order_up_to", s_level),
        pl.Series("safety_stock", s_level - p50), pl.Series("inventory_position", ip),
        pl.Series("need", need), pl.Series("order_qty", qty),
        (pl.col("lead_time_days") + review_days).alias("protection_days"))
    out = out.with_columns((pl.col("order_qty") * pl.col("unit_cost").fill_null(0.0))
                           .alias("order_value"))
    ints = ("p50", "order_up_to", "safety_stock", "inventory_position", "need", "order_qty")
    out = out.with_columns([pl.col(c).cast(pl.Int64) for c in ints])
    return out.with_columns(_reason().alias("reason")).select(
        "unique_id", "supplier", "klass", "service_level", "lead_time_days", "protection_days",
        "method", "p50", "mean", "safety_stock", "order_up_to", "on_hand", "on_order", "reserved",
        "inventory_position", "need", "order_qty", "order_value", "reason")


def _reason() -> pl.Expr:
    """'P50 demand over lead time + review (9 d) 120; safety stock 35 for 97% (class AX); …'."""
    i = pl.col
    base = pl.format(
        "P50 demand over lead time + review ({} d{}) {}; safety stock {} for {}% (class {}); "
        "order-up-to {}; on hand {}, on order {}, reserved {} → position {}",
        i("protection_days"),
        pl.when(i("method") == FORECAST).then(pl.lit("")).otherwise(pl.lit(", ") + i("method")),
        i("p50").cast(pl.Int64), i("safety_stock").cast(pl.Int64),
        (i("service_level") * 100).round(1), i("klass"), i("order_up_to").cast(pl.Int64),
        i("on_hand"), i("on_order"), i("reserved"), i("inventory_position").cast(pl.Int64))
    order = pl.format("; need {}, rounded to pack {} and MOQ {} → order {}",
                      i("need").cast(pl.Int64), i("pack_size"), i("moq"),
                      i("order_qty").cast(pl.Int64))
    none = pl.lit("; position covers it → no order")
    return pl.when(i("order_qty") > 0).then(pl.concat_str([base, order])).otherwise(
        pl.concat_str([base, none]))


def expected_shortfall(ltd: pl.DataFrame, stock: npt.NDArray[np.float64]
                       ) -> npt.NDArray[np.float64]:
    """E[(D − x)⁺] per row, D given by its quantile columns (a step approximation of the tail).

    The nine quantiles split [0, 1] into bands; each band's demand is taken at its quantile
    (the loss function of Silver, Pyke & Thomas 2017, §6.7, evaluated on the empirical law).
    """
    q = ltd.select([qcol(t) for t in QUANTILES]).to_numpy()
    edges = np.array([0.0, *[(a + b) / 2 for a, b in itertools.pairwise(QUANTILES)], 1.0])
    weight = np.diff(edges)
    return np.maximum(q - stock[:, None], 0.0) @ weight


def prioritise(plan: pl.DataFrame, ltd: pl.DataFrame, price: pl.DataFrame,
               budgets: dict[str, float], holding_rate: float = 0.25) -> pl.DataFrame:
    """Rank order lines by expected marginal value and keep those that fit each budget.

    Value of a line = avoided lost margin − holding cost over the protection interval:
    (price − cost) · (E[(D − IP)⁺] − E[(D − IP − Q)⁺]) − h · cost · Q · days / 365.
    The selection is a 0/1 knapsack per supplier solved exactly with HiGHS (SciPy ``milp``);
    lines over budget are deferred (``order_qty`` 0, ``deferred_qty`` the suggestion).
    """
    due = plan.filter(pl.col("order_qty") > 0).join(price, on="unique_id", how="left") \
        .with_columns((pl.col("order_value") / pl.col("order_qty")).alias("unit_cost"))
    if due.is_empty():
        return plan.with_columns(pl.lit(None, pl.Int64).alias("priority"),
                                 pl.lit(0, pl.Int64).alias("deferred_qty"),
                                 pl.lit(None, pl.Float64).alias("marginal_value"))
    law = due.select("unique_id").join(ltd, on="unique_id", how="left")
    ip = due["inventory_position"].to_numpy().astype(float)
    qty = due["order_qty"].to_numpy().astype(float)
    avoided = expected_shortfall(law, ip) - expected_shortfall(law, ip + qty)
    cost = due["unit_cost"].fill_null(0.0).to_numpy()
    margin = np.maximum(due["price"].fill_null(0.0).to_numpy() - cost, 0.0)
    days = due["protection_days"].to_numpy().astype(float)
    value = margin * avoided - holding_rate * cost * qty * days / 365.0
    lines = due.select("unique_id", "supplier", pl.col("order_qty").alias("qty"),
                       pl.col("unit_cost").fill_null(0.0)).with_columns(pl.Series("value", value))
    chosen = select_within_budget(lines, budgets).select(
        "unique_id", "in_budget", pl.col("rank").alias("priority"),
        pl.col("value").alias("marginal_value"))
    out = plan.join(chosen, on="unique_id", how="left")
    deferred = pl.col("in_budget").is_not_null() & ~pl.col("in_budget")
    return out.with_columns(
        pl.when(deferred).then(pl.col("order_qty")).otherwise(0).alias("deferred_qty"),
        pl.when(deferred).then(0).otherwise(pl.col("order_qty")).alias("order_qty"),
        pl.when(deferred).then(0.0).otherwise(pl.col("order_value")).alias("order_value"),
        pl.when(pl.col("in_budget").is_null()).then(pl.col("reason"))
        .when(pl.col("in_budget")).then(pl.format("{}; priority {} (value {}) within the "
                                                   "budget", pl.col("reason"),
                                                   pl.col("priority"),
                                                   pl.col("marginal_value").round(2)))
        .otherwise(pl.format("{}; priority {} (value {}) is over the budget → deferred",
                             pl.col("reason"), pl.col("priority"),
                             pl.col("marginal_value").round(2))).alias("reason"),
    ).drop("in_budget")


def cap_for_expiry(plan: pl.DataFrame, shelf_life: pl.DataFrame, lots: pl.DataFrame
                   ) -> pl.DataFrame:
    """Cap orders of SKUs with a shelf life so forecast P50 sales use them before expiry.

    Args:
        plan: output of :func:`plan_orders` (with ``lead_time_days``).
        shelf_life: ``unique_id, shelf_life_days`` (SKUs without one are left alone).
        lots: ``unique_id, qty, days_to_expiry`` for the lots on hand.
    """
    todo = plan.join(shelf_life.filter(pl.col("shelf_life_days").is_not_null()),
                     on="unique_id", how="inner")
    if todo.is_empty():
        return plan.with_columns(pl.lit(None, pl.Float64).alias("expected_waste_units"))
    orders = todo.select(
        "unique_id", pl.col("order_qty").cast(pl.Float64),
        (pl.col("p50") / pl.col("protection_days")).alias("daily_p50"),
        "lead_time_days", "shelf_life_days")
    got = expiry_aware_orders(orders, lots).select(
        "unique_id", "shelf_life_days", "max_order_qty", "capped_order_qty",
        "expected_waste_units")
    out = plan.join(got, on="unique_id", how="left")
    capped = pl.col("capped_order_qty").is_not_null() & (
        pl.col("capped_order_qty") < pl.col("order_qty"))
    unit = pl.col("order_value") / pl.col("order_qty").cast(pl.Float64)
    return out.with_columns(
        pl.when(capped).then(pl.format(
            "{}; capped at {} so that P50 sales use it within its {} d shelf life → order {}, "
            "expected waste {}", pl.col("reason"), pl.col("max_order_qty").cast(pl.Int64),
            pl.col("shelf_life_days"), pl.col("capped_order_qty").cast(pl.Int64),
            pl.col("expected_waste_units").round(1)))
        .otherwise(pl.col("reason")).alias("reason"),
        pl.when(capped).then(unit * pl.col("capped_order_qty")).otherwise(pl.col("order_value"))
        .alias("order_value"),
        pl.when(capped).then(pl.col("capped_order_qty").cast(pl.Int64))
        .otherwise(pl.col("order_qty")).alias("order_qty"),
    ).drop("shelf_life_days", "max_order_qty", "capped_order_qty")
