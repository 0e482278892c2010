"""Monthly forecasts of the M5 item-store series: ours vs SeasonalNaive vs AutoETS.

    python benchmarks/forecast_m5_monthly.py [--data ../shared/data] [--item-share 1.0]
        [--windows 3] [--horizon 3] [--ets/--no-ets] [--exact-refit] [--cache-dir DIR]
        [--scores-json PATH]

Data: the real monthly totals of all 30,490 M5 item-store series (d_1..d_1913), complete months
only (2011-02 … 2016-03: 2011-01 holds 3 days and 2016-04 24). ``--item-share`` keeps a seeded
share of the 3,049 items, each in all ten stores, so every level of the hierarchy stays whole.
Rolling origin: the last ``windows`` blocks of ``horizon`` months; every method is fitted on the
months before each block. Scored with the M5 WRMSSE and WSPL over all twelve M5 levels (total,
state, store, category, department, state×category, state×department, store×category,
store×department, item, item×state, item×store); weights are each series' dollar sales in the
last training month (units × that month's day-weighted mean sell price — the M5 rule of "the
last 28 training days", which on the first-of-month dates here is exactly the last month);
upper levels sum the bottom forecasts and quantiles, as :mod:`stockpilot.forecast.metrics` does.
Coverage is measured on the item-store series. Methods:
  * sNaive: statsforecast SeasonalNaive(12), quantiles from its own rolling-origin errors;
  * ETS: statsforecast AutoETS(12) per series with its Gaussian intervals (M5's "ES_bu"; a
    series too short for ETS gets the historic average and its intervals, see ``fallback``);
  * ours: one model per demand class by rolling-origin error (``selection``'s default) among
    SeasonalNaive(12), AutoETS (smooth and erratic series only), CrostonOptimized, TSB, ADIDA
    and IMAPA (intermittent and lumpy only), conformal quantiles from the chosen model's errors.

One shared cross-validation (the default). Refitting everything in each window — ours
cross-validates every candidate on 3 inner windows and refits, the baselines refit again — takes
hours on all series. But every forecast involved is a statsforecast forecast of a local model at
a cutoff, and such a forecast depends only on the series' own history up to that cutoff: not on
which window asks for it, nor on the other series in the call. With horizon ``h`` and step ``h``
the cutoffs wanted are the same months for every window — outer window w (counted back from the
end) forecasts from cutoff w and cross-validates at cutoffs w+1…w+3 — so each model is
cross-validated once over the union (here 3 + 3 = 6 cutoffs; each series only over the last k
it is asked for) and each window takes from it (a) its inner windows, for the choice and the
conformal quantiles, restricted to the series and windows ``StatsForecaster.cross_validate``
would keep there, and (b) the forecast at its own cutoff, which is statsforecast's
``forecast`` on the history before the window — what ``fit`` + ``predict`` on that history
return. ``choose_from_cv`` (benchmarks/cv_choice.py) then applies forecast_frame's own
routing, choice and
conformal code. AutoETS is cross-validated with ``level`` once on all series: its means serve
our candidate (fitted per series, so fitting on more series and filtering changes nothing), its
intervals at the outer cutoffs the ETS baseline; SeasonalNaive's one run serves both ours and
sNaive. ``--exact-refit`` runs the refitting path instead: on ``--item-share 0.01`` both give
every WRMSSE and WSPL to within 2e-15 (float summation order).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import sys
import time
import warnings
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import machine
from cv_choice import choose_from_cv
from stockpilot.forecast.base import QUANTILES, qcol
from stockpilot.forecast.classify import demand_classes
from stockpilot.forecast.conformal import apply_offsets, monotone, offsets_from_cv
from stockpilot.forecast.data import Prepared
from stockpilot.forecast.metrics import coverage, wrmsse_wspl
from stockpilot.forecast.selection import forecast_frame, routes
from stockpilot.forecast.stats import StatsForecaster, build_model
from stockpilot.ingest import m5

ROOT = Path(__file__).resolve().parents[1]
OURS = ("SeasonalNaive", "AutoETS", "CrostonOptimized", "TSB", "ADIDA", "IMAPA")
KEYS = ["item_id", "dept_id", "cat_id", "store_id", "state_id"]
LEVELS = {
    "total": [], "state": ["state_id"], "store": ["store_id"], "cat": ["cat_id"],
    "dept": ["dept_id"], "state_cat": ["state_id", "cat_id"],
    "state_dept": ["state_id", "dept_id"], "store_cat": ["store_id", "cat_id"],
    "store_dept": ["store_id", "dept_id"], "item": ["item_id"],
    "item_state": ["item_id", "state_id"], "item_store": ["item_id", "store_id"],
}
FIRST, LAST = pl.date(2011, 2, 1), pl.date(2016, 3, 1)
INNER = 3  # rolling-origin windows inside each outer window's history (choice and quantiles)
CHUNK = 1000  # series per statsforecast call in the shared cross-validation (progress lines)
#: AutoETS interval levels giving the quantiles (0.5 is the mean)
LEVELS_PCT = sorted({round(abs(2 * t - 1) * 100, 1) for t in QUANTILES} - {0.0})


def load(data: Path, item_share: float, seed: int = 0) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(monthly ``unique_id, ds, y`` + keys, monthly prices ``unique_id, ds, price``)."""
    monthly = m5.read_monthly(data / "m5" / "monthly_sales_item_store.csv.gz")
    items = monthly["sku"].unique().sort()
    if item_share < 1:
        items = items.sample(fraction=item_share, seed=seed).sort()
    df = monthly.filter(pl.col("sku").is_in(items.implode()),
                        pl.col("month").is_between(FIRST, LAST)).select(
        (pl.col("sku") + "@" + pl.col("location")).alias("unique_id"),
        pl.col("month").alias("ds"), pl.col("units").cast(pl.Float64).alias("y"),
        pl.col("sku").alias("item_id"), "dept_id", "cat_id",
        pl.col("location").alias("store_id"), "state_id")
    cal = m5.read_calendar(data / "m5" / "calendar.csv.gz")
    week_months = cal.group_by("wm_yr_wk", pl.col("date").dt.truncate("1mo").alias("ds")) \
        .agg(pl.len().alias("days"))
    prices = (m5.read_prices(data / "m5" / "sell_prices.csv.gz")
              .filter(pl.col("sku").is_in(items.implode()))
              .join(week_months, on="wm_yr_wk")
              .group_by(pl.col("sku") + "@" + pl.col("location"), "ds")
              .agg(((pl.col("sell_price") * pl.col("days")).sum() / pl.col("days").sum())
                   .alias("price"))
              .rename({"sku": "unique_id"}))
    return df, prices


