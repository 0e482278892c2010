"""Monthly forecasts of the M5 item-store series, rolling origin: tune early, report late.

    python benchmarks/forecast_m5_monthly.py [--data ../shared/data] [--item-share 1.0]
        [--windows 8] [--early 4] [--horizon 3] [--ets/--no-ets] [--exact-refit]
        [--cache-dir DIR] [--scores-json PATH]

Data: the real monthly totals of all 30,490 M5 item-store series (d_1..d_1913), complete months
only (2011-02 … 2016-03: 2011-01 holds 3 days and 2016-04 24). ``--item-share`` keeps a seeded
share of the 3,049 items, each in all ten stores, so every level of the hierarchy stays whole.
Rolling origin: the last ``windows`` blocks of ``horizon`` months (8 × 3 by default: windows
ending 2014-06, 2014-09, … 2016-03, two years; the four early ones are one year of seasons, the
four late ones the next); every method is fitted on the months before each block and the
candidates cross-validated on ``INNER`` (3) inner blocks. Scored with the M5 WRMSSE and WSPL over
all twelve M5 levels (total, state, store, category, department, state×category,
state×department, store×category, store×department, item, item×state, item×store); weights are
each series' dollar sales in the last training month (units × that month's day-weighted mean
sell price — the M5 rule of "the last 28 training days", which on the first-of-month dates here
is exactly the last month). The tables are ``forecast_m5_rolling``'s
(:func:`forecast_m5_rolling.tables`): every rule at k = 30, 50, 100 on the ``--early`` oldest
windows, the rule (lowest WRMSSE at k = 50) and then k (lowest WSPL) chosen there, the late and
all windows as mean ± sd over windows, per-window WRMSSE, item-store coverage of the upper
quantiles. Baselines:
  * sNaive: statsforecast SeasonalNaive(12), quantiles from its own rolling-origin errors
    (summed bottom-up to the upper levels; "(level quantiles)": each upper level's own errors);
  * AutoETS: statsforecast AutoETS(12) per series with its Gaussian intervals (M5's "ES_bu"; a
    series too short for ETS gets the historic average and its intervals, see ``fallback``).
Rules (``RULES``), over SeasonalNaive(12), AutoETS, CrostonOptimized, TSB, ADIDA and IMAPA with
conformal quantiles from the chosen models' errors and each upper level's quantiles from its
own inner errors: AutoETS alone; the class choice (one model per demand class by rolling-origin
error, ``selection``'s default) and the series choice, routed as the product routes every
frequency (AutoETS only on smooth and erratic series, Croston-type models only on intermittent
and lumpy ones); and both again with AutoETS competing in every class
(``selection.EVERYWHERE``), an alternative measured here and not adopted (no gain on the early
windows, docs/benchmarks.md).

One shared cross-validation (the default). Refitting everything in each window — ours
cross-validates every candidate on 3 inner windows and refits, the baselines refit again — takes
hours on all series. But every forecast involved is a statsforecast forecast of a local model at
a cutoff, and such a forecast depends only on the series' own history up to that cutoff: not on
which window asks for it, nor on the other series in the call. With horizon ``h`` and step ``h``
the cutoffs wanted are the same months for every window — outer window w (counted back from the
end) forecasts from cutoff w and cross-validates at cutoffs w+1…w+3 — so each model is
cross-validated once over the union (here 8 + 3 = 11 cutoffs; each series only over the last k
it is asked for) and each window takes from it (a) its inner windows, for the choice and the
conformal quantiles, restricted to the series and windows ``StatsForecaster.cross_validate``
would keep there, and (b) the forecast at its own cutoff, which is statsforecast's
``forecast`` on the history before the window — what ``fit`` + ``predict`` on that history
return. ``choose_from_cv`` (benchmarks/cv_choice.py) then applies forecast_frame's own
routing, choice and conformal code (``forecast_m5_rolling.ours`` then redoes the quantiles with
each k). AutoETS is cross-validated with ``level`` once on all series: its means serve
our candidate (fitted per series, so fitting on more series and filtering changes nothing), its
intervals at the outer cutoffs the ETS baseline; SeasonalNaive's one run serves both ours and
sNaive. ``--exact-refit`` runs the refitting path instead (every candidate fitted on every
series of every window; ``--scores-json`` on both paths to compare them): on ``--item-share
0.005 --windows 3 --early 2`` both give every score of every baseline and rule to within 2e-15
(float summation order), and so does ``--n-jobs 2``; ``tests/forecast/test_choose_from_cv.py``
checks the same on real series.
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
from statsforecast.models import HistoricAverage

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import machine
from cv_choice import choose_from_cv
from forecast_m5_rolling import KS, UPPER, ours, tables
from stockpilot.forecast.base import QUANTILES, qcol
from stockpilot.forecast.classify import demand_classes
from stockpilot.forecast.conformal import apply_offsets, monotone, offsets_from_cv
from stockpilot.forecast.data import Prepared
from stockpilot.forecast.metrics import level_quantiles, wrmsse_wspl
from stockpilot.forecast.selection import EVERYWHERE, routes
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
FREQ = "1mo"
#: The rules compared (each at every k of ``forecast_m5_rolling.KS``): the candidates they
#: choose among, and the routing they use: the product's (``FREQ``'s, the daily routing:
#: AutoETS on smooth and erratic series only) and "AutoETS in every class"
#: (``selection.EVERYWHERE``), to measure that alternative
RULES: dict[str, tuple[tuple[str, ...], str]] = {
    "AutoETS": (("AutoETS",), FREQ),
    "class choice": (OURS, FREQ), "series choice": (OURS, FREQ),
    "class choice (AutoETS in every class)": (OURS, EVERYWHERE),
    "series choice (AutoETS in every class)": (OURS, EVERYWHERE),
}


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


class Fallback(HistoricAverage):  # type: ignore[misc]
    """statsforecast's HistoricAverage, its interval columns in AutoETS's order.

    statsforecast writes each series' values in the order of that series' model output but
    names a call's columns after its last series: HistoricAverage lists ``lo-50 … lo-99``,
    AutoETS ``lo-99 … lo-50``, so a series that fell back (one with a handful of months) had
    its lower bounds under the wrong levels. Same numbers, keys reordered. At module level so
    that ``--n-jobs`` worker processes can unpickle it.
    """

    def forecast(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        out = super().forecast(*args, **kwargs)
        return {k: out[k] for k in sorted(out, key=_interval_rank)}


def fallback() -> Any:
    """A :class:`Fallback` (statsforecast's ``fallback_model``)."""
    return Fallback()


def _interval_rank(key: str) -> tuple[int, float]:
    """AutoETS's order: the mean, then lo from the widest level down, then hi upwards."""
    if key.startswith("lo-"):
        return 1, -float(key[3:])
    return (2, float(key[3:])) if key.startswith("hi-") else (0, 0.0)


def ets_gaussian(train: pl.DataFrame, h: int) -> pl.DataFrame:
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS

    fc = StatsForecast(models=[AutoETS(season_length=12)], freq=FREQ,
                       fallback_model=fallback()).forecast(df=train, h=h, level=LEVELS_PCT)
    return gaussian_quantiles(fc)


@dataclass
class Window:
    """One outer window: the history before it, its actuals, and the dollar weights."""

    cutoff: date
    prep: Prepared
    actual: pl.DataFrame
    dollars: pl.DataFrame
    last: date  # the window's last month


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
        out.append(Window(at(w), prepared(train, at(w)), actual, tr, at(w - 1)))
    return out


#: Per window: the inner-window cv per candidate, its forecast of the window per candidate
#: (``unique_id, ds, mean``), and the AutoETS baseline with Gaussian quantiles (or None).
Frames = tuple[dict[str, pl.DataFrame], dict[str, pl.DataFrame], pl.DataFrame | None]


def refit_frames(args: argparse.Namespace, wins: list[Window]
                 ) -> tuple[list[Frames], dict[str, float]]:
    """Every candidate cross-validated and refitted inside every window (the reference path)."""
    out: list[Frames] = []
    timing: dict[str, float] = {}
    for win in wins:
        inner, point = {}, {}
        for m in OURS:
            say(f"window after {win.cutoff}: {m}")
            t0 = time.perf_counter()
            f = StatsForecaster(m, season_length=12, horizon=args.horizon, n_windows=INNER,
                                freq=FREQ).fit(win.prep.df)
            inner[m] = f.cv_
            point[m] = f.predict(args.horizon).select("unique_id", "ds", "mean")
            timing[m] = timing.get(m, 0.0) + time.perf_counter() - t0
        ets = None
        if args.ets:
            t0 = time.perf_counter()
            ets = ets_gaussian(win.prep.df, args.horizon)
            timing["AutoETS baseline"] = (timing.get("AutoETS baseline", 0.0)
                                          + time.perf_counter() - t0)
        out.append((inner, point, ets))
    return out, timing


def say(msg: str) -> None:
    print(f"{datetime.now():%H:%M:%S} {msg}", file=sys.stderr, flush=True)


def kept(win: Window, h: int) -> pl.DataFrame:
    """``unique_id, cutoff, ds, h`` of the inner windows ``StatsForecaster.cross_validate`` keeps.

    Asked of it (with the cheap Naive model) rather than restating its length rule here.
    """
    probe = StatsForecaster("Naive", season_length=12, horizon=h, n_windows=INNER, freq=FREQ)
    return probe.cross_validate(win.prep.df).select("unique_id", "cutoff", "ds", "h")


def needs(wins: list[Window], probes: list[pl.DataFrame], with_ets: bool
          ) -> dict[str, pl.DataFrame]:
    """Per model, ``unique_id, k``: cross-validate the series over its last ``k`` cutoffs.

    A series needs the outer cutoff of every window that forecasts it with the model, and the
    inner cutoffs of every window that cross-validates it (k counts windows back from the end),
    under any of the rules' routings.
    """
    parts: dict[str, list[pl.DataFrame]] = {}
    n = len(wins)
    routings = sorted({r for _, r in RULES.values()})
    for i, (win, probe) in enumerate(zip(wins, probes, strict=True)):
        w = n - i  # this window's cutoff is w windows before the end
        long = probe.select("unique_id").unique().with_columns(pl.lit(True).alias("long"))
        classes = demand_classes(win.prep.df)
        route = pl.concat([routes(classes, OURS, r) for r in routings]).unique(
            ["unique_id", "model"])
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
              level: list[float] | None, cache: Path | None, n_jobs: int = 1
              ) -> tuple[pl.DataFrame, float]:
    """statsforecast's rolling-origin forecasts of ``name``, each series at its last k cutoffs.

    Local models fit each series on its own, so grouping series by k and into chunks (for
    progress lines and a resumable cache) changes no number. Same model and fallback as
    ``StatsForecaster``; ``n_jobs`` statsforecast processes per call. Returns the frame and the
    seconds (wall) its computation took.
    """
    out, spent = [], 0.0
    total, done, fits_total, fits_done = need.height, 0, int(need["k"].sum()), 0
    for (k,), ids in need.sort("unique_id").group_by("k", maintain_order=True):
        for start in range(0, ids.height, CHUNK):
            chunk = history.join(ids.slice(start, CHUNK), on="unique_id", how="semi") \
                .sort("unique_id", "ds")
            frame, secs, cached = _cv_chunk(name, chunk, int(k), h, level, cache, n_jobs)
            out.append(frame)
            spent += secs
            n = min(CHUNK, ids.height - start)
            done, fits_done = done + n, fits_done + n * int(k)
            say(f"  {name}: {done}/{total} series, {fits_done}/{fits_total} fits, {spent:.0f} s"
                f"{' (cached)' if cached else ''}, "
                f"~{spent / fits_done * (fits_total - fits_done):.0f} s to go")
    return pl.concat(out), spent


