"""Time `stockpilot report` (html, pdf, xlsx) on a workspace holding the whole Online Retail file.

    python benchmarks/report_online_retail.py --data /work/shared/data --workspace /tmp/rbench/ws

Prepares the workspace once (skipped with --reuse when it already has a plan): init, import
the whole file, supplier terms and a stock count for every StockCode (generated from the file's
own statistics, as the file has neither: one supplier, 7-day lead time, unit cost 60 % of the
median selling price, stock of 0–8 weeks of the last 8 weeks' mean demand, counted on the
file's last day), forecast (the demo's four fast models, one window), plan. Then runs each
report format in a fresh process under ``/usr/bin/time -v`` and prints wall time and peak RSS.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from _harness import machine

PY = sys.executable
LAST_DAY = date(2011, 9, 30)


def sp(ws: Path, *args: str) -> str:
    """Run ``stockpilot ARGS -w ws`` under /usr/bin/time -v; returns its stderr."""
    cmd = ["/usr/bin/time", "-v", PY, "-m", "stockpilot", *args, "-w", str(ws)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stderr


def terms(data: Path, ws: Path) -> tuple[Path, Path, Path]:
    """Supplier, supplier-terms and stock CSVs for every StockCode of the file."""
    raw = pl.read_csv(data / "online_retail" / "online_retail.csv.gz",
                      schema_overrides={"StockCode": pl.Utf8, "InvoiceNo": pl.Utf8},
                      infer_schema_length=0)
    price = raw.select(pl.col("StockCode").alias("sku"),
                       pl.col("UnitPrice").cast(pl.Float64)).filter(pl.col("UnitPrice") > 0) \
        .group_by("sku").agg(pl.col("UnitPrice").median().alias("p"))
    daily = pl.read_parquet(sorted((ws / "history" / "daily").glob("*.parquet")))
    recent = daily.filter(pl.col("date") > LAST_DAY - timedelta(days=56)).group_by("sku").agg(
        (pl.col("units").sum().clip(lower_bound=0) / 56).alias("rate"))
    skus = daily.select("sku").unique().join(price, on="sku", how="left").join(
        recent, on="sku", how="left").fill_null(0.0).sort("sku")

    def weeks(sku: str) -> int:  # 0–8 weeks of cover, fixed per SKU (no RNG state)
        return int(hashlib.sha256(sku.encode()).hexdigest()[:4], 16) % 9

    out = ws / "generated"
    out.mkdir(exist_ok=True)
    (out / "suppliers.csv").write_text("supplier,name,email\nRETAIL,Retail wholesale,"
                                       "po@retail.example\n")
    skus.select(pl.lit("RETAIL").alias("supplier"), "sku",
                pl.lit(7).alias("lead_time_days"), pl.lit(1).alias("moq"),
                pl.lit(1).alias("pack_size"), pl.lit(15.0).alias("order_cost"),
                (pl.col("p") * 0.6).round(2).clip(lower_bound=0.01).alias("unit_cost")) \
        .write_csv(out / "supplier_items.csv")
    skus.select("sku", pl.lit("ONLINE").alias("location"), pl.Series(
        "quantity", [round(r * 7 * weeks(s)) for s, r in zip(skus["sku"], skus["rate"],
                                                                strict=True)])) \
        .write_csv(out / "stock.csv")
    return out / "suppliers.csv", out / "supplier_items.csv", out / "stock.csv"


def prepare(data: Path, ws: Path) -> None:
    """Init, import everything, forecast and plan (several minutes)."""
    subprocess.run([PY, "-m", "stockpilot", "init", "-w", str(ws)], check=True)
    sp(ws, "import", "online-retail", str(data / "online_retail" / "online_retail.csv.gz"))
    sup, items, stock = terms(data, ws)
    sp(ws, "import", "suppliers", str(sup))
    sp(ws, "import", "supplier-items", str(items))
    sp(ws, "import", "stock", str(stock), "--counted-at", f"{LAST_DAY}T23:59:00+00:00")
    sp(ws, "forecast", "--models", "SeasonalNaive,CrostonOptimized,TSB,WindowAverage28",
       "--windows", "1")
    sp(ws, "plan")


def measure(ws: Path, fmt: str) -> tuple[float, float, int]:
    """(wall s, peak RSS MiB, bytes written) of one `stockpilot report` run."""
    out = ws / "report" / f"bench.{fmt}"
    err = sp(ws, "report", "--format", fmt, "--out", str(out))
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", err)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", err)
    assert wall and rss, err
    parts = [float(p) for p in wall.group(1).split(":")]
    secs = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
    return secs, int(rss.group(1)) / 1024, out.stat().st_size


def phases(ws: Path) -> None:
    """Where the time goes: each phase of one in-process run (imports, gather, charts, …)."""
    import time

    t = [time.perf_counter()]
    from stockpilot.reports.charts import draw_all
    from stockpilot.reports.page import write_page
    from stockpilot.reports.pdf import write_pdf
    from stockpilot.reports.xlsx import write_xlsx
    from stockpilot.store.uow import reading
    from stockpilot.store.workspace import open_workspace
    from stockpilot.usecases import reports
    from stockpilot.usecases.actor import SYSTEM

    t.append(time.perf_counter())
    w = open_workspace(ws)
    with reading(w.engine) as uow:
        data = reports.gather(uow, w.history, SYSTEM)
    t.append(time.perf_counter())
    out = ws / "report" / "phases"
    charts = draw_all(data, out, "p")
    t.append(time.perf_counter())
    for fmt, write in (("html", write_page), ("pdf", write_pdf), ("xlsx", write_xlsx)):
        write(data, out / f"p.{fmt}", "phases", charts)
        t.append(time.perf_counter())
    names = ("imports", "gather", "charts", "write html", "write pdf", "write xlsx")
    print("| phase | s |\n| --- | --- |")
    for name, a, b in zip(names, t[:-1], t[1:], strict=True):
        print(f"| {name} | {b - a:.2f} |")


def main() -> None:
    """Prepare (unless reused) and time each format."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--workspace", type=Path, default=Path("/tmp/rbench/ws"))
    ap.add_argument("--reuse", action="store_true", help="keep a prepared workspace")
    ap.add_argument("--formats", default="html,pdf,xlsx")
    ap.add_argument("--phases", action="store_true", help="also time each phase in-process")
    a = ap.parse_args()
    if not (a.reuse and (a.workspace / "history" / "plans" / "latest.parquet").exists()):
        if a.workspace.exists() and any(a.workspace.iterdir()):
            raise SystemExit(f"{a.workspace} is not empty: remove it or pass --reuse")
        prepare(a.data.resolve(), a.workspace)
    print(f"# report on the whole Online Retail file — {machine()}")
    print("| format | wall s | peak RSS MiB | bytes |\n| --- | --- | --- | --- |")
    for fmt in a.formats.split(","):
        wall, mib, size = measure(a.workspace, fmt)
        print(f"| {fmt} | {wall:.1f} | {mib:.0f} | {size:,} |")
    if a.phases:
        phases(a.workspace)
    print(f"command: python benchmarks/report_online_retail.py --data {a.data} "
          f"--workspace {a.workspace}{' --reuse' if a.reuse else ''}"
          f"{' --phases' if a.phases else ''}")


if __name__ == "__main__":
    main()
