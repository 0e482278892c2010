"""Compare policies on the same history in one run: ERP min/max, normal theory, ours, oracle.

"ours" is the planning pipeline itself, called on every review (:mod:`.replay`). "normal" and
the calibrated / empirical variants replay rolling-origin forecast quantiles refitted at every
review (:mod:`.rolling`); they are research baselines, not the planner.

``compare`` takes daily demand (``unique_id, ds, y``), a simulated window and a setup; forecasts
are made on rolling origins with data before each review only (:mod:`.rolling`). Each policy
is swept over its knob (service target, or the min/max multiplier k) to trace its curve of
average inventory against fill rate; :func:`inventory_at_fill` reads the curves at equal fill.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import numpy as np
import polars as pl

from stockpilot.forecast.data import prepare
from stockpilot.planning.pipeline import PlanOptions
from stockpilot.planning.policies import quantile_at
from stockpilot.simulate import strategies as st
from stockpilot.simulate.calibrate import ALL, LevelMap, fit_level_map
from stockpilot.simulate.engine import Policy, Setup, Trace, simulate
from stockpilot.simulate.kpis import Costs, kpis
from stockpilot.simulate.replay import Forecasts, Replay, Terms
from stockpilot.simulate.rolling import FAST_MODELS, Origin, rolling_ltd

SERVICE_SWEEP = (0.50, 0.65, 0.80, 0.90, 0.95, 0.98, 0.99)
K_SWEEP = (1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0)


@dataclass
class Comparison:
    """KPI rows (one per policy and knob) and the traces kept for export."""

    rows: list[dict[str, object]] = field(default_factory=list)
    traces: dict[str, Trace] = field(default_factory=dict)
    ids: list[str] = field(default_factory=list)
    days: list[date] = field(default_factory=list)
    maps: dict[str, LevelMap] = field(default_factory=dict)
    knobs: dict[str, float] = field(default_factory=dict)  # knob of each kept trace


def matrix(df: pl.DataFrame, first: date, last: date) -> tuple[list[str], np.ndarray]:
    """Demand as an integer array (series × days from ``first`` to ``last``), zeros filled."""
    ids = sorted(df["unique_id"].unique().to_list())
    n_days = (last - first).days + 1
    d = df.filter(pl.col("ds").is_between(first, last)).with_columns(
        (pl.col("ds") - pl.lit(first)).dt.total_days().alias("t"))
    index = {u: i for i, u in enumerate(ids)}
    out = np.zeros((len(ids), n_days), dtype=np.int64)
    rows = d["unique_id"].replace_strict(index, return_dtype=pl.Int64).to_numpy()
    out[rows, d["t"].to_numpy()] = np.rint(d["y"].to_numpy()).clip(0).astype(np.int64)
    return ids, out


def compare(df: pl.DataFrame, start: date, end: date, setup: Setup, *,
            service_levels: Sequence[float] = SERVICE_SWEEP, ks: Sequence[float] = K_SWEEP,
            class_levels: dict[str, float] | None = None, keep: float = 0.95,
            costs: Costs | None = None, models: Sequence[str] = FAST_MODELS,
            n_windows: int = 2, horizon: int | None = None, integer: str = "ceil",
            max_start: int | None = None, calibration_weeks: int = 0,
            groups: dict[str, str] | None = None, empirical_window: int = 0,
            progress: Callable[[str], None] | None = None,
            overrides: pl.DataFrame | None = None) -> Comparison:
    """Run every policy over ``start … end``; traces are kept at service ``keep``.

    ``integer`` turns the continuous quantile into whole units: ``ceil`` (never below the
    quantile, as the planner does) or ``round`` (nearest unit). With ``calibration_weeks``,
    the reviews of that many weeks before ``start`` learn a target → level map
    (:mod:`.calibrate`, per group of ``groups`` when given) and "ours (calibrated)" and
    "normal (calibrated)" order at the mapped levels. With ``empirical_window`` (days),
    "empirical" orders up to the quantile of past P-day sums (:func:`.strategies.
    empirical_levels`) and "ours + empirical (intermittent)" does so only for the SKUs whose
    group is ``intermittent`` or ``lumpy``, keeping the forecast quantiles elsewhere.
    """
    to_int = np.ceil if integer == "ceil" else np.rint
    first: date = df["ds"].min()  # type: ignore[assignment]
    ids, hist = matrix(df, first, end)
    s0 = (start - first).days
    days = (end - start).days + 1
    demand = hist[:, s0:]
    reviews = list(range(setup.first_review, days, setup.review))
    origins = rolling_ltd(df, ids, [start + timedelta(days=r) for r in reviews],
                          setup.lead_time + setup.review, models, n_windows, horizon,
                          max_start, progress=progress)
    on_hand0 = np.rint(st.trailing_mean(hist, s0, 1)[:, 0] * (setup.lead_time + setup.review)
                       ).astype(np.int64)
    cmp = Comparison(ids=ids, days=[start + timedelta(days=i) for i in range(days)])

    def run(name: str, knob: float, policy: Policy, keep_trace: bool) -> None:
        trace = simulate(demand, policy, on_hand0, setup)
        cmp.rows.append({"policy": name, "knob": knob, **kpis(trace, costs)})
        if keep_trace:
            cmp.traces[name] = trace
            cmp.knobs[name] = knob

    pipeline = _pipeline(df, ids, start, setup, costs, models, n_windows, progress, overrides)
    for tau in service_levels:
        trace = pipeline(demand, on_hand0, tau)
        cmp.rows.append({"policy": "ours", "knob": tau, **kpis(trace, costs)})
        if tau == keep:
            cmp.traces["ours"], cmp.knobs["ours"] = trace, tau
        run("normal", tau, _normal(origins, reviews, len(ids), days, tau, to_int),
            tau == keep)
    if class_levels:
        level = np.array([class_levels.get(u, keep) for u in ids])
        run("ours (class targets)", float(level.mean()),
            _levels(origins, reviews, len(ids), days, level, to_int), True)
    ctx = _Context(ids, hist, s0, days, reviews, origins, setup, to_int, keep, run)
    if empirical_window:
        _run_empirical(ctx, service_levels, empirical_window, groups or {})
    weeks = _calibration_weeks(calibration_weeks, s0, setup)
    if weeks:
        (progress or (lambda _m: None))(f"calibrating on {weeks} reviews before {start}")
        cal = rolling_ltd(df, ids, [start - timedelta(days=(weeks - i) * setup.review)
                                    for i in range(weeks)],
                          setup.lead_time + setup.review, models, n_windows, horizon,
                          max_start, progress=progress)
        cmp.maps = _run_calibrated(ctx, cal, weeks, service_levels, class_levels, groups)
    for k in ks:
        run("erp_min_max", k, st.erp_min_max(hist, s0, days, setup, k), k == 1.5)
    run("oracle", 1.0, st.oracle(hist, s0, days, setup), True)
    return cmp


ToInt = Callable[[np.ndarray], np.ndarray]


def _pipeline(df: pl.DataFrame, ids: list[str], start: date, setup: Setup,
              costs: Costs | None, models: Sequence[str], n_windows: int,
              progress: Callable[[str], None] | None,
              overrides: pl.DataFrame | None = None
              ) -> Callable[[np.ndarray, np.ndarray, float], Trace]:
    """"ours": the planning pipeline on every review (:mod:`.replay`), one refit cache.

    Supplier terms: the setup's lead time, MOQ and pack (0 and 1 when absent); planner
    ``overrides`` (OVERRIDES_SCHEMA) act on the review days they are in force.
    """
    n = len(ids)
    terms = Terms(lead_time_days=np.full(n, setup.lead_time, dtype=np.int64),
                  moq=setup.moq if setup.moq is not None else np.zeros(n, dtype=np.int64),
                  pack_size=setup.pack if setup.pack is not None else np.ones(n, dtype=np.int64),
                  unit_cost=costs.unit_cost if costs is not None else np.ones(n))
    hist = prepare(df).df
    fc = Forecasts(hist, models=models, n_windows=n_windows,
                   horizon=28 + setup.lead_time + setup.review, progress=progress)

    def run(demand: np.ndarray, on_hand0: np.ndarray, tau: float) -> Trace:
        rp = Replay(hist, ids, start, terms, np.full(n, tau), fc,
                    PlanOptions(review_days=setup.review), overrides)
        return rp.run(demand, on_hand0, setup.review, setup.first_review)

    return run


@dataclass(frozen=True)
class _Context:
    """What every extra policy of :func:`compare` needs: the data, the forecasts, a runner."""

    ids: list[str]
    hist: np.ndarray
    s0: int
    days: int
    reviews: list[int]
    origins: list[Origin]
    setup: Setup
    to_int: ToInt
    keep: float
    run: Callable[[str, float, Policy, bool], None]


def _run_empirical(ctx: _Context, service_levels: Sequence[float], window: int,
                   groups: dict[str, str]) -> None:
    """"empirical" for all SKUs, and for the intermittent/lumpy ones only (else "ours")."""
    n, protection = len(ctx.ids), ctx.setup.lead_time + ctx.setup.review
    lumpy = np.array([groups.get(u) in ("intermittent", "lumpy") for u in ctx.ids])
    for tau in service_levels:
        emp = st.empirical_levels(ctx.hist, ctx.s0, ctx.reviews, protection, window,
                                  np.full(n, tau))
        ctx.run("empirical", tau, st.from_levels(
            {r: ctx.to_int(v) for r, v in emp.items()}, n, ctx.days), tau == ctx.keep)
        mixed = {r: np.where(lumpy, ctx.to_int(emp[r]), ctx.to_int(quantile_at(o.ltd, tau)))
                 for r, o in zip(ctx.reviews, ctx.origins, strict=True)}
        ctx.run("ours + empirical (intermittent)", tau, st.from_levels(mixed, n, ctx.days),
                tau == ctx.keep)


def _run_calibrated(ctx: _Context, cal: list[Origin], weeks: int,
                    service_levels: Sequence[float], class_levels: dict[str, float] | None,
                    groups: dict[str, str] | None) -> dict[str, LevelMap]:
    """Learn the maps on the ``weeks`` reviews before the period, then run at mapped levels."""
    n = len(ctx.ids)
    group = [groups.get(u, ALL) for u in ctx.ids] if groups else [ALL] * n
    c0 = ctx.s0 - weeks * ctx.setup.review
    protection = ctx.setup.lead_time + ctx.setup.review
    hand0 = np.rint(st.trailing_mean(ctx.hist, c0, 1)[:, 0] * protection).astype(np.int64)
    maps = _fit_maps(cal, ctx.hist[:, c0:ctx.s0], hand0, ctx.setup, group, ctx.to_int)
    targets = [(tau, np.full(n, tau), "") for tau in service_levels]
    if class_levels:
        level = np.array([class_levels.get(u, ctx.keep) for u in ctx.ids])
        targets.append((float(level.mean()), level, ", class targets"))
    for name, lmap in maps.items():
        for knob, target, tag in targets:
            policy = _POLICIES[name](ctx.origins, ctx.reviews, n, ctx.days,
                                     lmap.level_for(target, group), ctx.to_int)
            ctx.run(f"{name} (calibrated{tag})", knob, policy, knob == ctx.keep or bool(tag))
    return maps


def _fit_maps(cal: list[Origin], demand: np.ndarray, hand0: np.ndarray, setup: Setup,
              group: list[str], to_int: ToInt) -> dict[str, LevelMap]:
    """Target → level maps of "ours" and "normal" from reviews before the evaluated period.

    ``demand`` covers exactly the calibration days, whose first day is the first review.
    """
    n, days = demand.shape
    reviews = list(range(0, days, setup.review))

    def builder(name: str) -> Callable[[np.ndarray], Policy]:
        return lambda lv: _POLICIES[name](cal, reviews, n, days, lv, to_int)

    one = replace(setup, first_review=0)
    return {name: fit_level_map(builder(name), demand, hand0, one, group) for name in _POLICIES}


def _calibration_weeks(wanted: int, s0: int, setup: Setup, min_history: int = 56) -> int:
    """Reviews available for calibration: each needs ``min_history`` days before it."""
    return max(min(wanted, (s0 - min_history) // setup.review), 0) if wanted > 0 else 0


def _levels(origins: list[Origin], reviews: list[int], n: int, days: int,
            tau: float | np.ndarray, to_int: Callable[[np.ndarray], np.ndarray]) -> Policy:
    level: float | pl.Series = tau if isinstance(tau, float) else pl.Series(tau.tolist())
    return st.from_levels({r: to_int(quantile_at(o.ltd, level))
                           for r, o in zip(reviews, origins, strict=True)}, n, days)


def _normal(origins: list[Origin], reviews: list[int], n: int, days: int,
            tau: float | np.ndarray, to_int: Callable[[np.ndarray], np.ndarray]) -> Policy:
    level = np.broadcast_to(np.asarray(tau, dtype=float), (n,))
    return st.from_levels({r: to_int(st.normal_level(o.ltd["mean"].to_numpy(), o.sigma, level))
                           for r, o in zip(reviews, origins, strict=True)}, n, days)


_POLICIES: dict[str, Callable[[list[Origin], list[int], int, int, float | np.ndarray, ToInt],
                               Policy]] = {"ours": _levels, "normal": _normal}


def inventory_at_fill(rows: list[dict[str, object]], policy: str, fill: float) -> float | None:
    """Average on-hand units per SKU a policy needs for ``fill`` (linear on its curve)."""
    pts = sorted((float(r["fill_rate"]), float(r["avg_on_hand_per_sku"]))  # type: ignore[arg-type]
                 for r in rows if r["policy"] == policy)
    xs = [p[0] for p in pts]
    if not pts or fill < xs[0] or fill > xs[-1]:
        return None
    return float(np.interp(fill, xs, [p[1] for p in pts]))


def trace_frame(cmp: Comparison) -> pl.DataFrame:
    """The per SKU-day trace of the kept policies, in the documented column order.

    ``policy, knob`` name the KPI row; ``review`` marks review days (a replenishment cycle runs
    from one review to the next), so every KPI of that row can be recomputed from the trace.
    """
    parts = []
    n, days = len(cmp.ids), len(cmp.days)
    sku_loc = [u.split("@", 1) for u in cmp.ids]
    for name, tr in cmp.traces.items():
        parts.append(pl.DataFrame({
            "policy": [name] * (n * days),
            "knob": [cmp.knobs[name]] * (n * days),
            "sku": np.repeat([s for s, _ in sku_loc], days),
            "location": np.repeat([loc for _, loc in sku_loc], days),
            "day": cmp.days * n,
            "review": tr.review_day.reshape(-1),
            **{c: getattr(tr, c).reshape(-1) for c in ("demand", "sales", "lost", "on_hand_end",
                                                      "on_order", "ordered", "received")},
        }))
    return pl.concat(parts)