def _cv_chunk(name: str, chunk: pl.DataFrame, k: int, h: int, level: list[float] | None,
              cache: Path | None, n_jobs: int = 1) -> tuple[pl.DataFrame, float, bool]:
    """One statsforecast cross-validation call, or its saved result for the same input."""
    from statsforecast import StatsForecast

    key = hashlib.sha256(f"{name}|{level}|{h}|{k}|{chunk.write_csv()}".encode()).hexdigest()
    path = cache / f"{name}-{key[:24]}.parquet" if cache else None
    if path is not None and path.exists():
        meta = json.loads(path.with_suffix(".json").read_text())
        return pl.read_parquet(path), float(meta["seconds"]), True
    t0 = time.perf_counter()
    sf = StatsForecast(models=[build_model(name, 12)], freq=FREQ, n_jobs=n_jobs,
                       fallback_model=fallback())
    frame = sf.cross_validation(df=chunk, h=h, n_windows=k, step_size=h, level=level)
    secs = time.perf_counter() - t0
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.write_parquet(path)
        path.with_suffix(".json").write_text(json.dumps({"seconds": secs}))
    return frame, secs, False


def shared_frames(args: argparse.Namespace, df: pl.DataFrame, wins: list[Window]
                  ) -> tuple[list[Frames], dict[str, float]]:
    """Every window's frames from one cross-validation per model over the union of cutoffs."""
    h = args.horizon
    t0 = time.perf_counter()
    probes = [kept(win, h) for win in wins]
    need = needs(wins, probes, args.ets)
    history = prepared(df, df["ds"].max()).df
    timing = {"setup": time.perf_counter() - t0}
    say(f"union of cutoffs planned in {timing['setup']:.0f} s")
    cvs = {}
    for name in sorted(OURS, key=lambda m: m == "AutoETS"):  # the slow one last
        if need[name].is_empty():
            continue
        say(f"cross-validating {name} on {need[name].height} series "
            f"(windows per series: {dict(need[name]['k'].value_counts().sort('k').rows())})")
        cvs[name], timing[name] = shared_cv(
            name, history, need[name], h, LEVELS_PCT if name == "AutoETS" and args.ets else None,
            args.cache_dir, args.n_jobs)
    timing["AutoETS baseline"] = timing.get("AutoETS", 0.0)  # the same shared run serves both
    say("shared cross-validation s: " + ", ".join(f"{m} {s:.0f}" for m, s in timing.items()))
    return [window_frames(win, probe, cvs, args.ets)
            for win, probe in zip(wins, probes, strict=True)], timing


