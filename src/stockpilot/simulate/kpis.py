"""KPIs of a simulation trace, per SKU and in total (GLOSSARY formulas)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from stockpilot.simulate.engine import Trace

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Costs:
    """Per-SKU money: unit cost, price, holding rate per year, cost per order."""

    unit_cost: FloatArray
    price: FloatArray
    holding_rate: float = 0.25
    order_cost: float = 0.0


def cycle_service_level(trace: Trace) -> FloatArray:
    """Per SKU: share of review-to-review cycles with no lost (or backordered) unit."""
    review = trace.review_day[0]
    cycle = np.cumsum(review) - 1  # cycle index per day (−1 before the first review)
    short = trace.lost > 0 if trace.lost.any() else trace.on_hand_end < 0
    valid = cycle >= 0
    n_cycles = int(cycle.max()) + 1 if valid.any() else 0
    hits = np.zeros((trace.demand.shape[0], n_cycles), dtype=bool)
    for c in range(n_cycles):  # cycles are few (52 a year); SKUs stay vectorised
        hits[:, c] = short[:, cycle == c].any(axis=1)
    return 1.0 - hits.mean(axis=1) if n_cycles else np.ones(trace.demand.shape[0])


def kpis(trace: Trace, costs: Costs | None = None) -> dict[str, float]:
    """Totals: fill rate, CSL, lost units, average on hand, orders, waste, and money when costed.

    Money (with ``costs``): holding cost = average stock value × holding rate × years;
    ordering cost = orders × cost per order; lost margin = lost units × (price − cost);
    waste cost = units written off × cost; total cost is their sum.
    """
    demand = trace.demand.sum()
    sales = trace.sales.sum()
    out = {
        "fill_rate": float(sales / demand) if demand else 1.0,
        "cycle_service_level": float(cycle_service_level(trace).mean()),
        "lost_units": float(trace.lost.sum()),
        "avg_on_hand_units": float(np.clip(trace.on_hand_end, 0, None).sum(axis=0).mean()),
        "avg_on_hand_per_sku": float(np.clip(trace.on_hand_end, 0, None).mean()),
        "orders_placed": float((trace.ordered > 0).sum()),
        "units_ordered": float(trace.ordered.sum()),
    }
    wasted = trace.wasted if trace.wasted is not None else np.zeros_like(trace.demand)
    out["wasted_units"] = float(wasted.sum())
    if costs is not None:
        days = trace.demand.shape[1]
        value = (np.clip(trace.on_hand_end, 0, None) * costs.unit_cost[:, None]).sum(axis=0)
        cogs = float((trace.sales * costs.unit_cost[:, None]).sum())
        avg_value = float(value.mean())
        out |= {
            "avg_on_hand_value": avg_value,
            "lost_revenue": float((trace.lost * costs.price[:, None]).sum()),
            "turns": cogs / avg_value * 365.0 / days if avg_value else 0.0,
            "holding_cost": avg_value * costs.holding_rate * days / 365.0,
            "ordering_cost": out["orders_placed"] * costs.order_cost,
            "lost_margin": float((trace.lost * np.maximum(costs.price - costs.unit_cost, 0.0)
                                  [:, None]).sum()),
            "waste_cost": float((wasted * costs.unit_cost[:, None]).sum()),
        }
        out["total_cost"] = (out["holding_cost"] + out["ordering_cost"] + out["lost_margin"]
                             + out["waste_cost"])
    return out
