"""Forecast accuracy: point errors, pinball loss, coverage, and the M5 WRMSSE/WSPL.

RMSSE, WRMSSE, SPL and WSPL follow the M5 Competitors' Guide (Makridakis et al. 2020, §4):
the scale of a series is the mean squared (RMSSE) or absolute (SPL) one-step naive error of
its training data counted from its first non-zero demand; weights are each series' share of
dollar (or unit) sales over the last 28 training days within its aggregation level; the
levels are weighted equally.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from stockpilot.forecast.base import QUANTILES, qcol


def pinball(y: pl.Expr, q: pl.Expr, tau: float) -> pl.Expr:
    """Pinball (quantile) loss of forecast ``q`` for level ``tau``."""
    diff = y - q
    return pl.when(diff >= 0).then(tau * diff).otherwise((tau - 1) * diff)


def point_metrics(df: pl.DataFrame, by: Sequence[str] = ()) -> pl.DataFrame:
    """MAE, RMSE and bias of ``mean`` against ``y`` (per ``by`` groups, or overall)."""
    e = pl.col("y") - pl.col("mean")
    aggs = [e.abs().mean().alias("mae"), (e**2).mean().sqrt().alias("rmse"),
            (-e).mean().alias("bias")]
    return df.group_by(list(by)).agg(aggs) if by else df.select(aggs)


def coverage(df: pl.DataFrame, quantiles: tuple[float, ...] = QUANTILES) -> pl.DataFrame:
    """Share of actuals at or below (and strictly below) each quantile forecast."""
    rows = [{"level": t, "p_le": df.select((pl.col("y") <= pl.col(qcol(t))).mean()).item(),
             "p_lt": df.select((pl.col("y") < pl.col(qcol(t))).mean()).item()}
            for t in quantiles]
    return pl.DataFrame(rows)


def _scales(train: pl.DataFrame, ids: list[str]) -> pl.DataFrame:
    """Squared and absolute one-step naive scales from each series' first non-zero day."""
    t = train.sort(*ids, "ds").filter((pl.col("y") > 0).cum_max().over(ids))
    d = (pl.col("y") - pl.col("y").shift(1)).over(ids)
    return t.with_columns(d.alias("d")).group_by(ids).agg(
        (pl.col("d") ** 2).mean().alias("scale_sq"), pl.col("d").abs().mean().alias("scale_abs"))


def _weights(train: pl.DataFrame, ids: list[str], value: str) -> pl.DataFrame:
    end = train["ds"].max()
    last = train.filter(pl.col("ds") > end - pl.duration(days=28))
    w = last.group_by(ids).agg(pl.col(value).sum().alias("w"))
    return w.with_columns(pl.col("w") / pl.col("w").sum())


def level_scores(train: pl.DataFrame, test: pl.DataFrame, ids: list[str],
                 quantiles: tuple[float, ...] = QUANTILES, value: str = "y") -> pl.DataFrame:
    """Per aggregated series of one level: ``ids…, w, rmsse, spl``.

    ``train`` has ``ids…, ds, y`` (and ``value`` for weights, e.g. dollar sales); ``test`` has
    ``ids…, ds, y, mean`` and the quantile columns, already summed to this level.
    """
    sc = _scales(train, ids)
    w = _weights(train, ids, value)
    sq = ((pl.col("y") - pl.col("mean")) ** 2).mean().alias("mse")
    spl = [pinball(pl.col("y"), pl.col(qcol(t)), t).mean().alias(f"pl{t}") for t in quantiles
           if qcol(t) in test.columns]
    err = test.group_by(ids).agg(sq, *spl)
    out = err.join(sc, on=ids, how="inner").join(w, on=ids, how="left").with_columns(
        pl.col("w").fill_null(0.0))
    out = out.filter(pl.col("scale_sq") > 0)
    pl_cols = [c for c in out.columns if c.startswith("pl")]
    return out.select(
        *ids, "w", (pl.col("mse") / pl.col("scale_sq")).sqrt().alias("rmsse"),
        (pl.mean_horizontal(*pl_cols) / pl.col("scale_abs")).alias("spl") if pl_cols
        else pl.lit(None, dtype=pl.Float64).alias("spl"))


