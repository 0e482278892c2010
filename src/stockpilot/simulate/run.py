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

from stockpilot.domain.series import SeriesKey
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
            n_windows: int = 2, horizon: int | None = None, calibration_weeks: int = 0,
            progress: Callable[[str], None] | None = None,
            overrides: pl.DataFrame | None = None) -> Comparison:
    """Run every policy over ``start … end``; traces are kept at service ``keep``.

    Order-up-to levels are the continuous quantile rounded up (never below it, as the planner
    does). With ``calibration_weeks``, the reviews of that many weeks before ``start`` learn a
    target → level map (:mod:`.calibrate`) and "ours (calibrated)" and "normal (calibrated)"
    order at the mapped levels. Research variants (other roundings, per-group calibration,
    empirical levels) compose the same steps in ``benchmarks/policy_research.py``.
    """
    s = study(df, start, end, setup, keep=keep, costs=costs,
              origins=rolling_origins(df, setup, models, n_windows, horizon, progress),
              progress=progress)
    run_forecast_policies(s, service_levels, class_levels, models, n_windows, overrides)
    run_calibrated(s, calibration_weeks, service_levels, class_levels)
    run_baselines(s, ks)
    return s.cmp


ToInt = Callable[[np.ndarray], np.ndarray]
#: Rolling-origin forecasts for a list of review days (:func:`.rolling.rolling_ltd`).
Origins = Callable[[list[date]], list[Origin]]


def rolling_origins(df: pl.DataFrame, setup: Setup, models: Sequence[str] = FAST_MODELS,
                    n_windows: int = 2, horizon: int | None = None,
                    progress: Callable[[str], None] | None = None) -> Origins:
    """Forecasts refitted at each review day on data before it, over lead time + review."""
    return lambda days: rolling_ltd(df, sorted(df["unique_id"].unique().to_list()), days,
                                    setup.lead_time + setup.review, models, n_windows, horizon,
                                    progress=progress)


@dataclass
class Study:
    """One simulated window: demand, review days, forecasts, and the KPI rows run so far.

    The steps of :func:`compare` (and of the research variants in ``benchmarks/``) each add
    policies to ``cmp`` through :meth:`run`.
    """

    df: pl.DataFrame
    start: date
    ids: list[str]
    hist: np.ndarray
    s0: int
    days: int
    reviews: list[int]
    origins: list[Origin]
    make_origins: Origins
    setup: Setup
    to_int: ToInt
    keep: float
    costs: Costs | None
    on_hand0: np.ndarray
    cmp: Comparison
    progress: Callable[[str], None] | None = None

    @property
    def demand(self) -> np.ndarray:
        """Demand over the simulated days (series × days)."""
        return self.hist[:, self.s0:]

    def run(self, name: str, knob: float, policy: Policy, keep_trace: bool) -> None:
        """Simulate ``policy``, add its KPI row, keep its trace if asked."""
        self.add(name, knob, simulate(self.demand, policy, self.on_hand0, self.setup),
                 keep_trace)

    def add(self, name: str, knob: float, trace: Trace, keep_trace: bool) -> None:
        """Add the KPI row of a simulated ``trace`` (and keep the trace if asked)."""
        self.cmp.rows.append({"policy": name, "knob": knob, **kpis(trace, self.costs)})
        if keep_trace:
            self.cmp.traces[name] = trace
            self.cmp.knobs[name] = knob


def study(df: pl.DataFrame, start: date, end: date, setup: Setup, *, origins: Origins,
          keep: float = 0.95, costs: Costs | None = None, to_int: ToInt = np.ceil,
          progress: Callable[[str], None] | None = None) -> Study:
    """Set up a simulated window ``start … end``: demand matrix, reviews, forecasts."""
    first: date = df["ds"].min()  # type: ignore[assignment]
    ids, hist = matrix(df, first, end)
    s0 = (start - first).days
    days = (end - start).days + 1
    reviews = list(range(setup.first_review, days, setup.review))
    on_hand0 = np.rint(st.trailing_mean(hist, s0, 1)[:, 0] * (setup.lead_time + setup.review)
                       ).astype(np.int64)
    cmp = Comparison(ids=ids, days=[start + timedelta(days=i) for i in range(days)])
    return Study(df, start, ids, hist, s0, days, reviews,
                 origins([start + timedelta(days=r) for r in reviews]), origins, setup, to_int,
                 keep, costs, on_hand0, cmp, progress)