def window_frames(win: Window, probe: pl.DataFrame, cvs: dict[str, pl.DataFrame],
                  with_ets: bool) -> Frames:
    """One window's frames, taken from the shared cross-validations.

    The inner frames are what ``StatsForecaster.cross_validate`` returns inside the window and
    the points what ``StatsForecaster.predict`` returns after fitting on it (same clipping).
    """
    inner, point = {}, {}
    for m, cv in cvs.items():
        inner[m] = cv.join(probe, on=["unique_id", "cutoff", "ds"], how="inner").select(
            "unique_id", "cutoff", "ds", "h", "y", pl.col(m).clip(lower_bound=0.0).alias("mean")
        ).filter(pl.col("mean").is_not_nan() & pl.col("mean").is_not_null())
        point[m] = cv.filter(pl.col("cutoff") == win.cutoff).select(
            "unique_id", "ds", pl.col(m).fill_nan(0.0).clip(lower_bound=0.0).alias("mean"))
    ets = None
    if with_ets:
        every = win.prep.df.select("unique_id").unique()
        ets = every.join(cvs["AutoETS"].filter(pl.col("cutoff") == win.cutoff), on="unique_id",
                         how="left")
        _check(ets, "AutoETS", "AutoETS", win)
        ets = gaussian_quantiles(ets)
    return inner, point, ets


