"""Serving: any trained model saved in the workspace, stock-aware answers per request.

``train`` fits one of the models of :func:`stockpilot.recommend.hybrid.zoo` (the tuned hybrid,
the LightGBM ranker, EASE, ALS, …) on order lines before a cut-off and saves what serving needs
— item ids, the fitted model, an item-item similarity for substitutes and recent popularity —
as ``<workspace>/models/recommend/<model>.pkl``. :func:`recommend` is the one path from a
customer to a list: the model's scores, then the stock-aware re-ranking against live
availability (never an unavailable item). The API, the CLI, the dashboard and the offline
evaluation of a served model (:func:`evaluate_served`) all call it, so the model that is
served is the model that was evaluated. Unknown customers get popular in-stock items.
"""

from __future__ import annotations

import json
import pickle  # our own file, written by train() in the workspace
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from stockpilot.errors import NotFound, StockpilotError
from stockpilot.recommend.data import baskets, build, lines_frame, truth
from stockpilot.recommend.evaluate import metrics
from stockpilot.recommend.models import EASE, ItemKNN, Popularity
from stockpilot.recommend.rerank import rerank

DEFAULT_MODEL = "hybrid"
FILE = f"{DEFAULT_MODEL}.pkl"  # the default model's file (kept for callers that watch it)
MODES = ("substitute", "filter", "boost")


class UnknownModel(NotFound):
    """A model name that is not one of the recommenders, or not trained in this workspace."""

    title = "Unknown recommender model"


@dataclass
class Trained:
    """What serving needs: the fitted model and the id ↔ index maps."""

    users: list[str]
    items: list[str]
    model: Any
    cutoff: datetime
    co_bought: Any = None  # items × items basket cosine (ItemKNN.sim_), for baskets
    name: str = DEFAULT_MODEL
    similarity: Any = None  # items × items (dense) for substitutes; EASE weights by default
    popularity: Any = None  # recent buyers per item, for unknown customers
    fit_s: float = 0.0
    params: dict[str, Any] = field(default_factory=dict)


def path_of(folder: Path, model: str = DEFAULT_MODEL) -> Path:
    """Where the trained ``model`` is saved in ``folder``."""
    return folder / f"{model}.pkl"


def fit(lines: pl.DataFrame, cutoff: datetime, model: str = DEFAULT_MODEL,
        params: dict[str, Any] | None = None, weights: dict[str, float] | None = None
        ) -> Trained:
    """Fit ``model`` (a :func:`~stockpilot.recommend.hybrid.zoo` name) on lines before ``cutoff``.

    The hybrid's blend weights are chosen on the month before the cut-off unless ``weights``
    are given (a refresh reuses the served model's weights).
    """
    from stockpilot.recommend.hybrid import tune, zoo

    lf = lines_frame(lines) if "invoice_no" in lines.columns else lines
    started = time.perf_counter()
    if model == "hybrid" and weights is None:
        weights, _ = tune(lf, cutoff)
    factories = zoo(lines, cutoff, weights or {}, neural=model == "neural")
    if model not in factories:
        raise UnknownModel(f"unknown recommender model {model!r}; choose from "
                           f"{', '.join(factories)}")
    inter = build(lf, cutoff)
    bask = baskets(lf, cutoff, inter.items)
    # the zoo's factories are typed as returning object; every estimator has fit(inter, bask)
    est: Any = factories[model]() if not params else _with_params(factories[model](), params)
    est = est.fit(inter, bask)
    if hasattr(est, "lines"):
        est.lines = None  # the ranker keeps its scores at the cut-off, not the order lines
    knn = ItemKNN().fit(inter, bask)
    sim = est.parts[1].b_ if model == "hybrid" else EASE().fit(inter, bask).b_
    pop = Popularity().fit(inter, bask).pop_
    return Trained(inter.users, inter.items, est, cutoff, knn.sim_, model, sim, pop,
                   time.perf_counter() - started,
                   {"weights": weights} if model == "hybrid" else dict(params or {}))


def _with_params(est: Any, params: dict[str, Any]) -> Any:
    """Set constructor parameters on a fresh estimator (unknown names are refused)."""
    for key, value in params.items():
        if not hasattr(est, key) or key.endswith("_"):
            raise UnknownModel(f"model {est.name!r} has no parameter {key!r}")
        setattr(est, key, value)
    return est


def train(lines: pl.DataFrame, cutoff: datetime, folder: Path, model: str = DEFAULT_MODEL,
          params: dict[str, Any] | None = None, weights: dict[str, float] | None = None
          ) -> Trained:
    """Fit ``model`` and save it in ``folder`` (with a JSON note of when and how long)."""
    trained = fit(lines, cutoff, model, params, weights)
    save(trained, folder)
    return trained


