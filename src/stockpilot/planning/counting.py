"""Cycle counting: which SKU-locations to count, how often, and whether a count needs a recount.

Pure functions over polars frames (no I/O); :mod:`stockpilot.usecases.counting` gathers the
inputs from the ledger and stores the sessions.

* **Frequency by ABC class** of annual usage value (units consumed × unit cost): A covers the
  first 80 % of a location's usage value, B the next 15 %, C the rest (Silver, Pyke & Thomas
  2017, §2.3 — the same cut-offs as :mod:`stockpilot.planning.classes`). A is counted monthly,
  B quarterly, C yearly by default (the classic ABC cycle-count schedule, APICS CPIM).
* **Risk** = value × velocity × time since the last count × anomaly. Value is the book value
  on hand (at least one unit's cost, so an empty shelf that should hold stock still ranks);
  velocity is units sold per day over the last 28 days plus a floor of one unit a month (so
  slow movers are not multiplied away); time is days since the last physical count; the
  anomaly factor is 1 + the phantom-stock surprise (below) + a bonus when the last count
  found a variance.
* **Phantom-stock surprise**: with positive on hand and a daily rate λ, silence for n days has
  Poisson probability exp(−λ·n) (as in :func:`stockpilot.alerts.anomaly.phantom_stock`); its
  surprise −ln P = λ·n is scaled so that the alert threshold (P = 1 %) adds 1 to the factor,
  capped at ``max_surprise`` (DeHoratius & Raman 2008: records that say "on the shelf" while
  nothing sells point at lost or mis-located units).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import polars as pl

#: Columns :func:`rank_counts` needs, with their types.
INPUT_SCHEMA: dict[str, pl.DataType] = {
    "sku": pl.Utf8(), "location": pl.Utf8(), "on_hand": pl.Int64(), "unit_cost": pl.Float64(),
    "sold_365": pl.Int64(), "sold_28": pl.Int64(), "days_since_count": pl.Int64(),
    "quiet_days": pl.Int64(), "last_variance": pl.Int64(),
}


@dataclass(frozen=True)
class CountPolicy:
    """How often each class is counted and when a count asks for a recount.

    Attributes:
        a_days: days between counts of class A (default monthly).
        b_days: class B (quarterly).
        c_days: class C (yearly).
        a_share: cumulative usage-value share closing class A.
        b_share: cumulative usage-value share closing class B.
        tolerance_units: a variance of at most this many units never asks for a recount.
        tolerance_pct: nor one of at most this percentage of the expected quantity.
        phantom_p: the phantom-stock probability that adds 1 to the anomaly factor.
        max_surprise: cap of the phantom term of the anomaly factor.
        variance_bonus: added to the anomaly factor when the last count found a variance.
        never_counted_days: days since the last count assumed for a never-counted SKU.
    """

    a_days: int = 30
    b_days: int = 91
    c_days: int = 365
    a_share: float = 0.80
    b_share: float = 0.95
    tolerance_units: int = 2
    tolerance_pct: float = 5.0
    phantom_p: float = 0.01
    max_surprise: float = 4.0
    variance_bonus: float = 0.5
    never_counted_days: int = 365

    def __post_init__(self) -> None:
        if not 0 < self.a_days <= self.b_days <= self.c_days:
            raise ValueError("count frequencies need 0 < a_days <= b_days <= c_days")
        if not 0 < self.a_share <= self.b_share <= 1:
            raise ValueError("class shares need 0 < a_share <= b_share <= 1")
        if self.tolerance_units < 0 or self.tolerance_pct < 0:
            raise ValueError("count tolerances cannot be negative")
        if not 0 < self.phantom_p < 1:
            raise ValueError("phantom_p must be between 0 and 1")

    def frequency_days(self, abc: str) -> int:
        """Days between counts of class ``abc``."""
        return {"A": self.a_days, "B": self.b_days}.get(abc, self.c_days)


def empty_input() -> pl.DataFrame:
    """An input frame with no rows (the schema of :data:`INPUT_SCHEMA`)."""
    return pl.DataFrame(schema=INPUT_SCHEMA)


def abc_by_usage(policy: CountPolicy) -> pl.Expr:
    """The ABC class per row by annual usage value within its location (see module doc).

    Rows without usage value are class C.
    """
    usage = pl.col("usage_value")
    total = usage.sum().over("location")
    before = (usage.cum_sum().over("location", order_by=[-usage, "sku"]) - usage)
    share = before / pl.when(total > 0).then(total).otherwise(1.0)
    return (pl.when(usage <= 0).then(pl.lit("C"))
            .when(share < policy.a_share).then(pl.lit("A"))
            .when(share < policy.b_share).then(pl.lit("B")).otherwise(pl.lit("C")))


def rank_counts(inputs: pl.DataFrame, policy: CountPolicy) -> pl.DataFrame:
    """Every SKU-location with its class, due state, anomaly and risk, riskiest first per location.

    Args:
        inputs: :data:`INPUT_SCHEMA` columns; ``days_since_count`` null = never counted,
            ``quiet_days`` null = no sale or inbound seen, ``last_variance`` null = no count.
        policy: frequencies, class shares and anomaly weights.

    Returns:
        The inputs plus ``usage_value, abc, frequency_days, velocity, value, phantom_p,
        anomaly, risk, due, rank`` (rank 1 = count first, within each location), sorted by
        location then rank.
    """
    df = inputs.with_columns(
        (pl.col("sold_365").clip(lower_bound=0) * pl.col("unit_cost")).alias("usage_value"),
        pl.col("days_since_count").fill_null(policy.never_counted_days).alias("since"))
    df = df.with_columns(abc_by_usage(policy).alias("abc"))
    df = df.with_columns(
        pl.col("abc").replace_strict({"A": policy.a_days, "B": policy.b_days},
                                     default=policy.c_days, return_dtype=pl.Int64)
        .alias("frequency_days"),
        (pl.col("sold_28").clip(lower_bound=0) / 28.0).alias("rate"))
    df = df.with_columns(_phantom_p().alias("phantom_p"))
    df = df.with_columns(
        (pl.col("rate") + 1.0 / 30.0).alias("velocity"),
        (pl.col("unit_cost") * pl.col("on_hand").clip(lower_bound=1)).alias("value"),
        _anomaly(policy).alias("anomaly"))
    flagged = pl.col("phantom_p") < policy.phantom_p
    df = df.with_columns(
        (pl.col("value") * pl.col("velocity") * pl.col("since").clip(lower_bound=1)
         * pl.col("anomaly")).alias("risk"),
        ((pl.col("since") >= pl.col("frequency_days")) | flagged).alias("due"))
    df = df.sort(["location", "risk", "sku"], descending=[False, True, False])
    return df.with_columns(pl.int_range(1, pl.len() + 1).over("location").alias("rank")).drop(
        "since", "rate")


def _phantom_p() -> pl.Expr:
    """P(no sale over the quiet days) under Poisson demand; 1 where the rule does not apply."""
    applies = (pl.col("on_hand") > 0) & (pl.col("rate") > 0) & (pl.col("quiet_days") > 0)
    return pl.when(applies).then((-pl.col("rate") * pl.col("quiet_days")).exp()) \
        .otherwise(1.0)


def _anomaly(policy: CountPolicy) -> pl.Expr:
    surprise = (-pl.col("phantom_p").log()) / -math.log(policy.phantom_p)
    bonus = pl.when(pl.col("last_variance").fill_null(0) != 0).then(policy.variance_bonus) \
        .otherwise(0.0)
    return 1.0 + surprise.clip(upper_bound=policy.max_surprise) + bonus


def count_list(ranked: pl.DataFrame, *, location: str | None = None, due_only: bool = True,
               limit: int | None = None) -> pl.DataFrame:
    """The lines to count: due ones (or all), of one location (or all), at most ``limit`` each."""
    out = ranked
    if location is not None:
        out = out.filter(pl.col("location") == location)
    if due_only:
        out = out.filter(pl.col("due"))
    out = out.with_columns(pl.int_range(1, pl.len() + 1).over("location").alias("rank"))
    if limit is not None:
        out = out.filter(pl.col("rank") <= limit)
    return out


@dataclass(frozen=True)
class CountCheck:
    """What one count means: its variance and whether it asks for a recount."""

    expected: int
    counted: int
    variance: int
    tolerance_units: float
    recount: bool


def check_count(expected: int, counted: int, policy: CountPolicy) -> CountCheck:
    """Compare a count with the expected quantity (the book frozen at start, rolled forward).

    The tolerance is the larger of ``tolerance_units`` and ``tolerance_pct`` % of the expected
    quantity; a variance beyond it asks for a recount.
    """
    if counted < 0:
        raise ValueError(f"a counted quantity cannot be negative ({counted})")
    variance = counted - expected
    tol = max(float(policy.tolerance_units), policy.tolerance_pct / 100.0 * abs(expected))
    return CountCheck(expected, counted, variance, tol, abs(variance) > tol)
