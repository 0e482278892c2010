"""Daily demand forecasts on UCI Online Retail: ours vs SeasonalNaive vs AutoETS (issue 3).

    python benchmarks/forecast_online_retail.py [--data ../shared/data] [--windows 3]
        [--horizon 28] [--top N] [--ets/--no-ets] [--models ...] [--threads 1]

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

Rolling origin: the last ``windows`` blocks of ``horizon`` days (ending 2011-09-30), every
method refitted on the days up to each block. Scored with WRMSSE and WSPL
(:func:`stockpilot.forecast.metrics.wrmsse_wspl`) over the two levels the data has, total and
item (StockCode), weighted equally; dollar weights are units × the day's mean unit price of the
code over the last 28 training days. Methods:
  * sNaive: statsforecast SeasonalNaive(7), conformal quantiles from its rolling-origin errors;
  * ETS: statsforecast AutoETS(7) per series with its Gaussian intervals (the M5 "ES_bu" idea,
    ``forecast_m5.ets_gaussian``); series under ``MIN_ETS_DAYS`` days of history (too short for
    AutoETS) or with non-finite intervals take the sNaive forecast (counted in the notes; its
    seconds exclude that reuse);
  * ours: :func:`stockpilot.forecast.selection.forecast_frame` over ``--models``;
  * "(level quantiles)": the same forecasts, the total's quantiles from the total's own
    rolling-origin errors (:func:`stockpilot.forecast.metrics.level_quantiles`) instead of summed
    item quantiles.

Single core by default (``--threads 1``): OMP_THREAD_LIMIT caps LightGBM's OpenMP threads
(``forecast_frame`` builds its LGBMForecaster with the default of 2 threads) before LightGBM
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

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import machine
from forecast_m5 import ets_gaussian
from stockpilot.forecast.base import QUANTILE_COLUMNS
from stockpilot.forecast.data import Prepared, prepare, to_long
from stockpilot.forecast.metrics import coverage, level_quantiles, wrmsse_wspl
from stockpilot.forecast.selection import forecast_frame
from stockpilot.forecast.stats import StatsForecaster
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


@dataclass
class Run:
    """One method's forecasts in one window (and its rolling-origin errors, when it has them)."""

    forecasts: pl.DataFrame  # unique_id, ds, mean, q…
    cv: pl.DataFrame | None = None  # unique_id, cutoff, ds, y, mean: for level quantiles
    note: str = ""


@dataclass
class Results:
    """Per method: scores per window, scored frames, seconds, checks, memory, notes."""

    ends: list[date] = field(default_factory=list)
    scores: dict[str, list[dict[str, float]]] = field(default_factory=dict)
    items: dict[str, list[pl.DataFrame]] = field(default_factory=dict)  # item y, mean, q…
    totals: dict[str, list[pl.DataFrame]] = field(default_factory=dict)  # total y, mean, q…
    seconds: dict[str, float] = field(default_factory=dict)  # fit + predict, all windows
    bad: dict[str, list[int]] = field(default_factory=dict)  # rows negative / non-monotone
    rss_mib: dict[str, float] = field(default_factory=dict)  # process high-water after it
    notes: list[str] = field(default_factory=list)
    n_series: int = 0
    horizon: int = 0

    def add(self, name: str, score_: dict[str, float], item: pl.DataFrame, total: pl.DataFrame,
            bad: list[int], seconds: float, rss_mib: float) -> None:
        """Record one method's window."""
        self.scores.setdefault(name, []).append(score_)
        self.items.setdefault(name, []).append(item)
        self.totals.setdefault(name, []).append(total)
        self.bad[name] = [a + b for a, b in zip(self.bad.get(name, [0, 0]), bad, strict=True)]
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds
        self.rss_mib[name] = rss_mib

    def mean(self, name: str, key: str) -> float:
        """A score averaged over the windows."""
        return float(np.mean([s[key] for s in self.scores[name]]))


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


def ets_with_fallback(prep: Prepared, h: int, snaive: pl.DataFrame) -> Run:
    """AutoETS with Gaussian intervals; series too short for it, or non-finite, take sNaive's."""
    days = prep.df.group_by("unique_id").len()
    long = days.filter(pl.col("len") >= MIN_ETS_DAYS)
    fc = ets_gaussian(prep.df.join(long, on="unique_id", how="semi"), h)
    finite = pl.all_horizontal(*[pl.col(c).is_finite() for c in ("mean", *QUANTILE_COLUMNS)])
    broken = fc.filter(~finite).select("unique_id").unique()
    fc = fc.join(broken, on="unique_id", how="anti")
    rest = snaive.join(fc, on="unique_id", how="anti").select(fc.columns)
    return Run(pl.concat([fc, rest]),
               note=f"ETS: sNaive for {days.height - long.height} series under {MIN_ETS_DAYS} "
                    f"days and {broken.height} with non-finite intervals")


