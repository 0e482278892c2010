"""Order quantities: supplier pack and MOQ, the expiry cap, and pack/MOQ again after it.

Rounding up to pack then MOQ makes a need orderable; a cap (today only the shelf-life cap of
:mod:`.expiry`) can only lower an order, so a capped order is rounded DOWN to a whole pack and
dropped when that falls below the MOQ: every order leaving here is a multiple of its pack and
at least its MOQ (issue 13: the expiry cap once ordered 101 with pack 5).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import polars as pl

from stockpilot.planning.expiry import expiry_aware_orders

Array = npt.NDArray[np.float64]


def round_up(need: Array, moq: Array, pack: Array) -> Array:
    """Positive needs up to a whole pack, then up to the MOQ (itself a whole number of packs)."""
    packs = np.ceil(np.maximum(need, 0.0) / pack - 1e-9) * pack
    moq_packs = np.ceil(moq / pack - 1e-9) * pack
    return np.where(need > 0, np.maximum(packs, moq_packs), 0.0)


def round_down_capped(qty: Array, cap: Array, moq: Array, pack: Array) -> Array:
    """min(qty, cap) down to a whole pack; 0 when that is below the MOQ (in packs)."""
    capped = np.floor(np.minimum(qty, np.maximum(cap, 0.0)) / pack + 1e-9) * pack
    moq_packs = np.ceil(moq / pack - 1e-9) * pack
    return np.where((capped > 0) & (capped >= moq_packs), capped, 0.0)


def cap_and_round(plan: pl.DataFrame, shelf_life: pl.DataFrame, lots: pl.DataFrame
                  ) -> pl.DataFrame:
    """Add ``order_qty, order_value, expected_waste_units, max_order_qty, shelf_life_days``.

    The expiry cap uses the mean daily demand of the law (mean / protection days): a median
    of a lumpy series is often 0 and would forbid every order.
    """
    moq = plan["moq"].to_numpy().astype(float)
    pack = plan["pack_size"].to_numpy().astype(float)
    qty = round_up(plan["need"].to_numpy().astype(float), moq, pack)
    out = plan.with_columns(pl.Series("order_qty", qty.astype(np.int64)))
    shelf = shelf_life.filter(pl.col("shelf_life_days").is_not_null())
    todo = out.join(shelf, on="unique_id", how="inner")
    if todo.is_empty():
        out = out.with_columns(pl.lit(None, pl.Float64).alias("expected_waste_units"),
                               pl.lit(None, pl.Float64).alias("max_order_qty"),
                               pl.lit(None, pl.Int64).alias("shelf_life_days"))
    else:
        out = _expiry(out, todo, lots)
    return out.with_columns((pl.col("order_qty") * pl.col("unit_cost").fill_null(0.0))
                            .alias("order_value"))


def _expiry(out: pl.DataFrame, todo: pl.DataFrame, lots: pl.DataFrame) -> pl.DataFrame:
    orders = todo.select(
        "unique_id", pl.col("order_qty").cast(pl.Float64),
        (pl.col("mean") / pl.col("protection_days")).alias("daily_p50"),
        "lead_time_days", "shelf_life_days", "moq", "pack_size")
    first = expiry_aware_orders(orders.drop("moq", "pack_size"), lots)
    final = round_down_capped(orders["order_qty"].to_numpy(),
                              first["max_order_qty"].to_numpy(),
                              orders["moq"].to_numpy().astype(float),
                              orders["pack_size"].to_numpy().astype(float))
    again = expiry_aware_orders(orders.drop("moq", "pack_size").with_columns(
        pl.Series("order_qty", final)), lots)
    got = again.select("unique_id", "shelf_life_days", "expected_waste_units").with_columns(
        first["max_order_qty"].alias("max_order_qty"),
        pl.Series("capped_qty", final.astype(np.int64)))
    return out.join(got, on="unique_id", how="left").with_columns(
        pl.coalesce("capped_qty", "order_qty").alias("order_qty")).drop("capped_qty")
