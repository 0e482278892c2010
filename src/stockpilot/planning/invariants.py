"""What every plan must satisfy, checked in code, and the plausibility guard.

Invariants (issue 13), per row: safety stock ≥ 0; reorder point ≤ order-up-to; order-up-to ≥
mean protection-interval demand; the order ≥ 0, a multiple of the pack and, when positive,
≥ the MOQ (after every cap). A broken one is a bug: :func:`check_plan` raises
:class:`PlanInvariantBroken` naming the SKU-location, and nothing is written.

The guard flags (does not change) an order-up-to above ``factor`` × the largest demand over
any protection interval of the past year: a level no history supports. Real lumps stay in
the level; the flag asks a planner to look, naming the method that produced it.
"""

from __future__ import annotations

import polars as pl

from stockpilot.domain.series import SEP
from stockpilot.errors import StockpilotError

IMPLAUSIBLE = "order-up-to-above-past-max"


class InvalidPlanInput(StockpilotError):
    """Input no plan can be made from (missing terms, a negative or NaN forecast, …)."""

    status = 422
    title = "Invalid planning input"

    def __init__(self, unique_id: str, problem: str) -> None:
        sku, _, location = unique_id.partition(SEP)  # never raises: this is an error
        super().__init__(f"cannot plan SKU {sku!r} at {location!r}: {problem}")
        self.sku, self.location, self.problem = sku, location, problem


class PlanInvariantBroken(StockpilotError):
    """A computed plan broke an invariant: a bug, reported instead of written."""

    status = 500
    title = "Plan invariant broken"

    def __init__(self, unique_id: str, rule: str, row: dict[str, object]) -> None:
        sku, _, location = unique_id.partition(SEP)
        super().__init__(f"plan for SKU {sku!r} at {location!r} breaks '{rule}': {row}")
        self.sku, self.location, self.rule = sku, location, rule


RULES: dict[str, pl.Expr] = {
    "safety stock ≥ 0": pl.col("safety_stock") >= 0,
    "reorder point ≤ order-up-to": pl.col("reorder_point") <= pl.col("order_up_to"),
    "order-up-to ≥ mean demand": pl.col("order_up_to") >= pl.col("mean") - 1e-9,
    "order ≥ 0": pl.col("order_qty") >= 0,
    "order a multiple of the pack": (pl.col("order_qty") % pl.col("pack_size")) == 0,
    "order ≥ MOQ": (pl.col("order_qty") == 0) | (pl.col("order_qty") >= pl.col("moq")),
}


def check_plan(plan: pl.DataFrame) -> None:
    """Raise :class:`PlanInvariantBroken` for the first row breaking any rule."""
    for rule, ok in RULES.items():
        bad = plan.filter(~ok.fill_null(False))
        if bad.height:
            row = bad.select("unique_id", "mean", "safety_stock", "reorder_point",
                             "order_up_to", "order_qty", "pack_size", "moq").row(0, named=True)
            raise PlanInvariantBroken(str(row["unique_id"]), rule, row)


def plausibility(plan: pl.DataFrame, factor: float) -> pl.DataFrame:
    """Add ``flags`` (list of names): :data:`IMPLAUSIBLE` when S > factor × past largest."""
    over = pl.col("largest_past_demand").is_not_null() & (
        pl.col("order_up_to") > factor * pl.col("largest_past_demand"))
    return plan.with_columns(
        pl.when(over).then(pl.lit([IMPLAUSIBLE], pl.List(pl.Utf8)))
        .otherwise(pl.lit([], pl.List(pl.Utf8))).alias("flags"),
        pl.lit(factor).alias("guard_factor"))
