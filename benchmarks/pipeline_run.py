"""The nightly pipeline on the full shared data: wall time and peak memory per step.

    python benchmarks/pipeline_run.py --dataset m5 [--db URL] [--data ../shared/data]
    python benchmarks/pipeline_run.py --dataset online_retail [--db URL]

Setup (timed, reported apart): a fresh workspace (SQLite in a temporary folder, or ``--db``, a
PostgreSQL URL whose ``public`` schema is emptied first), the data set imported as a user would
(``stockpilot import m5`` / ``import online-retail``). Supplier terms and a stock count are
*drawn* (the data sets have none: lead time 3/7/14 days, pack 1/6/12, MOQ one or two packs,
unit cost 60% of the last price, on hand around two weeks of the last 28 days' demand, seed 7)
and dropped as CSV files into the watched folder, so the pipeline's ``import`` step imports them.

Then one ``run_pipeline`` with the default ``[pipeline]`` settings (SeasonalNaive,
CrostonOptimized, TSB, WindowAverage28 chosen per demand class on 3 × 28-day windows; weekly
review; ``--models`` replaces the candidates),
in this process; a sampler thread reads the RSS every 50 ms, so each step's peak is the
largest RSS seen while it ran (the process's whole footprint, data of earlier steps included).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import polars as pl
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import machine
from stockpilot.config import load_settings
from stockpilot.jobs.pipeline import run_pipeline
from stockpilot.jobs.pipeline_steps import Context
from stockpilot.store.db import make_engine
from stockpilot.store.history import HistoryStore
from stockpilot.store.migrate import upgrade
from stockpilot.store.uow import reading
from stockpilot.usecases import pipeline_runs
from stockpilot.usecases.actor import SYSTEM

ROOT = Path(__file__).resolve().parents[1]


class Sampler:
    """Peak RSS per named phase, sampled every ``every`` seconds in a thread."""

    def __init__(self, every: float = 0.05) -> None:
        self.proc, self.every, self.phase = psutil.Process(), every, "setup"
        self.peak: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self._cpu0 = self._cpu_now()
        self.stop = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while not self.stop.wait(self.every):
            self.mark()

    def mark(self) -> None:
        rss = self.proc.memory_info().rss / 2**20
        self.peak[self.phase] = max(self.peak.get(self.phase, 0.0), rss)

    def _cpu_now(self) -> float:
        t = self.proc.cpu_times()
        return float(t.user + t.system)

    def enter(self, phase: str) -> None:
        self.mark()
        now = self._cpu_now()
        self.cpu[self.phase] = self.cpu.get(self.phase, 0.0) + now - self._cpu0
        self._cpu0 = now
        self.phase = phase
        self.mark()


def _fresh_db(url: str | None, folder: Path):  # type: ignore[no-untyped-def]
    if not url:
        return make_engine(f"sqlite:///{folder / 'stockpilot.db'}")
    from sqlalchemy import text

    eng = make_engine(url)
    with eng.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public"))
    return eng


def _import(dataset: str, data: Path, engine, history: HistoryStore) -> str:  # type: ignore[no-untyped-def]
    if dataset == "m5":
        from stockpilot.ingest.m5_import import import_m5

        r = import_m5(engine, data / "m5", history)
        return f"M5: {vars(r)}"
    from stockpilot.ingest.online_retail_import import import_online_retail

    r = import_online_retail(engine, data / "online_retail" / "online_retail.csv.gz", history)
    return f"Online Retail: {r.skus} SKUs, {r.daily_rows:,} SKU-days"


def drop_terms_and_stock(history: HistoryStore, inbox: Path, seed: int = 7) -> int:
    """Drawn supplier terms and a stock count for every series, as CSV in the watched folder."""
    daily = history.daily()
    end = daily["date"].max()
    recent = daily.filter(pl.col("date") > end - pl.duration(days=28)).group_by(
        "sku", "location").agg((pl.col("units").sum() / 28).alias("per_day"))
    series = daily.select("sku", "location").unique().join(
        recent, on=["sku", "location"], how="left").sort("sku", "location")
    skus = series.select("sku").unique().sort("sku")
    rng = np.random.default_rng(seed)
    n = skus.height
    pack = rng.choice([1, 6, 12], n)
    prices = history.scan("prices")
    price = (prices.group_by("sku").agg(pl.col("price").last()).collect() if prices is not None
             else pl.DataFrame(schema={"sku": pl.Utf8, "price": pl.Float64}))
    terms = skus.join(price, on="sku", how="left").with_columns(
        pl.lit("BENCH").alias("supplier"), pl.Series("lead_time_days", rng.choice([3, 7, 14], n)),
        pl.Series("moq", pack * rng.integers(1, 3, n)), pl.Series("pack_size", pack),
        pl.lit(0.0).alias("order_cost"),
        (pl.col("price").fill_null(2.0) * 0.6).round(2).alias("unit_cost"))
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / "suppliers-bench.csv").write_text("supplier,name,email\nBENCH,Bench,b@x.example\n")
    terms.select("supplier", "sku", "lead_time_days", "moq", "pack_size", "order_cost",
                 "unit_cost").write_csv(inbox / "supplier-items-bench.csv")
    per_day = series["per_day"].fill_null(0).clip(lower_bound=0).to_numpy()  # returns net < 0
    stock = series.with_columns(pl.Series("quantity", np.rint(
        per_day * 14 * rng.uniform(0, 2, series.height)).astype(np.int64)))
    stock.select("sku", "location", "quantity").write_csv(inbox / "stock-bench.csv")
    return series.height


def _rows(step: dict) -> str:  # type: ignore[type-arg]
    return "" if step["rows"] is None else f"{step['rows']:,}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", choices=["m5", "online_retail"], default="m5")
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--db", default=None, help="PostgreSQL URL (default: SQLite)")
    ap.add_argument("--models", default=None, help="Comma-separated forecast candidates "
                    "(default: [pipeline] models)")
    args = ap.parse_args()
    sampler = Sampler()
    folder = Path(tempfile.mkdtemp(prefix="pipeline-bench-"))
    models = "" if not args.models else "models = [" + ", ".join(
        f'"{m.strip()}"' for m in args.models.split(",")) + "]\n"
    (folder / "stockpilot.toml").write_text(f'[pipeline]\nwatch_dir = "inbox"\n{models}')
    engine = _fresh_db(args.db, folder)
    upgrade(engine)
    history = HistoryStore(folder / "history")
    t0 = time.perf_counter()
    what = _import(args.dataset, args.data, engine, history)
    imported = time.perf_counter() - t0
    series = drop_terms_and_stock(history, folder / "inbox")
    sampler.enter("import")
    ctx = Context(engine, history, load_settings(folder))
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    run_id = run_pipeline(ctx, progress=lambda step, what: sampler.enter(step)
                          if what == "running" else None)
    wall = time.perf_counter() - t0
    sampler.enter("end")
    steps_peak = max(v for k, v in sampler.peak.items() if k not in ("setup", "end"))
    with reading(engine) as uow:
        run = pipeline_runs.get_run(uow, SYSTEM, run_id)
    backend = engine.dialect.name
    print(f"# pipeline run, {args.dataset} ({series:,} series), {backend} — {machine()}; "
          f"load average {load0:.2f} at start, {os.getloadavg()[0]:.2f} at end")
    print(f"setup: {what} imported in {imported:.1f} s (not part of the run)")
    print(f"run {run_id}: {run['status']}" + (f" — {run['error']}" if run["error"] else ""))
    print(f"models: {', '.join(ctx.settings.pipeline.models)}; setup peak RSS "
          f"{sampler.peak['setup']:,.0f} MiB")
    print("| step | status | rows | wall s | CPU s | peak RSS MiB |\n|---|---|---|---|---|---|")
    for s in run["steps"]:
        took = (s["finished_at"] - s["started_at"]).total_seconds() if s["finished_at"] else 0
        print(f"| {s['step']} | {s['status']} | {_rows(s)} "
              f"| {took:.1f} | {sampler.cpu.get(s['step'], 0):.1f} "
              f"| {sampler.peak.get(s['step'], 0):,.0f} |")
    cpu = sum(v for k, v in sampler.cpu.items() if k != "setup")
    print(f"| **whole run** | | | **{wall:.1f}** | {cpu:.1f} | **{steps_peak:,.0f}** |")
    print(f"\ncommand: python benchmarks/pipeline_run.py --dataset {args.dataset}"
          + (" --db postgresql+psycopg://…" if args.db else "")
          + (f" --models {args.models}" if args.models else ""))


if __name__ == "__main__":
    main()
