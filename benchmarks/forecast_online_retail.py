"""Daily demand forecasts on UCI Online Retail, rolling origin: tune early, report late (issue 16).

    python benchmarks/forecast_online_retail.py [--data ../shared/data] [--windows 7]
        [--early 3] [--horizon 28] [--inner 2] [--top N] [--ets/--no-ets] [--models ...]
        [--threads 1]

``--data`` is the shared data directory (the file is ``online_retail/online_retail.csv[.gz]``
in it) or an invoices file in the same layout (e.g. ``data/sample/online_retail_top300.csv.gz``).

Demand, one series per StockCode at one location (``CODE@ONLINE``), per calendar day:
  * parsed and cleaned by the importer (:mod:`stockpilot.ingest.online_retail`,
    :func:`~stockpilot.ingest.online_retail_import.split_lines`): non-product codes — no digit
    (POST, DOT, M, m, D, S, B, BANK CHARGES, AMAZONFEE, CRUK, PADS; the rule also takes the two
    party bags DCGSSGIRL and DCGSSBOY, 21 lines) or gift vouchers (gift_0001_*) — are dropped,
    and so are negative lines on ordinary invoices (write-offs) and zero quantities. Two more
    non-demand kinds are dropped here: ``C2`` (CARRIAGE, a shipping charge whose code holds a
    digit) and zero-price lines without a customer (stock adjustments: descriptions such as
    "?", "came coded as 20713", "incorrectly credited …").
  * cancellations (``C…`` invoices, negative quantity) are returns and are **netted** against
    the same day's sales of the code, by the importer's ``daily_demand`` (the history store's
    netting, which stockpilot forecasts from in use). Most cancelled units undo an order of the
    same customer on the same day (e.g. 74,215 units of 23166 on 2011-01-18, over four times
    the shop's mean daily total): dropping cancellations would keep such orders as demand.
    A day whose returns exceed its sales goes negative and ``prepare`` clips it to 0 (a note).
  * closed days (no invoice at all: every Saturday, the Christmas break 2010-12-24 … 2011-01-03
    and the UK bank holidays) are kept as days of zero demand: the series are regular daily
    series (statsforecast/mlforecast need a regular frequency; the planner counts calendar
    days), orders placed while the shop is closed are booked on the next open day, and a
    closure every Saturday is a weekly season of 7 with a zero Saturday, which SeasonalNaive(7),
    AutoETS(7) and LightGBM's weekday feature learn. Irregular closures are not predictable
    without a holiday calendar (none is used); the one in the scored days (2011-08-29, summer
    bank holiday) is scored as the zero it was.
  * a series starts at its first sale (``prepare``); a product first sold after a window's
    cut-off is not scored in that window (nothing can forecast it; the total is the total of the
    products known at the cut-off).

Rolling origin: the last ``windows`` blocks of ``horizon`` days (7 × 28 by default, ending
2011-09-30, the data's last day; the oldest starts 2011-03-19, after 108 days of history — an
eighth window would leave 24 days to fit the first inner window on). Every candidate is refitted
on the days up to each window and cross-validated on ``--inner`` inner windows. Scored with
WRMSSE and WSPL (:func:`stockpilot.forecast.metrics.wrmsse_wspl`) over the two levels the data
has, total and item (StockCode), weighted equally; dollar weights are units × the day's mean unit
price of the code over the last 28 training days. The tables are ``forecast_m5_rolling``'s
(:func:`forecast_m5_rolling.tables`): the rules on the ``--early`` oldest windows, the rule
(lowest WRMSSE at k = 50) and then the shrinkage k (lowest WSPL) chosen there, and the late and
all windows as mean ± sd over windows. Baselines:
  * sNaive: statsforecast SeasonalNaive(7), conformal quantiles from its rolling-origin errors;
    "sNaive (level quantiles)": the same, the total's quantiles from the total's own errors;
  * AutoETS: statsforecast AutoETS(7) per series with its Gaussian intervals (the M5 "ES_bu"
    idea, ``forecast_m5.ets_gaussian``); series under ``MIN_ETS_DAYS`` days of history (too short
    for AutoETS) or with non-finite intervals take the sNaive forecast (counted in the notes; its
    seconds exclude that reuse).
Rules, over the candidates ``--models`` (fitted once per window, :func:`fit_candidates`): each
global model alone (LightGBM), the class choice (``forecast_frame``'s default) and the series
choice, each with conformal quantiles at k = 30, 50, 100 and the total's quantiles from its own
rolling-origin errors (:func:`stockpilot.forecast.metrics.level_quantiles`).

Single core by default (``--threads 1``): OMP_THREAD_LIMIT caps LightGBM's OpenMP threads
(``make_forecaster`` builds its LGBMForecaster with the default of 2 threads) before LightGBM
loads; set POLARS_MAX_THREADS=1 in the environment for polars (it reads it when imported).
"""

