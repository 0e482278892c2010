"""``--engine spark``: the same candidates, with the per-series models run on Spark.

statsforecast distributes itself: ``StatsForecast.forecast`` / ``cross_validation`` given a
Spark DataFrame run through its fugue backend, one pandas task per series group on the
executors (statsforecast's ``distributed/fugue.py``), values returned as float32.
:class:`SparkStatsForecaster` is :class:`~stockpilot.forecast.stats.StatsForecaster` with
that backend underneath, so the
rolling-origin errors, the conformal quantiles and the per-series choice are computed by the
same code as on the local engine, from the same numbers (tested: equal within float
tolerance).

What is *not* distributed: the global LightGBM. mlforecast's ``DistributedMLForecast`` trains
on Spark only through SynapseML's ``LightGBMRegressor``, whose JVM jars are fetched from a
Maven repository when the session starts (``mlforecast.distributed.models.spark.lgb``); this
project installs from PyPI only, so on ``--engine spark`` LightGBM trains on the driver with
mlforecast, as on the local engine (it already uses every core of the machine it runs on).
Choosing, quantiles and writing stay on the driver too: they are columnar polars work over
small frames (one row per series per cross-validation day).

Local mode (``local[N]``) is the default master; ``STOCKPILOT_SPARK_MASTER`` points at a
cluster instead. Needs the ``spark`` extra (pyspark, fugue) and a Java 17 runtime.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any, Self

import polars as pl

from stockpilot.errors import StockpilotError
from stockpilot.forecast import selection
from stockpilot.forecast.data import Prepared
from stockpilot.forecast.selection import Forecasts, Progress
from stockpilot.forecast.stats import StatsForecaster

ENGINES = ("local", "spark")


def spark_session(master: str | None = None, partitions: int = 4) -> Any:
    """The active Spark session, or a new one (``local[2]`` unless told otherwise).

    UTC session time so that day stamps survive the trip through Spark unchanged; Arrow for
    the pandas conversions; few shuffle partitions, since one task per partition is cheap
    only when partitions are few on a small machine.
    """
    import sys

    from pyspark.sql import SparkSession

    # Spark's Python workers must import statsforecast: run them on this interpreter.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    master = master or os.environ.get("STOCKPILOT_SPARK_MASTER", "local[2]")
    spark = (SparkSession.builder.master(master).appName("stockpilot-forecast")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .config("spark.sql.shuffle.partitions", str(partitions))
            .config("spark.default.parallelism", str(partitions))
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def to_spark(spark: Any, df: pl.DataFrame) -> Any:
    """``unique_id, ds, y`` as a Spark DataFrame (``ds`` a timestamp at midnight UTC)."""
    pdf = df.select("unique_id", pl.col("ds").cast(pl.Datetime("us")), "y").to_pandas()
    return spark.createDataFrame(pdf)


def from_spark(sdf: Any) -> pl.DataFrame:
    """A Spark result back as polars with the local engine's types (dates, Float64).

    statsforecast's fugue backend declares its value columns ``float32``, so Spark's numbers
    equal the local engine's to float32 precision (relative 1e-7), not bit for bit.
    """
    out = pl.from_pandas(sdf.toPandas())
    return out.with_columns(
        [pl.col(c).cast(pl.Date) for c, t in out.schema.items() if isinstance(t, pl.Datetime)]
        + [pl.col(c).cast(pl.Float64) for c, t in out.schema.items() if t == pl.Float32]
    ).sort("unique_id", "ds")


class _OnSpark:
    """The part of ``StatsForecast``'s surface :class:`StatsForecaster` uses, run on Spark.

    ``fit`` keeps the history: statsforecast's distributed backend fits and forecasts in one
    pass (``forecast``), so the fitting happens in ``predict``.
    """

    def __init__(self, sf: Any, spark: Any) -> None:
        self.sf = sf
        self.spark = spark

    def cross_validation(self, df: pl.DataFrame, **kwargs: Any) -> pl.DataFrame:
        return from_spark(self.sf.cross_validation(df=to_spark(self.spark, df), **kwargs))

    def fit(self, df: pl.DataFrame) -> Self:
        self.history_ = df
        return self

    def predict(self, h: int) -> pl.DataFrame:
        return from_spark(self.sf.forecast(df=to_spark(self.spark, self.history_), h=h))


class SparkStatsForecaster(StatsForecaster):
    """:class:`StatsForecaster` whose statsforecast calls run on Spark (same results)."""

    def __init__(self, model: str = "AutoETS", season_length: int = 7, horizon: int = 28,
                 n_windows: int = 3, master: str | None = None, freq: str = "1d") -> None:
        super().__init__(model, season_length, horizon, n_windows, n_jobs=1, freq=freq)
        self.master = master

    def _sf(self) -> Any:
        return _OnSpark(super()._sf(), spark_session(self.master))


def make_forecaster(name: str, horizon: int, n_windows: int, freq: str = "1d",
                    season_length: int = 7) -> Any:
    """Like :func:`selection.make_forecaster`, with statsforecast models on Spark."""
    if name in selection.GLOBAL_MODELS:  # global models: on the driver
        return _local_make_forecaster(name, horizon, n_windows, freq, season_length)
    return SparkStatsForecaster(name, season_length=season_length, horizon=horizon,
                                n_windows=n_windows, freq=freq)


_local_make_forecaster = selection.make_forecaster


def forecast_frame(prep: Prepared, models: Sequence[str], horizon: int, n_windows: int,
                   say: Progress | None = None, choice: str = "class",
                   groups: Mapping[str, pl.DataFrame] | None = None) -> Forecasts:
    """:func:`selection.forecast_frame` with the statistical candidates on Spark."""
    say = say or (lambda _m: None)
    try:
        import fugue_spark  # noqa: F401  (registers Spark DataFrames with fugue)
        import pyspark  # noqa: F401
    except ImportError as exc:
        raise StockpilotError("--engine spark needs the spark extra: "
                              "pip install 'stockpilot[spark]' (and a Java 17 runtime)") from exc
    say("starting Spark")
    spark_session()
    return selection.forecast_frame(prep, models, horizon, n_windows, say, choice=choice,
                                    factory=make_forecaster, groups=groups)
