"""Import of the real data sets: wall time and peak RSS, beside a bare read of the same files.

    python benchmarks/import_data.py [--data ../shared/data]

Cases, each in a fresh process: the whole M5 directory (6.8 M weekly prices, calendar, 972
daily series, 30,490 monthly series) into the catalogue (SQLite) and the history store; the
whole Online Retail file into catalogue, customers, order lines and history; and, as the
floor, polars reading the same files and nothing else.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import machine, measure

ROOT = Path(__file__).resolve().parents[1]


def bare_m5(data: Path) -> int:
    import polars as pl

    rows = 0
    for p in [data / "m5" / "sell_prices.csv.gz", data / "m5" / "calendar.csv.gz",
              data / "m5" / "monthly_sales_item_store.csv.gz",
              *sorted((data / "m5" / "daily").glob("*.csv.gz"))]:
        rows += pl.read_csv(p).height
    return rows


def ours_m5(data: Path) -> int:
    from stockpilot.ingest.m5_import import import_m5
    from stockpilot.store.db import make_engine
    from stockpilot.store.history import HistoryStore
    from stockpilot.store.migrate import upgrade

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/b.db")
        upgrade(engine)
        r = import_m5(engine, data / "m5", HistoryStore(Path(tmp) / "history"))
        return r.price_rows + r.calendar_days + r.daily_rows + r.monthly_series


def bare_retail(data: Path) -> int:
    import polars as pl

    return pl.read_csv(data / "online_retail" / "online_retail.csv.gz",
                       infer_schema_length=0).height


def ours_retail(data: Path) -> int:
    from stockpilot.ingest.online_retail_import import import_online_retail
    from stockpilot.store.db import make_engine
    from stockpilot.store.history import HistoryStore
    from stockpilot.store.migrate import upgrade

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/b.db")
        upgrade(engine)
        r = import_online_retail(engine, data / "online_retail" / "online_retail.csv.gz",
                                 HistoryStore(Path(tmp) / "history"))
        return r.lines


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    args = ap.parse_args()
    print(f"# import benchmark — {machine()}")
    print("| case | rows read | wall s | peak RSS MiB | × bare read |")
    print("|---|---|---|---|---|")
    for name, bare, ours in (("M5 (all files)", bare_m5, ours_m5),
                             ("Online Retail", bare_retail, ours_retail)):
        wb, mb, _ = measure(bare, args.data)
        wo, mo, rows = measure(ours, args.data)
        print(f"| {name}: bare polars read | | {wb:.1f} | {mb:.0f} | 1.0 |")
        print(f"| {name}: stockpilot import | {rows:,} | {wo:.1f} | {mo:.0f} | {wo / wb:.1f} |")
    print(f"\ncommand: python benchmarks/import_data.py --data {args.data}")


if __name__ == "__main__":
    main()
