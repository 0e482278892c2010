"""The sourcing network: stores supplied by their DC, the DC ordering for its stores (pure).

Each location's source is a supplier or a distribution centre (``SOURCING_SCHEMA``: location,
source_kind ``supplier``/``dc``, source). With a network, at the pipeline's sourcing stage:

1. A store's need (order-up-to − inventory position, in-transit included) is netted against
   its DC's free stock (sellable − reserved) *before* any supplier is asked: the DC's units go
   to its stores as transfers (largest need first), and the store never orders from the
   supplier itself (its ``need`` for a purchase order becomes 0; ``source`` names the DC).
2. The DC orders for its echelon (Clark & Scarf 1960; Silver, Pyke & Thomas 2017, §11.4):
   echelon position = DC position + its stores' positions (units moving inside the echelon,
   in transit included, count once); echelon order-up-to = the DC's own order-up-to + its
   stores' order-up-to levels + the stores' mean demand over the DC's supplier lead time (the
   pipeline stock that refills them while the supplier delivers; the safety stock stays at
   the stores). The DC's need = echelon order-up-to − echelon position when positive.

So a unit is supplied once: either it is at the DC (and moves by transfer) or it is ordered by
the DC; a store neither orders what the DC holds nor gets it twice (issue 13: an approved
order of 45 and a transfer of 45 for the same store).
"""

from __future__ import annotations

import polars as pl

from stockpilot.planning.invariants import InvalidPlanInput

SUPPLIER, DC = "supplier", "dc"


def _check(plan: pl.DataFrame, sourcing: pl.DataFrame) -> pl.DataFrame:
    """Plan rows with ``source_kind, dc``; raise for a location without a usable source."""
    kinds = set(sourcing["source_kind"].unique().to_list())
    if not kinds <= {SUPPLIER, DC}:
        bad = sourcing.filter(~pl.col("source_kind").is_in([SUPPLIER, DC])).row(0, named=True)
        raise InvalidPlanInput(f"*@{bad['location']}",
                               f"source kind {bad['source_kind']!r} (supplier or dc)")
    out = plan.join(sourcing.select("location", "source_kind", pl.col("source").alias("dc")),
                    on="location", how="left")
    missing = out.filter(pl.col("source_kind").is_null())
    if missing.height:
        raise InvalidPlanInput(str(missing["unique_id"][0]),
                               "the location has no source in the sourcing network")
    dcs = sourcing.filter(pl.col("source_kind") == DC)
    chained = dcs.join(dcs.select(pl.col("location").alias("source")), on="source", how="semi")
    if chained.height:
        r = chained.row(0, named=True)
        raise InvalidPlanInput(f"*@{r['location']}", f"its DC {r['source']!r} is itself "
                               "supplied by a DC (one DC level is supported)")
    return out


def apply_sourcing(plan: pl.DataFrame, sourcing: pl.DataFrame) -> pl.DataFrame:
    """Transfers from DCs to stores and echelon needs at DCs; see the module docs.

    Args:
        plan: pipeline rows with ``unique_id, sku, location, supplier, lead_time_days,
            protection_days, mean, order_up_to, sellable, reserved, inventory_position, need``.
        sourcing: ``location, source_kind, source`` (empty: every location buys from its
            supplier, nothing changes).

    Returns:
        ``plan`` with ``source``, ``transfer_from``, ``transfer_qty`` and ``sourcing_note``
        (text the reason ends with); stores' ``need`` is 0, DCs' the echelon need.

    Raises:
        InvalidPlanInput: a location without a source, a store whose DC has no plan line
            for the SKU, or a DC supplied by a DC.
    """
    if sourcing.is_empty():
        return plan.with_columns(pl.col("supplier").alias("source"),
                                 pl.lit(None, pl.Utf8).alias("transfer_from"),
                                 pl.lit(0, pl.Int64).alias("transfer_qty"),
                                 pl.lit("").alias("sourcing_note"))
    df = _check(plan, sourcing)
    stores = _transfers(df.filter(pl.col("source_kind") == DC), df)
    echelon = _echelon(df, stores)
    rest = df.filter(pl.col("source_kind") == SUPPLIER).join(
        echelon, on="unique_id", how="left").with_columns(
        pl.coalesce("echelon_need", "need").alias("need"),
        pl.col("supplier").alias("source"), pl.lit(None, pl.Utf8).alias("transfer_from"),
        pl.lit(0, pl.Int64).alias("transfer_qty"),
        pl.col("echelon_note").fill_null("").alias("sourcing_note"))
    cols = [*plan.columns, "source", "transfer_from", "transfer_qty", "sourcing_note"]
    cols = list(dict.fromkeys(cols))
    return pl.concat([rest.select(cols), stores.select(cols)], how="vertical_relaxed")


