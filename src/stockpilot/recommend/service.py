"""Serving: a trained model saved in the workspace, stock-aware answers per request.

``train`` fits the hybrid on a workspace's order lines (or a file's) and saves what serving
needs — item ids, the blended scores' inputs and EASE weights (the item similarity) — under
``<workspace>/models/recommend/``. ``for_customer`` scores one customer, then re-ranks against
live availability at the fulfilment location (never an unavailable item; the nearest in-stock
substitute instead). Unknown customers get popular in-stock items.
"""

from __future__ import annotations

import pickle  # our own file, written by train() in the workspace
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from stockpilot.recommend.data import baskets, build, lines_frame
from stockpilot.recommend.hybrid import tune, tuned_hybrid
from stockpilot.recommend.models import ItemKNN
from stockpilot.recommend.rerank import rerank

FILE = "hybrid.pkl"


@dataclass
class Trained:
    """What serving needs."""

    users: list[str]
    items: list[str]
    model: Any
    cutoff: datetime
    co_bought: Any = None  # items × items basket cosine (ItemKNN.sim_), for baskets


def train(lines: pl.DataFrame, cutoff: datetime, folder: Path) -> Trained:
    """Tune weights on the month before ``cutoff``, fit on everything before it, save."""
    lf = lines_frame(lines) if "invoice_no" in lines.columns else lines
    weights, _ = tune(lf, cutoff)
    inter = build(lf, cutoff)
    bask = baskets(lf, cutoff, inter.items)
    model = tuned_hybrid(weights).fit(inter, bask)
    knn = ItemKNN().fit(inter, bask)
    trained = Trained(inter.users, inter.items, model, cutoff, knn.sim_)
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / FILE).open("wb") as fh:
        pickle.dump(trained, fh)
    return trained


def load(folder: Path) -> Trained:
    """The model saved by :func:`train`."""
    from stockpilot.errors import StockpilotError

    path = folder / FILE
    if not path.exists():
        raise StockpilotError(f"no trained recommender in {folder}: run `stockpilot recommend "
                              "train` first")
    with path.open("rb") as fh:
        trained: Trained = pickle.load(fh)  # noqa: S301 - our own file
    return trained


def for_customer(trained: Trained, customer: str, available: dict[str, int], k: int = 10,
                 mode: str = "substitute") -> list[str]:
    """Top ``k`` in-stock items for a customer (popular in-stock items when unknown)."""
    avail = np.array([available.get(i, 0) > 0 for i in trained.items])
    index = _user_index(trained)
    pop_model = trained.model.parts[2]
    if customer in index:
        scores = trained.model.scores(np.array([index[customer]]))[0]
    else:
        scores = pop_model.pop_.astype(float)
    sim = trained.model.parts[1].b_
    return [trained.items[j] for j in rerank(scores, avail, k, mode, sim)]


def _user_index(trained: Trained) -> dict[str, int]:
    """Customer id → row, built once per loaded model (not per request)."""
    index: dict[str, int] | None = trained.__dict__.get("_user_index")
    if index is None:
        index = trained.__dict__["_user_index"] = {u: n for n, u in enumerate(trained.users)}
    return index


def _mask(trained: Trained, available: dict[str, int]) -> np.ndarray:
    return np.array([available.get(i, 0) > 0 for i in trained.items])


def _index(trained: Trained, skus: list[str]) -> list[int]:
    from stockpilot.errors import NotFound

    where = {s: n for n, s in enumerate(trained.items)}
    missing = [s for s in skus if s not in where]
    if missing:
        raise NotFound(f"SKU {missing[0]} is not in the trained recommender's catalogue")
    return [where[s] for s in skus]


def similar_items(trained: Trained, sku: str, available: dict[str, int], k: int = 10
                  ) -> list[str]:
    """In-stock items most like ``sku`` (EASE item weights, both directions), itself excluded."""
    (j,) = _index(trained, [sku])
    b = trained.model.parts[1].b_
    scores = np.maximum(b[j], 0.0) + np.maximum(b[:, j], 0.0)
    scores[j] = -np.inf
    return [trained.items[i] for i in rerank(scores, _mask(trained, available), k, "filter")]


def bought_together(trained: Trained, basket: list[str], available: dict[str, int],
                    k: int = 10) -> list[str]:
    """In-stock items most often in the same orders as the basket (basket cosine), not in it."""
    idx = _index(trained, basket)
    sim = trained.co_bought if trained.co_bought is not None else trained.model.parts[1].b_
    scores = np.asarray(sim[idx].sum(axis=0)).ravel().astype(float)
    scores[idx] = -np.inf
    scores[scores <= 0] = -np.inf
    avail = _mask(trained, available) & np.isfinite(scores)
    return [trained.items[i] for i in rerank(scores, avail, k, "filter")]


def popular_in_stock(trained: Trained, available: dict[str, int], k: int = 10) -> list[str]:
    """The most popular available items (for shoppers we do not know)."""
    pop = trained.model.parts[2].pop_.astype(float)
    return [trained.items[i] for i in rerank(pop, _mask(trained, available), k, "filter")]
