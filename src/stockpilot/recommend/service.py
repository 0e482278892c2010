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
from stockpilot.recommend.rerank import rerank

FILE = "hybrid.pkl"


@dataclass
class Trained:
    """What serving needs."""

    users: list[str]
    items: list[str]
    model: Any
    cutoff: datetime


def train(lines: pl.DataFrame, cutoff: datetime, folder: Path) -> Trained:
    """Tune weights on the month before ``cutoff``, fit on everything before it, save."""
    lf = lines_frame(lines) if "invoice_no" in lines.columns else lines
    weights, _ = tune(lf, cutoff)
    inter = build(lf, cutoff)
    model = tuned_hybrid(weights).fit(inter, baskets(lf, cutoff, inter.items))
    trained = Trained(inter.users, inter.items, model, cutoff)
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
        return pickle.load(fh)  # noqa: S301 - our own file


def for_customer(trained: Trained, customer: str, available: dict[str, int], k: int = 10,
                 mode: str = "substitute") -> list[str]:
    """Top ``k`` in-stock items for a customer (popular in-stock items when unknown)."""
    avail = np.array([available.get(i, 0) > 0 for i in trained.items])
    index = {u: n for n, u in enumerate(trained.users)}
    pop_model = trained.model.parts[2]
    if customer in index:
        scores = trained.model.scores(np.array([index[customer]]))[0]
    else:
        scores = pop_model.pop_.astype(float)
    sim = trained.model.parts[1].b_
    return [trained.items[j] for j in rerank(scores, avail, k, mode, sim)]
