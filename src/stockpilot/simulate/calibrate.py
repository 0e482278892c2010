"""Target → quantile-level calibration of a service policy, learnt on a past simulation.

A cycle service level (CSL) target τ does not translate into "order up to the τ-quantile of
demand over lead time + review": under lost sales the position after a stock-out is higher
than under backorders, slow movers' whole units over-cover, and the quantiles themselves are
wider or narrower than the truth. So we measure instead of assuming. On review days strictly
before the evaluated period, the same rolling-origin forecasts drive the same policy at a grid
of quantile levels; each run gives the achieved CSL per SKU; averaged per group (all SKUs, or
one demand class) and made non-decreasing in the level (isotonic by running maximum), that
curve is inverted by linear interpolation to read the level that achieves each target.
The evaluated period then orders at the mapped level — past data only at every decision.

This is the probability-integral-transform recalibration of Kuleshov, Fenner & Ermon (2018),
"Accurate uncertainties for deep learning using calibrated regression", applied to the KPI the
planner is judged on (the simulated CSL) instead of the forecast's own coverage.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from stockpilot.simulate.engine import Policy, Setup, simulate
from stockpilot.simulate.kpis import cycle_service_level

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Quantile levels tried on the calibration period (the forecast keeps 0.005 … 0.995).
LEVEL_GRID: tuple[float, ...] = (
    0.02, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75,
    0.8, 0.835, 0.87, 0.9, 0.925, 0.95, 0.965, 0.975, 0.985, 0.995)
ALL = "*"


@dataclass(frozen=True)
class LevelMap:
    """Achieved CSL per group at each tried level; inverts it for a target."""

    levels: FloatArray  # (n_levels,)
    achieved: FloatArray  # (n_groups, n_levels), non-decreasing along levels
    groups: tuple[str, ...]  # group names; ALL is always the last

    def level_for(self, target: FloatArray, group: Sequence[str]) -> FloatArray:
        """Quantile level per SKU achieving ``target`` (per SKU) in its group's curve.

        SKUs whose group was not calibrated (too few SKUs) use the curve of all SKUs.
        Targets above the best achieved CSL get the highest level tried, below the lowest
        the lowest level.
        """
        index = {g: i for i, g in enumerate(self.groups)}
        rows = np.array([index.get(g, len(self.groups) - 1) for g in group], dtype=np.int64)
        out = np.empty(len(rows))
        for i in np.unique(rows):
            sel = rows == i
            out[sel] = _invert(self.achieved[i], self.levels, target[sel])
        return out


def _invert(achieved: FloatArray, levels: FloatArray, target: FloatArray) -> FloatArray:
    # np.interp needs strictly increasing x: a flat stretch keeps its lowest level
    x = achieved + np.arange(len(achieved)) * 1e-9
    out: FloatArray = np.interp(target, x, levels)
    return out


def fit_level_map(build: Callable[[FloatArray], Policy], demand: IntArray,
                  on_hand0: IntArray, setup: Setup, group: Sequence[str] | None = None, *,
                  levels: Sequence[float] = LEVEL_GRID, min_group: int = 30) -> LevelMap:
    """Simulate the calibration period at each level and keep achieved CSL per group.

    Args:
        build: quantile level per SKU → the policy over the calibration days.
        demand: calibration-period demand (n_skus × n_days), before the evaluated period.
        on_hand0: starting stock per SKU.
        setup: the same lead time, review and lost-sales setting as the evaluation.
        group: group name per SKU (e.g. its demand class); None calibrates all together.
        levels: quantile levels tried, increasing.
        min_group: groups with fewer SKUs are not calibrated on their own.
    """
    n = demand.shape[0]
    names = list(group) if group is not None else [ALL] * n
    grid = np.asarray(levels, dtype=float)
    per_sku = np.empty((n, len(grid)))
    for j, level in enumerate(grid):
        trace = simulate(demand, build(np.full(n, level)), on_hand0, setup)
        per_sku[:, j] = cycle_service_level(trace)
    kept = [g for g in dict.fromkeys(names) if g != ALL and names.count(g) >= min_group]
    arr = np.array(names)
    rows = [per_sku[arr == g].mean(axis=0) for g in kept] + [per_sku.mean(axis=0)]
    achieved = np.maximum.accumulate(np.array(rows), axis=1)
    return LevelMap(levels=grid, achieved=achieved, groups=(*kept, ALL))
