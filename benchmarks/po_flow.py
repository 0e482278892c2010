"""The purchase-order flow, approve → send → receive: p50/p95 per step and end to end.

Each iteration approves a selection of ``--lines`` due lines of one supplier (the same use
case as the dashboard's "Approve selected lines", edits applied over the whole plan), e-mails
the order as PDF + CSV to an SMTP server on loopback (aiosmtpd, in the same process) and
receives every open line. The flow runs in a fresh process; its peak RSS is reported.

Workspaces: an existing one (``--workspace``, e.g. ``make demo``'s, on its own database or
``--db``; ``--copy-to-db`` copies its SQLite catalogue and stock there first), or a
synthetic one built first (``--synthetic``: ``--skus`` × ``--locations``
stock rows and plan rows, 50 suppliers, ~20 % of lines due).

    python benchmarks/po_flow.py --workspace demo-workspace [--iterations 30]
    python benchmarks/po_flow.py --workspace demo-workspace --copy-to-db \
        --db postgresql+psycopg://postgres@127.0.0.1:5432/bench_orders_demo
    python benchmarks/po_flow.py --synthetic --skus 30000 --locations 10 \
        [--db postgresql+psycopg://postgres@127.0.0.1:5432/bench_orders]
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).parent))
from _harness import machine, measure

N_SUPPLIERS = 50


def _fresh_pg(url: str) -> None:
    """Drop and create the benchmark database named in ``url``."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    u = make_url(url)
    admin = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{u.database}"'))
        conn.execute(text(f'CREATE DATABASE "{u.database}"'))
    admin.dispose()


def build(ws: Path, db: str | None, n_skus: int, n_locs: int) -> dict[str, int]:
    """A synthetic workspace: catalogue, supplier terms, stock rows, a plan."""
    from stockpilot.config import load_settings
    from stockpilot.store import schema as t
    from stockpilot.store.bulk import bulk_insert
    from stockpilot.store.db import make_engine
    from stockpilot.store.history import HistoryStore
    from stockpilot.store.migrate import upgrade

    if db and db.startswith("postgresql"):
        _fresh_pg(db)
    settings = load_settings(ws, db_url=db)
    engine = make_engine(settings.resolved_db_url(), synchronous="NORMAL")
    upgrade(engine)
    now = datetime.now(UTC)
    rng = np.random.default_rng(7)
    skus = [f"S{i:06d}" for i in range(n_skus)]
    locs = [f"L{j:02d}" for j in range(n_locs)]
    sups = [f"SUP{k:02d}" for k in range(N_SUPPLIERS)]
    supplier_of = {s: sups[i % N_SUPPLIERS] for i, s in enumerate(skus)}
    with engine.begin() as conn:
        bulk_insert(conn, t.skus, [{"sku": s, "name": f"item {s}", "unit_cost": 2.0,
                                    "price": 5.0, "lot_tracked": False, "created_at": now}
                                   for s in skus])
        bulk_insert(conn, t.locations, [{"location": loc, "name": loc, "kind": "warehouse",
                                         "allows_backorders": False, "created_at": now}
                                        for loc in locs])
        bulk_insert(conn, t.suppliers, [{"supplier": s, "name": f"Supplier {s}",
                                         "email": f"orders@{s.lower()}.test",
                                         "created_at": now} for s in sups])
        bulk_insert(conn, t.supplier_items, [
            {"supplier": supplier_of[s], "sku": s, "lead_time_days": int(rng.integers(3, 30)),
             "moq": 1, "pack_size": 1, "order_cost": 0, "unit_cost": 1.75,
             "is_primary": True} for s in skus])
        bulk_insert(conn, t.stock, [{"sku": s, "location": loc, "on_hand": 100, "reserved": 0,
                                     "on_order": 0, "allows_backorders": False, "version": 0,
                                     "updated_at": now} for s in skus for loc in locs])
    qty = rng.integers(1, 100, n_skus * n_locs) * (rng.random(n_skus * n_locs) < 0.2)
    plan = pl.DataFrame({"sku": [s for s in skus for _ in locs],
                         "location": locs * n_skus}).with_columns(
        (pl.col("sku") + "@" + pl.col("location")).alias("unique_id"),
        pl.col("sku").replace_strict(supplier_of).alias("supplier"),
        pl.Series("order_qty", qty.astype(np.int64)),
        pl.lit("AX").alias("klass"), pl.lit("synthetic").alias("reason"))
    plan = plan.with_columns((pl.col("order_qty") * 2.0).alias("order_value"))
    HistoryStore(settings.resolved_history_dir()).write("plans", "latest", plan)
    engine.dispose()
    return {"series": plan.height, "due": int((qty > 0).sum())}