def aggregate(df: pl.DataFrame, ids: list[str], cols: list[str]) -> pl.DataFrame:
    """Sum ``cols`` per ``ids`` and day (quantiles are summed too, the M5 bottom-up way)."""
    return df.group_by(*ids, "ds").agg([pl.col(c).sum() for c in cols])


def level_quantiles(forecast: pl.DataFrame, cv: pl.DataFrame, ids: list[str],
                    quantiles: tuple[float, ...] = QUANTILES) -> pl.DataFrame:
    """Quantiles of an aggregate level from its own rolling-origin errors (split conformal).

    Summing item quantiles (the bottom-up way) makes an aggregate's interval as wide as if
    every item hit its extreme on the same day. Here the aggregate's point forecast is the sum
    of its items' means, and each quantile adds the empirical τ-quantile of the aggregate's own
    backtest residuals (``cv``: ``<ids>, cutoff, ds, y, mean`` at the bottom level), clipped
    at zero and kept monotone.

    Returns:
        ``<ids or _all>, ds, q…`` per aggregate series and day of ``forecast``.
    """
    keys = ids or ["_all"]
    add = pl.lit("all").alias("_all")
    res = (cv.with_columns(add).group_by(*keys, "cutoff", "ds")
           .agg(pl.col("y").sum(), pl.col("mean").sum())
           .with_columns((pl.col("y") - pl.col("mean")).alias("r")))
    off = res.group_by(*keys).agg(
        [pl.col("r").quantile(t, interpolation="linear").alias(qcol(t)) for t in quantiles])
    point = forecast.with_columns(add).group_by(*keys, "ds").agg(pl.col("mean").sum())
    out = point.join(off, on=keys, how="left").select(
        *keys, "ds", *[(pl.col("mean") + pl.col(qcol(t)).fill_null(0.0)).clip(lower_bound=0.0)
                       .alias(qcol(t)) for t in quantiles])
    # residual quantiles rise with τ; adding one mean and clipping at 0 keeps that order
    return out


def wrmsse_wspl(train: pl.DataFrame, test: pl.DataFrame, levels: dict[str, list[str]],
                quantiles: tuple[float, ...] = QUANTILES, value: str = "y",
                level_q: dict[str, pl.DataFrame] | None = None) -> dict[str, float]:
    """WRMSSE and WSPL over the hierarchy ``levels`` ({name: grouping columns}).

    ``train``: ``<all grouping columns>, ds, y`` (and ``value``); ``test``: the same keys with
    ``ds, y, mean, q…`` at the bottom level. Each level's score is the weight-sum of its series'
    RMSSE (SPL); the result averages levels equally. ``level_q`` gives a level's own quantiles
    (``<ids or _all>, ds, q…``, e.g. from :func:`level_quantiles`) instead of summed ones.
    """
    qs = [qcol(t) for t in quantiles if qcol(t) in test.columns]
    per_level = {}
    for name, ids in levels.items():
        tr = aggregate(train.with_columns(pl.lit("all").alias("_all")),
                       ids or ["_all"], ["y", value] if value != "y" else ["y"])
        te = aggregate(test.with_columns(pl.lit("all").alias("_all")), ids or ["_all"],
                       ["y", "mean", *qs])
        if level_q and name in level_q:
            te = te.drop(qs).join(level_q[name], on=[*(ids or ["_all"]), "ds"], how="left")
        s = level_scores(tr, te, ids or ["_all"], quantiles, value)
        per_level[name] = (float((s["w"] * s["rmsse"]).sum()),
                           float((s["w"] * s["spl"]).sum()) if qs else float("nan"))
    n = len(per_level)
    return {"wrmsse": sum(v[0] for v in per_level.values()) / n,
            "wspl": sum(v[1] for v in per_level.values()) / n,
            **{f"wrmsse_{k}": v[0] for k, v in per_level.items()},
            **{f"wspl_{k}": v[1] for k, v in per_level.items()}}
