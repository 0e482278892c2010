"""Generic importers: catalogue, locations, suppliers, terms, stock, sales and purchase orders.

Each import is all-or-nothing: the file is validated whole (:mod:`stockpilot.ingest.spec`),
references to SKUs, locations and suppliers are checked against the database, and only then
is everything written in one transaction. A file with any bad row imports nothing and the
error lists every bad row. Re-importing the same file changes nothing (catalogue rows are
upserts; stock rows are counts with event ids derived from the file's hash; sales lines and
purchase orders are keyed by their ids).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Connection, Engine, insert, select

from stockpilot.domain.commands import AdjustStock, CountStock, LedgerCommand
from stockpilot.errors import ImportRejected, InvalidRow
from stockpilot.ingest.spec import SPECS, parse, reject_if
from stockpilot.ledger import catalogue as cat
from stockpilot.ledger.purchasing import OrderLine, create_purchase_order
from stockpilot.ledger.service import apply_events
from stockpilot.store import schema as t
from stockpilot.store.bulk import bulk_insert
from stockpilot.store.history import HistoryStore
from stockpilot.store.uow import UnitOfWork
from stockpilot.usecases.network import SITE_COLUMNS, site_problems, upsert_sites


@dataclass(frozen=True)
class ImportReport:
    """What an import did."""

    kind: str
    file: str
    rows: int
    written: int
    skipped: int = 0
    note: str = ""


def sha256_of(path: Path) -> str:
    """Hex digest of a file's bytes (names the import and derives its event ids)."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _rows(df: pl.DataFrame, columns: list[str]) -> list[dict[str, Any]]:
    """Rows as dicts without the ``row`` column, dropping columns the file did not have."""
    keep = [c for c in columns if c in df.columns and df[c].null_count() < df.height]
    return df.select(keep).to_dicts()


def _check_refs(conn: Connection, df: pl.DataFrame, file: str,
                refs: list[tuple[str, Any, str]], problems: list[InvalidRow]) -> None:
    """Reject the file if any row is bad, adding rows that name unknown SKUs or locations."""
    problems = list(problems)
    for column, table, what in refs:
        values = set(df[column].drop_nulls().to_list())
        unknown = values - cat.existing(conn, table, table.primary_key.columns[0].name, values)
        bad = df.filter(pl.col(column).is_in(sorted(unknown)))
        problems += [InvalidRow(file, r, column, f"unknown {what} {v!r}")
                     for r, v in bad.select("row", column).head(1000).iter_rows()]
    reject_if(file, problems)


def _record(conn: Connection, kind: str, path: Path, rows: int, started: datetime) -> None:
    conn.execute(insert(t.import_runs).values(
        kind=kind, file=str(path), sha256=sha256_of(path), rows=rows, started_at=started,
        finished_at=datetime.now(UTC)))


def import_catalogue(engine: Engine, kind: str, path: Path) -> ImportReport:
    """Import skus, locations, suppliers or supplier_items (upsert by id)."""
    started = datetime.now(UTC)
    spec = SPECS[kind]
    df, problems = parse(path, spec)
    if kind == "locations":
        problems = problems + site_problems(df, str(path))
    if kind != "supplier_items":
        reject_if(str(path), problems)
    upsert = {"skus": cat.upsert_skus, "locations": cat.upsert_locations,
              "suppliers": cat.upsert_suppliers, "supplier_items": cat.upsert_supplier_items}[kind]
    rows = _rows(df, [c.name for c in spec.columns])
    sites = [r for r in rows if r.get("latitude") is not None] if kind == "locations" else []
    if kind == "locations":
        rows = [{c: v for c, v in r.items() if c not in SITE_COLUMNS} for r in rows]
    if kind == "skus":
        rows = [{**r, "name": r.get("name") or r["sku"]} for r in rows]
    with UnitOfWork(engine) as uow:
        if kind == "supplier_items":
            _check_refs(uow.conn, df, str(path), [("supplier", t.suppliers, "supplier"),
                                                  ("sku", t.skus, "SKU")], problems)
        n = upsert(uow.conn, rows)
        upsert_sites(uow.conn, sites)
        _record(uow.conn, kind, path, df.height, started)
        uow.commit()
    return ImportReport(kind, str(path), df.height, n)


def import_stock(engine: Engine, path: Path, *, counted_at: datetime | None = None
                 ) -> ImportReport:
    """Apply a stock snapshot as counts (new lots arrive as adjustments with their expiry)."""
    started = datetime.now(UTC)
    df, problems = parse(path, SPECS["stock"])
    when = counted_at or started
    digest = sha256_of(path)[:16]
    with UnitOfWork(engine) as uow:
        conn = uow.conn
        _check_refs(conn, df, str(path), [("sku", t.skus, "SKU"),
                                          ("location", t.locations, "location")], problems)
        known_lots = {(r.sku, r.location, r.lot_code) for r in conn.execute(
            select(t.lots.c.sku, t.lots.c.location, t.lots.c.lot_code))}
        # Rows of this file applied before are skipped by id: re-importing the same snapshot
        # changes nothing even though its counts would now be written differently.
        done = set(conn.execute(select(t.ledger_events.c.event_id).where(
            t.ledger_events.c.event_id.like(f"import:{digest}:%"))).scalars())
        commands = [_stock_command(r, f"import:{digest}:{r['row']}", when, known_lots)
                    for r in df.iter_rows(named=True)
                    if f"import:{digest}:{r['row']}" not in done
                    and (r["quantity"] > 0 or r.get("lot_code") is None
                         or (r["sku"], r["location"], r["lot_code"]) in known_lots)]
        results = apply_events(conn, commands)
        bad = [InvalidRow(str(path), int(r.event_id.rsplit(":", 1)[1]), "quantity",
                          r.error or "rejected") for r in results if not r.ok]
        if bad:
            raise ImportRejected(str(path), bad)
        _record(conn, "stock", path, df.height, started)
        uow.commit()
    applied = sum(r.status == "applied" for r in results)
    return ImportReport("stock", str(path), df.height, applied, df.height - applied,
                        "rows already imported are skipped" if applied < df.height else "")