def prepared(train: pl.DataFrame, end: object) -> Prepared:
    """Monthly series from their first sale (the daily ``prepare`` fills days, not months)."""
    live = train.sort("unique_id", "ds").filter(
        (pl.col("y") > 0).cum_max().over("unique_id"))
    zero = sorted(set(train["unique_id"].unique()) - set(live["unique_id"].unique()))
    return Prepared(live.select("unique_id", "ds", "y"), end, [], zero)  # type: ignore[arg-type]


def gaussian_quantiles(fc: pl.DataFrame) -> pl.DataFrame:
    """``unique_id, ds, mean, q…`` from AutoETS's mean and Gaussian interval columns."""
    cols = {}
    for t in QUANTILES:
        lv = round(abs(2 * t - 1) * 100, 1)
        side = "lo" if t < 0.5 else "hi"
        name = "AutoETS" if lv == 0 else f"AutoETS-{side}-{lv}"
        cols[qcol(t)] = pl.col(name).clip(lower_bound=0)
    out = fc.select("unique_id", "ds", pl.col("AutoETS").clip(lower_bound=0).alias("mean"),
                    **cols)
    return monotone(out, [qcol(t) for t in QUANTILES])


def fallback() -> Any:
    """statsforecast's HistoricAverage, its interval columns in AutoETS's order.

    statsforecast writes each series' values in the order of that series' model output but
    names a call's columns after its last series: HistoricAverage lists ``lo-50 … lo-99``,
    AutoETS ``lo-99 … lo-50``, so a series that fell back (one with a handful of months) had
    its lower bounds under the wrong levels. Same numbers, keys reordered.
    """
    from statsforecast.models import HistoricAverage

    class Fallback(HistoricAverage):  # type: ignore[misc]
        def forecast(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
            out = super().forecast(*args, **kwargs)
            return {k: out[k] for k in sorted(out, key=_interval_rank)}

    return Fallback()


def _interval_rank(key: str) -> tuple[int, float]:
    """AutoETS's order: the mean, then lo from the widest level down, then hi upwards."""
    if key.startswith("lo-"):
        return 1, -float(key[3:])
    return (2, float(key[3:])) if key.startswith("hi-") else (0, 0.0)


def ets_gaussian(train: pl.DataFrame, h: int) -> pl.DataFrame:
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS

    fc = StatsForecast(models=[AutoETS(season_length=12)], freq="1mo",
                       fallback_model=fallback()).forecast(df=train, h=h, level=LEVELS_PCT)
    return gaussian_quantiles(fc)


@dataclass
class Window:
    """One outer window: the history before it, its actuals, and the dollar weights."""

    cutoff: date
    prep: Prepared
    actual: pl.DataFrame
    dollars: pl.DataFrame


def windows(df: pl.DataFrame, prices: pl.DataFrame, n_windows: int, h: int) -> list[Window]:
    """The outer windows, oldest first."""
    months = df["ds"].unique().sort()
    at = lambda k: months[len(months) - 1 - k * h]  # noqa: E731 - the cutoff k windows back
    out = []
    for w in range(n_windows, 0, -1):
        train = df.filter(pl.col("ds") <= at(w))
        actual = df.filter(pl.col("ds") > at(w), pl.col("ds") <= at(w - 1))
        tr = train.join(prices, on=["unique_id", "ds"], how="left").with_columns(
            (pl.col("y") * pl.col("price").fill_null(0.0)).alias("dollars"))
        out.append(Window(at(w), prepared(train, at(w)), actual, tr))
    return out


def refit_forecasts(args: argparse.Namespace, wins: list[Window]
                    ) -> tuple[dict[str, list[pl.DataFrame]], dict[str, float]]:
    """Every method cross-validated and refitted inside every window (the reference path)."""
    fcs: dict[str, list[pl.DataFrame]] = {}
    timing: dict[str, float] = {}
    for win in wins:
        prep = win.prep
        methods = {
            "sNaive": lambda p=prep: StatsForecaster("SeasonalNaive", season_length=12,
                                                     horizon=args.horizon, n_windows=INNER,
                                                     freq="1mo").fit(p.df).predict(args.horizon),
            "ours": lambda p=prep: forecast_frame(p, OURS, args.horizon, INNER, freq="1mo",
                                                  season_length=12).forecasts,
        }
        if args.ets:
            methods["ETS"] = lambda p=prep: ets_gaussian(p.df, args.horizon)
        for name, fn in methods.items():
            say(f"window after {win.cutoff}: {name}")
            t0 = time.perf_counter()
            fcs.setdefault(name, []).append(fn())
            timing[name] = timing.get(name, 0.0) + time.perf_counter() - t0
    return fcs, timing


def say(msg: str) -> None:
    print(f"{datetime.now():%H:%M:%S} {msg}", file=sys.stderr, flush=True)


def kept(win: Window, h: int) -> pl.DataFrame:
    """``unique_id, cutoff, ds, h`` of the inner windows ``StatsForecaster.cross_validate`` keeps.

    Asked of it (with the cheap Naive model) rather than restating its length rule here.
    """
    probe = StatsForecaster("Naive", season_length=12, horizon=h, n_windows=INNER, freq="1mo")
    return probe.cross_validate(win.prep.df).select("unique_id", "cutoff", "ds", "h")


def needs(wins: list[Window], probes: list[pl.DataFrame], with_ets: bool
          ) -> dict[str, pl.DataFrame]:
    """Per model, ``unique_id, k``: cross-validate the series over its last ``k`` cutoffs.

    A series needs the outer cutoff of every window that forecasts it with the model, and the
    inner cutoffs of every window that cross-validates it (k counts windows back from the end).
    """
    parts: dict[str, list[pl.DataFrame]] = {}
    n = len(wins)
    for i, (win, probe) in enumerate(zip(wins, probes, strict=True)):
        w = n - i  # this window's cutoff is w windows before the end
        long = probe.select("unique_id").unique().with_columns(pl.lit(True).alias("long"))
        route = routes(demand_classes(win.prep.df), OURS)
        every = win.prep.df.select("unique_id").unique()
        users = {m: route.filter(pl.col("model") == m).select("unique_id") for m in OURS}
        # the sNaive baseline cross-validates every series (a superset of ours' routing)
        users["SeasonalNaive"] = every
        for m, ids in users.items():
            k = pl.when(pl.col("long").fill_null(False)).then(w + INNER).otherwise(w)
            parts.setdefault(m, []).append(
                ids.join(long, on="unique_id", how="left").select("unique_id", k.alias("k")))
        if with_ets:  # the ETS baseline: every series at the outer cutoff only
            parts["AutoETS"].append(every.with_columns(pl.lit(w).alias("k")))
    return {m: pl.concat(p).group_by("unique_id").agg(pl.col("k").max()) for m, p in parts.items()}


def shared_cv(name: str, history: pl.DataFrame, need: pl.DataFrame, h: int,
              level: list[float] | None, cache: Path | None) -> tuple[pl.DataFrame, float]:
    """statsforecast's rolling-origin forecasts of ``name``, each series at its last k cutoffs.

    Local models fit each series on its own, so grouping series by k and into chunks (for
    progress lines and a resumable cache) changes no number. Same model and fallback as
    ``StatsForecaster``. Returns the frame and the seconds its computation took.
    """
    out, spent = [], 0.0
    total, done, fits_total, fits_done = need.height, 0, int(need["k"].sum()), 0
    for (k,), ids in need.sort("unique_id").group_by("k", maintain_order=True):
        for start in range(0, ids.height, CHUNK):
            chunk = history.join(ids.slice(start, CHUNK), on="unique_id", how="semi") \
                .sort("unique_id", "ds")
            frame, secs, cached = _cv_chunk(name, chunk, int(k), h, level, cache)
            out.append(frame)
            spent += secs
            n = min(CHUNK, ids.height - start)
            done, fits_done = done + n, fits_done + n * int(k)
            say(f"  {name}: {done}/{total} series, {fits_done}/{fits_total} fits, {spent:.0f} s"
                f"{' (cached)' if cached else ''}, "
                f"~{spent / fits_done * (fits_total - fits_done):.0f} s to go")
    return pl.concat(out), spent


def _cv_chunk(name: str, chunk: pl.DataFrame, k: int, h: int, level: list[float] | None,
              cache: Path | None) -> tuple[pl.DataFrame, float, bool]:
    """One statsforecast cross-validation call, or its saved result for the same input."""
    from statsforecast import StatsForecast

    key = hashlib.sha256(f"{name}|{level}|{h}|{k}|{chunk.write_csv()}".encode()).hexdigest()
    path = cache / f"{name}-{key[:24]}.parquet" if cache else None
    if path is not None and path.exists():
        meta = json.loads(path.with_suffix(".json").read_text())
        return pl.read_parquet(path), float(meta["seconds"]), True
    t0 = time.perf_counter()
    sf = StatsForecast(models=[build_model(name, 12)], freq="1mo", n_jobs=1,
                       fallback_model=fallback())
    frame = sf.cross_validation(df=chunk, h=h, n_windows=k, step_size=h, level=level)
    secs = time.perf_counter() - t0
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.write_parquet(path)
        path.with_suffix(".json").write_text(json.dumps({"seconds": secs}))
    return frame, secs, False


def shared_forecasts(args: argparse.Namespace, df: pl.DataFrame, wins: list[Window]
                     ) -> tuple[dict[str, list[pl.DataFrame]], dict[str, float]]:
    """Every method from one cross-validation per model over the union of all cutoffs."""
    h = args.horizon
    t0 = time.perf_counter()
    probes = [kept(win, h) for win in wins]
    need = needs(wins, probes, args.ets)
    history = prepared(df, df["ds"].max()).df
    setup = time.perf_counter() - t0
    say(f"union of cutoffs planned in {setup:.0f} s")
    cvs, cv_time = {}, {}
    for name in sorted(OURS, key=lambda m: m == "AutoETS"):  # the slow one last
        if need[name].is_empty():
            continue
        say(f"cross-validating {name} on {need[name].height} series "
            f"(windows per series: {dict(need[name]['k'].value_counts().sort('k').rows())})")
        cvs[name], cv_time[name] = shared_cv(
            name, history, need[name], h, LEVELS_PCT if name == "AutoETS" and args.ets else None,
            args.cache_dir)
    fcs: dict[str, list[pl.DataFrame]] = {}
    timing = {"sNaive": setup + cv_time["SeasonalNaive"], "ours": setup + sum(cv_time.values())}
    if args.ets:
        timing["ETS"] = cv_time["AutoETS"]
    for win, probe in zip(wins, probes, strict=True):
        say(f"window after {win.cutoff}: choosing and scoring from the shared cross-validation")
        for name, fc_t in derive(win, probe, cvs, h, args.ets).items():
            fcs.setdefault(name, []).append(fc_t[0])
            timing[name] += fc_t[1]
    say("shared cross-validation s: " + ", ".join(f"{m} {s:.0f}" for m, s in cv_time.items()))
    return fcs, timing


def derive(win: Window, probe: pl.DataFrame, cvs: dict[str, pl.DataFrame], h: int,
           with_ets: bool) -> dict[str, tuple[pl.DataFrame, float]]:
    """One window's forecasts per method (and the seconds each took) from the shared frames.

    The inner frames are what ``StatsForecaster.cross_validate`` returns inside the window and
    the points what ``StatsForecaster.predict`` returns after fitting on it (same clipping).
    """
    every = win.prep.df.select("unique_id").unique()
    inner, point = {}, {}
    t0 = time.perf_counter()
    for m, cv in cvs.items():
        inner[m] = cv.join(probe, on=["unique_id", "cutoff", "ds"], how="inner").select(
            "unique_id", "cutoff", "ds", "h", "y", pl.col(m).clip(lower_bound=0.0).alias("mean")
        ).filter(pl.col("mean").is_not_nan() & pl.col("mean").is_not_null())
        point[m] = cv.filter(pl.col("cutoff") == win.cutoff).select(
            "unique_id", "ds", pl.col(m).fill_nan(0.0).clip(lower_bound=0.0).alias("mean"))
    base = time.perf_counter() - t0
    out = {}
    t0 = time.perf_counter()
    sn = every.join(point["SeasonalNaive"], on="unique_id", how="left")
    _check(sn, "mean", "sNaive", win)
    offsets = offsets_from_cv(inner["SeasonalNaive"], win.prep.df)
    out["sNaive"] = (apply_offsets(sn, offsets), base + time.perf_counter() - t0)
    t0 = time.perf_counter()
    ours = choose_from_cv(win.prep, OURS, inner, point, h, freq="1mo")
    _check(ours.forecasts, "mean", "ours", win, every)
    out["ours"] = (ours.forecasts, base + time.perf_counter() - t0)
    if with_ets:
        t0 = time.perf_counter()
        ets = every.join(cvs["AutoETS"].filter(pl.col("cutoff") == win.cutoff), on="unique_id",
                         how="left")
        _check(ets, "AutoETS", "ETS", win)
        out["ETS"] = (gaussian_quantiles(ets), time.perf_counter() - t0)
    return out


def _check(fc: pl.DataFrame, col: str, name: str, win: Window,
           every: pl.DataFrame | None = None) -> None:
    """Every series of the window has its forecast (a gap in the shared CV would show here)."""
    missing = fc.filter(pl.col(col).is_null() | pl.col("ds").is_null()).height
    if every is not None:
        missing += every.join(fc, on="unique_id", how="anti").height
    if missing:
        raise RuntimeError(f"{name}: {missing} series without a forecast after {win.cutoff}")


def main() -> None:
    warnings.filterwarnings("ignore", category=UserWarning)
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--item-share", type=float, default=1.0)
    ap.add_argument("--windows", type=int, default=3)
    ap.add_argument("--horizon", type=int, default=3)
    ap.add_argument("--ets", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--exact-refit", action="store_true",
                    help="refit every method in every window (slow reference path)")
    ap.add_argument("--scores-json", type=Path, help="also write every score, full precision")
    ap.add_argument("--cache-dir", type=Path,
                    help="save each shared cross-validation chunk here; a rerun resumes from it")
    args = ap.parse_args()
    t_start = time.perf_counter()
    say("loading")
    df, prices = load(args.data, args.item_share)
    wins = windows(df, prices, args.windows, args.horizon)
    if args.exact_refit:
        fcs, timing = refit_forecasts(args, wins)
    else:
        fcs, timing = shared_forecasts(args, df, wins)
    qs = [qcol(t) for t in QUANTILES]
    results: dict[str, list[dict[str, float]]] = {}
    tests: dict[str, list[pl.DataFrame]] = {}
    for name, per_window in fcs.items():
        for win, fc in zip(wins, per_window, strict=True):
            test = win.actual.join(fc.select("unique_id", "ds", "mean", *qs),
                                   on=["unique_id", "ds"], how="left").fill_null(0.0)
            results.setdefault(name, []).append(
                wrmsse_wspl(win.dollars, test, LEVELS, value="dollars"))
            tests.setdefault(name, []).append(test)
    say("scored")
    report(args, df, results, tests, timing, time.perf_counter() - t_start)


def report(args: argparse.Namespace, df: pl.DataFrame, results: dict[str, list[dict[str, float]]],
           tests: dict[str, list[pl.DataFrame]], timing: dict[str, float], wall: float) -> None:
    n = df["unique_id"].n_unique()
    print(f"# M5 monthly, {n} item-store series ({df['item_id'].n_unique()} items × "
          f"{df['store_id'].n_unique()} stores), {args.windows} × {args.horizon}-month windows "
          f"ending {df['ds'].max():%Y-%m} — {machine()}")
    secs = ("fit+predict s (all windows)" if args.exact_refit else
            "s, all windows (shared CVs counted in each method using them)")
    print(f"| method | WRMSSE | × sNaive | WSPL | × sNaive | {secs} |")
    print("|---|---|---|---|---|---|")
    base = {k: np.mean([r[k] for r in results["sNaive"]]) for k in ("wrmsse", "wspl")}
    for name, rows in results.items():
        wr, ws = np.mean([r["wrmsse"] for r in rows]), np.mean([r["wspl"] for r in rows])
        print(f"| {name} | {wr:.3f} | {wr / base['wrmsse']:.2f} | {ws:.3f} | "
              f"{ws / base['wspl']:.2f} | {timing[name]:.0f} |")
    print("\nWRMSSE per level (mean over windows):")
    print("| level | " + " | ".join(results) + " |")
    print("|---|" + "---|" * len(results))
    for lv in LEVELS:
        cells = [f"{np.mean([r[f'wrmsse_{lv}'] for r in rows]):.3f}" for rows in results.values()]
        print(f"| {lv} | " + " | ".join(cells) + " |")
    print("\ncoverage P(y ≤ q) / P(y < q) per quantile level (item-store series):")
    print("| level | " + " | ".join(results) + " |")
    print("|---|" + "---|" * len(results))
    covs = {k: coverage(pl.concat(t)) for k, t in tests.items()}
    for i, t in enumerate(QUANTILES):
        cells = [f"{covs[k]['p_le'][i]:.3f} / {covs[k]['p_lt'][i]:.3f}" for k in results]
        print(f"| {t} | " + " | ".join(cells) + " |")
    print(f"\nwall {wall:.0f} s, peak RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    print(f"command: python benchmarks/forecast_m5_monthly.py --item-share {args.item_share} "
          f"--windows {args.windows} --horizon {args.horizon}"
          f"{'' if args.ets else ' --no-ets'}{' --exact-refit' if args.exact_refit else ''}")
    if args.scores_json:
        args.scores_json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