def score_window(win: Window, frames: Frames, keys: pl.DataFrame, h: int
                 ) -> dict[str, tuple[dict[str, float], pl.DataFrame]]:
    """Per label (baselines, ``"<rule>, k=<k>"``): the window's scores and its scored item-store
    ``y`` and upper quantiles (for coverage). Rules score WSPL with each aggregate level's own
    quantiles (from the chosen models' inner errors); the sNaive baseline both ways."""
    inner, point, ets = frames
    every = win.prep.df.select("unique_id").unique()
    sn = every.join(point["SeasonalNaive"], on="unique_id", how="left")
    _check(sn, "mean", "sNaive", win)
    sn = apply_offsets(sn, offsets_from_cv(inner["SeasonalNaive"], win.prep.df))
    todo = [("sNaive", sn, None), ("sNaive (level quantiles)", sn, inner["SeasonalNaive"])]
    if ets is not None:
        todo.append(("AutoETS", ets, None))
    for rule, (names, routing) in RULES.items():
        for k in KS:
            fc, cv = ours(win.prep, "series" if rule.startswith("series") else names, inner,
                          point, win.prep.df, k, OURS, h=h, freq=FREQ, routing=routing)
            _check(fc, "mean", rule, win, every)
            todo.append((f"{rule}, k={k:g}", fc, cv))
    qs = [qcol(t) for t in QUANTILES]
    out: dict[str, Any] = {"_notes": [_picked(win, inner, point, h, r) for r in (FREQ, EVERYWHERE)]}
    for label, fc, cv in todo:
        test = win.actual.join(fc.select("unique_id", "ds", "mean", *qs),
                               on=["unique_id", "ds"], how="left").fill_null(0.0)
        level_q = None if cv is None else {
            name: level_quantiles(fc.join(keys, on="unique_id"), cv.join(keys, on="unique_id"),
                                  ids)
            for name, ids in LEVELS.items() if name != "item_store"}
        out[label] = (wrmsse_wspl(win.dollars, test, LEVELS, value="dollars", level_q=level_q),
                      test.select("y", *[qcol(t) for t in UPPER]))
    return out


