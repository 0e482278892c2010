"""Chart of average inventory against fill rate, one curve per policy (matplotlib, PNG)."""

from __future__ import annotations

from pathlib import Path


def inventory_vs_fill(rows: list[dict[str, object]], out: Path, title: str = "") -> Path:
    """Write the chart; each policy's sweep is one line, the oracle one point."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    for policy in dict.fromkeys(str(r["policy"]) for r in rows):
        pts = sorted((float(r["fill_rate"]), float(r["avg_on_hand_per_sku"]))  # type: ignore[arg-type]
                     for r in rows if r["policy"] == policy)
        ax.plot([p[0] * 100 for p in pts], [p[1] for p in pts], marker="o", label=policy)
    ax.set_xlabel("fill rate (%)")
    ax.set_ylabel("average units on hand per SKU")
    ax.set_title(title or "inventory needed for each fill rate (lower is better)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out
