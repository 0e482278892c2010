"""``choose_from_cv``: forecast_frame's choice from rolling-origin forecasts computed elsewhere.

Used only by the benchmarks (``forecast_m5_monthly.py``: one statsforecast cross-validation
over the union of several evaluations' cutoffs serves them all; ``forecast_m5_rolling.py`` and
``forecast_online_retail.py``: several choice rules from the same fitted candidates), so it
lives here and not in ``src``; ``tests/forecast/test_choose_from_cv.py`` checks it against
refitting with :func:`stockpilot.forecast.selection.forecast_frame`.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import polars as pl

from stockpilot.forecast.classify import demand_classes
from stockpilot.forecast.conformal import apply_offsets, offsets_from_cv
from stockpilot.forecast.data import Prepared
from stockpilot.forecast.selection import Forecasts, assemble, check_choice, routed, routes


def choose_from_cv(prep: Prepared, models: Sequence[str], cvs: dict[str, pl.DataFrame],
                   points: dict[str, pl.DataFrame], horizon: int, freq: str = "1d",
                   choice: str = "class", routing: str | None = None) -> Forecasts:
    """What :func:`forecast_frame` returns, from rolling-origin forecasts computed elsewhere.

    For statistical (local) models the forecast at a cutoff depends only on the series'
    history up to it, so one cross-validation over the union of several evaluations' cutoffs
    can serve them all; this takes each model's share of it and applies the same routing,
    conformal offsets, choice and assembly as :func:`forecast_frame`, without refitting.

    Args:
        prep: the history, as given to :func:`forecast_frame`.
        models: the candidates, in rank order.
        cvs: per model, the ``unique_id, cutoff, ds, h, y, mean`` frame that
            ``StatsForecaster.cross_validate`` would return on ``prep`` (its windows before
            ``prep.end``, series long enough for them); series not routed to the model are
            ignored.
        points: per model, ``unique_id, ds, mean`` for the ``horizon`` periods after
            ``prep.end`` (``StatsForecaster.predict``'s mean: NaN as 0, clipped at 0), for at
            least every series routed to the model.
        horizon: periods forecast.
        freq: polars offset of the series (for the all-zero series' dates).
        choice: ``"class"`` or ``"series"``, as for :func:`forecast_frame`.
        routing: route candidates as :func:`forecast_frame` would at this frequency instead
            of ``freq`` (to measure one routing against another on the same forecasts).
    """
    check_choice(choice)
    classes = demand_classes(prep.df)
    route = routes(classes, models, routing or freq)
    fitted: dict[str, Any] = {}
    for name, ids in routed(route, models):
        cv = cvs[name].join(ids, on="unique_id", how="semi")
        offsets = offsets_from_cv(cv, prep.df.join(ids, on="unique_id", how="semi"))
        fc = apply_offsets(points[name].join(ids, on="unique_id", how="semi"), offsets)
        # stands in for a fitted StatsForecaster: selection reads ``cv_`` and ``predict``
        fitted[name] = SimpleNamespace(cv_=cv, predict=lambda _h, fc=fc: fc)
    return assemble(fitted, route, classes, prep, horizon, freq, choice)
