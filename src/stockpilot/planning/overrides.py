"""Planner overrides as data, applied by the pipeline and named in each line's reason (pure).

One row per override (``OVERRIDES_SCHEMA``: unique_id, kind, value, start, end, author,
expires, note). An override is active on the planning day when it has not expired (``expires``
≥ the day, or none); a level or service override with a ``start``/``end`` is active only
within them. Kinds:

* ``service_level`` — the target cycle service level of the series (0 < value < 1);
* ``order_up_to`` — a fixed order-up-to level S;
* ``min`` / ``max`` — an (s, S) policy: order up to ``max`` only when the inventory
  position is at or below ``min`` (the reorder point becomes ``min``);
* ``forecast_factor`` — demand × value on the days ``start`` … ``end``;
* ``forecast_units`` — ``value`` extra units spread evenly over ``start`` … ``end``.

Forecast adjustments act on the demand law of every method (forecast quantiles, compound
Poisson, empirical): the law over a window of D days starting on the planning day is scaled
by 1 + (f − 1)·n/D for a factor f over n of its days, and shifted by u·n/L for u units over a
range of L days (uniform daily demand within the window). A fixed level below the mean demand
of the protection interval is raised to it, and the reason says so (the invariant
order-up-to ≥ mean holds for every line).
"""

from __future__ import annotations

from datetime import date

import polars as pl

from stockpilot.planning.invariants import InvalidPlanInput

KINDS = ("service_level", "order_up_to", "min", "max", "forecast_factor", "forecast_units")
LEVEL_KINDS = ("order_up_to", "min", "max")
FORECAST_KINDS = ("forecast_factor", "forecast_units")


