"""Stockout-aware demand: sales on censored days understate demand, so they are imputed.

A censored day (zero available stock at some point, from the ledger's compaction) has sales
≤ demand. Before fitting, such a day's value is raised to the seasonal baseline (mean of the
same weekday over the previous 8 weeks, learned from uncensored days only) when the sales fall
below it; sales above the baseline are kept (a lower bound already above the estimate).
"""

from __future__ import annotations

import polars as pl

from stockpilot.forecast.outliers import seasonal_baseline


def impute_censored(df: pl.DataFrame, censored: pl.DataFrame) -> pl.DataFrame:
    """``df`` (unique_id, ds, y) with censored days (unique_id, ds) raised to the baseline."""
    if censored.is_empty():
        return df
    marked = df.sort("unique_id", "ds").join(
        censored.select("unique_id", "ds").unique().with_columns(pl.lit(True).alias("_c")),
        on=["unique_id", "ds"], how="left").with_columns(pl.col("_c").fill_null(False))
    # the baseline is learned from uncensored days only (censored sales are not demand)
    marked = marked.with_columns(pl.when(pl.col("_c")).then(None).otherwise(pl.col("y"))
                                 .alias("_clean"))
    # the mean, not the median: an imputed day stands for expected demand
    marked = marked.with_columns(seasonal_baseline(marked, value="_clean", stat="mean"))
    out = marked.with_columns(
        pl.when(pl.col("_c") & (pl.col("y") < pl.col("baseline")))
        .then(pl.col("baseline")).otherwise(pl.col("y")).alias("y"))
    return out.select("unique_id", "ds", "y")


#: Zero runs shorter than this are never flagged (a week without a sale is plausible).
MIN_RUN_DAYS = 7
#: Longer runs are taken for the product being off the range, not an empty shelf.
MAX_RUN_DAYS = 56
#: Days before a run over which the selling rate is measured.
RATE_DAYS = 28
#: A run is implausible when independent days at the selling rate before it would give it
#: with probability below this.
RUN_ALPHA = 1e-3


def probable_stockouts(df: pl.DataFrame, min_days: int = MIN_RUN_DAYS,
                       max_days: int = MAX_RUN_DAYS, alpha: float = RUN_ALPHA
                       ) -> pl.DataFrame:
    """Days of zero runs implausible for the item: ``unique_id, ds, run_days, p_sale``.

    The rule (for imported histories without stock data, e.g. M5, where a run of zeros inside
    steady selling is most often an empty shelf, not absent demand): ``p`` is the share of
    days with a sale in the ``RATE_DAYS`` (28) days before the run. A run of ``L`` consecutive
    zero days with a sale both before and after it (not a launch, not a delisting) is flagged
    when ``min_days ≤ L ≤ max_days`` and ``(1 − p)^L < alpha`` — the chance of ``L`` zeros in a
    row if days were independent at the rate just before. With ``alpha = 0.001``: an item
    selling on 90 % of days is flagged from 7 zero days, one selling on half the days from 10,
    one selling on 20 % of days from 31; runs over ``max_days`` (8 weeks) are taken for the
    item being off the range. (A geometric run-length test; Nikolopoulos et al. 2016 discuss
    such zero-run rules for stockout detection in retail data; the thresholds are ours.)

    Args:
        df: ``unique_id, ds, y``, every day present (as :func:`stockpilot.forecast.data.prepare`
            gives it).
        min_days: the shortest run ever flagged.
        max_days: the longest run ever flagged.
        alpha: the probability threshold.
    """
    s = df.sort("unique_id", "ds").filter((pl.col("y") > 0).cum_max().over("unique_id"))
    zero = pl.col("y") <= 0
    rate = (~zero).cast(pl.Float64).rolling_mean(RATE_DAYS, min_samples=RATE_DAYS).shift(1)
    s = s.with_columns(
        rate.over("unique_id").alias("_p"),
        (zero != zero.shift(1)).fill_null(True).cum_sum().over("unique_id").alias("_run"))
    runs = s.filter(zero).group_by("unique_id", "_run").agg(
        pl.len().alias("run_days"), pl.col("_p").first(), pl.col("ds"))
    last_sale = s.filter(~zero).group_by("unique_id").agg(pl.col("ds").max().alias("_last"))
    runs = runs.join(last_sale, on="unique_id").filter(
        pl.col("run_days").is_between(min_days, max_days)
        & ((1 - pl.col("_p")).pow(pl.col("run_days")) < alpha)
        & (pl.col("ds").list.max() < pl.col("_last")))
    return runs.explode("ds").select(
        "unique_id", "ds", pl.col("run_days").cast(pl.Int32), pl.col("_p").alias("p_sale")) \
        .sort("unique_id", "ds")
