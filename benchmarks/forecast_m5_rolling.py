"""Rolling-origin evaluation over the last year: tune on the early windows, report the late ones.

    python benchmarks/forecast_m5_rolling.py [--data ../shared/data] [--windows 8]
        [--spacing 48] [--early 4] [--cache DIR] [--only NAME,...] [--threads 1]

Eight 28-day windows spread over the last 364 days of the shared M5 daily data (972 series,
last day d_1913 = 2016-04-24): window i ends ``spacing`` × (windows − i) days before d_1913.
For each window every candidate is fitted on the ``--train-days`` (730) days before it,
cross-validated on ``--inner`` (2) inner 28-day windows (for the choice and the conformal
quantiles) and forecasts the window (scores use the whole history, as M5's scales do);
each (candidate, window) is cached under ``--cache`` (``cv.parquet``, ``fc.parquet``,
``seconds.txt``), so reruns only score. ``--only`` fills the cache for some candidates and
stops (run two of those side by side on two cores).

Candidates: SeasonalNaive, CrostonOptimized, TSB, WindowAverage28 (statsforecast), LightGBM
(recursive) and LightGBMDirect (one model per 7-day horizon band), both global with the M5
covariates, and "LGBM mean" (the average of the two, a derived candidate with its own
backtest). Baselines: sNaive (quantiles from its own errors) and AutoETS per series with its
Gaussian intervals (the M5 "ES_bu" idea; no inner backtest needed).

Rules compared: each LightGBM alone, the average, and the class choice (one model per demand
class by volume-weighted backtest RMSSE, :func:`stockpilot.forecast.selection.class_winners`)
or the per-series choice among all candidates, each also reconciled with MinT (at k = 50);
conformal shrinkage k in 30, 50, 100. The
rule with the lowest mean WRMSSE on the ``--early`` oldest windows, and then the k with the
lowest WSPL for that rule there, are the ones reported on the late windows (mean and spread).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import machine
from cv_choice import choose_from_cv
from forecast_m5 import ets_gaussian
from stockpilot.forecast.base import QUANTILE_COLUMNS
from stockpilot.forecast.conformal import apply_offsets, residual_quantiles
from stockpilot.forecast.data import prepare
from stockpilot.forecast.features import m5_covariates
from stockpilot.forecast.m5_benchmark import aggregate_quantiles, load, score, with_keys
from stockpilot.forecast.metrics import coverage
from stockpilot.forecast.reconcile import reconcile

ROOT = Path(__file__).resolve().parents[1]
H = 28
LOCAL = ("SeasonalNaive", "CrostonOptimized", "TSB", "WindowAverage28")
#: LightGBM family (all read the M5 covariates): recursive, direct (one model per 14-day band),
#: each also one model per store-department ("-dept"), and the recursive one with other
#: objectives than Tweedie ("-poisson", "-l2"), with probable stockouts imputed ("-cens"), or
#: with optuna's parameters found on data before every window ("-tuned")
LGBM = ("LightGBM", "LightGBMDirect", "LightGBM-dept", "LightGBMDirect-dept",
        "LightGBM-poisson", "LightGBM-l2", "LightGBM-big", "LightGBM-cens", "LightGBM-tuned")
#: "-big": the M5 winners' kind of setting (more, smaller steps; bagging rows and features;
#: Tweedie power 1.1) instead of the product default (300 trees, rate 0.05, 63 leaves)
BIG = {"n_estimators": 1000, "learning_rate": 0.03, "num_leaves": 127,
       "params": {"subsample": 0.5, "subsample_freq": 1, "colsample_bytree": 0.5,
                  "min_child_samples": 100, "tweedie_variance_power": 1.1}}
#: neural global models (no covariates): neuralforecast's and the hand-written ones
NEURAL = ("NHITS", "NF-LSTM", "GRU", "TFT", "LSTM", "Transformer")
GLOBAL = (*LGBM, *NEURAL)
ALL = (*LOCAL, *GLOBAL, "AutoETS")
MEAN = "LGBM mean"
#: the LightGBM variants averaged into MEAN (the Tweedie ones: the objective is chosen first)
MEAN_OF = ("LightGBM", "LightGBMDirect", "LightGBM-dept", "LightGBMDirect-dept")
KS = (30.0, 50.0, 100.0)  # k = 10 lost on the three windows of docs/benchmarks.md
UPPER = (0.75, 0.835, 0.975, 0.995)


def fit_one(name: str, data, train: pl.DataFrame, cutoff: date, args
            ) -> tuple[pl.DataFrame | None, pl.DataFrame]:
    """(inner-window cv or None, forecast of the window) for one candidate or baseline."""
    threads, inner = args.threads, args.inner
    prep = prepare(train, cutoff)
    if name == "AutoETS":
        return None, ets_gaussian(prep.df, H)
    if name in LGBM:
        from stockpilot.forecast.grouped import GroupedForecaster
        from stockpilot.forecast.lgbm import LGBMForecaster
        from stockpilot.forecast.lgbm_direct import LGBMDirectForecaster

        base, _, variant = name.partition("-")
        cls = LGBMForecaster if base == "LightGBM" else LGBMDirectForecaster
        objective = variant if variant in ("poisson", "l2") else "tweedie"
        if variant == "cens":  # `forecast --censor-zero-runs`: zero runs imputed first
            from stockpilot.forecast.censoring import impute_censored, probable_stockouts

            prep.df = impute_censored(prep.df, probable_stockouts(prep.df)
                                      .select("unique_id", "ds"))
        cov = m5_covariates(data.calendar, data.prices, data.ids["unique_id"],
                            train["ds"].min(), cutoff + timedelta(days=H))

        extra = BIG if variant == "big" else {}
        if variant == "tuned":  # benchmarks/forecast_m5_tune.py, on data before every window
            from stockpilot.forecast.tuning import kwargs_of

            extra = kwargs_of(json.loads(args.tuned.read_text())["params"])

        def make():
            return cls(horizon=H, n_windows=inner, num_threads=threads, objective=objective,
                       **extra)

        if variant == "dept":
            groups = with_keys(prep.df.select("unique_id").unique()).select(
                "unique_id", (pl.col("store") + "_" + pl.col("dept")).alias("group"))
            f = GroupedForecaster(make, groups).fit(prep.df, cov)
        else:
            f = make().fit(prep.df, cov)
    elif name in NEURAL:
        from stockpilot.forecast.selection import make_forecaster

        f = make_forecaster(name, H, inner).fit(prep.df)
    else:
        from stockpilot.forecast.stats import StatsForecaster

        f = StatsForecaster(name, horizon=H, n_windows=inner).fit(prep.df)
    return f.cv_, f.predict(H)


def cached(name: str, data, train: pl.DataFrame, cutoff: date, cache: Path, args
           ) -> tuple[pl.DataFrame | None, pl.DataFrame, float]:
    """The candidate's frames for one window, computed once."""
    folder = cache / f"{name}_{cutoff}"
    if not (folder / "fc.parquet").exists():
        if args.only and (folder / "started").exists():
            return None, pl.DataFrame(), 0.0  # another cache-filling run has it
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "started").touch()
        print(f"{cutoff}: {name}", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        cv, fc = fit_one(name, data, train, cutoff, args)
        folder.mkdir(parents=True, exist_ok=True)
        if cv is not None:
            cv.write_parquet(folder / "cv.parquet")
        (folder / "seconds.txt").write_text(f"{time.perf_counter() - t0:.1f}")
        fc.write_parquet(folder / "fc.parquet")  # last: marks the entry complete
    cv_path = folder / "cv.parquet"
    f64 = pl.col(pl.Float32).cast(pl.Float64)  # neural frames cached before the product's cast
    return (pl.read_parquet(cv_path).with_columns(f64) if cv_path.exists() else None,
            pl.read_parquet(folder / "fc.parquet").with_columns(f64),
            float((folder / "seconds.txt").read_text()))


def aggregates(fit_on: pl.DataFrame, cutoff: date, cache: Path, inner: int
               ) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """AutoETS on the total and each store-department (cached): (cv, forecast, groups)."""
    from stockpilot.forecast.stats import StatsForecaster

    items = with_keys(prepare(fit_on, cutoff).df)
    groups = items.select("unique_id", (pl.col("store") + "_" + pl.col("dept")).alias("group")
                          ).unique()
    folder = cache / f"aggregates_{cutoff}_{fit_on['unique_id'].n_unique()}"
    if not (folder / "fc.parquet").exists():
        agg = pl.concat([
            items.group_by("ds").agg(pl.col("y").sum()).with_columns(
                pl.lit("total").alias("unique_id")),
            items.join(groups, on="unique_id").group_by(pl.col("group").alias("unique_id"),
                                                        "ds").agg(pl.col("y").sum())],
            how="diagonal").select("unique_id", "ds", "y").sort("unique_id", "ds")
        f = StatsForecaster("AutoETS", horizon=H, n_windows=inner).fit(agg)
        folder.mkdir(parents=True, exist_ok=True)
        f.cv_.write_parquet(folder / "cv.parquet")
        f.predict(H).select("unique_id", "ds", "mean").write_parquet(folder / "fc.parquet")
    return (pl.read_parquet(folder / "cv.parquet"), pl.read_parquet(folder / "fc.parquet"),
            groups)


def averaged(frames: list[pl.DataFrame], keys: list[str]) -> pl.DataFrame:
    """The mean of the frames' ``mean`` column, on the ``keys`` rows they all have."""
    out = frames[0]
    for i, f in enumerate(frames[1:]):
        out = out.join(f.select(*keys, pl.col("mean").alias(f"_m{i}")), on=keys)
    extra = [pl.col(f"_m{i}") for i in range(len(frames) - 1)]
    return out.with_columns((pl.sum_horizontal(pl.col("mean"), *extra) / len(frames))
                            .alias("mean")).drop([f"_m{i}" for i in range(len(frames) - 1)])


def _rules(have: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """The rules whose candidates are all available: each global model alone, the LightGBM
    mean (when two or more of its members are there), the class and the series choice."""
    pool = (*[m for m in (*LOCAL, *GLOBAL) if m in have],
            *([MEAN] if len([m for m in MEAN_OF if m in have]) >= 2 else []))
    out = {m: (m,) for m in pool if m not in LOCAL}
    out["class choice"] = out["series choice"] = pool
    return out


def ours(prep, models, cvs, points, hist, k: float, pool, h: int = H, freq: str = "1d",
         routing: str | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Forecast with quantiles (shrinkage ``k``) and the chosen models' cv, under a rule.

    ``h``, ``freq``, ``routing``: as for ``choose_from_cv`` (the other rolling benchmarks).
    """
    choice = "series" if models == "series" else "class"
    names = pool if models == "series" else models
    got = choose_from_cv(prep, names, cvs, points, h, freq=freq, choice=choice, routing=routing)
    scale = hist.group_by("unique_id").agg(pl.col("y").abs().mean().alias("scale"))
    resid = got.cv.select("unique_id", (pl.col("y") - pl.col("mean")).alias("resid"))
    fc = apply_offsets(got.forecasts.select("unique_id", "ds", "mean"),
                       residual_quantiles(resid, scale, k=k))
    return fc, got.cv


def evaluate(name: str, fc: pl.DataFrame, cv: pl.DataFrame | None, train, actual, prices
             ) -> tuple[dict[str, float], pl.DataFrame]:
    """Scores (aggregates from their own backtest quantiles when ``cv`` is given)."""
    test = actual.join(fc.select("unique_id", "ds", "mean", *QUANTILE_COLUMNS),
                       on=["unique_id", "ds"], how="left").fill_null(0.0)
    level_q = aggregate_quantiles(fc, cv) if cv is not None else None
    return score(train, test, prices, level_q), test


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--windows", type=int, default=8)
    ap.add_argument("--spacing", type=int, default=48, help="days between window ends")
    ap.add_argument("--early", type=int, default=4, help="oldest windows used for tuning")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/stockpilot-rolling"))
    ap.add_argument("--only", default="", help="fill the cache for these candidates, stop")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reverse", action="store_true",
                    help="with --only: newest window first (a second run meets the first)")
    ap.add_argument("--inner", type=int, default=2, help="inner backtest windows per fit")
    ap.add_argument("--train-days", type=int, default=730,
                    help="fit on this many days before each window (0: all history)")
    ap.add_argument("--tuned", type=Path, default=Path("/tmp/stockpilot-rolling/tuned.json"),
                    help="LightGBM-tuned's parameters (benchmarks/forecast_m5_tune.py)")
    ap.add_argument("--series", type=int, default=0, help="first N series only (smoke runs)")
    ap.add_argument("--every", type=int, default=1,
                    help="every n-th series in id order (a spread subset when CPU is short)")
    args = ap.parse_args()
    data = load(args.data / "m5")
    if args.series or args.every > 1:
        ids = data.ids["unique_id"].sort().gather_every(args.every)
        keep = (ids[: args.series] if args.series else ids).implode()
        data = type(data)(data.df.filter(pl.col("unique_id").is_in(keep)),
                          data.ids.filter(pl.col("unique_id").is_in(keep)),
                          data.prices.filter(pl.col("unique_id").is_in(keep)), data.calendar)
    end = data.df["ds"].max()
    cutoffs = [end - timedelta(days=H + args.spacing * i) for i in range(args.windows - 1, -1, -1)]
    only = [m for m in args.only.split(",") if m]
    args.n_series = data.ids.height
    have = ALL
    if not only:  # score what every window has; say what is left out
        have = tuple(m for m in ALL if all((args.cache / f"{m}_{c}" / "fc.parquet").exists()
                                           for c in cutoffs))
        missing = sorted(set(ALL) - set(have))
        if missing:
            print(f"not in the cache for every window, left out: {', '.join(missing)}",
                  file=sys.stderr)
    ets = {c for c in cutoffs if (args.cache / f"AutoETS_{c}" / "fc.parquet").exists()}
    have = tuple(m for m in have if m != "AutoETS")  # scored on the windows it has (ets)
    # global models some windows lack (e.g. the neural ones, slow on 2 cores): scored alone,
    # with their own quantiles, on the windows they have (a table of their own)
    partial = {m: {c for c in cutoffs if (args.cache / f"{m}_{c}" / "fc.parquet").exists()}
               for m in GLOBAL if m not in have} if not only else {}
    partial = {m: cs for m, cs in partial.items() if cs}
    rules = _rules(have)
    rows: dict[str, list[dict[str, float]]] = {}
    tests: dict[str, list[pl.DataFrame]] = {}
    secs: dict[str, float] = {}
    for cutoff in (cutoffs[::-1] if only and args.reverse else cutoffs):
        first = cutoff - timedelta(days=args.train_days) if args.train_days else date.min
        fit_on = data.df.filter((pl.col("ds") <= cutoff) & (pl.col("ds") > first))
        train = data.df.filter(pl.col("ds") <= cutoff)
        frames = {m: cached(m, data, fit_on, cutoff, args.cache, args)
                  for m in (only or (*have, *(["AutoETS"] if cutoff in ets else [])))}
        if only:
            continue
        for m, (_, _, s) in frames.items():
            secs[m] = secs.get(m, 0.0) + s
        secs["_ets_n"] = secs.get("_ets_n", 0) + ("AutoETS" in frames)
        actual = data.df.filter((pl.col("ds") > cutoff) &
                                (pl.col("ds") <= cutoff + timedelta(days=H)))
        prep = prepare(fit_on, cutoff)
        cvs = {m: f[0] for m, f in frames.items() if f[0] is not None}
        points = {m: f[1].select("unique_id", "ds", "mean") for m, f in frames.items()}
        if MEAN in rules:
            members = [m for m in MEAN_OF if m in cvs]
            cvs[MEAN] = averaged([cvs[m] for m in members], ["unique_id", "cutoff", "ds"])
            points[MEAN] = averaged([points[m] for m in members], ["unique_id", "ds"])
        baselines = [("sNaive", frames["SeasonalNaive"][1], None),
                     ("sNaive (level quantiles)", frames["SeasonalNaive"][1],
                      cvs["SeasonalNaive"])]
        if "AutoETS" in frames:
            baselines.append(("AutoETS", frames["AutoETS"][1], None))
        for m, cs in partial.items():
            if cutoff in cs:
                _, fc, s = cached(m, data, fit_on, cutoff, args.cache, args)
                secs[m] = secs.get(m, 0.0) + s
                baselines.append((f"{m} (alone)", fc, None))
        for label, fc, cv in baselines:
            r, t = evaluate(label, fc, cv, train, actual, data.prices)
            rows.setdefault(label, []).append(r | {"cutoff": cutoff})
            tests.setdefault(label, []).append(t)
        agg_cv, agg_fc, groups = aggregates(fit_on, cutoff, args.cache, args.inner)
        for rule, models in rules.items():
            for k in KS:
                fc, cv = ours(prep, "series" if rule == "series choice" else models, cvs,
                              points, prep.df, k, rules["class choice"])
                todo = [(f"{rule}, k={k:g}", fc)]
                if k == 50.0:  # reconciliation at the default k only (CPU)
                    todo.append((f"{rule} + MinT, k={k:g}",
                                 reconcile(fc, cv, groups, agg_fc, agg_cv, "mint_shrink")))
                for label, f in todo:
                    r, t = evaluate(label, f, cv, train, actual, data.prices)
                    rows.setdefault(label, []).append(r | {"cutoff": cutoff})
                    tests.setdefault(label, []).append(t)
    if only:
        return
    report(rows, tests, secs, cutoffs, args, rules)


def _stats(rows: list[dict[str, float]], key: str, sel: slice) -> tuple[float, float]:
    v = np.array([r[key] for r in rows[sel]])
    return float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0


def _on(rows: list[dict], cuts: set, key: str) -> float:
    """Mean of ``key`` over the windows whose cutoff is in ``cuts``."""
    v = [r[key] for r in rows if r["cutoff"] in cuts]
    return float(np.mean(v)) if v else float("nan")


def report(rows, tests, secs, cutoffs, args, rules) -> None:
    """Print the tables: all rules on early windows, the chosen one vs baselines on late."""
    ends = [c + timedelta(days=H) for c in cutoffs]
    print(f"# M5 daily, {args.n_series} series, {args.windows} × {H}-day windows ending "
          f"{', '.join(str(e) for e in ends)} — {machine()}")
    tables(rows, tests, cutoffs, ends, args.early, rules,
           lambda label, n: _seconds(label, secs, n, cutoffs))
    _alone(rows, secs)
    print(f"\npeak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB "
          "(scoring process; fits ran in the cache-filling runs)")
    print(f"seconds per candidate, all windows (cached fits): {json.dumps(secs)}")
    print(f"command: OMP_NUM_THREADS=1 nice -n 10 python benchmarks/forecast_m5_rolling.py "
          f"--windows {args.windows} --spacing {args.spacing} --early {args.early} "
          f"--threads {args.threads} --inner {args.inner} --train-days {args.train_days} "
          f"--every {args.every}")


def _alone(rows, secs) -> None:
    """The global models some windows lack, on the windows they have (a table of their own)."""
    fewer = [label for label in rows if label.endswith(" (alone)")]
    if fewer:
        print("\n## global models on the windows they have (own quantiles; ratios on the "
              "same windows)")
        print("| model | windows | WRMSSE | × sNaive | × AutoETS | × LightGBM | WSPL | × sNaive "
              "(level q) | s per window |\n|---|---|---|---|---|---|---|---|---|")
        for label in fewer:
            cuts = {r["cutoff"] for r in rows[label]}
            wr = _stats(rows[label], "wrmsse", slice(None))
            ws = _stats(rows[label], "wspl", slice(None))
            lg = (_on(rows.get("LightGBM, k=50", []), cuts, "wrmsse")
                  if "LightGBM, k=50" in rows else float("nan"))
            ets_c = cuts & {r["cutoff"] for r in rows.get("AutoETS", [])}
            name = label.removesuffix(" (alone)")
            days = ", ".join(str(c + timedelta(days=H)) for c in sorted(cuts))
            sn = _on(rows["sNaive"], cuts, "wrmsse")
            et = _on(rows[label], ets_c, "wrmsse") / _on(rows["AutoETS"], ets_c, "wrmsse")
            print(f"| {name} | {len(cuts)} ({days}) "
                  f"| {wr[0]:.3f} ± {wr[1]:.3f} | {wr[0] / sn:.2f} | {et:.2f}"
                  f" | {wr[0] / lg:.2f} | {ws[0]:.3f} ± {ws[1]:.3f}"
                  f" | {ws[0] / _on(rows['sNaive (level quantiles)'], cuts, 'wspl'):.2f}"
                  f" | {secs.get(name, float('nan')) / len(cuts):.0f} |")


def tables(rows, tests, cutoffs, ends, n_early: int, rules, seconds) -> str:
    """The rolling-origin tables (also printed by the Online Retail and M5 monthly scripts).

    ``rows[label]``: one score dict (``wrmsse``, ``wspl``, ``cutoff``) per window, oldest
    first; labels are the baselines (``sNaive``, ``sNaive (level quantiles)``, ``AutoETS``) and
    ``"<rule>, k=<k>"`` (also ``"<rule> + MinT, k=50"`` where there is one); ``tests[label]``
    the scored item frames per window; ``ends`` the windows' last days; ``seconds(label, n)``
    the cell "fit+predict s per window". Returns the chosen label.
    """
    early, late = slice(0, n_early), slice(n_early, None)
    variants = [v for r in rules for v in (r, f"{r} + MinT") if f"{v}, k=50" in rows]
    rule = min(variants, key=lambda r: _stats(rows[f"{r}, k=50"], "wrmsse", early)[0])
    k = min((x for x in KS if f"{rule}, k={x:g}" in rows),
            key=lambda x: _stats(rows[f"{rule}, k={x:g}"], "wspl", early)[0])
    chosen = f"{rule}, k={k:g}"
    end_of = dict(zip(cutoffs, ends, strict=True))
    print(f"\n## tuning on the {n_early} early windows (ending {ends[0]} … "
          f"{ends[n_early - 1]}): WRMSSE / WSPL (level quantiles), mean ± sd")
    print("| rule | k | WRMSSE | WSPL |\n|---|---|---|---|")
    for label, rs in rows.items():
        if ", k=" not in label:
            continue
        wr, ws = _stats(rs, "wrmsse", early), _stats(rs, "wspl", early)
        r, kk = label.rsplit(", k=", 1)
        print(f"| {r} | {kk} | {wr[0]:.3f} ± {wr[1]:.3f} | {ws[0]:.3f} ± {ws[1]:.3f} |")
    print(f"\nchosen on the early windows: rule '{rule}' (lowest WRMSSE at k=50), k = {k:g} "
          "(lowest WSPL for it)")
    base = ("sNaive", "sNaive (level quantiles)", "AutoETS")
    for name, sel in (("late", late), ("all", slice(None))):
        n = len(cutoffs[sel])
        print(f"\n## {name} windows ({n}): mean ± sd over windows")
        print("| method | WRMSSE | × sNaive | × AutoETS | WSPL | × sNaive | × sNaive (level q) "
              "| fit+predict s per window |\n|---|---|---|---|---|---|---|---|")
        ets = {r["cutoff"] for r in rows.get("AutoETS", [])} & set(cutoffs[sel])
        print(f"(× AutoETS: on the {len(ets)} of these windows AutoETS has: "
              f"{', '.join(str(end_of[c]) for c in sorted(ets)) or 'none'})")
        sn = _stats(rows["sNaive"], "wrmsse", sel)[0]
        et = _on(rows.get("AutoETS", []), ets, "wrmsse")
        sq = _stats(rows["sNaive"], "wspl", sel)[0]
        sl = _stats(rows["sNaive (level quantiles)"], "wspl", sel)[0]
        others = [f"{r}, k={kk:g}" for r in variants for kk in (k, 50.0)]
        labels = [x for x in dict.fromkeys((*base, chosen, *others)) if x in rows]
        for label in labels:
            cut = [i for i, r in enumerate(rows[label]) if r["cutoff"] in set(cutoffs[sel])]
            got = [rows[label][i] for i in cut]
            wr, ws = _stats(got, "wrmsse", slice(None)), _stats(got, "wspl", slice(None))
            vs_ets = _on(rows[label], ets, "wrmsse") / et if ets else float("nan")
            print(f"| {label}{' (chosen)' if label == chosen else ''} | {wr[0]:.3f} ± "
                  f"{wr[1]:.3f} | {wr[0] / sn:.2f} | {vs_ets:.2f} | {ws[0]:.3f} ± {ws[1]:.3f}"
                  f" | {ws[0] / sq:.2f} | {ws[0] / sl:.2f} | {seconds(label, n)} |")
    print("\nper window WRMSSE (chosen / AutoETS / sNaive):")
    ets_by = {r["cutoff"]: r["wrmsse"] for r in rows.get("AutoETS", [])}
    for i, e in enumerate(ends):
        et_txt = f"{ets_by[cutoffs[i]]:.3f}" if cutoffs[i] in ets_by else "—"
        print(f"  {e}: {rows[chosen][i]['wrmsse']:.3f} / {et_txt} / "
              f"{rows['sNaive'][i]['wrmsse']:.3f}")
    cov = coverage(pl.concat(tests[chosen][late]), UPPER)
    print("\nlate windows, item-level P(y ≤ q) at " + " / ".join(f"{t:g}" for t in UPPER)
          + ": " + " / ".join(f"{v:.3f}" for v in cov["p_le"]))
    return chosen


def _seconds(label: str, secs: dict[str, float], n: int, cutoffs) -> str:
    per = len(cutoffs)
    if label.startswith("sNaive"):
        return f"{secs['SeasonalNaive'] / per:.0f}"
    if label == "AutoETS":
        return f"{secs.get('AutoETS', float('nan')) / max(1, secs.get('_ets_n', per)):.0f}"
    rule = label.rsplit(", k=", 1)[0].removesuffix(" + MinT")
    names = {MEAN: MEAN_OF}.get(rule, (rule,) if rule in GLOBAL else (*LOCAL, *GLOBAL))
    return f"{sum(secs.get(m, 0.0) for m in names) / per:.0f}"


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