def _picked(win: Window, inner: dict[str, pl.DataFrame], point: dict[str, pl.DataFrame], h: int,
            routing: str) -> str:
    """What the class choice picked in each demand class (series per model), for the notes."""
    choice = choose_from_cv(win.prep, OURS, inner, point, h, freq=FREQ, routing=routing).choice
    got = choice.group_by("demand_class", "model").len().sort("demand_class", "len",
                                                              descending=[False, True])
    label = "" if routing == FREQ else " (AutoETS in every class)"
    return (f"{win.last:%Y-%m}: class choice{label} "
            + ", ".join(f"{c} → {m} ({n})" for c, m, n in got.iter_rows()))


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
    ap.add_argument("--windows", type=int, default=8)
    ap.add_argument("--early", type=int, default=4, help="oldest windows used for tuning")
    ap.add_argument("--horizon", type=int, default=3)
    ap.add_argument("--ets", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--exact-refit", action="store_true",
                    help="refit every candidate in every window (slow reference path)")
    ap.add_argument("--scores-json", type=Path, help="also write every score, full precision")
    ap.add_argument("--cache-dir", type=Path,
                    help="save each shared cross-validation chunk here; a rerun resumes from it")
    ap.add_argument("--n-jobs", type=int, default=1,
                    help="statsforecast processes in the shared cross-validation (2 on 2 cores)")
    args = ap.parse_args()
    t_start = time.perf_counter()
    say("loading")
    df, prices = load(args.data, args.item_share)
    wins = windows(df, prices, args.windows, args.horizon)
    if args.exact_refit:
        frames, timing = refit_frames(args, wins)
    else:
        frames, timing = shared_frames(args, df, wins)
    keys = df.select("unique_id", *KEYS).unique()
    rows: dict[str, list[dict[str, Any]]] = {}
    tests: dict[str, list[pl.DataFrame]] = {}
    notes: list[str] = []
    for win, fr in zip(wins, frames, strict=True):
        say(f"window after {win.cutoff}: scoring")
        scored = score_window(win, fr, keys, args.horizon)
        notes += scored.pop("_notes")
        for label, (score, test) in scored.items():
            rows.setdefault(label, []).append(score | {"cutoff": win.cutoff})
            tests.setdefault(label, []).append(test)
    say("scored")
    report(args, df, wins, rows, tests, timing, notes, time.perf_counter() - t_start)


