"""The mean of several fitted global models, a candidate of its own (``Ensemble``).

The M5 accuracy winner averaged recursive and non-recursive LightGBM models trained per store,
per store-category and per store-department (Makridakis et al. 2022, "M5 accuracy competition:
results, findings, and conclusions"): averaging cancels part of each model's own error. Here
the ensemble is the plain mean of the LightGBM-family candidates fitted in the same run: it
refits nothing; its rolling-origin errors are the mean of its members' backtest forecasts on
the rows they all have, and its quantiles come from those errors (conformal,
:mod:`stockpilot.forecast.conformal`), so it is chosen per demand class by backtest like any
other candidate.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

import polars as pl

from stockpilot.errors import StockpilotError
from stockpilot.forecast.base import QUANTILES
from stockpilot.forecast.conformal import apply_offsets, offsets_from_cv

KEYS = ["unique_id", "cutoff", "ds"]


class MeanEnsemble:
    """The mean of fitted members' forecasts, with its own conformal quantiles.

    Args:
        members: fitted forecasters by name (each with ``cv_`` and ``predict(h, …)``).
    """

    def __init__(self, members: Mapping[str, Any]) -> None:
        self.members = members

    def fit(self, df: pl.DataFrame, X: pl.DataFrame | None = None) -> Self:
        """Backtest = the members' mean on their common rows; offsets from its errors.

        Args:
            df: the history ``unique_id, ds, y`` the members were fitted on (scales the
                conformal offsets).
            X: ignored (the members read their own covariates).
        """
        if len(self.members) < 2:
            raise StockpilotError(f"an ensemble needs two members or more, got "
                                  f"{', '.join(self.members) or 'none'}")
        cvs = [m.cv_.select(*KEYS, "h", "y", pl.col("mean").alias(f"_m{i}"))
               for i, m in enumerate(self.members.values())]
        joined = cvs[0]
        for cv in cvs[1:]:  # inner: only the (series, origin, day) rows every member has
            joined = joined.join(cv.drop("h", "y"), on=KEYS, how="inner")
        means = pl.mean_horizontal([f"_m{i}" for i in range(len(cvs))]).alias("mean")
        self.cv_ = joined.select(*KEYS, "h", "y", means).sort(KEYS)
        self.offsets_ = offsets_from_cv(self.cv_, df)
        return self

    def predict(self, h: int, X_future: pl.DataFrame | None = None,
                quantiles: tuple[float, ...] = QUANTILES) -> pl.DataFrame:
        """``unique_id, ds, mean, q…``: the members' mean forecast plus the offsets."""
        kw = {} if X_future is None else {"X_future": X_future}
        points = [m.predict(h, **kw).select("unique_id", "ds", pl.col("mean").alias(f"_m{i}"))
                  for i, m in enumerate(self.members.values())]
        joined = points[0]
        for p in points[1:]:
            joined = joined.join(p, on=["unique_id", "ds"], how="inner")
        means = pl.mean_horizontal([f"_m{i}" for i in range(len(points))]).alias("mean")
        point = joined.select("unique_id", "ds", means).sort("unique_id", "ds")
        return apply_offsets(point, self.offsets_, quantiles)
