"""Why the forecaster chooses per demand class and shrinks conformal quantiles with k = 30.

    python benchmarks/forecast_m5_explore.py [--data ../shared/data] [--cache DIR]

On the 972 real M5 daily series and the same three 28-day rolling-origin windows as
``forecast_m5.py``, every candidate (SeasonalNaive, CrostonOptimized, TSB, WindowAverage28 and
the global LightGBM with the M5 covariates) is cross-validated once per outer window on three
inner windows and forecast over the outer one; the frames are cached in ``--cache`` so that the
two comparisons below cost seconds after the first run (≈ 15 min on 2 free cores):

1. model choice, WRMSSE over total / store-department / item-store:
   LightGBM everywhere; per series (each series' lowest inner-window MSE); per series with a
   10 % or 20 % margin in LightGBM's favour; per demand class by volume-weighted RMSSE
   (``selection.class_winners``, the default).
2. item quantiles: WSPL of LightGBM's conformal quantiles at shrinkage k = 10, 30, 100, 1,000
   (``conformal.residual_quantiles``), aggregates from their own errors as in forecast_m5.py.
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import machine
from stockpilot.forecast.base import QUANTILE_COLUMNS
from stockpilot.forecast.classify import demand_classes
from stockpilot.forecast.conformal import apply_offsets, residual_quantiles
from stockpilot.forecast.data import prepare
from stockpilot.forecast.features import m5_covariates
from stockpilot.forecast.lgbm import LGBMForecaster
from stockpilot.forecast.m5_benchmark import aggregate_quantiles, load, score
from stockpilot.forecast.metrics import coverage
from stockpilot.forecast.selection import class_winners
from stockpilot.forecast.stats import StatsForecaster

ROOT = Path(__file__).resolve().parents[1]
LOCAL = ("SeasonalNaive", "CrostonOptimized", "TSB", "WindowAverage28")
H = 28


def candidates(data, cutoff, train, cache: Path) -> dict[str, tuple[pl.DataFrame, pl.DataFrame]]:
    """Per candidate: (inner-window cv frame, forecast of the outer window), cached."""
    prep = prepare(train, cutoff)
    out = {}
    for name in (*LOCAL, "LightGBM"):
        folder = cache / f"{name}_{cutoff}"
        if not (folder / "fc.parquet").exists():
            print(f"{cutoff}: {name}", file=sys.stderr, flush=True)
            if name == "LightGBM":
                cov = m5_covariates(data.calendar, data.prices, data.ids["unique_id"],
                                    train["ds"].min(), cutoff + timedelta(days=H))
                f = LGBMForecaster(horizon=H, n_windows=3).fit(prep.df, cov)
            else:
                f = StatsForecaster(name, horizon=H, n_windows=3).fit(prep.df)
            folder.mkdir(parents=True, exist_ok=True)
            f.cv_.write_parquet(folder / "cv.parquet")
            f.predict(H).write_parquet(folder / "fc.parquet")
        out[name] = (pl.read_parquet(folder / "cv.parquet"),
                     pl.read_parquet(folder / "fc.parquet"))
    return out


def choose(strategy: str, cands, train, cutoff) -> pl.DataFrame:
    """``unique_id, model`` under one choice strategy."""
    mse = pl.concat([cv.group_by("unique_id").agg(((pl.col("y") - pl.col("mean")) ** 2).mean()
                                                  .alias("mse")).with_columns(
        pl.lit(m).alias("model"), pl.lit(i).alias("rank"))
        for i, (m, (cv, _)) in enumerate(cands.items())])
    if strategy == "LightGBM everywhere":
        return mse.filter(pl.col("model") == "LightGBM").select("unique_id", "model")
    if strategy == "per demand class":
        classes = demand_classes(prepare(train, cutoff).df)
        win = class_winners(mse, classes, prepare(train, cutoff).df)
        return classes.join(win, on="demand_class").select("unique_id", "model")
    best = mse.sort("mse", "rank").group_by("unique_id").first()
    margin = float(strategy.split()[-1].rstrip("%")) / 100 if "margin" in strategy else 0.0
    lgbm = mse.filter(pl.col("model") == "LightGBM").select("unique_id", pl.col("mse").alias("g"))
    other = mse.filter(pl.col("model") != "LightGBM").sort("mse").group_by("unique_id").first()
    if margin == 0.0:
        return best.select("unique_id", "model")
    j = other.join(lgbm, on="unique_id", how="left")
    return j.select("unique_id", pl.when(pl.col("mse") < (1 - margin) * pl.col("g"))
                    .then(pl.col("model")).otherwise(pl.lit("LightGBM")).alias("model"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/stockpilot-explore"))
    args = ap.parse_args()
    data = load(args.data / "m5")
    end = data.df["ds"].max()
    strategies = ("LightGBM everywhere", "per series", "per series, margin 10%",
                  "per series, margin 20%", "per demand class")
    ks = (10.0, 30.0, 50.0, 100.0, 1000.0)
    wr: dict[str, list[float]] = {s: [] for s in strategies}
    ws: dict[float, list[dict[str, float]]] = {k: [] for k in ks}
    tests: dict[float, list[pl.DataFrame]] = {k: [] for k in ks}
    for w in (3, 2, 1):
        cutoff = end - timedelta(days=w * H)
        train = data.df.filter(pl.col("ds") <= cutoff)
        actual = data.df.filter((pl.col("ds") > cutoff) &
                                (pl.col("ds") <= cutoff + timedelta(days=H)))
        cands = candidates(data, cutoff, train, args.cache)
        for s in strategies:
            pick = choose(s, cands, train, cutoff)
            fc = pl.concat([f.select("unique_id", "ds", "mean").join(
                pick.filter(pl.col("model") == m), on="unique_id", how="semi")
                for m, (_, f) in cands.items()])
            test = actual.join(fc, on=["unique_id", "ds"], how="left").fill_null(0.0) \
                .with_columns([pl.col("mean").alias(c) for c in QUANTILE_COLUMNS])
            wr[s].append(score(train, test, data.prices)["wrmsse"])
        cv, fc = cands["LightGBM"]
        hist = prepare(train, cutoff).df
        scale = hist.group_by("unique_id").agg(pl.col("y").abs().mean().alias("scale"))
        resid = cv.select("unique_id", (pl.col("y") - pl.col("mean")).alias("resid"))
        for k in ks:
            q = apply_offsets(fc.select("unique_id", "ds", "mean"),
                              residual_quantiles(resid, scale, k=k))
            test = actual.join(q.select("unique_id", "ds", "mean", *QUANTILE_COLUMNS),
                               on=["unique_id", "ds"], how="left").fill_null(0.0)
            ws[k].append(score(train, test, data.prices, aggregate_quantiles(q, cv)))
            tests[k].append(test)
    print(f"# M5 daily, 972 series, 3 × 28-day windows ending {end} — {machine()}")
    print("| model choice | WRMSSE (mean of 3 windows) |\n|---|---|")
    for s, v in wr.items():
        print(f"| {s} | {np.mean(v):.4f} |")
    upper = (0.75, 0.835, 0.975, 0.995)
    print("\n| conformal shrinkage k | WSPL | item-store SPL | total SPL | P(y ≤ q) at "
          + " / ".join(f"{t:g}" for t in upper) + " |\n|---|---|---|---|---|")
    for k, rows in ws.items():
        m = {x: np.mean([r[x] for r in rows]) for x in ("wspl", "wspl_item_store", "wspl_total")}
        cov = coverage(pl.concat(tests[k]), upper)
        print(f"| {k:g} | {m['wspl']:.4f} | {m['wspl_item_store']:.3f} | {m['wspl_total']:.3f} | "
              + " / ".join(f"{v:.3f}" for v in cov["p_le"]) + " |")
    print("\ncommand: python benchmarks/forecast_m5_explore.py")


if __name__ == "__main__":
    main()
