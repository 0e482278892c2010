"""Purchase-order suggestions per supplier, each line with a reason whose numbers add up.

Order-up-to level S = P50 demand over lead time + review plus safety stock for the class's
service level; the order is S − (on hand + on order − reserved), rounded to the supplier's pack
and MOQ. The reason repeats exactly those numbers, so a planner (and a test) can recompute it.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from stockpilot.planning.policies import quantile_at, round_to_supplier


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
        "unique_id", "supplier", "klass", "service_level", "protection_days", "p50", "mean",
        "safety_stock", "order_up_to", "on_hand", "on_order", "reserved", "inventory_position",
        "need", "order_qty", "order_value", "reason")


def _reason() -> pl.Expr:
    """'P50 demand over lead time + review (9 d) 120; safety stock 35 for 97% (class AX); …'."""
    i = pl.col
    base = pl.format(
        "P50 demand over lead time + review ({} d) {}; safety stock {} for {}% (class {}); "
        "order-up-to {}; on hand {}, on order {}, reserved {} → position {}",
        i("protection_days"), i("p50").cast(pl.Int64), i("safety_stock").cast(pl.Int64),
        (i("service_level") * 100).round(1), i("klass"), i("order_up_to").cast(pl.Int64),
        i("on_hand"), i("on_order"), i("reserved"), i("inventory_position").cast(pl.Int64))
    order = pl.format("; need {}, rounded to pack {} and MOQ {} → order {}",
                      i("need").cast(pl.Int64), i("pack_size"), i("moq"),
                      i("order_qty").cast(pl.Int64))
    none = pl.lit("; position covers it → no order")
    return pl.when(i("order_qty") > 0).then(pl.concat_str([base, order])).otherwise(
        pl.concat_str([base, none]))
