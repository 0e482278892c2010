"""``--engine dask``: the global LightGBM trained through Dask (mlforecast's distributed path).

mlforecast's ``DistributedMLForecast`` builds the lag and date features per partition of a
Dask DataFrame (each series whole in one partition) and trains LightGBM's own distributed
learner, ``lightgbm.dask.DaskLGBMRegressor``, across the workers; cross-validation and
prediction run on the workers too. :class:`DaskLGBMForecaster` is
:class:`~stockpilot.forecast.lgbm.LGBMForecaster` with that underneath, so the conformal
quantiles and the choice are computed by the same code as on the local engine. The
statistical candidates stay local (``--engine spark`` distributes those).

The cluster: ``STOCKPILOT_DASK_SCHEDULER=tcp://host:8786`` points at a running one;
otherwise a ``LocalCluster`` of two single-threaded worker processes is started on this
machine for the run (and closed with the interpreter). Needs the ``dask`` extra.
"""

from __future__ import annotations

import os
from typing import Any, Self

import polars as pl

from stockpilot.forecast.base import QUANTILES
from stockpilot.forecast.conformal import apply_offsets, offsets_from_cv
from stockpilot.forecast.lgbm import LGBMForecaster

_CLIENT: Any = None


def dask_client() -> Any:
    """The Dask client this process uses (a running cluster, or a local one made once)."""
    global _CLIENT
    if _CLIENT is None:
        from distributed import Client, LocalCluster

        address = os.environ.get("STOCKPILOT_DASK_SCHEDULER")
        if address:
            _CLIENT = Client(address)  # type: ignore[no-untyped-call]
        else:
            # worker processes on TCP: LightGBM's distributed learner opens sockets between
            # the workers, which in-process (inproc://) workers cannot give it
            cluster = LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
            _CLIENT = Client(cluster)  # type: ignore[no-untyped-call]
    return _CLIENT


class DaskLGBMForecaster(LGBMForecaster):
    """Global LightGBM trained on a Dask cluster (same features and quantiles as local)."""

    def __init__(self, horizon: int = 28, n_windows: int = 2, n_estimators: int = 300,
                 learning_rate: float = 0.05, num_leaves: int = 63,
                 objective: str = "tweedie", random_state: int = 0, num_threads: int = 1,
                 partitions: int = 2) -> None:
        super().__init__(horizon, n_windows, n_estimators, learning_rate, num_leaves,
                         objective, random_state, num_threads)
        self.partitions = partitions

    def _dmlf(self) -> Any:
        from mlforecast.distributed import DistributedMLForecast
        from mlforecast.distributed.models.dask.lgb import DaskLGBMForecast
        from mlforecast.lag_transforms import RollingMean

        model = DaskLGBMForecast(
            n_estimators=self.n_estimators, learning_rate=self.learning_rate,
            num_leaves=self.num_leaves, objective=self.objective,
            random_state=self.random_state, n_jobs=self.num_threads, verbosity=-1)
        return DistributedMLForecast(
            models={"LGBM": model}, freq="D", lags=[7, 14, 28],
            lag_transforms={1: [RollingMean(window_size=7), RollingMean(window_size=28)],
                            7: [RollingMean(window_size=4)]},
            date_features=["dayofweek", "month"],  # pandas names: the partitions are pandas
            num_partitions=self.partitions)

    def _to_dask(self, df: pl.DataFrame) -> Any:
        import dask.dataframe as dd

        dask_client()
        pdf = df.to_pandas()
        pdf["unique_id"] = pdf["unique_id"].astype(str)
        return dd.from_pandas(pdf, npartitions=self.partitions)  # type: ignore[no-untyped-call]

    def fit(self, df: pl.DataFrame, X: pl.DataFrame | None = None) -> Self:
        """As :meth:`LGBMForecaster.fit`, with features, training and CV on the cluster."""
        df = self._with_exog(df, X)
        ddf = self._to_dask(df)
        cv = pl.from_pandas(self._dmlf().cross_validation(
            ddf, n_windows=self.n_windows, h=self.horizon, step_size=self.horizon,
            static_features=[]).compute())
        cv = cv.with_columns(pl.col("ds").cast(pl.Datetime("us")).cast(df["ds"].dtype),
                             pl.col("cutoff").cast(pl.Datetime("us")).cast(df["ds"].dtype))
        self.cv_ = cv.select(
            "unique_id", "cutoff", "ds",
            (pl.col("ds") - pl.col("cutoff")).dt.total_days().cast(pl.Int32).alias("h"),
            "y", pl.col("LGBM").clip(lower_bound=0.0).alias("mean")).sort("unique_id", "ds")
        self.offsets_ = offsets_from_cv(self.cv_, df)
        self.mlf_ = self._dmlf().fit(ddf, static_features=[])
        self.ds_type_ = df["ds"].dtype
        return self

    def predict(self, h: int, X_future: pl.DataFrame | None = None,
                quantiles: tuple[float, ...] = QUANTILES) -> pl.DataFrame:
        """``unique_id, ds, mean, q…`` for ``h`` days after the history's end (recursive)."""
        X_df = None
        if self.exog_:
            X = X_future if X_future is not None else self.future_exog_
            X_df = None if X is None else X.select("unique_id", "ds", *self.exog_).to_pandas()
        fc = pl.from_pandas(self.mlf_.predict(h=h, X_df=X_df).compute())
        point = fc.select("unique_id", pl.col("ds").cast(pl.Datetime("us")).cast(self.ds_type_),
                          pl.col("LGBM").clip(lower_bound=0.0).alias("mean"))
        return apply_offsets(point.sort("unique_id", "ds"), self.offsets_, quantiles)


def make_forecaster(name: str, horizon: int, n_windows: int, freq: str = "1d",
                    season_length: int = 7) -> Any:
    """Like :func:`selection.make_forecaster`, with LightGBM on Dask."""
    from stockpilot.forecast import selection

    if name == "LightGBM":
        return DaskLGBMForecaster(horizon=horizon, n_windows=n_windows)
    return selection.make_forecaster(name, horizon, n_windows, freq, season_length)