def active(overrides: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """Overrides in force on ``as_of`` (a forecast adjustment's range may lie ahead)."""
    live = pl.col("expires").is_null() | (pl.col("expires") >= as_of)
    dated = pl.col("kind").is_in(FORECAST_KINDS) | (
        (pl.col("start").is_null() | (pl.col("start") <= as_of))
        & (pl.col("end").is_null() | (pl.col("end") >= as_of)))
    return overrides.filter(live & dated)


def validate(overrides: pl.DataFrame, ids: pl.Series) -> None:
    """Reject overrides no plan can use, naming the SKU and location.

    Raises:
        InvalidPlanInput: an unknown kind or series, a NaN value, a service level outside
            (0, 1), a negative level or factor, min above max, a forecast range without dates.
    """
    checks: list[tuple[pl.Expr, str]] = [
        (~pl.col("kind").is_in(KINDS), "unknown override kind {kind!r}"),
        (~pl.col("unique_id").is_in(ids.to_list()), "override for a SKU-location that is not "
                                                    "planned (unknown SKU or location)"),
        (pl.col("value").is_null() | pl.col("value").is_nan(), "override value is missing"),
        ((pl.col("kind") == "service_level") & ((pl.col("value") <= 0) | (pl.col("value") >= 1)),
         "service level {value} (must be between 0 and 1)"),
        (pl.col("kind").is_in([*LEVEL_KINDS, "forecast_factor"]) & (pl.col("value") < 0),
         "{kind} {value} is negative"),
        (pl.col("kind").is_in(FORECAST_KINDS) & (pl.col("start").is_null()
                                                 | pl.col("end").is_null()
                                                 | (pl.col("end") < pl.col("start"))),
         "{kind} needs a date range start ≤ end"),
    ]
    for bad, text in checks:
        hit = overrides.filter(bad.fill_null(True))
        if hit.height:
            r = hit.row(0, named=True)
            raise InvalidPlanInput(str(r["unique_id"]), text.format(**r))
    both = overrides.filter(pl.col("kind").is_in(["min", "max"])).pivot(
        "kind", index="unique_id", values="value", aggregate_function="last")
    if {"min", "max"} <= set(both.columns):
        wrong = both.filter(pl.col("min") > pl.col("max"))
        if wrong.height:
            r = wrong.row(0, named=True)
            raise InvalidPlanInput(str(r["unique_id"]), f"min {r['min']:g} above max "
                                   f"{r['max']:g}")


def _last(overrides: pl.DataFrame, kind: str) -> pl.DataFrame:
    """``unique_id, <kind>``: the newest override of ``kind`` per series (later rows win)."""
    return overrides.filter(pl.col("kind") == kind).group_by("unique_id").agg(
        pl.col("value").last().alias(kind))


def apply_service(service: pl.DataFrame, overrides: pl.DataFrame) -> pl.DataFrame:
    """Service levels with per-series ``service_level`` overrides."""
    new = _last(overrides, "service_level").rename({"service_level": "override"})
    if new.is_empty():
        return service
    return service.join(new, on="unique_id", how="full", coalesce=True).with_columns(
        pl.coalesce("override", "service_level").alias("service_level"),
        pl.col("klass").fill_null("--")).drop("override")


def adjust_laws(laws: pl.DataFrame, days: pl.DataFrame, overrides: pl.DataFrame,
                as_of: date, qcols: list[str]) -> pl.DataFrame:
    """Scale/shift each law by the forecast adjustments overlapping its window.

    Args:
        laws: ``unique_id, mean, q…`` over a window of ``days`` days from ``as_of``.
        days: ``unique_id, window_days``.
        overrides: active overrides.
        as_of: first day of every window.
        qcols: the quantile columns to move with the mean.
    """
    adj = overrides.filter(pl.col("kind").is_in(FORECAST_KINDS))
    if adj.is_empty():
        return laws
    w = adj.join(days, on="unique_id").with_columns(
        pl.lit(as_of).alias("w0"),
        (pl.lit(as_of) + pl.duration(days=pl.col("window_days") - 1)).alias("w1"))
    overlap = ((pl.min_horizontal("end", "w1") - pl.max_horizontal("start", "w0"))
               .dt.total_days() + 1).clip(lower_bound=0)
    length = (pl.col("end") - pl.col("start")).dt.total_days() + 1
    d = pl.col("window_days").clip(lower_bound=1).cast(pl.Float64)
    w = w.with_columns(
        pl.when(pl.col("kind") == "forecast_factor").then((pl.col("value") - 1) * overlap / d)
        .otherwise(0.0).alias("scale"),
        pl.when(pl.col("kind") == "forecast_units").then(pl.col("value") * overlap / length)
        .otherwise(0.0).alias("shift"))
    eff = w.group_by("unique_id").agg((1 + pl.col("scale").sum()).alias("_g"),
                                      pl.col("shift").sum().alias("_u"))
    out = laws.join(eff, on="unique_id", how="left").with_columns(
        pl.col("_g").fill_null(1.0), pl.col("_u").fill_null(0.0))
    moved = [(pl.col(c) * pl.col("_g") + pl.col("_u")).clip(lower_bound=0.0).alias(c)
             for c in ("mean", *qcols)]
    return out.with_columns(moved).drop("_g", "_u")


def apply_levels(plan: pl.DataFrame, overrides: pl.DataFrame) -> pl.DataFrame:
    """Fixed order-up-to or (min, max) per series; adds ``override_min`` (null: none).

    A level below the law's mean is raised to ⌈mean⌉ (so safety stock ≥ 0) and
    ``level_note`` says so.
    """
    fixed = _last(overrides, "order_up_to").join(_last(overrides, "max"), on="unique_id",
                                                 how="full", coalesce=True).join(
        _last(overrides, "min"), on="unique_id", how="full", coalesce=True) if overrides.height \
        else pl.DataFrame(schema={"unique_id": pl.Utf8})
    for col in ("order_up_to", "max", "min"):
        if col not in fixed.columns:
            fixed = fixed.with_columns(pl.lit(None, pl.Float64).alias(col))
    out = plan.join(fixed.rename({"order_up_to": "_s", "max": "_max", "min": "override_min"}),
                    on="unique_id", how="left")
    wanted = pl.coalesce("_max", "_s").ceil()
    floor = pl.col("mean").ceil()
    new_s = pl.when(wanted.is_null()).then(pl.col("order_up_to")).otherwise(
        pl.max_horizontal(wanted, floor)).cast(pl.Int64)
    new_rop = pl.when(pl.col("override_min").is_not_null()).then(
        pl.min_horizontal(pl.col("override_min").ceil(), new_s)).otherwise(
        pl.min_horizontal("reorder_point", new_s)).cast(pl.Int64)
    raised = wanted.is_not_null() & (wanted < floor)
    out = out.with_columns(
        new_s.alias("order_up_to"), new_rop.alias("reorder_point"),
        pl.when(raised).then(pl.format("; the fixed level {} is below the mean demand, raised "
                                       "to {}", wanted.cast(pl.Int64), floor.cast(pl.Int64)))
        .otherwise(pl.lit("")).alias("level_note"))
    return out.with_columns((pl.col("order_up_to") - pl.col("mean")).round().cast(pl.Int64)
                            .alias("safety_stock")).drop("_s", "_max")


def min_trigger(plan: pl.DataFrame) -> pl.DataFrame:
    """Under a (min, max) override nothing is ordered while the position is above min."""
    if "override_min" not in plan.columns:
        return plan
    wait = pl.col("override_min").is_not_null() & (
        pl.col("inventory_position") > pl.col("override_min"))
    return plan.with_columns(pl.when(wait).then(0).otherwise(pl.col("need")).alias("need"))


def _text(r: dict[str, object]) -> str:
    kind, v = r["kind"], float(r["value"])  # type: ignore[arg-type]
    what = {"service_level": f"service level {v * 100:g}%",
            "order_up_to": f"order-up-to fixed at {v:g}", "min": f"min {v:g}",
            "max": f"max {v:g}",
            "forecast_factor": f"forecast × {v:g} from {r['start']} to {r['end']}",
            "forecast_units": f"forecast {v:+g} units from {r['start']} to {r['end']}"}[str(kind)]
    who = f"by {r['author']}" + (f", expires {r['expires']}" if r["expires"] else "")
    return f"{what} ({who}{', ' + str(r['note']) if r['note'] else ''})"


def notes(overrides: pl.DataFrame) -> pl.DataFrame:
    """``unique_id, override_note``: "; overrides: …" naming every active override."""
    if overrides.is_empty():
        return pl.DataFrame(schema={"unique_id": pl.Utf8, "override_note": pl.Utf8})
    rows = [(r["unique_id"], _text(r)) for r in overrides.iter_rows(named=True)]
    df = pl.DataFrame(rows, schema={"unique_id": pl.Utf8, "t": pl.Utf8}, orient="row")
    return df.group_by("unique_id", maintain_order=True).agg(
        (pl.lit("; overrides: ") + pl.col("t").str.join("; ")).alias("override_note"))
