"""The demo pipeline on the bundled sample: import, then each later stage that is installed.

The sample (``data/sample``) is real UCI Online Retail data for 300 StockCodes plus invented
supplier terms and a stock snapshot. The stock is counted at the end of the sample's history
(2011-09-30), so positions, forecasts and plans are "as of" that day.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from stockpilot.ingest import files
from stockpilot.ingest.online_retail_import import import_online_retail
from stockpilot.store.history import HistoryStore

SAMPLE = Path(__file__).resolve().parents[3] / "data" / "sample"
AS_OF = datetime(2011, 9, 30, 23, 59, tzinfo=UTC)


@dataclass(frozen=True)
class StepResult:
    """One line of the demo's summary."""

    step: str
    summary: str


def sample_dir() -> Path:
    """The bundled sample folder (in a source checkout)."""
    if not (SAMPLE / "online_retail_top300.csv.gz").exists():
        from stockpilot.errors import ConfigError

        raise ConfigError(f"the bundled sample is missing at {SAMPLE}; run from a checkout")
    return SAMPLE


def import_sample(engine: Engine, history: HistoryStore) -> list[StepResult]:
    """Import the sample's invoices, suppliers, supplier terms and stock snapshot."""
    folder = sample_dir()
    r = import_online_retail(engine, folder / "online_retail_top300.csv.gz", history)
    out = [StepResult("import invoices", f"{r.skus} SKUs, {r.customers:,} customers, "
                      f"{r.product_lines:,} order lines, {r.daily_rows:,} SKU-days of demand")]
    for kind, name in (("suppliers", "suppliers.csv"), ("supplier_items", "supplier_items.csv")):
        rep = files.import_catalogue(engine, kind, folder / name)
        out.append(StepResult(f"import {kind}", f"{rep.rows} rows"))
    rep = files.import_stock(engine, folder / "stock.csv", counted_at=AS_OF)
    out.append(StepResult("import stock", f"{rep.rows} counts as of {AS_OF.date()}"))
    return out


Step = Callable[[Engine, HistoryStore], list[StepResult]]