def run_forecast_policies(s: Study, service_levels: Sequence[float],
                          class_levels: dict[str, float] | None, models: Sequence[str],
                          n_windows: int, overrides: pl.DataFrame | None = None) -> None:
    """"ours" (the planning pipeline) and "normal" over the sweep; class targets if given."""
    pipeline = _pipeline(s.df, s.ids, s.start, s.setup, s.costs, models, n_windows,
                         s.progress, overrides)
    n = len(s.ids)
    for tau in service_levels:
        s.add("ours", tau, pipeline(s.demand, s.on_hand0, tau), tau == s.keep)
        s.run("normal", tau, _normal(s.origins, s.reviews, n, s.days, tau, s.to_int),
              tau == s.keep)
    if class_levels:
        level = np.array([class_levels.get(u, s.keep) for u in s.ids])
        s.run("ours (class targets)", float(level.mean()),
              _levels(s.origins, s.reviews, n, s.days, level, s.to_int), True)


def run_baselines(s: Study, ks: Sequence[float]) -> None:
    """ERP min/max over its multipliers ``ks``, and the oracle."""
    for k in ks:
        s.run("erp_min_max", k, st.erp_min_max(s.hist, s.s0, s.days, s.setup, k), k == 1.5)
    s.run("oracle", 1.0, st.oracle(s.hist, s.s0, s.days, s.setup), True)


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


def run_calibrated(s: Study, calibration_weeks: int, service_levels: Sequence[float],
                   class_levels: dict[str, float] | None,
                   groups: dict[str, str] | None = None) -> dict[str, LevelMap]:
    """Learn target → level maps on the reviews before the window, then run at mapped levels.

    Uses up to ``calibration_weeks`` reviews (each needs 56 days of history before it); the
    maps are per group of ``groups`` (series → group) when given, else one for all series.
    """
    weeks = _calibration_weeks(calibration_weeks, s.s0, s.setup)
    if not weeks:
        return {}
    (s.progress or (lambda _m: None))(f"calibrating on {weeks} reviews before {s.start}")
    cal = s.make_origins([s.start - timedelta(days=(weeks - i) * s.setup.review)
                          for i in range(weeks)])
    n = len(s.ids)
    group = [groups.get(u, ALL) for u in s.ids] if groups else [ALL] * n
    c0 = s.s0 - weeks * s.setup.review
    protection = s.setup.lead_time + s.setup.review
    hand0 = np.rint(st.trailing_mean(s.hist, c0, 1)[:, 0] * protection).astype(np.int64)
    maps = _fit_maps(cal, s.hist[:, c0:s.s0], hand0, s.setup, group, s.to_int)
    targets = [(tau, np.full(n, tau), "") for tau in service_levels]
    if class_levels:
        level = np.array([class_levels.get(u, s.keep) for u in s.ids])
        targets.append((float(level.mean()), level, ", class targets"))
    for name, lmap in maps.items():
        for knob, target, tag in targets:
            policy = _POLICIES[name](s.origins, s.reviews, n, s.days,
                                     lmap.level_for(target, group), s.to_int)
            s.run(f"{name} (calibrated{tag})", knob, policy, knob == s.keep or bool(tag))
    s.cmp.maps = maps
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
    sku_loc = [SeriesKey.parse(u) for u in cmp.ids]
    for name, tr in cmp.traces.items():
        parts.append(pl.DataFrame({
            "policy": [name] * (n * days),
            "knob": [cmp.knobs[name]] * (n * days),
            "sku": np.repeat([k.sku for k in sku_loc], days),
            "location": np.repeat([k.location for k in sku_loc], days),
            "day": cmp.days * n,
            "review": tr.review_day.reshape(-1),
            **{c: getattr(tr, c).reshape(-1) for c in ("demand", "sales", "lost", "on_hand_end",
                                                      "on_order", "ordered", "received")},
        }))
    return pl.concat(parts)