def _seconds(label: str, timing: dict[str, float], n_windows: int) -> str:
    """Seconds per window of what a label used (shared cross-validations counted in full)."""
    if label.startswith("sNaive"):
        names: tuple[str, ...] = ("SeasonalNaive",)
    elif label == "AutoETS":
        names = ("AutoETS baseline",)
    else:
        names = RULES[label.rsplit(", k=", 1)[0]][0]
    spent = timing.get("setup", 0.0) + sum(timing.get(m, 0.0) for m in names)
    return f"{spent / n_windows:.0f}"


def report(args: argparse.Namespace, df: pl.DataFrame, wins: list[Window],
           rows: dict[str, list[dict[str, Any]]], tests: dict[str, list[pl.DataFrame]],
           timing: dict[str, float], notes: list[str], wall: float) -> None:
    """``forecast_m5_rolling``'s tables, the late windows per level, time, memory, command."""
    n = df["unique_id"].n_unique()
    ends = [f"{w.last:%Y-%m}" for w in wins]
    print(f"# M5 monthly, {n} item-store series ({df['item_id'].n_unique()} items × "
          f"{df['store_id'].n_unique()} stores), {args.windows} × {args.horizon}-month windows "
          f"ending {', '.join(ends)} ({args.early} early) — {machine()}")
    classes = demand_classes(wins[-1].prep.df)["demand_class"].value_counts().sort("demand_class")
    print("demand classes at the last cutoff: " + ", ".join(f"{c} {k}" for c, k in
                                                             classes.iter_rows()))
    chosen = tables(rows, tests, [w.cutoff for w in wins], ends, args.early,
                    RULES, lambda label, _n: _seconds(label, timing, len(wins)))
    k = chosen.rsplit(", k=", 1)[1]
    shown = [x for x in dict.fromkeys(("sNaive", "AutoETS", chosen,
                                       *[f"{r}, k={k}" for r in RULES])) if x in rows]
    late = slice(args.early, None)
    print(f"\nWRMSSE per level, late windows (mean over {len(wins[late])}):")
    print("| level | " + " | ".join(shown) + " |")
    print("|---|" + "---|" * len(shown))
    for lv in LEVELS:
        cells = [f"{np.mean([r[f'wrmsse_{lv}'] for r in rows[x][late]]):.3f}" for x in shown]
        print(f"| {lv} | " + " | ".join(cells) + " |")
    print("\nnotes:")
    for note in notes:
        print(f"- {note}")
    path = "exact refit in every window" if args.exact_refit else \
        "one cross-validation per model over the union of cutoffs, counted in every label using it"
    print(f"\nseconds ({path}): " + ", ".join(f"{m} {s:.0f}" for m, s in timing.items()))
    print(f"wall {wall:.0f} s, peak RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    print(f"command: OMP_NUM_THREADS=1 nice -n 15 python benchmarks/forecast_m5_monthly.py "
          f"--item-share {args.item_share} --windows {args.windows} --early {args.early} "
          f"--horizon {args.horizon} --n-jobs {args.n_jobs}{'' if args.ets else ' --no-ets'}"
          f"{' --exact-refit' if args.exact_refit else ''}")
    if args.scores_json:
        args.scores_json.write_text(json.dumps(rows, indent=1, default=str))


if __name__ == "__main__":
    main()