from __future__ import annotations

import argparse
import itertools
import os
import resource
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import machine
from cv_choice import choose_from_cv
from forecast_m5 import ets_gaussian
from forecast_m5_rolling import KS, ours, tables
from stockpilot.forecast.base import QUANTILE_COLUMNS
from stockpilot.forecast.data import Prepared, prepare, to_long
from stockpilot.forecast.metrics import level_quantiles, wrmsse_wspl
from stockpilot.forecast.selection import GLOBAL_MODELS, make_forecaster
from stockpilot.ingest.online_retail import DEFAULT_LOCATION, daily_demand, read_invoices
from stockpilot.ingest.online_retail_import import split_lines

ROOT = Path(__file__).resolve().parents[1]
FAST = ("SeasonalNaive", "CrostonOptimized", "TSB", "WindowAverage28", "LightGBM")
LEVELS: dict[str, list[str]] = {"total": [], "item": ["unique_id"]}
#: Product-looking codes that are not products (they hold a digit, so ``is_product`` keeps them).
NOT_PRODUCTS = ("C2",)  # CARRIAGE
MIN_ETS_DAYS = 28  # AutoETS(7) raises "tiny datasets" below ~8 days and gives inf sigma near 14
KEYS = ["unique_id", "ds"]


@dataclass
class Demand:
    """Daily net units ``unique_id, ds, y`` (days with invoice lines only), prices, notes."""

    daily: pl.DataFrame
    prices: pl.DataFrame  # unique_id, ds, price: the day's mean unit price of the code's sales
    notes: list[str]


def input_file(data: Path) -> Path:
    """The invoices file: ``data`` itself, or ``online_retail/online_retail.csv[.gz]`` in it."""
    if data.is_file():
        return data
    for name in ("online_retail.csv.gz", "online_retail.csv"):
        if (data / "online_retail" / name).exists():
            return data / "online_retail" / name
    raise SystemExit(f"{data}: no online_retail/online_retail.csv[.gz] in it")


def load_demand(path: Path) -> Demand:
    """Read and clean the invoice lines; net daily units and daily prices (module docstring)."""
    lines = read_invoices(path)
    kept, non_product, write_offs = split_lines(lines)
    carriage = kept["stock_code"].is_in(NOT_PRODUCTS)
    adjustment = (kept["unit_price"] <= 0) & kept["customer_id"].is_null() & ~carriage
    kept = kept.filter(~carriage & ~adjustment)
    cancels = kept.filter(pl.col("is_cancellation"))
    days = lines.select(pl.col("invoiced_at").dt.date().unique().alias("ds"))
    every = pl.select(pl.date_range(days["ds"].min(), days["ds"].max(),  # type: ignore[arg-type]
                                    "1d").alias("ds"))
    closed = every.join(days, on="ds", how="anti").sort("ds")["ds"]
    saturday = closed.dt.weekday().eq(6)
    saturdays = int(saturday.sum())
    others = ", ".join(f"{d:%m-%d}" for d in closed.filter(~saturday).to_list())
    notes = [
        f"{lines.height} invoice lines; dropped {non_product} non-product (no digit, gift "
        f"voucher), {int(carriage.sum())} C2 carriage, {write_offs} write-offs (negative on a "
        f"sale invoice), {int(adjustment.sum())} zero-price adjustments without a customer",
        f"{cancels.height} cancellation lines ({-cancels['quantity'].sum()} units) netted "
        f"against the day's sales",
        f"{closed.len()} days without invoices are zero demand: {saturdays} Saturdays and "
        f"{others}"]
    sales = kept.filter((pl.col("quantity") > 0) & (pl.col("unit_price") > 0))
    prices = sales.group_by(
        (pl.col("stock_code") + "@" + DEFAULT_LOCATION).alias("unique_id"),
        pl.col("invoiced_at").dt.date().alias("ds")).agg(pl.col("unit_price").mean()
                                                          .alias("price"))
    return Demand(to_long(daily_demand(kept)), prices, notes)


def top_series(daily: pl.DataFrame, n: int, before: date) -> pl.DataFrame:
    """The ``n`` series with the most units up to ``before`` (never the scored days)."""
    best = (daily.filter(pl.col("ds") <= before).group_by("unique_id").agg(pl.col("y").sum())
            .sort("y", "unique_id", descending=[True, False]).head(n))
    return daily.join(best, on="unique_id", how="semi")


