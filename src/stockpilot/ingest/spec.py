"""Column specs of the generic import files, and validation that reports every bad row.

A file is read whole (CSV, CSV.gz or Parquet), every cell is checked against its column's
spec, and the result is either a typed frame or :class:`ImportRejected` listing each bad row
(file, row, field, reason). Row numbers are the file's line numbers (header = 1) for CSV and
1-based record numbers for Parquet. Nothing is written before validation passes.
"""

from __future__ import annotations

import gzip
import io
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from stockpilot.domain import bounds as b
from stockpilot.errors import ImportRejected, InvalidRow

MAX_REPORTED = 1000  # bad rows listed in one report; the count says how many more


@dataclass(frozen=True)
class Col:
    """One column: its type, whether it must be present and filled, and a value rule."""

    name: str
    dtype: str  # str | int | decimal | bool | date | datetime
    required: bool = True
    rule: str | None = None  # nonneg | positive | nonzero | latitude | longitude
    doc: str = ""
    #: longest text accepted (str columns; from stockpilot.domain.bounds, as the SQL column)
    max_len: int = b.ID_LEN


@dataclass(frozen=True)
class FileSpec:
    """What one kind of import file holds; ``key`` columns must be unique within the file."""

    kind: str
    columns: tuple[Col, ...]
    key: tuple[str, ...]
    doc: str


