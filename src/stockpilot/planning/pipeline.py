"""The one planning pipeline: frames in, the plan out; used by `plan` AND by `simulate`.

``build_plan(PlanInputs, PlanOptions) -> plan`` is the only way a plan is made: the nightly
job (:mod:`stockpilot.jobs.plan`) loads the frames from the database and history store, the
simulator (:mod:`stockpilot.simulate.replay`) builds them from data before each review day;
both call this function, so the orders the simulator proves are the orders a user gets.

Stages, in order (each a small function below):

1. :func:`validate` — bad input is an :class:`InvalidPlanInput` naming SKU and location.
2. ``service``: target cycle service level per series (class matrix). **plan2: per-SKU
   service-level overrides plug in here** (:func:`_apply_service_overrides`).
3. ``forecast``: **plan2: forecast adjustments (factor / units over a date range) plug in
   here** (:func:`_adjust_laws`), on the law of every method.
4. Demand laws over the protection interval P = L + R per series, by the method chosen for
   its demand class (:data:`DEFAULT_METHODS`, from simulated cost; :mod:`.demand_laws`).
   ``PlanInputs.extra_laws`` (e.g. demand over a learned random lead time) replace them.
5. Levels: order-up-to S = ⌈max(quantile at the service level, mean)⌉, reorder point
   s = min(⌈quantile of lead-time demand⌉, S), safety stock = S − mean (Silver, Pyke &
   Thomas 2017, §7.5). **plan2: fixed min/max or order-up-to overrides plug in here**
   (:func:`_apply_level_overrides`).
6. Position = sellable on hand (on hand − expired − quarantined) + on order + in transit −
   reserved; need = S − position when below S.
7. **plan2: the sourcing network plugs in here** (:func:`_apply_sourcing`): net a store's need
   against its DC before the supplier is asked; the ``source`` column says who supplies.
8. Supplier rounding, the expiry cap, then pack/MOQ again (:mod:`.rounding`), order value.
9. Plausibility guard and flags, the reason text (:mod:`.reasons`), and the invariants
   (:func:`stockpilot.planning.invariants.check_plan`), which raise if any is broken.

Overrides and sourcing frames may be empty (the hooks then change nothing).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import polars as pl

from stockpilot.domain.series import split_unique_id
from stockpilot.forecast.classify import demand_classes
from stockpilot.planning import demand_laws as dl
from stockpilot.planning import overrides as ov
from stockpilot.planning.invariants import InvalidPlanInput, check_plan, plausibility
from stockpilot.planning.reasons import reasons_of
from stockpilot.planning.rounding import cap_and_round
from stockpilot.planning.sourcing import apply_sourcing

POSITIONS_SCHEMA: dict[str, pl.DataType] = {
    "unique_id": pl.Utf8(), "on_hand": pl.Int64(), "on_order": pl.Int64(),
    "reserved": pl.Int64(), "in_transit": pl.Int64(), "expired": pl.Int64(),
    "quarantined": pl.Int64()}
TERMS_SCHEMA: dict[str, pl.DataType] = {
    "unique_id": pl.Utf8(), "supplier": pl.Utf8(), "lead_time_days": pl.Int64(),
    "moq": pl.Int64(), "pack_size": pl.Int64(), "unit_cost": pl.Float64(),
    "order_cost": pl.Float64()}
SERVICE_SCHEMA: dict[str, pl.DataType] = {
    "unique_id": pl.Utf8(), "klass": pl.Utf8(), "service_level": pl.Float64()}
#: Planner overrides as data (plan2 owns their meaning; planning/overrides.py). ``kind`` is
#: one of service_level, order_up_to, min, max, forecast_factor, forecast_units.
OVERRIDES_SCHEMA: dict[str, pl.DataType] = {
    "unique_id": pl.Utf8(), "kind": pl.Utf8(), "value": pl.Float64(), "start": pl.Date(),
    "end": pl.Date(), "author": pl.Utf8(), "expires": pl.Date(), "note": pl.Utf8()}
#: The sourcing network (plan2; planning/sourcing.py): each location's source.
SOURCING_SCHEMA: dict[str, pl.DataType] = {
    "location": pl.Utf8(), "source_kind": pl.Utf8(), "source": pl.Utf8()}
SHELF_LIFE_SCHEMA: dict[str, pl.DataType] = {
    "unique_id": pl.Utf8(), "shelf_life_days": pl.Int64()}
LOTS_SCHEMA: dict[str, pl.DataType] = {
    "unique_id": pl.Utf8(), "qty": pl.Float64(), "days_to_expiry": pl.Int64()}

#: Demand class (Syntetos & Boylan 2005) → method of the protection-interval law, chosen by
#: simulated stock at equal service (cycle service level 90–97%, fill 80–98%) on the EARLY
#: windows of M5 and Online Retail, minimising the worst excess over the best method of
#: either data set (docs/planning.md; docs/benchmarks.md, issue 13).
DEFAULT_METHODS: Mapping[str, str] = {
    "smooth": dl.NORMAL, "erratic": dl.NEG_BINOMIAL, "intermittent": dl.COMPOUND,
    "lumpy": dl.COMPOUND, "zero": dl.EMPIRICAL}

#: Output columns, in order (the quantile columns of :data:`demand_laws.LEVELS` follow).
PLAN_COLUMNS: tuple[str, ...] = (
    "unique_id", "sku", "location", "supplier", "source", "klass", "demand_class",
    "service_level", "quantile_level", "lead_time_days", "review_days", "protection_days",
    "method", "mean",
    "p50", "demand_quantile", "safety_stock", "reorder_point", "order_up_to",
    "largest_past_demand", "on_hand", "sellable", "on_order", "in_transit", "reserved",
    "inventory_position", "need", "moq", "pack_size", "unit_cost", "order_qty",
    "order_value", "expected_waste_units", "transfer_from", "transfer_qty", "flags", "reason")


def _empty(schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(schema=dict(schema))


@dataclass(frozen=True)
class PlanInputs:
    """Everything a plan is made from, as frames (one row per series unless said).

    Attributes:
        history: ``unique_id, ds, y`` gap-free daily demand before ``as_of``.
        forecast: ``unique_id, ds, mean`` from ``as_of`` on (≥ the longest P days).
        cv: backtest errors of that forecast, ``unique_id, cutoff, h, y, mean``.
        positions: :data:`POSITIONS_SCHEMA` (in_transit/expired/quarantined may be absent).
        terms: :data:`TERMS_SCHEMA`, the supplier terms and lead time per series.
        service: :data:`SERVICE_SCHEMA`, target cycle service level per series.
        overrides: :data:`OVERRIDES_SCHEMA` (may be empty).
        sourcing: :data:`SOURCING_SCHEMA` (may be empty: every location buys from suppliers).
        shelf_life: :data:`SHELF_LIFE_SCHEMA` (series without a row keep forever).
        lots: :data:`LOTS_SCHEMA`, sellable lots on hand with an expiry.
        extra_laws: ``unique_id, days, method, mean, q…`` replacing the chosen law of those
            series (e.g. demand over a learned random lead time), with an optional
            ``lead_time_days`` that replaces the stated one; None for none.
    """

    history: pl.DataFrame
    forecast: pl.DataFrame
    cv: pl.DataFrame
    positions: pl.DataFrame
    terms: pl.DataFrame
    service: pl.DataFrame
    overrides: pl.DataFrame = field(default_factory=lambda: _empty(OVERRIDES_SCHEMA))
    sourcing: pl.DataFrame = field(default_factory=lambda: _empty(SOURCING_SCHEMA))
    shelf_life: pl.DataFrame = field(default_factory=lambda: _empty(SHELF_LIFE_SCHEMA))
    lots: pl.DataFrame = field(default_factory=lambda: _empty(LOTS_SCHEMA))
    extra_laws: pl.DataFrame | None = None


@dataclass(frozen=True)
class PlanOptions:
    """Knobs of the pipeline.

    Attributes:
        as_of: the planning day (data before it); None = the day after the history ends.
        review_days: review period R.
        methods: demand class → law method (``"*"`` is the fallback).
        guard_factor: flag an order-up-to above this × the largest past P-day demand.
        guard_window_days: how far back "past" reaches for the guard.
        class_window_days: history used to classify demand (ADI/CV²) and fit history laws.
        level_map: demand class (or ``"*"``) → (achieved cycle service levels, increasing;
            the quantile levels that achieved them) from a replay on EARLIER data: a target
            is read off it by linear interpolation (:func:`quantile_levels`). None: the
            quantile level is the target itself.
    """

    as_of: date | None = None
    review_days: int = 7
    methods: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_METHODS))
    guard_factor: float = 1.5
    guard_window_days: int = 365
    class_window_days: int = 365
    level_map: Mapping[str, tuple[tuple[float, ...], tuple[float, ...]]] | None = None


def build_plan(inputs: PlanInputs, options: PlanOptions | None = None) -> pl.DataFrame:
    """The plan: one row per series with supplier terms; see the module docs for the stages.

    Raises:
        InvalidPlanInput: a series without terms, a negative or NaN forecast, …
        PlanInvariantBroken: a computed plan broke an invariant (a bug, never silenced).
    """
    opt = options or PlanOptions()
    validate(inputs)
    hist = _window(inputs.history, opt.class_window_days)
    base = _base(inputs, hist, opt)
    active = _active_overrides(inputs, opt)
    service = _apply_service_overrides(inputs.service, active)
    forecast = inputs.forecast  # adjustments act on every method's law (_adjust_laws)
    base = base.join(service.select("unique_id", "klass", "service_level"), on="unique_id",
                     how="left").with_columns(pl.col("service_level").fill_null(0.95),
                                              pl.col("klass").fill_null("--"))
    base = base.with_columns(pl.Series("quantile_level", quantile_levels(
        base["service_level"].to_numpy(), base["demand_class"].to_list(), opt.level_map)))
    laws = _laws(base, forecast, inputs.cv, hist, inputs.extra_laws, protection=True)
    lead = _laws(base, forecast, inputs.cv, hist, None, protection=False)
    laws, lead = _adjust_laws(laws, lead, base, active, _as_of(inputs, opt))
    plan = _levels(base.drop("method").join(laws, on="unique_id", how="left"), lead)
    plan = _apply_level_overrides(plan, active)
    plan = _position(plan, inputs.positions)
    plan = _apply_sourcing(plan, inputs.sourcing)
    plan = cap_and_round(plan, inputs.shelf_life, inputs.lots)
    past = dl.largest_past_sum(_window(inputs.history, opt.guard_window_days),
                               plan.select("unique_id", "protection_days"))
    plan = plausibility(plan.join(past, on="unique_id", how="left"), opt.guard_factor)
    plan = _append_notes(plan.with_columns(reasons_of(plan)), active)
    out = plan.select(*PLAN_COLUMNS, *dl.QCOLS).sort("unique_id")
    check_plan(out)
    return out


def quantile_levels(target: np.ndarray, demand_class: list[str],
                    level_map: Mapping[str, tuple[tuple[float, ...], tuple[float, ...]]] | None
                    ) -> np.ndarray:
    """The quantile level per series that achieved its target service on earlier data.

    The cycle service level a quantile level achieves is measured, not assumed (lost sales,
    whole units and review timing move it; Kuleshov, Fenner & Ermon 2018 recalibrate the
    same way): ``level_map`` holds, per demand class, the achieved levels (non-decreasing)
    and the quantile levels that achieved them; targets are interpolated between them.
    """
    if not level_map:
        return target.astype(float)
    out = target.astype(float).copy()
    classes = np.array(demand_class)
    for klass in set(demand_class):
        curve = level_map.get(klass) or level_map.get("*")
        if curve is None:
            continue
        achieved = np.maximum.accumulate(np.asarray(curve[0], dtype=float))
        achieved = achieved + np.arange(achieved.size) * 1e-9  # strictly increasing for interp
        sel = classes == klass
        out[sel] = np.interp(target[sel], achieved, np.asarray(curve[1], dtype=float))
    return out


def validate(inputs: PlanInputs) -> None:
    """Reject input no plan can be made from, naming the SKU and location."""
    dup = inputs.terms.filter(pl.col("unique_id").is_duplicated())["unique_id"]
    if len(dup):
        raise InvalidPlanInput(str(dup[0]), "more than one row of supplier terms")
    bad_fc = inputs.forecast.join(inputs.terms.select("unique_id"), on="unique_id", how="semi") \
        .filter(pl.col("mean").is_nan() | pl.col("mean").is_null() | (pl.col("mean") < 0))
    if bad_fc.height:
        r = bad_fc.row(0, named=True)
        raise InvalidPlanInput(r["unique_id"], f"forecast mean {r['mean']} on {r['ds']} "
                               "(negative or missing)")
    no_terms = inputs.positions.join(inputs.terms, on="unique_id", how="anti") \
        .join(inputs.history.select("unique_id").unique(), on="unique_id", how="semi")
    if no_terms.height:
        raise InvalidPlanInput(str(no_terms["unique_id"][0]),
                               "no supplier terms (import supplier-items for it)")
    for col, low in (("lead_time_days", 0), ("pack_size", 1), ("moq", 0)):
        wrong = inputs.terms.filter(pl.col(col).is_null() | (pl.col(col) < low))
        if wrong.height:
            raise InvalidPlanInput(str(wrong["unique_id"][0]),
                                   f"{col} {wrong[col][0]} (must be ≥ {low})")


def _window(history: pl.DataFrame, days: int) -> pl.DataFrame:
    if history.is_empty():
        return history
    end = history["ds"].max()
    return history.filter(pl.col("ds") > pl.lit(end) - pl.duration(days=days))


def _base(inputs: PlanInputs, hist: pl.DataFrame, opt: PlanOptions) -> pl.DataFrame:
    """Terms per series with the protection interval, demand class and chosen method."""
    classes = demand_classes(hist).select("unique_id", "demand_class") if not hist.is_empty() \
        else pl.DataFrame(schema={"unique_id": pl.Utf8, "demand_class": pl.Utf8})
    terms = inputs.terms.with_columns(
        pl.col("order_cost").fill_null(0.0) if "order_cost" in inputs.terms.columns
        else pl.lit(0.0).alias("order_cost"))
    fallback = opt.methods.get("*", dl.FORECAST)
    if inputs.extra_laws is not None and "lead_time_days" in inputs.extra_laws.columns:
        learned = inputs.extra_laws.select("unique_id", pl.col("lead_time_days").alias("lt"))
        terms = terms.join(learned, on="unique_id", how="left").with_columns(
            pl.coalesce("lt", "lead_time_days").cast(pl.Int64).alias("lead_time_days")).drop("lt")
    return terms.join(classes, on="unique_id", how="left").with_columns(
        pl.col("demand_class").fill_null("zero"),
        *split_unique_id(),
        pl.lit(opt.review_days, pl.Int64).alias("review_days"),
        (pl.col("lead_time_days") + opt.review_days).alias("protection_days"),
    ).with_columns(pl.col("demand_class").replace_strict(
        dict(opt.methods), default=fallback, return_dtype=pl.Utf8).alias("method"))


def _laws(base: pl.DataFrame, forecast: pl.DataFrame, cv: pl.DataFrame, hist: pl.DataFrame,
          extra: pl.DataFrame | None, *, protection: bool) -> pl.DataFrame:
    """The law per series over P (``protection``) or over the lead time alone."""
    col = "protection_days" if protection else "lead_time_days"
    parts = []
    for (method, days, klass), group in base.group_by("method", col, "demand_class"):
        ids = group.select("unique_id")
        # The forecast law pools scaled backtest errors where a series has few of its own;
        # pooling over every series let lumpy series' huge relative errors widen steadier
        # ones (a root cause of issue 13), so errors are pooled within the demand class.
        pool = base.filter(pl.col("demand_class") == klass).select("unique_id")
        got = dl.law(str(method), max(int(days), 1),
                     forecast=forecast.join(ids, on="unique_id", how="semi"),
                     cv=cv.join(pool, on="unique_id", how="semi"),
                     history=hist.join(pool if method in (dl.FORECAST, dl.NORMAL) else ids,
                                       on="unique_id", how="semi"))
        parts.append(ids.join(got, on="unique_id", how="left"))
    laws = pl.concat(parts, how="vertical_relaxed").with_columns(
        pl.col("method").fill_null("none"), pl.col("days").fill_null(0),
        *[pl.col(c).fill_null(0.0) for c in ("mean", *dl.QCOLS)])
    if extra is not None and protection and not extra.is_empty():
        keep = extra.select(dl.law_columns()).cast(laws.schema)
        laws = pl.concat([laws.join(keep, on="unique_id", how="anti"), keep])
    return laws.select("unique_id", "method", "mean", *dl.QCOLS)


def _levels(plan: pl.DataFrame, lead: pl.DataFrame) -> pl.DataFrame:
    """Order-up-to, reorder point, safety stock from the laws at the service level."""
    q = dl.quantile_of(plan, plan["quantile_level"])
    mean = plan["mean"].to_numpy()
    s = np.ceil(np.maximum(q, mean) - 1e-9)
    lead_aligned = plan.select("unique_id").join(lead, on="unique_id", how="left").fill_null(0.0)
    rop = np.minimum(np.ceil(dl.quantile_of(lead_aligned, plan["quantile_level"]) - 1e-9), s)
    return plan.with_columns(
            pl.Series("demand_quantile", q), pl.Series("order_up_to", s.astype(np.int64)),
            pl.Series("reorder_point", rop.astype(np.int64)),
            pl.Series("p50", np.round(dl.quantile_of(plan, 0.5)).astype(np.int64)),
            pl.Series("safety_stock", np.round(s - mean).astype(np.int64)))


def _position(plan: pl.DataFrame, positions: pl.DataFrame) -> pl.DataFrame:
    """Sellable on hand + on order + in transit − reserved, and the need up to S."""
    cols = ("on_hand", "on_order", "reserved", "in_transit", "expired", "quarantined")
    pos = positions.with_columns(
        [pl.lit(0, pl.Int64).alias(c) for c in cols if c not in positions.columns])
    out = plan.join(pos.select("unique_id", *cols), on="unique_id", how="left").with_columns(
        [pl.col(c).fill_null(0).cast(pl.Int64) for c in cols])
    out = out.with_columns(
        (pl.col("on_hand") - pl.col("expired") - pl.col("quarantined")).clip(lower_bound=0)
        .alias("sellable"))
    out = out.with_columns((pl.col("sellable") + pl.col("on_order") + pl.col("in_transit")
                            - pl.col("reserved")).alias("inventory_position"))
    return out.with_columns(
        (pl.col("order_up_to") - pl.col("inventory_position")).clip(lower_bound=0)
        .alias("need"), pl.col("supplier").alias("source"))


# --- where plan2 plugs in (planning/overrides.py, planning/sourcing.py) -------------------------

def _as_of(inputs: PlanInputs, opt: PlanOptions) -> date:
    """The planning day: the option, else the day after the history ends."""
    if opt.as_of is not None or inputs.history.is_empty():
        return opt.as_of or date.today()
    end: date = inputs.history["ds"].max()  # type: ignore[assignment]
    return end + timedelta(days=1)


def _active_overrides(inputs: PlanInputs, opt: PlanOptions) -> pl.DataFrame:
    """Overrides in force on the planning day, checked against the planned series."""
    if inputs.overrides.is_empty():
        return inputs.overrides
    ov.validate(inputs.overrides, inputs.terms["unique_id"])
    return ov.active(inputs.overrides, _as_of(inputs, opt))


def _apply_service_overrides(service: pl.DataFrame, overrides: pl.DataFrame) -> pl.DataFrame:
    """Per-SKU service levels (kind ``service_level``; :mod:`.overrides`)."""
    return ov.apply_service(service, overrides)


def _adjust_laws(laws: pl.DataFrame, lead: pl.DataFrame, base: pl.DataFrame,
                 overrides: pl.DataFrame, as_of: date) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Forecast adjustments (factor / units over a date range) on both laws (:mod:`.overrides`)."""
    if overrides.is_empty():
        return laws, lead
    p = base.select("unique_id", pl.col("protection_days").alias("window_days"))
    lt = base.select("unique_id", pl.col("lead_time_days").alias("window_days"))
    return (ov.adjust_laws(laws, p, overrides, as_of, dl.QCOLS),
            ov.adjust_laws(lead, lt, overrides, as_of, dl.QCOLS))


def _apply_level_overrides(plan: pl.DataFrame, overrides: pl.DataFrame) -> pl.DataFrame:
    """Fixed order-up-to / min / max per SKU (:mod:`.overrides`; named in the reason)."""
    return ov.apply_levels(plan, overrides)


def _apply_sourcing(plan: pl.DataFrame, sourcing: pl.DataFrame) -> pl.DataFrame:
    """A (min, max) override's trigger, then net store needs against their DC (:mod:`.sourcing`)."""
    return apply_sourcing(ov.min_trigger(plan), sourcing)


def _append_notes(plan: pl.DataFrame, overrides: pl.DataFrame) -> pl.DataFrame:
    """End each reason with the overrides in force and the sourcing note.

    A DC-sourced store orders nothing itself: its "no order" clause gives way to the note.
    """
    store = pl.col("transfer_from").is_not_null()
    reason = pl.when(store).then(
        pl.col("reason").str.replace("; position covers it → no order", "", literal=True))
    plan = plan.join(ov.notes(overrides), on="unique_id", how="left")
    return plan.with_columns(pl.concat_str([
        reason.otherwise(pl.col("reason")), pl.col("level_note"),
        pl.col("override_note").fill_null(""), pl.col("sourcing_note")]).alias("reason"))
