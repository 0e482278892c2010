"""One global model per group of series (per store, per department), beside the global one.

The M5 winners trained LightGBM per store and per store-department as well as over everything:
a model that sees only one store's series learns that store's weekly shape and price response
without averaging it with the others', at the cost of fewer rows per model.
:class:`GroupedForecaster` fits a fresh base forecaster (any global model with the
``fit(df, X)`` / ``predict(h)`` / ``cv_`` contract, e.g. :class:`~.lgbm.LGBMForecaster`) on each
group's series and stitches the results: rolling-origin errors, quantiles (each group's own
conformal offsets) and forecasts. Series absent from ``groups`` form one group of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Self

import polars as pl

from stockpilot.domain.series import split_unique_id
from stockpilot.errors import StockpilotError
from stockpilot.forecast.base import QUANTILES

OTHER = "(other)"


class GroupedForecaster:
    """A base global model fitted once per group (scikit-learn style estimator).

    Args:
        make: builds a fresh, unfitted base forecaster.
        groups: ``unique_id, group`` — the group of each series.
    """

    def __init__(self, make: Callable[[], Any], groups: pl.DataFrame) -> None:
        if not {"unique_id", "group"} <= set(groups.columns):
            raise StockpilotError("groups needs the columns unique_id and group")
        self.make = make
        self.groups = groups

    def _split(self, df: pl.DataFrame) -> dict[str, pl.DataFrame]:
        groups = self.groups.select("unique_id", pl.col("group").cast(pl.Utf8)).unique(
            "unique_id", keep="first")
        g = df.join(groups, on="unique_id", how="left").with_columns(
            pl.col("group").fill_null(OTHER))
        return {str(k[0]): part.drop("group")
                for k, part in g.partition_by("group", as_dict=True).items()}

    def fit(self, df: pl.DataFrame, X: pl.DataFrame | None = None) -> Self:
        """Fit one base model per group on that group's series (and their covariates)."""
        self.models_: dict[str, Any] = {}
        self.ids_: dict[str, pl.DataFrame] = {}
        for name, part in sorted(self._split(df.select("unique_id", "ds", "y")).items()):
            ids = part.select("unique_id").unique()
            x = None if X is None else X.join(ids, on="unique_id", how="semi")
            self.ids_[name] = ids
            self.models_[name] = self.make().fit(part, x)
        self.cv_ = pl.concat([m.cv_ for m in self.models_.values()], how="vertical_relaxed")
        return self

    def predict(self, h: int, X_future: pl.DataFrame | None = None,
                quantiles: tuple[float, ...] = QUANTILES) -> pl.DataFrame:
        """Every group's forecast, ``unique_id, ds, mean, q…``."""
        parts: list[pl.DataFrame] = []
        for name, m in self.models_.items():
            if X_future is None:
                parts.append(m.predict(h, quantiles=quantiles))
            else:
                x = X_future.join(self.ids_[name], on="unique_id", how="semi")
                parts.append(m.predict(h, X_future=x, quantiles=quantiles))
        return pl.concat(parts, how="vertical_relaxed").sort("unique_id", "ds")


def store_groups(ids: pl.Series | list[str]) -> pl.DataFrame:
    """``unique_id, group``: each series' location (the part after ``@`` of its id)."""
    frame = pl.DataFrame({"unique_id": pl.Series(ids, dtype=pl.Utf8)}).unique(maintain_order=True)
    return frame.with_columns(split_unique_id()[1].alias("group"))


def category_groups(ids: pl.Series | list[str], categories: pl.DataFrame | None
                    ) -> pl.DataFrame:
    """``unique_id, group``: each series' SKU category (null where the SKU has none).

    Args:
        ids: series ids ``sku@location``.
        categories: ``sku, category``, one row per SKU (the first is kept otherwise).
    """
    frame = pl.DataFrame({"unique_id": pl.Series(ids, dtype=pl.Utf8)}).unique(maintain_order=True)
    frame = frame.with_columns(split_unique_id()[0])
    if categories is None:
        return frame.select("unique_id", pl.lit(None, dtype=pl.Utf8).alias("group"))
    cats = categories.select("sku", pl.col("category").cast(pl.Utf8)).drop_nulls() \
        .unique("sku", keep="first", maintain_order=True)
    return frame.join(cats, on="sku", how="left").select(
        "unique_id", pl.col("category").alias("group"))
