"""Order lines for the recommender from any file: UCI Online Retail, or a shop's own columns.

A shop's file is described by the ``order_lines`` spec below (the import specs' style: each
cell checked, every bad row reported with file, row and field, nothing used unless all pass)
and a column map from our names to the file's (``customer_id=CustomerID,sku=StockCode,…``),
given on the command line or as ``[columns]`` in a small TOML spec file. Files laid out like
UCI Online Retail (``InvoiceNo``, ``StockCode``, …) are read by the Online Retail reader,
which also drops cancellations' originals and non-product lines.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import polars as pl

from stockpilot.errors import ConfigError, ImportRejected, InvalidRow
from stockpilot.ingest.spec import Col, FileSpec, _parse, _problems, read_raw, reject_if

ORDER_LINES = FileSpec("order_lines", (
    Col("customer_id", "str", required=False, doc="who bought (empty: a guest order)"),
    Col("order_id", "str", doc="lines with one id form one order (basket)"),
    Col("sku", "str"),
    Col("quantity", "int", rule="nonzero", doc="units; negative for a return"),
    Col("occurred_at", "datetime", doc="ISO date or date-time"),
), (), "order lines for the recommender")

ONLINE_RETAIL_COLUMNS = {"InvoiceNo", "StockCode", "Quantity", "InvoiceDate", "CustomerID"}


def parse_columns(text: str | None, spec_file: Path | None = None) -> dict[str, str]:
    """Our column → the file's, from ``a=b,c=d`` and/or a TOML file's ``[columns]`` table."""
    out: dict[str, str] = {}
    if spec_file is not None:
        try:
            doc = tomllib.loads(spec_file.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{spec_file}: {exc}") from exc
        out.update({str(k): str(v) for k, v in doc.get("columns", {}).items()})
    for part in (text or "").split(","):
        if part.strip():
            ours, sep, theirs = part.partition("=")
            if not sep or not theirs.strip():
                raise ConfigError(f"column map {part!r}: write ours=theirs, e.g. sku=StockCode")
            out[ours.strip()] = theirs.strip()
    known = {c.name for c in ORDER_LINES.columns}
    bad = sorted(set(out) - known)
    if bad:
        raise ConfigError(f"unknown column {bad[0]!r} in the column map; ours are "
                          f"{', '.join(sorted(known))}")
    return out


def read_order_lines(path: Path, columns: dict[str, str] | None = None) -> pl.DataFrame:
    """``customer_id, sku, quantity, at, order_id`` (naive UTC) from an order-lines file.

    Raises :class:`ImportRejected` listing every bad row (file, row, field, reason).
    """
    raw, first = read_raw(path)
    if not columns and set(raw.columns) >= ONLINE_RETAIL_COLUMNS:
        return _online_retail(path)
    mapping = columns or {}
    clash = [ours for ours, theirs in mapping.items() if theirs not in raw.columns]
    if clash:
        raise ImportRejected(str(path), [InvalidRow(str(path), 1, mapping[c],
                                                    f"missing column (mapped to {c})")
                                         for c in clash])
    raw = raw.rename({theirs: ours for ours, theirs in mapping.items()})
    typed = _validated(raw, first, str(path))
    return typed.select(
        "customer_id", "sku", pl.col("quantity").cast(pl.Int64),
        pl.col("occurred_at").dt.replace_time_zone(None).alias("at"), "order_id")


def _validated(raw: pl.DataFrame, first: int, name: str) -> pl.DataFrame:
    """Typed columns of :data:`ORDER_LINES`, or :class:`ImportRejected` with every bad row."""
    missing = [c.name for c in ORDER_LINES.columns if c.required and c.name not in raw.columns]
    if missing:
        raise ImportRejected(name, [InvalidRow(name, 1, c, "missing column") for c in missing])
    if "customer_id" not in raw.columns:
        raw = raw.with_columns(pl.lit(None, pl.Utf8).alias("customer_id"))
    raw = raw.with_row_index("row", offset=first)
    cols = ORDER_LINES.columns
    typed = raw.select("row", *[_parse(c) for c in cols],
                       *[pl.col(c.name).alias(f"_raw_{c.name}") for c in cols])
    reject_if(name, [p for c in cols for p in _problems(typed, c, name)])
    return typed


def _online_retail(path: Path) -> pl.DataFrame:
    from stockpilot.ingest.online_retail import read_invoices
    from stockpilot.ingest.online_retail_import import split_lines
    from stockpilot.recommend.data import lines_frame

    kept, _, _ = split_lines(read_invoices(path))
    # The description rides along for the content model (TF-IDF of the item texts).
    return lines_frame(kept).with_columns(kept["description"])
