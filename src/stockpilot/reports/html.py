"""A self-contained HTML report of a workspace: stock, forecasts, suggestions, simulation.

Charts are PNGs drawn with matplotlib beside ``index.html``; tables are plain HTML, readable
without JavaScript and at phone width. Everything is escaped (SKU names come from files).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import polars as pl

from stockpilot.forecast.base import qcol

STYLE = """
body{font-family:system-ui,sans-serif;margin:1rem auto;max-width:1100px;padding:0 1rem;color:#222}
h1{font-size:1.5rem} h2{font-size:1.2rem;margin-top:2rem}
table{border-collapse:collapse;width:100%;font-size:.9rem;display:block;overflow-x:auto}
th,td{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
.kpis{display:flex;flex-wrap:wrap;gap:1rem}.kpi{background:#f4f6f8;padding:.7rem 1rem;
border-radius:6px}.kpi b{display:block;font-size:1.3rem} img{max-width:100%}
"""


def _table(df: pl.DataFrame, limit: int = 25) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in df.columns)
    rows = []
    for r in df.head(limit).iter_rows():
        cells = "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in r)
        rows.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:,.2f}" if abs(v) < 1000 else f"{v:,.0f}"
    return "" if v is None else str(v)


def fan_chart(history: pl.DataFrame, forecast: pl.DataFrame, uid: str, out: Path) -> Path:
    """Demand history and the forecast's quantile bands for one series."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    h = history.filter(pl.col("unique_id") == uid).sort("ds").tail(120)
    f = forecast.filter(pl.col("unique_id") == uid).sort("ds")
    fig, ax = plt.subplots(figsize=(7, 3), dpi=110)
    ax.plot(h["ds"], h["y"], color="#444", lw=1, label="demand")
    for lo, hi, alpha in ((0.025, 0.975, 0.15), (0.165, 0.835, 0.25), (0.25, 0.75, 0.35)):
        ax.fill_between(f["ds"], f[qcol(lo)], f[qcol(hi)], color="#1f77b4", alpha=alpha, lw=0,
                        label=f"{int(lo * 1000) / 10}–{int(hi * 1000) / 10}%")
    ax.plot(f["ds"], f["q0.5"], color="#1f77b4", lw=1.5, label="median")
    ax.set_title(uid)
    ax.legend(fontsize=7, ncol=5)
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out


def write_report(folder: Path, *, title: str, kpis: dict[str, str], positions: pl.DataFrame,
                 plan: pl.DataFrame | None, history: pl.DataFrame | None,
                 forecast: pl.DataFrame | None, sim_rows: list[dict[str, object]] | None,
                 notes: list[str]) -> Path:
    """Write ``folder/index.html`` (and its PNGs); returns the page's path."""
    folder.mkdir(parents=True, exist_ok=True)
    parts = [f"<h1>{html.escape(title)}</h1>", '<div class="kpis">']
    parts += [f'<div class="kpi">{html.escape(k)}<b>{html.escape(v)}</b></div>'
              for k, v in kpis.items()]
    parts.append("</div>")
    if plan is not None and plan.height:
        due = plan.filter(pl.col("order_qty") > 0).sort("order_value", descending=True)
        parts += ["<h2>Purchase-order suggestions (largest first)</h2>",
                  _table(due.select("unique_id", "supplier", "klass", "order_qty",
                                    "order_value", "reason"))]
    if forecast is not None and history is not None and plan is not None and plan.height:
        parts.append("<h2>Forecasts of the largest orders</h2>")
        top = plan.sort("order_value", descending=True)["unique_id"].head(4).to_list()
        for i, uid in enumerate(top):
            fan_chart(history, forecast, uid, folder / f"fan_{i}.png")
            parts.append(f'<img src="fan_{i}.png" alt="forecast fan chart for '
                         f'{html.escape(uid)}">')
    if sim_rows:
        from stockpilot.simulate.chart import inventory_vs_fill

        inventory_vs_fill(sim_rows, folder / "simulation.png")
        parts += ["<h2>Policies replayed on history</h2>",
                  '<img src="simulation.png" alt="average inventory against fill rate">',
                  _table(pl.DataFrame(sim_rows).select(
                      "policy", "knob", "fill_rate", "cycle_service_level",
                      "avg_on_hand_per_sku", "lost_units", "orders_placed"), limit=40)]
    parts += ["<h2>Lowest available stock</h2>", _table(positions.sort("available"))]
    if notes:
        parts += ["<h2>Notes</h2><ul>"] + [f"<li>{html.escape(n)}</li>" for n in notes] + \
            ["</ul>"]
    page = (f"<!doctype html><html lang=en><head><meta charset=utf-8><meta name=viewport "
            f"content='width=device-width,initial-scale=1'><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body>{''.join(parts)}</body></html>")
    out = folder / "index.html"
    out.write_text(page, encoding="utf-8")
    return out
