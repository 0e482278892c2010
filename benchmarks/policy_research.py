"""Research variants of :func:`stockpilot.simulate.run.compare`, for the policy benchmarks only.

``compare_research`` runs the same steps as ``compare`` (:func:`~stockpilot.simulate.run.study`,
``run_forecast_policies``, ``run_calibrated``, ``run_baselines``) with the options no user
calls, moved here out of ``src`` (issue 12):

* ``integer``: ``ceil`` (the planner's rounding) or ``round`` (nearest unit);
* ``max_start``: calibrate the lead-time quantiles only on error runs starting within the
  first ``max_start`` days of each window (:func:`stockpilot.forecast.leadtime.interval_errors`);
* ``groups``: calibrate the target → level maps per group (series → group name);
* ``empirical_window``: "empirical" orders up to the quantile of past P-day sums
  (:func:`stockpilot.simulate.strategies.empirical_levels`) and "ours + empirical
  (intermittent)" does so only for the series whose group is ``intermittent`` or ``lumpy``,
  keeping the forecast quantiles elsewhere.

Used by ``benchmarks/simulate_policies.py``; ``tests/simulate/test_trace.py`` runs it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

import numpy as np
import polars as pl

from stockpilot.planning.policies import quantile_at
from stockpilot.simulate import strategies as st
from stockpilot.simulate.engine import Setup
from stockpilot.simulate.kpis import Costs
from stockpilot.simulate.rolling import FAST_MODELS, Origin, rolling_ltd
from stockpilot.simulate.run import (
    K_SWEEP,
    SERVICE_SWEEP,
    Comparison,
    Study,
    run_baselines,
    run_calibrated,
    run_forecast_policies,
    study,
)


def compare_research(df: pl.DataFrame, start: date, end: date, setup: Setup, *,
                     service_levels: Sequence[float] = SERVICE_SWEEP,
                     ks: Sequence[float] = K_SWEEP,
                     class_levels: dict[str, float] | None = None, keep: float = 0.95,
                     costs: Costs | None = None, models: Sequence[str] = FAST_MODELS,
                     n_windows: int = 2, horizon: int | None = None, integer: str = "ceil",
                     max_start: int | None = None, calibration_weeks: int = 0,
                     groups: dict[str, str] | None = None, empirical_window: int = 0,
                     progress: Callable[[str], None] | None = None) -> Comparison:
    """``compare`` with the research options (module docstring); same rows, same order."""
    ids = sorted(df["unique_id"].unique().to_list())

    def origins(days: list[date]) -> list[Origin]:
        return rolling_ltd(df, ids, days, setup.lead_time + setup.review, models, n_windows,
                           horizon, max_start, progress=progress)

    s = study(df, start, end, setup, origins=origins, keep=keep, costs=costs,
              to_int=np.ceil if integer == "ceil" else np.rint, progress=progress)
    run_forecast_policies(s, service_levels, class_levels, models, n_windows)
    if empirical_window:
        run_empirical(s, service_levels, empirical_window, groups or {})
    run_calibrated(s, calibration_weeks, service_levels, class_levels, groups)
    run_baselines(s, ks)
    return s.cmp


def run_empirical(s: Study, service_levels: Sequence[float], window: int,
                  groups: dict[str, str]) -> None:
    """"empirical" for all series, and for the intermittent/lumpy ones only (else "ours")."""
    n, protection = len(s.ids), s.setup.lead_time + s.setup.review
    lumpy = np.array([groups.get(u) in ("intermittent", "lumpy") for u in s.ids])
    for tau in service_levels:
        emp = st.empirical_levels(s.hist, s.s0, s.reviews, protection, window,
                                  np.full(n, tau))
        s.run("empirical", tau, st.from_levels(
            {r: s.to_int(v) for r, v in emp.items()}, n, s.days), tau == s.keep)
        mixed = {r: np.where(lumpy, s.to_int(emp[r]), s.to_int(quantile_at(o.ltd, tau)))
                 for r, o in zip(s.reviews, s.origins, strict=True)}
        s.run("ours + empirical (intermittent)", tau, st.from_levels(mixed, n, s.days),
              tau == s.keep)