def window_methods(prep: Prepared, horizon: int, models: Sequence[str], ets: bool
                   ) -> dict[str, Callable[[dict[str, Run]], Run]]:
    """The methods of one window, in run order; each gets the runs so far (ETS uses sNaive's)."""

    def snaive(_done: dict[str, Run]) -> Run:
        m = StatsForecaster("SeasonalNaive", horizon=horizon, n_jobs=1).fit(prep.df)
        return Run(m.predict(horizon), m.cv_)

    def ours(_done: dict[str, Run]) -> Run:
        fc = forecast_frame(prep, models, horizon, 3)
        chosen = fc.choice.group_by("model").len().sort("len", "model", descending=[True, False])
        return Run(fc.forecasts.select(*KEYS, "mean", *QUANTILE_COLUMNS), fc.cv,
                   "ours chose " + ", ".join(f"{m} {n}" for m, n in chosen.iter_rows()))

    out: dict[str, Callable[[dict[str, Run]], Run]] = {"sNaive": snaive}
    if ets:
        out["ETS"] = lambda done: ets_with_fallback(prep, horizon, done["sNaive"].forecasts)
    out["ours"] = ours
    return out


def run_benchmark(demand: Demand, windows: int, horizon: int, models: Sequence[str],
                  ets: bool = True, top: int | None = None,
                  say: Callable[[str], None] = lambda _m: None) -> Results:
    """Rolling-origin forecasts and scores of every method: the benchmark's core (no printing)."""
    end: date = demand.daily["ds"].max()  # type: ignore[assignment]
    cutoffs = [end - timedelta(days=w * horizon) for w in range(windows, 0, -1)]
    daily = top_series(demand.daily, top, cutoffs[0]) if top else demand.daily
    full = prepare(daily, end)
    res = Results(notes=[*demand.notes, *[f"all days: {n}" for n in full.notes]],
                  n_series=daily["unique_id"].n_unique(), horizon=horizon)
    for cutoff in cutoffs:
        stop = cutoff + timedelta(days=horizon)
        res.ends.append(stop)
        prep = prepare(daily.filter(pl.col("ds") <= cutoff), cutoff)
        actual = full.df.filter((pl.col("ds") > cutoff) & (pl.col("ds") <= stop)) \
            .join(prep.df, on="unique_id", how="semi")  # products known at the cut-off
        new = full.df.filter(pl.col("ds") > cutoff).join(prep.df, on="unique_id", how="anti")
        res.notes.append(f"{stop}: {actual['unique_id'].n_unique()} series scored; "
                         f"{new['unique_id'].n_unique()} first sold after the cut-off left out")
        done: dict[str, Run] = {}
        for name, fn in window_methods(prep, horizon, models, ets).items():
            say(f"window ending {stop}: {name}")
            t0 = time.perf_counter()
            done[name] = fn(done)
            _record(res, name, done[name], time.perf_counter() - t0, prep.df, actual,
                    demand.prices)
            if done[name].note:
                res.notes.append(f"{stop}: {done[name].note}")
    return res