def rules_of(models: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """The rules compared: each global model alone, the class choice and the series choice."""
    out = {m: (m,) for m in models if m in GLOBAL_MODELS}
    out["class choice"] = out["series choice"] = tuple(models)
    return out


@dataclass
class Results:
    """Per label (baselines, ``"<rule>, k=<k>"``): scores and scored item frames per window."""

    rules: dict[str, tuple[str, ...]]
    cutoffs: list[date] = field(default_factory=list)
    ends: list[date] = field(default_factory=list)
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # scores + cutoff
    tests: dict[str, list[pl.DataFrame]] = field(default_factory=dict)  # item y, mean, q…
    seconds: dict[str, float] = field(default_factory=dict)  # fit + predict, all windows
    bad: dict[str, list[int]] = field(default_factory=dict)  # rows negative / non-monotone
    notes: list[str] = field(default_factory=list)
    n_series: int = 0
    horizon: int = 0

    def add(self, label: str, cutoff: date, got: tuple[dict[str, float], pl.DataFrame, list[int]]
            ) -> None:
        """Record one label's window: its scores, its scored item frame, its quantile checks."""
        score_, test, bad = got
        self.rows.setdefault(label, []).append(score_ | {"cutoff": cutoff})
        self.tests.setdefault(label, []).append(test)
        self.bad[label] = [a + b for a, b in zip(self.bad.get(label, [0, 0]), bad, strict=True)]

    def spent(self, name: str, seconds: float) -> None:
        """Add fit + predict seconds of a candidate or baseline."""
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds


def score(train: pl.DataFrame, test: pl.DataFrame, prices: pl.DataFrame,
          level_q: dict[str, pl.DataFrame] | None = None) -> dict[str, float]:
    """WRMSSE and WSPL over total and item; weights are dollars (units × the day's price)."""
    tr = train.join(prices, on=KEYS, how="left").with_columns(
        (pl.col("y") * pl.col("price").fill_null(0.0)).alias("dollars"))
    return wrmsse_wspl(tr, test, LEVELS, value="dollars", level_q=level_q)


def violations(fc: pl.DataFrame) -> list[int]:
    """[rows with a negative mean or quantile, rows whose quantiles decrease with the level]."""
    qs = list(QUANTILE_COLUMNS)
    values = [c for c in ("mean", *qs) if c in fc.columns]
    neg = fc.select(pl.any_horizontal(*[pl.col(c) < 0 for c in values]).sum()).item()
    dec = fc.select(pl.any_horizontal(*[pl.col(b) < pl.col(a) for a, b in itertools.pairwise(qs)])
                    .sum()).item()
    return [int(neg), int(dec)]


def evaluate(fc: pl.DataFrame, cv: pl.DataFrame | None, train: pl.DataFrame,
             actual: pl.DataFrame, prices: pl.DataFrame
             ) -> tuple[dict[str, float], pl.DataFrame, list[int]]:
    """Scores (the total's quantiles from its own backtest when ``cv`` is given), the scored
    item frame, and the quantile checks of the forecasts (and of the total's quantiles)."""
    test = actual.join(fc.select(*KEYS, "mean", *QUANTILE_COLUMNS), on=KEYS,
                       how="left").fill_null(0.0)
    bad = violations(fc)
    if cv is None:
        return score(train, test, prices), test, bad
    lq = level_quantiles(fc, cv, [])
    bad = [a + b for a, b in zip(bad, violations(lq), strict=True)]
    return score(train, test, prices, {"total": lq}), test, bad


def ets_with_fallback(prep: Prepared, h: int, snaive: pl.DataFrame) -> tuple[pl.DataFrame, str]:
    """AutoETS with Gaussian intervals; series too short for it, or non-finite, take sNaive's."""
    days = prep.df.group_by("unique_id").len()
    long = days.filter(pl.col("len") >= MIN_ETS_DAYS)
    fc = ets_gaussian(prep.df.join(long, on="unique_id", how="semi"), h)
    finite = pl.all_horizontal(*[pl.col(c).is_finite() for c in ("mean", *QUANTILE_COLUMNS)])
    broken = fc.filter(~finite).select("unique_id").unique()
    fc = fc.join(broken, on="unique_id", how="anti")
    rest = snaive.join(fc, on="unique_id", how="anti").select(fc.columns)
    return (pl.concat([fc, rest]),
            f"AutoETS: sNaive for {days.height - long.height} series under {MIN_ETS_DAYS} "
            f"days and {broken.height} with non-finite intervals")


def fit_candidates(prep: Prepared, models: Sequence[str], horizon: int, inner: int,
                   say: Callable[[str], None]
                   ) -> dict[str, tuple[pl.DataFrame, pl.DataFrame, float]]:
    """Per candidate, fitted on every series: (inner-window cv, forecast, seconds).

    Local models fit each series on its own, so fitting them on every series and letting each
    rule route (``cv_choice.choose_from_cv``) gives what ``forecast_frame`` gives.
    """
    out = {}
    for name in models:
        say(name)
        t0 = time.perf_counter()
        f = make_forecaster(name, horizon, inner).fit(prep.df)
        out[name] = (f.cv_, f.predict(horizon), time.perf_counter() - t0)
    return out


def run_benchmark(demand: Demand, windows: int, horizon: int, models: Sequence[str],
                  ets: bool = True, top: int | None = None, inner: int = 2,
                  say: Callable[[str], None] = lambda _m: None) -> Results:
    """Rolling-origin forecasts and scores of every baseline and rule: the core (no printing).

    Window i (oldest first) ends ``horizon`` × (windows − 1 − i) days before the data's last
    day; every candidate is refitted on the days up to each window.
    """
    if "SeasonalNaive" not in models:
        raise SystemExit("--models: SeasonalNaive is the baseline, keep it among the candidates")
    end: date = demand.daily["ds"].max()  # type: ignore[assignment]
    cutoffs = [end - timedelta(days=w * horizon) for w in range(windows, 0, -1)]
    daily = top_series(demand.daily, top, cutoffs[0]) if top else demand.daily
    full = prepare(daily, end)
    res = Results(rules_of(models), notes=[*demand.notes, *[f"all days: {n}" for n in full.notes]],
                  n_series=daily["unique_id"].n_unique(), horizon=horizon)
    for cutoff in cutoffs:
        stop = cutoff + timedelta(days=horizon)
        res.cutoffs.append(cutoff)
        res.ends.append(stop)
        prep = prepare(daily.filter(pl.col("ds") <= cutoff), cutoff)
        actual = full.df.filter((pl.col("ds") > cutoff) & (pl.col("ds") <= stop)) \
            .join(prep.df, on="unique_id", how="semi")  # products known at the cut-off
        new = full.df.filter(pl.col("ds") > cutoff).join(prep.df, on="unique_id", how="anti")
        res.notes.append(f"{stop}: {actual['unique_id'].n_unique()} series scored; "
                         f"{new['unique_id'].n_unique()} first sold after the cut-off left out")
        t0 = time.perf_counter()
        _window(res, prep, actual, demand.prices, models, inner, ets,
                lambda m, stop=stop: say(f"window ending {stop}: {m}"))
        res.notes.append(f"{stop}: window took {time.perf_counter() - t0:.0f} s wall")
    return res


def _window(res: Results, prep: Prepared, actual: pl.DataFrame, prices: pl.DataFrame,
            models: Sequence[str], inner: int, ets: bool, say: Callable[[str], None]) -> None:
    """Fit the candidates once, then score the baselines and every rule at every k."""
    h, cutoff = res.horizon, prep.end
    fits = fit_candidates(prep, models, h, inner, say)
    for name, (_, _, secs) in fits.items():
        res.spent(name, secs)
    cvs = {m: f[0] for m, f in fits.items()}
    points = {m: f[1].select(*KEYS, "mean") for m, f in fits.items()}
    sn_cv, sn_fc, _ = fits["SeasonalNaive"]
    baselines = [("sNaive", sn_fc, None), ("sNaive (level quantiles)", sn_fc, sn_cv)]
    if ets:
        say("AutoETS")
        t0 = time.perf_counter()
        ets_fc, note = ets_with_fallback(prep, h, sn_fc)
        res.spent("AutoETS", time.perf_counter() - t0)
        res.notes.append(f"{cutoff + timedelta(days=h)}: {note}")
        baselines.append(("AutoETS", ets_fc, None))
    for label, fc, cv in baselines:
        res.add(label, cutoff, evaluate(fc, cv, prep.df, actual, prices))
    say("rules")
    for rule, names in res.rules.items():
        for k in KS:
            fc, cv = ours(prep, "series" if rule == "series choice" else names, cvs, points,
                          prep.df, k, res.rules["class choice"], h=h)
            res.add(f"{rule}, k={k:g}", cutoff, evaluate(fc, cv, prep.df, actual, prices))
    picked = choose_from_cv(prep, models, cvs, points, h).choice
    chosen = picked.group_by("demand_class", "model").len().sort("demand_class", "model")
    res.notes.append(f"{cutoff + timedelta(days=h)}: class choice " + ", ".join(
        f"{c} → {m} ({n})" for c, m, n in chosen.iter_rows()))


def _seconds(res: Results, label: str) -> str:
    """Fit + predict seconds per window of what a label used."""
    if label.startswith("sNaive"):
        names: Sequence[str] = ("SeasonalNaive",)
    elif label == "AutoETS":
        names = ("AutoETS",)
    else:
        names = res.rules[label.rsplit(", k=", 1)[0]]
    return f"{sum(res.seconds.get(m, 0.0) for m in names) / len(res.cutoffs):.0f}"


def print_report(res: Results, early: int, command: str) -> str:
    """The rolling-origin tables (``forecast_m5_rolling.tables``), notes and the command.

    Returns the label of the rule and k chosen on the ``early`` windows.
    """
    print(f"# Online Retail daily, {res.n_series} StockCodes, {len(res.ends)} × {res.horizon}-day"
          f" windows ending {', '.join(str(e) for e in res.ends)} ({early} early) — {machine()}")
    chosen = tables(res.rows, res.tests, res.cutoffs, res.ends, early, res.rules,
                    lambda label, _n: _seconds(res, label))
    late = slice(early, None)
    print("\nlate windows, WRMSSE total / item and WSPL total / item (mean over windows):")
    for label in ("sNaive", "sNaive (level quantiles)", "AutoETS", chosen):
        if label in res.rows:
            m = {k: np.mean([r[k] for r in res.rows[label][late]]) for k in
                 ("wrmsse_total", "wrmsse_item", "wspl_total", "wspl_item")}
            print(f"  {label}: {m['wrmsse_total']:.3f} / {m['wrmsse_item']:.3f} and "
                  f"{m['wspl_total']:.3f} / {m['wspl_item']:.3f}")
    bad = [sum(b[i] for b in res.bad.values()) for i in (0, 1)]
    print(f"\nquantile checks over every label and window: {bad[0]} rows negative, {bad[1]} "
          "non-monotone")
    print("\nnotes:")
    for note in res.notes:
        print(f"- {note}")
    print(f"\npeak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB; "
          f"threads: polars {pl.thread_pool_size()}, OpenMP limit "
          f"{os.environ.get('OMP_THREAD_LIMIT', 'none')}")
    print("fit+predict seconds, all windows: " + ", ".join(
        f"{m} {s:.0f}" for m, s in res.seconds.items()))
    print(f"command: {command}")
    return chosen


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data",
                    help="shared data directory, or an Online Retail invoices file")
    ap.add_argument("--windows", type=int, default=7)
    ap.add_argument("--early", type=int, default=3, help="oldest windows used for tuning")
    ap.add_argument("--horizon", type=int, default=28)
    ap.add_argument("--inner", type=int, default=2, help="inner backtest windows per fit")
    ap.add_argument("--top", type=int, default=None,
                    help="smoke mode: only the N StockCodes with most units before the windows")
    ap.add_argument("--ets", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--models", default=",".join(FAST), help="the candidates")
    ap.add_argument("--threads", type=int, default=1, help="OpenMP thread limit (LightGBM)")
    args = ap.parse_args()
    # before LightGBM loads libgomp; make_forecaster builds LGBMForecaster with its default 2
    os.environ["OMP_THREAD_LIMIT"] = str(args.threads)
    models = tuple(m.strip() for m in args.models.split(",") if m.strip())
    demand = load_demand(input_file(args.data))
    res = run_benchmark(demand, args.windows, args.horizon, models, args.ets, args.top,
                        args.inner, say=lambda m: print(m, file=sys.stderr, flush=True))
    data = "" if args.data == ap.get_default("data") else f" --data {args.data}"
    print_report(res, args.early, f"POLARS_MAX_THREADS={pl.thread_pool_size()} "
                 f"OMP_NUM_THREADS=1 nice -n 15 python benchmarks/forecast_online_retail.py{data}"
                 f" --windows {args.windows} --early {args.early} --horizon {args.horizon} "
                 f"--inner {args.inner}{f' --top {args.top}' if args.top else ''}"
                 f"{'' if args.ets else ' --no-ets'} --models {','.join(models)} "
                 f"--threads {args.threads}")


if __name__ == "__main__":
    main()
