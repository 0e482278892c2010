"""SKU segments by k-means on demand features, k chosen by silhouette.

Features per series (over the history given): ``mean_daily_units`` (volume), ``adi`` and
``cv2`` (Syntetos & Boylan 2005, as :mod:`stockpilot.forecast.classify`), ``seasonality``
(strength of the weekly pattern, Wang, Smith & Hyndman 2006 as in Hyndman & Athanasopoulos,
"Forecasting: Principles and Practice" 3rd ed. §4.3: F_S = max(0, 1 − Var(R) / Var(S + R))
on the series detrended by a centred 7-day mean), ``price`` and ``trend`` (least-squares
slope × window length / mean: the relative change over the window).

Volume, ADI and price are spread over orders of magnitude, so they enter the clustering as
logarithms; then every feature is standardised (scikit-learn ``StandardScaler``) and
clustered with ``KMeans``. Unless k is given, it is the k in ``k_range`` with the highest
mean silhouette (Rousseeuw 1987).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import polars as pl
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import StandardScaler

from stockpilot.forecast.classify import demand_classes

FEATURES: tuple[str, ...] = ("mean_daily_units", "adi", "cv2", "seasonality", "price", "trend")
_LOGGED = ("mean_daily_units", "adi", "price")


@dataclass(frozen=True)
class Segmentation:
    """Result of :func:`segment_skus`.

    Attributes:
        features: ``unique_id`` + :data:`FEATURES` + ``segment`` (the label), one row per SKU.
        k: the number of segments used.
        labels: segment of each row of ``features`` (0 … k − 1).
        silhouette: mean silhouette per k tried (empty when k was given).
    """

    features: pl.DataFrame
    k: int
    labels: npt.NDArray[np.int64]
    silhouette: dict[int, float] = field(default_factory=dict)


def demand_features(daily: pl.DataFrame, price: pl.DataFrame) -> pl.DataFrame:
    """``unique_id`` + :data:`FEATURES` for a gap-free daily history ``unique_id, ds, y``.

    Args:
        daily: demand per series and day (missing days must be filled with 0 beforehand).
        price: ``unique_id, price``; a missing price counts as 1.
    """
    s = daily.sort("unique_id", "ds").with_columns(
        (pl.col("ds") - pl.col("ds").min()).dt.total_days().cast(pl.Float64).alias("t"))
    detrended = pl.col("y") - pl.col("y").rolling_mean(7, center=True).over("unique_id")
    s = s.with_columns(detrended.alias("x"), pl.col("ds").dt.weekday().alias("dow"))
    s = s.with_columns((pl.col("x") - pl.col("x").mean().over("unique_id", "dow")).alias("r"))
    stats = s.group_by("unique_id").agg(
        pl.col("y").mean().alias("mean_daily_units"),
        (pl.cov("t", "y") / pl.col("t").var() * pl.len() / pl.col("y").mean()).alias("trend"),
        (1 - pl.col("r").var() / pl.col("x").var()).clip(lower_bound=0.0).alias("seasonality"),
        pl.len().alias("n"))
    klass = demand_classes(daily).select("unique_id", "adi", "cv2")
    out = stats.join(klass, on="unique_id", how="left").join(price, on="unique_id", how="left")
    return out.with_columns(
        pl.col("adi").fill_null(pl.col("n").cast(pl.Float64)),  # no demand: one gap as long
        pl.col("price").fill_null(1.0),
        pl.col("trend").fill_nan(0.0).fill_null(0.0),
        pl.col("seasonality").fill_nan(0.0).fill_null(0.0),
    ).select("unique_id", *FEATURES).sort("unique_id")


def _matrix(features: pl.DataFrame) -> npt.NDArray[np.float64]:
    cols = [pl.col(c).clip(lower_bound=1e-6).log() if c in _LOGGED else pl.col(c)
            for c in FEATURES]
    raw = features.select(cols).to_numpy().astype(float)
    scaled: npt.NDArray[np.float64] = StandardScaler().fit_transform(raw)
    return scaled


def _kmeans(x: npt.NDArray[np.float64], k: int, random_state: int) -> npt.NDArray[np.int64]:
    labels = KMeans(n_clusters=k, n_init=10, random_state=random_state).fit_predict(x)
    return np.asarray(labels, dtype=np.int64)


def segment_skus(daily: pl.DataFrame, price: pl.DataFrame, *, k: int | None = None,
                 k_range: range = range(2, 9), random_state: int = 0) -> Segmentation:
    """Cluster SKUs on :func:`demand_features`; choose k by silhouette unless given.

    Args:
        daily: gap-free ``unique_id, ds, y`` history.
        price: ``unique_id, price``.
        k: number of segments; None → the best mean silhouette over ``k_range``.
        k_range: candidate k (only those with 2 ≤ k < number of SKUs are tried).
        random_state: seed for k-means initialisation.

    Raises:
        ValueError: fewer than 3 SKUs and no k given (a silhouette needs 2 ≤ k < n).
    """
    feats = demand_features(daily, price)
    x = _matrix(feats)
    scores: dict[int, float] = {}
    if k is None:
        for cand in (c for c in k_range if 2 <= c < len(feats)):
            scores[cand] = float(silhouette_score(x, _kmeans(x, cand, random_state)))
        if not scores:
            raise ValueError(f"cannot choose k for {len(feats)} SKUs; pass k")
        k = max(scores, key=lambda c: scores[c])
    labels = _kmeans(x, k, random_state)
    return Segmentation(feats.with_columns(pl.Series("segment", labels)), k, labels, scores)
