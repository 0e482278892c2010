"""The contract every forecaster and every consumer of forecasts shares.

Frames are long, as in Nixtla's libraries: history has ``unique_id`` (``sku@location``, see
:func:`stockpilot.store.history.series_id`), ``ds`` (a ``Date``) and ``y`` (float units), plus
optional exogenous columns. A forecast has ``unique_id, ds, mean`` and one column per quantile
level named by :func:`qcol` (``q0.005 … q0.995``); quantiles are never negative and never
decrease with the level.
"""

from __future__ import annotations

from typing import Protocol, Self

import polars as pl

#: The nine M5 uncertainty levels (M5 Competitors' Guide §3), kept for every forecast.
QUANTILES: tuple[float, ...] = (0.005, 0.025, 0.165, 0.25, 0.5, 0.75, 0.835, 0.975, 0.995)


def qcol(level: float) -> str:
    """Column name of one quantile level, e.g. ``qcol(0.975) == "q0.975"``."""
    return f"q{level:g}"


QUANTILE_COLUMNS: tuple[str, ...] = tuple(qcol(t) for t in QUANTILES)


class Forecaster(Protocol):
    """The estimator surface (scikit-learn / statsforecast style).

    ``__init__`` only stores parameters; learned state ends in ``_``; ``fit`` returns ``self``.
    """

    def fit(self, df: pl.DataFrame, X: pl.DataFrame | None = None) -> Self:
        """Learn from history ``unique_id, ds, y`` (and exogenous columns when given)."""
        ...

    def predict(
        self,
        h: int,
        X_future: pl.DataFrame | None = None,
        quantiles: tuple[float, ...] = QUANTILES,
    ) -> pl.DataFrame:
        """Forecast ``h`` days after each series' last day: ``unique_id, ds, mean, q…``."""
        ...