def copy_to(ws: Path, db: str) -> dict[str, int]:
    """Copy a workspace's SQLite catalogue, terms and stock into a fresh PostgreSQL ``db``
    (the demo on PostgreSQL without re-running its forecasts)."""
    from sqlalchemy import select

    from stockpilot.config import load_settings
    from stockpilot.store import schema as t
    from stockpilot.store.bulk import bulk_insert
    from stockpilot.store.db import make_engine
    from stockpilot.store.migrate import upgrade

    _fresh_pg(db)
    src = make_engine(load_settings(ws).resolved_db_url())
    dst = make_engine(db)
    upgrade(dst)
    counts = {}
    with src.connect() as a, dst.begin() as b:
        for table in (t.skus, t.locations, t.suppliers, t.supplier_items, t.stock, t.lots):
            rows = [dict(r._mapping) for r in a.execute(select(table))]
            if table is t.stock:  # the copy has no purchase orders: nothing is on order
                rows = [{**r, "on_order": 0} for r in rows]
            bulk_insert(b, table, rows)
            counts[table.name] = len(rows)
    return counts


def _percentile(xs: list[float], q: float) -> float:
    return float(np.percentile(np.array(xs) * 1000, q))


def flow(ws: Path, db: str | None, iterations: int, n_lines: int) -> dict[str, list[float]]:
    """Run the flow ``iterations`` times; seconds per step."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Sink

    from stockpilot.config import load_settings
    from stockpilot.store.artifacts import ArtifactStore
    from stockpilot.store.db import make_engine
    from stockpilot.store.history import HistoryStore
    from stockpilot.store.uow import reading, writing
    from stockpilot.usecases import orders, po_documents, suggestions
    from stockpilot.usecases.actor import Actor

    settings = load_settings(ws, db_url=db)
    engine = make_engine(settings.resolved_db_url())
    plan = ArtifactStore(HistoryStore(settings.resolved_history_dir())).plan()
    me = Actor("admin", None, name="bench")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    smtp = Controller(Sink(), hostname="127.0.0.1", port=port)
    smtp.start()
    with engine.begin() as conn:  # every supplier needs an address to be mailed
        conn.exec_driver_sql("UPDATE suppliers SET email = 'orders@supplier.test' "
                             "WHERE email IS NULL")
    with reading(engine) as uow:  # lines not approved yet (a workspace may be reused)
        due = suggestions.effective_lines(uow, me, plan).filter(pl.col("po_id").is_null())
    batches = [g for _, g in due.group_by("supplier", maintain_order=True)]
    times: dict[str, list[float]] = {"approve": [], "send": [], "receive": [], "total": []}
    for i in range(iterations):
        batch = batches[i % len(batches)].slice((i // len(batches)) * n_lines, n_lines)
        if batch.is_empty():
            break
        picked = list(zip(batch["sku"], batch["location"], strict=True))
        t0 = time.perf_counter()
        with writing(engine) as uow:
            done = suggestions.approve(uow, me, plan, lines=picked, currency="EUR")
        t1 = time.perf_counter()
        po_documents.email_order(engine, me, done.created[0], "127.0.0.1", port, "bench@x.test")
        t2 = time.perf_counter()
        with writing(engine) as uow:
            orders.receive(uow, me, done.created[0], None, receipt_id=f"b{i}")
        t3 = time.perf_counter()
        for k, v in (("approve", t1 - t0), ("send", t2 - t1), ("receive", t3 - t2),
                     ("total", t3 - t0)):
            times[k].append(v)
    smtp.stop()
    engine.dispose()
    return times


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--workspace", type=Path)
    p.add_argument("--synthetic", action="store_true")
    p.add_argument("--skus", type=int, default=30_000)
    p.add_argument("--locations", type=int, default=10)
    p.add_argument("--db", default=None)
    p.add_argument("--copy-to-db", action="store_true",
                   help="copy the workspace's SQLite catalogue and stock into --db first")
    p.add_argument("--iterations", type=int, default=30)
    p.add_argument("--lines", type=int, default=20, help="lines approved per order")
    a = p.parse_args()
    ws = a.workspace or Path(tempfile.mkdtemp(prefix="po-bench-"))
    if a.synthetic:
        wall, peak, size = measure(build, ws, a.db, a.skus, a.locations)
        print(f"built {size['series']:,} series ({size['due']:,} due) in {wall:.1f} s, "
              f"peak {peak:.0f} MiB")
    if a.copy_to_db:
        wall, peak, counts = measure(copy_to, ws, a.db)
        print(f"copied {counts} in {wall:.1f} s")
    wall, peak, times = measure(flow, ws, a.db, a.iterations, a.lines)
    backend = "PostgreSQL" if a.db and a.db.startswith("postgresql") else "SQLite"
    print(f"# {machine()} · {backend} · {ws} · {len(times['total'])} orders of {a.lines} "
          f"lines · flow process peak RSS {peak:.0f} MiB")
    print("| step | p50 ms | p95 ms | max ms |")
    print("|---|---:|---:|---:|")
    for k, xs in times.items():
        print(f"| {k} | {_percentile(xs, 50):.1f} | {_percentile(xs, 95):.1f} | "
              f"{max(xs) * 1000:.1f} |")
    print("command: python benchmarks/" + Path(__file__).name + " " + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
