"""The report's charts as PNG files (matplotlib, Agg: no display needed).

Each function writes one PNG and returns its path, or None when there is nothing to draw;
the HTML, PDF and Excel writers embed the same files.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

if TYPE_CHECKING:
    from stockpilot.usecases.reports import ReportData

KPI_PANELS = (("fill_rate", "Fill rate"), ("stock_value", "Stock value"),
              ("turns", "Turns (annualised)"), ("days_of_cover", "Days of cover"))
FLOW_COLOURS = {"receipts": "#2ca02c", "sales": "#1f77b4", "adjustments": "#ff7f0e",
                "write_offs": "#d62728"}


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def kpi_chart(kpis: pl.DataFrame, out: Path) -> Path | None:
    """Four small panels: each KPI by week."""
    if kpis.is_empty():
        return None
    plt = _plt()
    fig, axes = plt.subplots(1, 4, figsize=(11, 2.4), dpi=100)
    for ax, (col, title) in zip(axes, KPI_PANELS, strict=True):
        ax.plot(kpis["week_end"].to_list(), kpis[col].to_list(), marker="o", ms=3, lw=1.5,
                color="#1f77b4")
        ax.set_title(title, fontsize=9)
        ax.tick_params(labelsize=7)
        ax.tick_params(axis="x", rotation=45)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out


def flow_chart(flow: pl.DataFrame, out: Path) -> Path | None:
    """Receipts, sales, adjustments and write-offs per week, side by side."""
    if flow.is_empty():
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(11, 3), dpi=100)
    x = list(range(flow.height))
    width = 0.2
    for i, (col, colour) in enumerate(FLOW_COLOURS.items()):
        ax.bar([v + (i - 1.5) * width for v in x], flow[col].to_list(), width, label=col,
               color=colour)
    ax.set_xticks(x, [d.isoformat() for d in flow["week_end"].to_list()], rotation=45,
                  fontsize=7)
    ax.set_ylabel("units")
    ax.axhline(0, color="#888", lw=0.5)
    ax.legend(fontsize=7, ncol=4)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out


def class_chart(by_class: pl.DataFrame, out: Path) -> Path | None:
    """Stock value by ABC class."""
    if by_class.is_empty() or float(by_class["stock_value"].sum()) <= 0:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 2.6), dpi=100)
    df = by_class.sort("abc")
    ax.bar(df["abc"].to_list(), df["stock_value"].to_list(), color="#1f77b4")
    ax.set_ylabel("stock value")
    ax.set_title("Stock value by ABC class", fontsize=9)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out


def accuracy_chart(acc: pl.DataFrame, out: Path) -> Path | None:
    """WAPE by class (lower is better)."""
    df = acc.drop_nulls("wape")
    if df.is_empty():
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 2.6), dpi=100)
    ax.bar(df["abc"].to_list(), df["wape"].to_list(), color="#9467bd")
    ax.set_ylabel("WAPE")
    ax.set_title("Forecast accuracy by class", fontsize=9)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out


def draw_all(data: ReportData, folder: Path, stem: str) -> dict[str, Path]:
    """Every chart of ``data`` as ``folder/<stem>-<name>.png``, by section name."""
    folder.mkdir(parents=True, exist_ok=True)
    made = {"kpis": kpi_chart(data.kpis, folder / f"{stem}-kpis.png"),
            "class": class_chart(data.value_by_class, folder / f"{stem}-class.png"),
            "flow": flow_chart(data.flow, folder / f"{stem}-flow.png"),
            "accuracy": accuracy_chart(data.accuracy, folder / f"{stem}-accuracy.png")}
    return {k: v for k, v in made.items() if v is not None}
