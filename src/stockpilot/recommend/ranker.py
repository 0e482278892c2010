"""A learned re-ranker: LightGBM LambdaRank over repeat and explore candidates.

Why by hand: no library turns order lines into next-period ranking examples; the ranking itself
is LightGBM's. For every customer, the candidates are the items they bought before plus the
``candidates`` best new items by EASE. Each (customer, item) pair gets features a planner can
read — orders with the item, days since, share of the customer's orders, item re-buy rate,
recent popularity and its trend, EASE score, the customer's order count and recency — and the
label "bought in the next ``horizon_days``". Training examples come from several earlier
cut-offs (``step_days`` apart) so that labels never reach past the model's own cut-off.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Self

import numpy as np
import polars as pl
import scipy.sparse as sp

from stockpilot.recommend.data import Interactions, baskets, build, truth
from stockpilot.recommend.models import EASE

Array = np.ndarray
FEATURES = ("orders", "days_since", "log_units", "order_share", "ease", "pop30", "pop90",
            "trend", "rebuy_rate", "user_orders", "user_days_since", "user_span", "owned",
            "cycle_ratio", "user_items")
WINDOWS = (30, 90)  # recent-window features: orders with the item, the customer's orders
WINDOW_FEATURES = tuple(f"{what}{d}" for d in WINDOWS for what in (
    "orders", "order_share", "user_orders"))


def _recent(inter: Interactions, days: int) -> Array:
    r = inter.last_seen.copy()
    r.data = (r.data <= days).astype(np.float32)
    return np.asarray(r.sum(axis=0)).ravel()


def _windowed(lines: pl.DataFrame, cutoff: datetime, inter: Interactions, days: int
              ) -> tuple[Array, Array]:
    """(orders with the item, the customer's orders) in the ``days`` before the cut-off."""
    recent = lines.filter(pl.col("at") < cutoff, pl.col("at") >= cutoff - timedelta(days=days),
                          pl.col("customer_id").is_not_null(), pl.col("quantity") > 0)
    ui = {u: n for n, u in enumerate(inter.users)}
    ii = {s: n for n, s in enumerate(inter.items)}
    pair = recent.group_by("customer_id", "sku").agg(pl.col("order_id").n_unique().alias("n"))
    pair = pair.filter(pl.col("customer_id").is_in(inter.users), pl.col("sku").is_in(inter.items))
    out = np.zeros((len(inter.users), len(inter.items)), dtype=np.float32)
    rows = pair["customer_id"].replace_strict(ui, return_dtype=pl.Int64).to_numpy()
    cols = pair["sku"].replace_strict(ii, return_dtype=pl.Int64).to_numpy()
    out[rows, cols] = pair["n"].to_numpy()
    per_user = recent.group_by("customer_id").agg(pl.col("order_id").n_unique().alias("n"))
    users = np.zeros(len(inter.users), dtype=np.float32)
    for u, n in per_user.iter_rows():
        if u in ui:
            users[ui[u]] = n
    return out, users


def candidate_features(lines: pl.DataFrame, cutoff: datetime, items: list[str] | None = None,
                       candidates: int = 100, windows: bool = True
                       ) -> tuple[Interactions, Array, Array, Array]:
    """Interactions at ``cutoff`` and, per candidate pair, (user row, item column, features)."""
    inter = build(lines, cutoff, items)
    o = inter.orders.toarray()
    d = inter.last_seen.toarray()
    u = inter.matrix.toarray()
    rows = np.arange(len(inter.users))
    ease = EASE().fit(inter, baskets(lines, cutoff, inter.items)).scores(rows)
    p30, p90 = _recent(inter, 30), _recent(inter, 90)
    buyers = (o > 0).sum(axis=0)
    rebuy = ((o >= 2).sum(axis=0) + 1.0) / (buyers + 2.0)
    per_user = (lines.filter(pl.col("at") < cutoff, pl.col("customer_id").is_not_null())
                .group_by("customer_id")
                .agg(pl.col("order_id").n_unique().alias("n"), pl.col("at").max().alias("last"),
                     pl.col("at").min().alias("first")))
    info = {r[0]: r[1:] for r in per_user.iter_rows()}
    n_orders = np.array([info[x][0] for x in inter.users], dtype=float)
    since = np.array([(cutoff - info[x][1]).days for x in inter.users], dtype=float)
    span = np.array([(cutoff - info[x][2]).days for x in inter.users], dtype=float)
    owned = o > 0
    explore = np.where(owned, -np.inf, ease)
    k = min(candidates, max(1, len(inter.items) - 1))
    top = np.argpartition(-explore, k - 1, axis=1)[:, :k]
    cand = owned.copy()
    np.put_along_axis(cand, top, values=True, axis=1)
    ui, ii = np.nonzero(cand)
    ou = o[ui, ii]
    x = np.column_stack([
        ou, d[ui, ii], np.log1p(u[ui, ii]), ou / n_orders[ui], ease[ui, ii], p30[ii], p90[ii],
        p30[ii] / (p90[ii] + 1.0), rebuy[ii], n_orders[ui], since[ui], span[ui],
        owned[ui, ii].astype(float), d[ui, ii] / (span[ui] / np.maximum(ou, 1.0) + 1.0),
        owned.sum(axis=1)[ui]]).astype(np.float32)
    if windows:
        extra = []
        for days in WINDOWS:
            ow, uw = _windowed(lines, cutoff, inter, days)
            extra += [ow[ui, ii], ow[ui, ii] / np.maximum(uw[ui], 1.0), uw[ui]]
        x = np.column_stack([x, *extra]).astype(np.float32)
    return inter, ui, ii, x


class LearnedRanker:
    """LambdaRank on candidates; trained on ``cutoffs`` earlier cut-offs before ``cutoff``."""

    name = "ranker"

    def __init__(self, lines: pl.DataFrame, cutoff: datetime, cutoffs: int = 3,
                 step_days: int = 30, horizon_days: int = 30, candidates: int = 100,
                 n_estimators: int = 200, n_jobs: int = 1, random_state: int = 0,
                 windows: bool = True) -> None:
        self.lines = lines
        self.cutoff = cutoff
        self.cutoffs = cutoffs
        self.step_days = step_days
        self.horizon_days = horizon_days
        self.candidates = candidates
        self.n_estimators = n_estimators
        self.n_jobs = n_jobs  # one thread: OpenMP spinning costs more than it gains here
        self.random_state = random_state
        self.windows = windows

    def fit(self, inter: Interactions, baskets_: sp.csr_matrix) -> Self:
        """Build examples at earlier cut-offs, train, then score every user at the cut-off."""
        del baskets_
        import lightgbm as lgb

        xs: list[Array] = []
        ys: list[Array] = []
        groups: list[int] = []
        for n in range(self.cutoffs):
            at = self.cutoff - timedelta(days=self.horizon_days + n * self.step_days)
            past, ui, ii, x = candidate_features(self.lines, at, candidates=self.candidates,
                                                 windows=self.windows)
            want = truth(self.lines, at, at + timedelta(days=self.horizon_days), past.users)
            y = np.array([past.items[i] in want.get(past.users[r], ()) for r, i in zip(ui, ii,
                                                                                       strict=True)],
                         dtype=float)
            xs.append(x)
            ys.append(y)
            groups.extend(int(g) for g in np.bincount(ui) if g > 0)
        model: Any = lgb.LGBMRanker(n_estimators=self.n_estimators, learning_rate=0.05,
                                    num_leaves=31, min_child_samples=50, n_jobs=self.n_jobs,
                                    random_state=self.random_state, verbose=-1)
        model.fit(np.vstack(xs), np.concatenate(ys), group=groups)
        self.model_ = model
        now, ui, ii, x = candidate_features(self.lines, self.cutoff, inter.items, self.candidates,
                                            self.windows)
        pred = model.predict(x)
        # Candidates score above every non-candidate (0), keeping their order.
        pred = pred - pred.min() + 1e-3
        index = {u: n for n, u in enumerate(now.users)}
        self.row_of_ = np.array([index.get(u, -1) for u in inter.users])
        self.scores_ = sp.csr_matrix((pred, (ui, ii)), shape=(len(now.users), len(inter.items)))
        return self

    def scores(self, rows: Array) -> Array:
        """Predicted relevance per item (0 for items that were not candidates)."""
        mapped = self.row_of_[rows]
        out = np.zeros((len(rows), self.scores_.shape[1]), dtype=np.float64)
        ok = mapped >= 0
        out[ok] = self.scores_[mapped[ok]].toarray()
        return out
