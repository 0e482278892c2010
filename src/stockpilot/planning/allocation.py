"""Allocate a distribution centre's stock to stores: a sparse transportation LP solved by HiGHS.

For SKU s and store j, x_sj units are sent. Each store has a target T_sj (a quantile of its
demand until the next delivery); every unit of target left unmet costs p_sj (lost margin),
every unit sent costs c_sj (transfer). Minimising transfer + shortfall cost,
Σ c·x + Σ p·(T − x), is, up to the constant Σ p·T, the LP

    min Σ_sj (c_sj − p_sj)·x_sj
    s.t. Σ_j x_sj ≤ A_s      (DC stock of SKU s)
         Σ_s x_sj ≤ C_j      (receiving capacity of store j, units)
         0 ≤ x_sj ≤ T_sj

(a capacitated transportation problem, Hitchcock 1941; shortfall folded into the bounds so
there is one variable per route). Routes with T = 0 or c ≥ p can never help and are left out
of the model. The constraint matrix has two non-zeros per column and is written directly in
compressed-column form (``scipy.sparse.csc_array`` layout), so building it is O(routes) numpy
work; the model is handed to HiGHS (Huangfu & Hall 2018) through ``highspy`` without a copy
through Python lists, or to ``scipy.optimize.linprog(method="highs")``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import highspy
import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.optimize import linprog

from stockpilot.errors import StockpilotError

Array = npt.NDArray[np.float64]
Backend = Literal["highspy", "linprog"]

#: HiGHS options for this LP. Presolve finds almost nothing to remove here (every column has
#: one or two unit entries) yet took ~6× the solve time on 200 k columns, so it is off; the
#: interior-point method with crossover used ~40 % less CPU than dual simplex at 1 M columns,
#: and crossover returns a vertex, which is integral for integral data (the constraint
#: matrix of a transportation problem is totally unimodular).
HIGHS_OPTIONS: dict[str, str | bool | float] = {"presolve": "off", "solver": "ipm",
                                                "output_flag": False}


class AllocationSolveFailed(StockpilotError):
    """HiGHS did not find an optimal allocation."""

    status = 500
    title = "Allocation failed"


@dataclass(frozen=True)
class AllocationModel:
    """The LP in compressed-column form plus the map from columns back to (SKU, store).

    Attributes:
        cost: objective coefficient per column (c − p).
        upper: column upper bound (the target T).
        row_upper: DC stock per SKU, then capacity per capacitated store.
        start, index, value: CSC arrays of the constraint matrix (``start`` has n + 1 entries).
        sku, store: the route of each column.
        shape: (number of SKUs, number of stores).
    """

    cost: Array
    upper: Array
    row_upper: Array
    start: npt.NDArray[np.int32]
    index: npt.NDArray[np.int32]
    value: Array
    sku: npt.NDArray[np.int64]
    store: npt.NDArray[np.int64]
    shape: tuple[int, int]

    @property
    def csc(self) -> sparse.csc_array:
        """The constraint matrix as a SciPy sparse array."""
        return sparse.csc_array((self.value, self.index, self.start),
                                shape=(len(self.row_upper), len(self.cost)))


@dataclass(frozen=True)
class Allocation:
    """Units to send per (SKU, store) and what is left unmet.

    Attributes:
        sent: (n_sku, n_store) units allocated.
        shortfall: target − sent.
        cost: transfer cost + shortfall cost of this allocation (including unmet routes).
    """

    sent: Array
    shortfall: Array
    cost: float


def build_model(dc_stock: Array, target: Array, transfer_cost: Array,
                shortfall_cost: Array, capacity: Array | None = None) -> AllocationModel:
    """The LP of the module docstring as CSC arrays.

    Args:
        dc_stock: A_s, units at the DC per SKU, (n_sku,).
        target: T_sj, (n_sku, n_store).
        transfer_cost: c_sj per unit, broadcastable to (n_sku, n_store).
        shortfall_cost: p_sj per unmet unit, broadcastable to (n_sku, n_store).
        capacity: C_j per store, (n_store,); None or inf = unlimited.
    """
    n_sku, n_store = target.shape
    gain = np.broadcast_to(shortfall_cost, target.shape) - np.broadcast_to(transfer_cost,
                                                                            target.shape)
    sku, store = np.nonzero((target > 0) & (gain > 0))
    n = sku.size
    cap = np.full(n_store, np.inf) if capacity is None else np.asarray(capacity, dtype=float)
    capped = np.isfinite(cap)
    cap_row = np.full(n_store, -1, dtype=np.int64)
    cap_row[capped] = n_sku + np.arange(int(capped.sum()))
    has_cap = capped[store]
    per_col = 1 + has_cap.astype(np.int32)
    start = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(per_col, out=start[1:])
    index = np.empty(int(start[-1]), dtype=np.int32)
    index[start[:-1]] = sku  # row of the SKU's stock constraint
    index[start[:-1][has_cap] + 1] = cap_row[store[has_cap]]  # row of the store's capacity
    return AllocationModel(
        cost=-gain[sku, store].astype(float), upper=target[sku, store].astype(float),
        row_upper=np.concatenate([dc_stock.astype(float), cap[capped]]), start=start,
        index=index, value=np.ones(index.size), sku=sku.astype(np.int64),
        store=store.astype(np.int64), shape=(n_sku, n_store))


def solve_highspy(model: AllocationModel, *, threads: int = 0,
                  time_limit_s: float = 600.0) -> Array:
    """Column values of the optimal LP solution, from HiGHS through ``highspy``."""
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    for name, value in {**HIGHS_OPTIONS, "time_limit": time_limit_s}.items():
        h.setOptionValue(name, value)
    if threads:
        h.setOptionValue("threads", threads)
    n, m = len(model.cost), len(model.row_upper)
    # all-continuous integrality (an empty array is read as garbage by this overload)
    passed = h.passModel(n, m, len(model.index), int(highspy.MatrixFormat.kColwise),
                         int(highspy.ObjSense.kMinimize), 0.0, model.cost, np.zeros(n),
                         model.upper, np.full(m, -np.inf), model.row_upper, model.start[:-1],
                         model.index, model.value, np.zeros(n, dtype=np.int32))
    if passed != highspy.HighsStatus.kOk:
        raise AllocationSolveFailed(f"allocation LP: HiGHS refused the model ({passed})")
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        raise AllocationSolveFailed(f"allocation LP: {h.modelStatusToString(h.getModelStatus())}")
    return np.asarray(h.getSolution().col_value, dtype=float)


def solve_linprog(model: AllocationModel, *, time_limit_s: float = 600.0) -> Array:
    """Column values of the optimal LP solution, from ``scipy.optimize.linprog(method="highs")``."""
    bounds = np.column_stack([np.zeros(len(model.cost)), model.upper])
    res = linprog(model.cost, A_ub=model.csc, b_ub=model.row_upper, bounds=bounds,
                  method="highs-ipm", options={"time_limit": time_limit_s, "presolve": False})
    if res.status != 0:
        raise AllocationSolveFailed(f"allocation LP: {res.message}")
    x: Array = res.x
    return x


def allocate(dc_stock: Array, target: Array, transfer_cost: Array, shortfall_cost: Array,
             capacity: Array | None = None, *, backend: Backend = "highspy") -> Allocation:
    """Cheapest allocation of DC stock to stores; arrays as in :func:`build_model`.

    Raises:
        AllocationSolveFailed: the LP was not solved to optimality.
    """
    model = build_model(dc_stock, target, transfer_cost, shortfall_cost, capacity)
    if len(model.cost) == 0:  # no route can help (nothing needed, or moving costs too much)
        x: Array = np.zeros(0)
    else:
        x = solve_highspy(model) if backend == "highspy" else solve_linprog(model)
    sent = np.zeros(model.shape)
    sent[model.sku, model.store] = np.clip(x, 0.0, model.upper)
    shortfall = target - sent
    cost = float(np.sum(np.broadcast_to(transfer_cost, target.shape) * sent)
                 + np.sum(np.broadcast_to(shortfall_cost, target.shape) * shortfall))
    return Allocation(sent, shortfall, cost)