def save(trained: Trained, folder: Path) -> None:
    """Write the model atomically (a reader never sees half a file) and its JSON note."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = path_of(folder, trained.name).with_suffix(".tmp")
    with tmp.open("wb") as fh:
        pickle.dump(trained, fh)
    tmp.replace(path_of(folder, trained.name))
    note = {"model": trained.name, "cutoff": trained.cutoff.isoformat(),
            "customers": len(trained.users), "items": len(trained.items),
            "fit_s": round(trained.fit_s, 3), "params": trained.params}
    (folder / f"{trained.name}.json").write_text(json.dumps(note, indent=2), encoding="utf-8")


def load(folder: Path, model: str = DEFAULT_MODEL) -> Trained:
    """The model saved by :func:`train` (raises :class:`UnknownModel` when there is none)."""
    path = path_of(folder, model)
    if not path.exists():
        raise UnknownModel(f"no trained recommender {model!r} in {folder}: run `stockpilot "
                           f"recommend train --model {model}` first")
    with path.open("rb") as fh:
        trained: Trained = pickle.load(fh)  # noqa: S301 - our own file
    if trained.similarity is None:  # saved before models other than the hybrid were served
        trained.similarity = trained.model.parts[1].b_
        trained.popularity = trained.model.parts[2].pop_
    return trained


def trained_models(folder: Path) -> list[str]:
    """Names of the models trained in ``folder``."""
    return sorted(p.stem for p in folder.glob("*.pkl")) if folder.exists() else []


def scores_for(trained: Trained, customer: str) -> np.ndarray:
    """The model's scores for a customer (recent popularity when the model does not know them)."""
    row = _user_index(trained).get(customer)
    if row is None:
        return np.asarray(trained.popularity, dtype=float)
    return np.asarray(trained.model.scores(np.array([row]))[0], dtype=float)


def recommend(trained: Trained, customer: str, available: dict[str, int], k: int = 10,
              mode: str = "substitute", overstock: dict[str, float] | None = None,
              weight: float = 0.0) -> list[str]:
    """Top ``k`` available items for a customer: the model's scores, then stock-aware re-ranking.

    ``mode`` is ``filter``, ``substitute`` or ``boost`` (see :mod:`~stockpilot.recommend.rerank`;
    ``boost`` adds ``weight × overstock`` with ``overstock`` 0–1 per SKU).
    """
    if mode not in MODES:
        raise StockpilotError(f"unknown re-ranking mode {mode!r}; choose from {', '.join(MODES)}")
    scores = scores_for(trained, customer)
    over = None
    if overstock:
        over = np.array([overstock.get(i, 0.0) for i in trained.items], dtype=float)
    idx = rerank(scores, _mask(trained, available), k, mode, trained.similarity, over, weight)
    return [trained.items[j] for j in idx]


def for_customer(trained: Trained, customer: str, available: dict[str, int], k: int = 10,
                 mode: str = "substitute") -> list[str]:
    """Top ``k`` in-stock items for a customer (see :func:`recommend`)."""
    return recommend(trained, customer, available, k, mode)


def evaluate_served(trained: Trained, lines: pl.DataFrame, end: datetime, k: int = 10,
                    available: dict[str, int] | None = None, mode: str = "filter"
                    ) -> dict[str, float]:
    """Offline score of the served model through :func:`recommend` itself.

    Customers known at the model's cut-off who bought something in ``[cutoff, end)``;
    ``available`` defaults to everything in stock.
    """
    lf = lines_frame(lines) if "invoice_no" in lines.columns else lines
    want = truth(lf, trained.cutoff, end, trained.users)
    stock = available if available is not None else dict.fromkeys(trained.items, 1)
    users = [u for u in trained.users if u in want]
    recs = [recommend(trained, u, stock, k, mode) for u in users]
    return metrics(recs, [want[u] for u in users], k)


def _user_index(trained: Trained) -> dict[str, int]:
    """Customer id → row, built once per loaded model (not per request)."""
    index: dict[str, int] | None = trained.__dict__.get("_user_index")
    if index is None:
        index = trained.__dict__["_user_index"] = {u: n for n, u in enumerate(trained.users)}
    return index


def _mask(trained: Trained, available: dict[str, int]) -> np.ndarray:
    return np.array([available.get(i, 0) > 0 for i in trained.items])


def _index(trained: Trained, skus: list[str]) -> list[int]:
    where = {s: n for n, s in enumerate(trained.items)}
    missing = [s for s in skus if s not in where]
    if missing:
        raise NotFound(f"SKU {missing[0]} is not in the trained recommender's catalogue")
    return [where[s] for s in skus]


def similar_items(trained: Trained, sku: str, available: dict[str, int], k: int = 10
                  ) -> list[str]:
    """In-stock items most like ``sku`` (item weights, both directions), itself excluded."""
    (j,) = _index(trained, [sku])
    b = trained.similarity
    scores = np.maximum(b[j], 0.0) + np.maximum(b[:, j], 0.0)
    scores[j] = -np.inf
    return [trained.items[i] for i in rerank(scores, _mask(trained, available), k, "filter")]


def bought_together(trained: Trained, basket: list[str], available: dict[str, int],
                    k: int = 10) -> list[str]:
    """In-stock items most often in the same orders as the basket (basket cosine), not in it."""
    idx = _index(trained, basket)
    sim = trained.co_bought if trained.co_bought is not None else trained.similarity
    scores = np.asarray(sim[idx].sum(axis=0)).ravel().astype(float)
    scores[idx] = -np.inf
    scores[scores <= 0] = -np.inf
    avail = _mask(trained, available) & np.isfinite(scores)
    return [trained.items[i] for i in rerank(scores, avail, k, "filter")]


def popular_in_stock(trained: Trained, available: dict[str, int], k: int = 10) -> list[str]:
    """The most popular available items (for shoppers we do not know)."""
    pop = np.asarray(trained.popularity, dtype=float)
    return [trained.items[i] for i in rerank(pop, _mask(trained, available), k, "filter")]