SPECS: dict[str, FileSpec] = {
    s.kind: s
    for s in (
        FileSpec("skus", (
            Col("sku", "str", doc="your SKU id"),
            Col("name", "str", required=False, max_len=b.TEXT_LEN),
            Col("category", "str", required=False, max_len=b.CATEGORY_LEN),
            Col("unit_cost", "decimal", required=False, rule="nonneg"),
            Col("price", "decimal", required=False, rule="nonneg"),
            Col("shelf_life_days", "int", required=False, rule="positive"),
            Col("lot_tracked", "bool", required=False),
        ), ("sku",), "the catalogue"),
        FileSpec("locations", (
            Col("location", "str"),
            Col("name", "str", required=False, max_len=b.TEXT_LEN),
            Col("kind", "str", required=False, doc="warehouse, store, online, …", max_len=32),
            Col("allows_backorders", "bool", required=False),
            Col("latitude", "decimal", required=False, rule="latitude",
                doc="decimal degrees (WGS 84), with longitude"),
            Col("longitude", "decimal", required=False, rule="longitude",
                doc="decimal degrees (WGS 84), with latitude"),
            Col("capacity_units", "int", required=False, rule="nonneg",
                doc="storage capacity in units (empty: unlimited)"),
            Col("capacity_volume_m3", "decimal", required=False, rule="nonneg",
                doc="storage capacity in cubic metres"),
            Col("handling_cost_per_unit", "decimal", required=False, rule="nonneg"),
            Col("fixed_cost_per_period", "decimal", required=False, rule="nonneg",
                doc="cost of keeping the site open for one period"),
            Col("opens_on", "date", required=False, doc="first day the site operates"),
            Col("closes_on", "date", required=False, doc="last day; not before opens_on"),
        ), ("location",), "warehouses and stores (geography and capacity optional; "
                          "a row with any of them needs latitude and longitude)"),
        FileSpec("suppliers", (
            Col("supplier", "str"),
            Col("name", "str", required=False, max_len=b.TEXT_LEN),
            Col("email", "str", required=False, max_len=b.TEXT_LEN),
        ), ("supplier",), "suppliers"),
        FileSpec("supplier_items", (
            Col("supplier", "str"),
            Col("sku", "str"),
            Col("lead_time_days", "int", rule="nonneg"),
            Col("moq", "int", required=False, rule="positive"),
            Col("pack_size", "int", required=False, rule="positive"),
            Col("order_cost", "decimal", required=False, rule="nonneg"),
            Col("unit_cost", "decimal", required=False, rule="nonneg"),
        ), ("supplier", "sku"), "supplier terms per SKU"),
        FileSpec("stock", (
            Col("sku", "str"),
            Col("location", "str"),
            Col("quantity", "int", rule="nonneg", doc="counted on-hand units"),
            Col("lot_code", "str", required=False, max_len=b.LOT_CODE_LEN),
            Col("expiry", "date", required=False),
        ), ("sku", "location", "lot_code"), "a stock snapshot (applied as counts)"),
        FileSpec("sales", (
            Col("order_id", "str"),
            Col("line", "str", required=False, doc="line id within the order",
                max_len=b.LINE_KEY_LEN - b.ID_LEN - 1),
            Col("sku", "str"),
            Col("location", "str"),
            Col("quantity", "int", rule="nonzero", doc="units; negative for a return"),
            Col("occurred_at", "datetime", doc="ISO date or date-time"),
            Col("unit_price", "decimal", required=False, rule="nonneg"),
            Col("customer_id", "str", required=False),
            Col("stockout", "bool", required=False,
                doc="true: the shelf ran empty that day, so the day's sales understate demand"),
        ), ("order_id", "line"), "historic sales lines (history, not stock movements)"),
        FileSpec("purchase_orders", (
            Col("reference", "str", doc="your PO number; lines with one reference form one PO",
                max_len=128),
            Col("supplier", "str"),
            Col("sku", "str"),
            Col("location", "str"),
            Col("quantity", "int", rule="positive"),
            Col("unit_cost", "decimal", required=False, rule="nonneg"),
            Col("expected_at", "date", required=False),
        ), ("reference", "sku", "location"), "open purchase orders"),
        # the shop's own signals: future-known covariates for the forecaster
        # (stockpilot.ingest.signals; docs/import-formats.md)
        FileSpec("events", (
            Col("date", "date"),
            Col("name", "str", doc="e.g. Easter, town fair, payday"),
            Col("type", "str", required=False,
                doc="holiday, sporting, cultural, national, religious, … (one flag each)"),
            Col("location", "str", required=False, doc="empty: every location"),
        ), ("date", "name", "location"), "calendar events and holidays, past and future"),
        FileSpec("promotions", (
            Col("sku", "str", required=False, doc="the SKU on promotion, or empty and …"),
            Col("category", "str", required=False, doc="… every SKU of this category"),
            Col("location", "str", required=False, doc="empty: every location"),
            Col("start", "date", doc="first day of the promotion"),
            Col("end", "date", doc="last day (inclusive), not before start"),
            Col("type", "str", required=False, doc="display, flyer, multibuy, …"),
            Col("discount", "decimal", required=False, rule="nonneg",
                doc="fraction off the price, 0 ≤ discount < 1 (0.2 = 20 % off)"),
        ), ("sku", "category", "location", "start", "type"),
            "promotions (past ones teach the model, future ones move the forecast)"),
        FileSpec("price_lists", (
            Col("sku", "str"),
            Col("location", "str", required=False, doc="empty: every location"),
            Col("valid_from", "date"),
            Col("valid_to", "date", required=False, doc="empty: until the next price"),
            Col("price", "decimal", rule="positive"),
        ), ("sku", "location", "valid_from"), "selling prices by date, future ones included"),
    )
}


