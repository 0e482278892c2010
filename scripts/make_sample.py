"""Rebuild data/sample/online_retail_top300.csv.gz from the full UCI Online Retail file.

Keeps every line (sales and cancellations, original columns and text) of the 300 product
StockCodes with the most units sold. Usage:
    python scripts/make_sample.py ../shared/data/online_retail/online_retail.csv.gz
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

import numpy as np
import polars as pl

from stockpilot.ingest.online_retail_import import is_product

OUT = Path(__file__).resolve().parents[1] / "data" / "sample" / "online_retail_top300.csv.gz"


def main(src: str) -> None:
    """Write the invoice sample and the demo parameter files."""
    raw = pl.read_csv(src, infer_schema_length=0)
    qty = pl.col("Quantity").cast(pl.Int64)
    top = (raw.filter(is_product(pl.col("StockCode")) & (qty > 0))
           .group_by("StockCode").agg(qty.sum().alias("units"))
           .sort(["units", "StockCode"], descending=[True, False]).head(300)["StockCode"])
    sample = raw.filter(pl.col("StockCode").is_in(top.implode()))
    with gzip.GzipFile(OUT, "wb", compresslevel=9, mtime=0) as fh:
        sample.write_csv(fh)
    print(f"{sample.height} lines of {top.len()} StockCodes -> {OUT}")
    write_demo_terms(sample)


def write_demo_terms(sample: pl.DataFrame) -> None:
    """Suppliers, supplier terms and a stock snapshot for the demo, in the generic formats.

    These are made-up planning parameters (the UCI data has no suppliers or stock): two
    suppliers with different lead times, packs from the typical line size, and on-hand units
    of 0–6 weeks of each SKU's mean September 2011 demand (seeded, reproducible).
    """
    folder = OUT.parent
    pl.DataFrame({"supplier": ["UK-GIFTS", "FAR-EAST"],
                  "name": ["UK Giftware Wholesale (demo)", "Far East Imports (demo)"],
                  "email": ["orders@uk-gifts.example", "po@fareast.example"]}
                 ).write_csv(folder / "suppliers.csv")
    qty = pl.col("Quantity").cast(pl.Int64)
    stats = (sample.filter(qty > 0).group_by("StockCode")
             .agg(qty.median().alias("line"), pl.col("UnitPrice").cast(pl.Float64).median()
                  .alias("price"))
             .sort("StockCode"))
    rng = np.random.default_rng(20111001)
    far = rng.random(stats.height) < 0.35
    pack = stats["line"].clip(1, 48).round().cast(pl.Int64)
    terms = stats.select(
        pl.Series("supplier", np.where(far, "FAR-EAST", "UK-GIFTS")),
        pl.col("StockCode").alias("sku"),
        pl.Series("lead_time_days", np.where(far, 21, 7)),
        pl.Series("moq", (pack * np.where(far, 4, 1)).to_numpy()),
        pl.Series("pack_size", pack.to_numpy()),
        pl.Series("order_cost", np.where(far, 60.0, 15.0)),
        (pl.col("price") * 0.55).round(2).alias("unit_cost"),
    )
    terms.write_csv(folder / "supplier_items.csv")
    sept = sample.with_columns(pl.col("InvoiceDate").str.slice(0, 7).alias("m")) \
        .filter(pl.col("m") == "2011-09")
    mean = sept.group_by("StockCode").agg((qty.sum() / 30).alias("daily"))
    snap = stats.select("StockCode").join(mean, on="StockCode", how="left").fill_null(0)
    weeks = rng.uniform(0, 6, snap.height)
    snap.select(pl.col("StockCode").alias("sku"), pl.lit("ONLINE").alias("location"),
                (pl.col("daily").clip(0, None) * pl.Series(weeks * 7)).round().cast(pl.Int64)
                .alias("quantity")).write_csv(folder / "stock.csv")


if __name__ == "__main__":
    main(sys.argv[1])
