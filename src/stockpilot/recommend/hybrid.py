"""Choose the hybrid's blend weights on a validation month before the cut-off.

The parts are fitted once on data before ``cutoff − validation_days``; every weight combination
on the grid is scored (NDCG@k on the validation month, all items) by blending the parts'
row-normalised scores; the best weights are then refitted on everything before the cut-off.
"""

from __future__ import annotations

import importlib.util
import itertools
from collections.abc import Callable
from datetime import datetime, timedelta

import numpy as np
import polars as pl

from stockpilot.recommend.data import baskets, build, lines_frame, truth
from stockpilot.recommend.evaluate import metrics, top_k
from stockpilot.recommend.models import EASE, Hybrid, Popularity, RepeatPurchase, _rownorm

GRID = {"repeat": (1.0,), "ease": (0.0, 0.05, 0.1, 0.2, 0.4), "popularity": (0.0, 0.02, 0.05)}


def tune(lines: pl.DataFrame, cutoff: datetime, validation_days: int = 30, k: int = 10
         ) -> tuple[dict[str, float], float]:
    """Best weights on the validation month and their NDCG@k."""
    lf = lines_frame(lines) if "invoice_no" in lines.columns else lines
    start = cutoff - timedelta(days=validation_days)
    inter = build(lf, start)
    bask = baskets(lf, start, inter.items)
    want = truth(lf, start, cutoff, inter.users)
    users = [u for u in inter.users if u in want]
    rows = np.array([inter.user_index()[u] for u in users])
    parts: dict[str, RepeatPurchase | EASE | Popularity] = {
        "repeat": RepeatPurchase(), "ease": EASE(), "popularity": Popularity()}
    scores = {n: _rownorm(m.fit(inter, bask).scores(rows)) for n, m in parts.items()}
    best: tuple[float, dict[str, float]] = (-1.0, {})
    for combo in itertools.product(*GRID.values()):
        w = dict(zip(GRID, combo, strict=True))
        total = sum(w[n] * scores[n] for n in GRID)
        idx = top_k(np.asarray(total), k)
        ndcg = metrics([[inter.items[j] for j in r] for r in idx],
                       [want[u] for u in users], k)["ndcg"]
        if ndcg > best[0]:
            best = (ndcg, w)
    return best[1], best[0]


def tuned_hybrid(weights: dict[str, float]) -> Hybrid:
    """A hybrid of repeat purchase, EASE and popularity with the given weights."""
    return Hybrid([RepeatPurchase(), EASE(), Popularity()],
                  [weights["repeat"], weights["ease"], weights["popularity"]])


def zoo(lines: pl.DataFrame, cutoff: datetime, weights: dict[str, float],
        neural: bool | None = None) -> dict[str, Callable[[], object]]:
    """Every model, by name, as a factory (the neural one only when PyTorch is installed)."""
    from stockpilot.recommend import models as m
    from stockpilot.recommend.data import descriptions
    from stockpilot.recommend.ranker import LearnedRanker

    lf = lines_frame(lines) if "invoice_no" in lines.columns else lines
    texts = descriptions(lines)
    out: dict[str, Callable[[], object]] = {
        "popularity": m.Popularity, "repeat": m.RepeatPurchase, "item_knn": m.ItemKNN,
        "ease": m.EASE, "als": m.ALS, "bpr": m.BPR,
        "content": lambda: m.ContentTFIDF(texts)}
    if neural is None:
        neural = importlib.util.find_spec("torch") is not None
    if neural:
        from stockpilot.recommend.neural import NeuralEmbedding

        out["neural"] = NeuralEmbedding
    out["hybrid"] = lambda: tuned_hybrid(weights)
    out["ranker"] = lambda: LearnedRanker(lf, cutoff)
    return out