def read_raw(path: Path) -> tuple[pl.DataFrame, int]:
    """Read a CSV(.gz) or Parquet file as text columns; returns (frame, first data row number)."""
    if not path.exists():
        raise ImportRejected(str(path), [InvalidRow(str(path), 0, "*", "file not found")])
    if path.suffix == ".parquet":
        df = pl.read_parquet(path)
        return df.select([pl.col(c).cast(pl.Utf8) for c in df.columns]), 1
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gunzip(path, data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportRejected(str(path), [InvalidRow(
            str(path), line, "*",
            f"not UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8")]) from exc
    try:
        df = pl.read_csv(io.StringIO(text), infer_schema_length=0, truncate_ragged_lines=False)
    except pl.exceptions.PolarsError as exc:
        raise ImportRejected(str(path), [InvalidRow(str(path), 0, "*", f"not a CSV: {exc}")]) \
            from exc
    return df.rename({c: c.strip() for c in df.columns}), 2


def gunzip(path: Path, data: bytes) -> bytes:
    """The decompressed bytes of a .gz file, or :class:`ImportRejected` naming it."""
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        what = "truncated (the download or copy was cut short)" if isinstance(exc, EOFError) \
            else f"not a gzip file ({exc})"
        raise ImportRejected(str(path), [InvalidRow(str(path), 0, "*", what)]) from exc


def read_csv(path: Path, **kwargs: Any) -> pl.DataFrame:
    """``polars.read_csv`` of ``path``, or :class:`ImportRejected` naming the file.

    A truncated or corrupt ``.gz`` (polars: ``OSError: unexpected end of file``), a file that
    is not UTF-8 or not a CSV ends in an error that names the file, never a traceback.
    """
    try:
        return pl.read_csv(path, **kwargs)
    except FileNotFoundError as exc:
        raise ImportRejected(str(path), [InvalidRow(str(path), 0, "*", "file not found")]) \
            from exc
    except (OSError, EOFError) as exc:
        what = "truncated .gz (the download or copy was cut short)" \
            if "end of file" in str(exc) else f"unreadable: {exc}"
        raise ImportRejected(str(path), [InvalidRow(str(path), 0, "*", what)]) from exc
    except (pl.exceptions.NoDataError, UnicodeDecodeError) as exc:
        raise ImportRejected(str(path), [InvalidRow(str(path), 0, "*",
                                                    f"not a readable CSV: {exc}")]) from exc


def validate(path: Path, spec: FileSpec) -> pl.DataFrame:
    """Typed frame of ``path`` per ``spec`` with a ``row`` column, or :class:`ImportRejected`."""
    df, problems = parse(path, spec)
    reject_if(str(path), problems)
    return df


def reject_if(file: str, problems: list[InvalidRow]) -> None:
    """Raise :class:`ImportRejected` listing ``problems`` (sorted by row) when there are any."""
    if problems:
        problems = sorted(problems, key=lambda p: (p.row, p.field))
        raise ImportRejected(file, problems[:MAX_REPORTED])


def parse(path: Path, spec: FileSpec) -> tuple[pl.DataFrame, list[InvalidRow]]:
    """Typed frame (bad cells null) and every problem found; raises only if unreadable."""
    raw, first = read_raw(path)
    name = str(path)
    missing = [c.name for c in spec.columns if c.required and c.name not in raw.columns]
    if missing:
        raise ImportRejected(name, [InvalidRow(name, 1, c, "missing column") for c in missing])
    raw = raw.with_row_index("row", offset=first)
    present = [c for c in spec.columns if c.name in raw.columns]
    typed = raw.select("row", *[_parse(c) for c in present],
                       *[pl.col(c.name).alias(f"_raw_{c.name}") for c in present])
    problems = [p for c in present for p in _problems(typed, c, name)]
    problems += _duplicates(typed, spec, name)
    absent = [pl.lit(None).alias(c.name) for c in spec.columns if c.name not in raw.columns]
    return typed.select("row", *[c.name for c in present]).with_columns(absent), problems


def _parse(c: Col) -> pl.Expr:
    s = pl.col(c.name).str.strip_chars()
    s = pl.when(s == "").then(None).otherwise(s)
    if c.dtype == "int":
        return pl.when(s.str.contains(r"^[+-]?\d+$")).then(s).otherwise(None) \
            .cast(pl.Int64, strict=False).alias(c.name)
    if c.dtype == "decimal":
        return s.cast(pl.Float64, strict=False).alias(c.name)
    if c.dtype == "bool":
        low = s.str.to_lowercase()
        return (pl.when(low.is_in(["true", "1", "yes", "y"])).then(True)
                .when(low.is_in(["false", "0", "no", "n"])).then(False)
                .otherwise(None).alias(c.name))
    if c.dtype == "date":
        return s.str.to_date("%Y-%m-%d", strict=False).alias(c.name)
    if c.dtype == "datetime":
        return pl.coalesce(
            s.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%z", strict=False, time_zone="UTC"),
            s.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", strict=False).dt.replace_time_zone("UTC"),
            s.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", strict=False).dt.replace_time_zone("UTC"),
            s.str.to_date("%Y-%m-%d", strict=False).cast(pl.Datetime("us"))
            .dt.replace_time_zone("UTC"),
        ).alias(c.name)
    return s.alias(c.name)


_RANGES = {"latitude": (-90, 90), "longitude": (-180, 180)}
_WHAT = {"int": "not an integer", "decimal": "not a number", "bool": "not true/false",
         "date": "not a date YYYY-MM-DD", "datetime": "not a date or date-time (ISO 8601)"}


def _problems(df: pl.DataFrame, c: Col, file: str) -> list[InvalidRow]:
    raw = pl.col(f"_raw_{c.name}").str.strip_chars()
    empty = raw.is_null() | (raw == "")
    checks: list[tuple[pl.Expr, str]] = []
    if c.required:
        checks.append((empty, "missing value"))
    if c.dtype in _WHAT:
        checks.append((~empty & pl.col(c.name).is_null(), _WHAT[c.dtype]))
    v = pl.col(c.name)
    checks += _bounds(c, v)
    if c.rule == "nonneg":
        checks.append((v < 0, "must not be negative"))
    elif c.rule == "positive":
        checks.append((v <= 0, "must be positive"))
    elif c.rule == "nonzero":
        checks.append((v == 0, "must not be zero"))
    elif c.rule in _RANGES:
        lo, hi = _RANGES[c.rule]
        checks.append(((v < lo) | (v > hi), f"must be between {lo} and {hi}"))
    out = []
    for cond, reason in checks:
        bad = df.filter(cond.fill_null(False)).select("row", f"_raw_{c.name}")
        out += [InvalidRow(file, r, c.name, f"{reason} ({val!r})" if val else reason)
                for r, val in bad.head(MAX_REPORTED).iter_rows()]
    return out


def _bounds(c: Col, v: pl.Expr) -> list[tuple[pl.Expr, str]]:
    """The stockpilot.domain.bounds checks of one column (what its SQL column can hold)."""
    if c.dtype == "str":
        return [(v.str.len_chars() > c.max_len, f"longer than {c.max_len} characters"),
                (v.str.contains("\x00", literal=True), "contains a NUL character")]
    if c.dtype == "int":
        return [((v < b.INT_MIN) | (v > b.INT_MAX), f"outside {b.INT_MIN} … {b.INT_MAX}")]
    if c.dtype == "decimal":
        return [(~v.is_finite() | (v.abs() >= b.MONEY_LIMIT),
                 f"not a finite amount below {b.MONEY_LIMIT:.0e}")]
    return []


def _duplicates(df: pl.DataFrame, spec: FileSpec, file: str) -> list[InvalidRow]:
    keys = [k for k in spec.key if k in df.columns]
    if not keys:
        return []
    firsts = df.group_by(keys).agg(pl.col("row").min().alias("first"), pl.len().alias("n"))
    dup = df.join(firsts.filter(pl.col("n") > 1), on=keys, nulls_equal=True) \
        .filter(pl.col("row") != pl.col("first"))
    return [InvalidRow(file, r["row"], "+".join(keys),
                       f"duplicate {'/'.join(str(r[k]) for k in keys)!r} (first at row "
                       f"{r['first']})") for r in dup.head(MAX_REPORTED).iter_rows(named=True)]


def describe(kind: str) -> str:
    """Markdown table of one file spec, for the docs and ``stockpilot import spec``."""
    spec = SPECS[kind]
    lines = [f"**{kind}** — {spec.doc}; unique: {', '.join(spec.key)}", "",
             "| column | type | required | rule | notes |", "|---|---|---|---|---|"]
    lines += [f"| {c.name} | {c.dtype} | {'yes' if c.required else 'no'} | {c.rule or ''} | "
              f"{c.doc} |" for c in spec.columns]
    return "\n".join(lines)