def _record(res: Results, name: str, run: Run, seconds: float, train: pl.DataFrame,
            actual: pl.DataFrame, prices: pl.DataFrame) -> None:
    """Score a method's window bottom-up and, with rolling-origin errors, with level quantiles."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    test = actual.join(run.forecasts.select(*KEYS, "mean", *QUANTILE_COLUMNS), on=KEYS,
                       how="left").fill_null(0.0)
    total = test.group_by("ds").agg(pl.col("y", "mean", *QUANTILE_COLUMNS).sum())
    bad = violations(run.forecasts)
    res.add(name, score(train, test, prices), test, total, bad, seconds, rss)
    if run.cv is None:
        return
    t0 = time.perf_counter()
    lq = level_quantiles(run.forecasts, run.cv, [])
    sc = score(train, test, prices, {"total": lq})
    own = total.select("ds", "y", "mean").join(lq.drop("_all"), on="ds")
    bad = [a + b for a, b in zip(bad, violations(lq), strict=True)]
    res.add(f"{name} (level quantiles)", sc, test, own, bad,
            seconds + time.perf_counter() - t0, rss)


def print_report(res: Results, command: str) -> None:
    """The markdown tables (scores averaged over windows), notes and the command."""
    base = {k: res.mean("sNaive", k) for k in ("wrmsse", "wspl")}
    print(f"# Online Retail daily, {res.n_series} StockCodes, {len(res.ends)} × {res.horizon}-day "
          f"windows ending {res.ends[-1]} — {machine()}\n")
    print("| method | WRMSSE | × sNaive | WSPL | × sNaive | WRMSSE total / item "
          "| WSPL total / item | rows negative / non-monotone | fit+predict s (all windows) "
          "| RSS high-water after, MiB |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n in res.scores:
        wr, ws = res.mean(n, "wrmsse"), res.mean(n, "wspl")
        print(f"| {n} | {wr:.3f} | {wr / base['wrmsse']:.2f} | {ws:.3f} | "
              f"{ws / base['wspl']:.2f} | {res.mean(n, 'wrmsse_total'):.3f} / "
              f"{res.mean(n, 'wrmsse_item'):.3f} | {res.mean(n, 'wspl_total'):.3f} / "
              f"{res.mean(n, 'wspl_item'):.3f} | {res.bad[n][0]} / {res.bad[n][1]} | "
              f"{res.seconds[n]:.0f} | {res.rss_mib[n]:.0f} |")
    print("\nper window, WRMSSE / WSPL:")
    print("| method | " + " | ".join(f"ending {e}" for e in res.ends) + " |")
    print("|---|" + "---|" * len(res.ends))
    for n, rows in res.scores.items():
        print(f"| {n} | " + " | ".join(f"{r['wrmsse']:.3f} / {r['wspl']:.3f}" for r in rows)
              + " |")
    for what, frames in (("item (StockCode)", res.items), ("total", res.totals)):
        print(f"\ncoverage P(y ≤ q) / P(y < q) per quantile level, {what} level, all windows:")
        print("| level | " + " | ".join(frames) + " |")
        print("|---|" + "---|" * len(frames))
        covs = {n: coverage(pl.concat(f, how="vertical_relaxed")) for n, f in frames.items()}
        for i, t in enumerate(covs["sNaive"]["level"]):
            print(f"| {t} | " + " | ".join(f"{c['p_le'][i]:.3f} / {c['p_lt'][i]:.3f}"
                                           for c in covs.values()) + " |")
    print("\nnotes:")
    for note in res.notes:
        print(f"- {note}")
    print(f"\npeak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB; "
          f"threads: polars {pl.thread_pool_size()}, OpenMP limit "
          f"{os.environ.get('OMP_THREAD_LIMIT', 'none')}")
    print(f"command: {command}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data",
                    help="shared data directory, or an Online Retail invoices file")
    ap.add_argument("--windows", type=int, default=3)
    ap.add_argument("--horizon", type=int, default=28)
    ap.add_argument("--top", type=int, default=None,
                    help="smoke mode: only the N StockCodes with most units before the windows")
    ap.add_argument("--ets", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--models", default=",".join(FAST), help="ours: the candidates")
    ap.add_argument("--threads", type=int, default=1, help="OpenMP thread limit (LightGBM)")
    args = ap.parse_args()
    # before LightGBM loads libgomp; forecast_frame builds LGBMForecaster with its default 2
    os.environ["OMP_THREAD_LIMIT"] = str(args.threads)
    models = tuple(m.strip() for m in args.models.split(",") if m.strip())
    demand = load_demand(input_file(args.data))
    res = run_benchmark(demand, args.windows, args.horizon, models, args.ets, args.top,
                        say=lambda m: print(m, file=sys.stderr, flush=True))
    data = "" if args.data == ap.get_default("data") else f" --data {args.data}"
    print_report(res, f"POLARS_MAX_THREADS={pl.thread_pool_size()} nice -n 5 python "
                 f"benchmarks/forecast_online_retail.py{data} --windows {args.windows} "
                 f"--horizon {args.horizon}{f' --top {args.top}' if args.top else ''}"
                 f"{'' if args.ets else ' --no-ets'} --models {','.join(models)} "
                 f"--threads {args.threads}")


if __name__ == "__main__":
    main()
