"""The simulator's "ours": the planning pipeline itself, called on every review day.

On review day D the replay builds the same :class:`~stockpilot.planning.pipeline.PlanInputs`
the nightly job would have built that morning — history strictly before D, the forecast and
its backtest errors from the latest refit, the simulated positions and perishable lots, the
per-SKU supplier terms and service targets — calls
:func:`~stockpilot.planning.pipeline.build_plan`, and orders its ``order_qty``. So the orders
simulated are exactly the orders ``stockpilot plan`` would have suggested (tested).

Refit schedule: the forecast (statsforecast models chosen by rolling-origin error, as
``stockpilot forecast`` does) is refitted every ``refit_days`` days (default 28: a four-weekly
model run as a nightly job would schedule it) on data before the refit day, with a horizon
covering the refit interval plus the longest protection interval; reviews in between use the
rows of that forecast from their own day on. History-based laws (compound Poisson, empirical,
negative binomial) and the demand classes use all data before each review.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt
import polars as pl

from stockpilot.forecast.data import prepare
from stockpilot.forecast.selection import forecast_frame
from stockpilot.planning.pipeline import DEFAULT_METHODS, PlanInputs, PlanOptions, build_plan
from stockpilot.simulate.engine import Setup, State, Trace, simulate

IntArray = npt.NDArray[np.int64]
FAST_MODELS = ("SeasonalNaive", "CrostonOptimized", "TSB", "WindowAverage28")


@dataclass(frozen=True)
class Terms:
    """Per-SKU supplier terms for the replay, arrays in ``ids`` order."""

    lead_time_days: IntArray
    moq: IntArray
    pack_size: IntArray
    unit_cost: npt.NDArray[np.float64]
    shelf_life_days: IntArray | None = None  # ≤ 0 = keeps forever

    def frame(self, ids: list[str]) -> pl.DataFrame:
        """The pipeline's terms frame."""
        return pl.DataFrame({"unique_id": ids, "supplier": "SUPPLIER",
                             "lead_time_days": self.lead_time_days, "moq": self.moq,
                             "pack_size": self.pack_size, "unit_cost": self.unit_cost,
                             "order_cost": 0.0})


@dataclass
class Forecasts:
    """Refitted forecasts by refit day (filled lazily, shared by every replay of a run)."""

    history: pl.DataFrame
    refit_days: int = 28
    models: Sequence[str] = FAST_MODELS
    n_windows: int = 2
    horizon: int = 56
    progress: Callable[[str], None] | None = None
    cache: dict[date, tuple[pl.DataFrame, pl.DataFrame]] = field(default_factory=dict)

    def at(self, day: date, first: date) -> tuple[pl.DataFrame, pl.DataFrame]:
        """(forecast from ``day`` on, cv) of the refit in force on ``day``."""
        refit = first + timedelta(days=((day - first).days // self.refit_days) * self.refit_days)
        if refit not in self.cache:
            if self.progress:
                self.progress(f"refit on data before {refit}")
            prep = prepare(self.history.filter(pl.col("ds") < refit), refit - timedelta(days=1))
            fc = forecast_frame(prep, self.models, self.horizon, self.n_windows)
            self.cache[refit] = (fc.forecasts.select("unique_id", "ds", "mean"), fc.cv)
        forecast, cv = self.cache[refit]
        return forecast.filter(pl.col("ds") >= day), cv


@dataclass(frozen=True)
class Replay:
    """One replay of the pipeline: data, terms, targets and options."""

    history: pl.DataFrame  # gap-free ``unique_id, ds, y`` of every SKU
    ids: list[str]
    start: date
    terms: Terms
    service_level: npt.NDArray[np.float64]
    forecasts: Forecasts
    options: PlanOptions = field(default_factory=PlanOptions)
    #: planner overrides (OVERRIDES_SCHEMA), replayed as the planner applies them: each is in
    #: force on the review days its dates and expiry allow
    overrides: pl.DataFrame | None = None

    def inputs(self, state: State) -> PlanInputs:
        """The pipeline's inputs on the review day of ``state``."""
        day = self.start + timedelta(days=state.day)
        past = self.history.filter(pl.col("ds") < day)
        forecast, cv = self.forecasts.at(day, self.start)
        positions = pl.DataFrame({"unique_id": self.ids, "on_hand": state.on_hand,
                                  "on_order": state.on_order, "reserved": 0})
        service = pl.DataFrame({"unique_id": self.ids, "klass": "--",
                                "service_level": self.service_level})
        shelf, lots = self._perishable(state)
        extra = {} if self.overrides is None else {"overrides": self.overrides}
        return PlanInputs(history=past, forecast=forecast, cv=cv, positions=positions,
                          terms=self.terms.frame(self.ids), service=service, shelf_life=shelf,
                          lots=lots, **extra)

    def _perishable(self, state: State) -> tuple[pl.DataFrame, pl.DataFrame]:
        life = self.terms.shelf_life_days
        shelf = pl.DataFrame({"unique_id": self.ids, "shelf_life_days": life}).filter(
            pl.col("shelf_life_days") > 0) if life is not None else \
            pl.DataFrame(schema={"unique_id": pl.Utf8, "shelf_life_days": pl.Int64})
        if state.lots is None or state.lot_days_left is None:
            return shelf, pl.DataFrame(schema={"unique_id": pl.Utf8, "qty": pl.Float64,
                                               "days_to_expiry": pl.Int64})
        k = state.lots.shape[1]
        lots = pl.DataFrame({"unique_id": np.repeat(self.ids, k),
                             "qty": state.lots.reshape(-1).astype(float),
                             "days_to_expiry": state.lot_days_left.reshape(-1)})
        return shelf, lots.filter(pl.col("qty") > 0)

    def decide(self, state: State) -> IntArray:
        """The pipeline's order quantities on this review day, in ``ids`` order."""
        day = self.start + timedelta(days=state.day)
        plan = build_plan(self.inputs(state), replace(self.options, as_of=day))
        qty = pl.DataFrame({"unique_id": self.ids}).join(
            plan.select("unique_id", "order_qty"), on="unique_id", how="left")["order_qty"]
        out: IntArray = qty.fill_null(0).to_numpy().astype(np.int64)
        return out

    def run(self, demand: IntArray, on_hand0: IntArray, review: int = 7,
            first_review: int = 0) -> Trace:
        """Simulate ``demand`` (ids × days from ``start``) with the pipeline deciding."""
        setup = Setup(lead_time=int(self.terms.lead_time_days.max()), review=review,
                      first_review=first_review,
                      lead_times=self.terms.lead_time_days, shelf_life=self.terms.shelf_life_days)
        return simulate(demand, None, on_hand0, setup, decide=self.decide)


def replay_methods(base: Replay, methods: dict[str, str]) -> Replay:
    """The same replay with another class → method choice."""
    return Replay(base.history, base.ids, base.start, base.terms, base.service_level,
                  base.forecasts, PlanOptions(review_days=base.options.review_days,
                                              methods={**DEFAULT_METHODS, **methods}),
                  base.overrides)