def _stock_command(r: dict[str, Any], event_id: str, when: datetime,
                   known_lots: set[tuple[str, str, str]]) -> LedgerCommand:
    lot = r.get("lot_code")
    if lot is not None and (r["sku"], r["location"], lot) not in known_lots:
        return AdjustStock(event_id=event_id, sku=r["sku"], location=r["location"],
                           quantity=r["quantity"], occurred_at=when, lot_code=lot,
                           expiry=r.get("expiry"), reason="stock import (new lot)")
    return CountStock(event_id=event_id, sku=r["sku"], location=r["location"],
                      quantity=r["quantity"], occurred_at=when, lot_code=lot)


def import_sales(engine: Engine, path: Path, history: HistoryStore | None = None, *,
                 source: str = "import") -> ImportReport:
    """Import historic sales lines into order lines and the daily demand history.

    Historic sales are history, not stock movements: they do not change on-hand (the stock
    snapshot does). Lines already imported (same order and line id) are skipped.
    """
    started = datetime.now(UTC)
    df, problems = parse(path, SPECS["sales"])
    df = df.with_columns(pl.coalesce(pl.col("line"), pl.col("row").cast(pl.Utf8)).alias("line"))
    with UnitOfWork(engine) as uow:
        conn = uow.conn
        _check_refs(conn, df, str(path), [("sku", t.skus, "SKU"),
                                          ("location", t.locations, "location")], problems)
        written = _insert_order_lines(conn, df, source)
        _record(conn, "sales", path, df.height, started)
        uow.commit()
    if history is not None:
        refresh_sales_history(engine, history, source)
        _merge_stockouts(history, df, source)
    return ImportReport("sales", str(path), df.height, written, df.height - written)


def _insert_order_lines(conn: Connection, df: pl.DataFrame, source: str) -> int:
    keys = df.select((pl.col("order_id") + ":" + pl.col("line")).alias("k"))["k"].to_list()
    c = t.order_lines.c
    have: set[str] = set()
    for i in range(0, len(keys), 900):
        have |= set(conn.execute(select(c.line_key).where(
            c.source == source, c.line_key.in_(keys[i:i + 900]))).scalars())
    rows = [{"source": source, "order_id": r["order_id"], "line_key": k,
             "customer_id": r["customer_id"], "sku": r["sku"], "location": r["location"],
             "quantity": r["quantity"], "unit_price": r["unit_price"],
             "occurred_at": r["occurred_at"]}
            for r, k in zip(df.iter_rows(named=True), keys, strict=True) if k not in have]
    bulk_insert(conn, t.order_lines, rows)
    return len(rows)


def _merge_stockouts(history: HistoryStore, df: pl.DataFrame, source: str) -> None:
    """Days a line marks ``stockout`` go to ``stockouts/<source>`` (censored for forecasting)."""
    days = df.filter(pl.col("stockout").fill_null(False)).select(
        "sku", "location", pl.col("occurred_at").dt.date().alias("date"))
    if days.is_empty():
        return
    if source in history.parts("stockouts"):
        days = pl.concat([history.read("stockouts", source).select(days.columns), days])
    history.write("stockouts", source, days.unique().sort("sku", "location", "date"))


def refresh_sales_history(engine: Engine, history: HistoryStore, source: str) -> Path:
    """Rebuild the daily demand of one order-line source from the database."""
    c = t.order_lines.c
    with engine.connect() as conn:
        rows = conn.execute(select(c.sku, c.location, c.occurred_at, c.quantity)
                            .where(c.source == source)).all()
    df = pl.DataFrame(rows, schema=["sku", "location", "occurred_at", "units"], orient="row")
    daily = (df.group_by("sku", "location", pl.col("occurred_at").dt.date().alias("date"))
             .agg(pl.col("units").sum()))
    return history.write_daily(source, daily)


def import_purchase_orders(engine: Engine, path: Path) -> ImportReport:
    """Create open purchase orders, one per reference (references already known are skipped)."""
    started = datetime.now(UTC)
    df, problems = parse(path, SPECS["purchase_orders"])
    created = 0
    with UnitOfWork(engine) as uow:
        conn = uow.conn
        _check_refs(conn, df, str(path), [("sku", t.skus, "SKU"),
                                          ("location", t.locations, "location"),
                                          ("supplier", t.suppliers, "supplier")], problems)
        _check_one_supplier(df, str(path))
        for ref, part in df.group_by("reference", maintain_order=True):
            lines = [OrderLine(r["sku"], r["location"], r["quantity"], r["unit_cost"])
                     for r in part.iter_rows(named=True)]
            _, new = create_purchase_order(conn, part["supplier"][0], lines,
                                              reference=str(ref[0]),
                                              expected_at=part["expected_at"][0])
            created += int(new)
        _record(conn, "purchase_orders", path, df.height, started)
        uow.commit()
    return ImportReport("purchase_orders", str(path), df.height, created)


def _check_one_supplier(df: pl.DataFrame, file: str) -> None:
    firsts = df.group_by("reference").agg(pl.col("supplier").first().alias("s0"))
    bad = df.join(firsts, on="reference").filter(pl.col("supplier") != pl.col("s0"))
    if bad.height:
        raise ImportRejected(file, [InvalidRow(file, r, "supplier",
                                               f"reference {ref!r} already has supplier {s0!r}")
                                    for r, ref, s0 in bad.select("row", "reference", "s0")
                                    .iter_rows()])