def _transfers(stores: pl.DataFrame, all_rows: pl.DataFrame) -> pl.DataFrame:
    """Allocate each DC's free stock to its stores' needs, largest need first."""
    dc_rows = all_rows.select(pl.col("sku"), pl.col("location").alias("dc"),
                              (pl.col("sellable") - pl.col("reserved")).clip(lower_bound=0)
                              .alias("dc_free"))
    got = stores.join(dc_rows, on=["sku", "dc"], how="left")
    orphan = got.filter(pl.col("dc_free").is_null())
    if orphan.height:
        r = orphan.row(0, named=True)
        raise InvalidPlanInput(r["unique_id"], f"its DC {r['dc']!r} has no plan line for the "
                               "SKU (supplier terms at the DC are needed)")
    got = got.sort("sku", "dc", "need", "unique_id", descending=[False, False, True, False])
    before = pl.col("need").cum_sum().over("sku", "dc") - pl.col("need")
    got = got.with_columns((pl.col("dc_free") - before).clip(0, None).alias("room"))
    got = got.with_columns(pl.min_horizontal("room", "need").cast(pl.Int64).alias("transfer_qty"))
    note = pl.format("; sourced from {} (no purchase order): need {}, {} free there → "
                     "transfer {}", pl.col("dc"),
                     pl.col("need"), pl.col("dc_free"), pl.col("transfer_qty"))
    short = pl.format(", {} short: {} orders it for its stores",
                      pl.col("need") - pl.col("transfer_qty"), pl.col("dc"))
    return got.with_columns(
        pl.col("dc").alias("source"), pl.col("dc").alias("transfer_from"),
        pl.lit(0, pl.Int64).alias("need"),
        pl.when(pl.col("transfer_qty") < pl.col("need")).then(pl.concat_str([note, short]))
        .otherwise(note).alias("sourcing_note"))


def _echelon(df: pl.DataFrame, stores: pl.DataFrame) -> pl.DataFrame:
    """``unique_id, echelon_need, echelon_note`` of each DC row with stores."""
    daily = pl.col("mean") / pl.col("protection_days").clip(lower_bound=1)
    per_dc = stores.group_by("sku", "dc").agg(
        pl.col("order_up_to").sum().alias("stores_s"),
        pl.col("inventory_position").sum().alias("stores_ip"),
        daily.sum().alias("stores_daily"), pl.len().alias("n_stores"))
    dcs = df.join(per_dc, left_on=["sku", "location"], right_on=["sku", "dc"], how="inner")
    pipeline = (pl.col("stores_daily") * pl.col("lead_time_days")).ceil().cast(pl.Int64)
    target = pl.col("order_up_to") + pl.col("stores_s") + pipeline
    position = pl.col("inventory_position") + pl.col("stores_ip")
    need = (target - position).clip(lower_bound=0).cast(pl.Int64)
    note = pl.format("; echelon of {} stores: order-up-to {} + stores {} + their demand over "
                     "{} d lead time {} = {}; position {} + stores {} = {} → need {}",
                     pl.col("n_stores"), pl.col("order_up_to"), pl.col("stores_s"),
                     pl.col("lead_time_days"), pipeline, target, pl.col("inventory_position"),
                     pl.col("stores_ip"), position, need)
    return dcs.select("unique_id", need.alias("echelon_need"), note.alias("echelon_note"))
