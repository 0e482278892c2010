"""Top-k metrics on a temporal split: precision, recall, NDCG, MAP at k, coverage, stock-outs."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

import numpy as np
import polars as pl

from stockpilot.recommend.data import baskets, build, lines_frame, truth


def top_k(scores: np.ndarray, k: int, exclude: np.ndarray | None = None) -> np.ndarray:
    """Indices of the ``k`` best items per row (``exclude`` mask rows × items set to −inf)."""
    s = scores.astype(np.float64, copy=True)
    if exclude is not None:
        s[exclude] = -np.inf
    idx = np.argpartition(-s, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(s, idx, axis=1), axis=1)
    return np.take_along_axis(idx, order, axis=1)


def metrics(recs: list[list[str]], wanted: list[set[str]], k: int) -> dict[str, float]:
    """Mean precision@k, recall@k, NDCG@k and MAP@k over users with something wanted."""
    p, r, n, m = [], [], [], []
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    for rec, want in zip(recs, wanted, strict=True):
        if not want:
            continue
        hits = np.array([1.0 if i in want else 0.0 for i in rec[:k]])
        p.append(hits.sum() / k)
        r.append(hits.sum() / len(want))
        ideal = discount[: min(len(want), k)].sum()
        n.append(float((hits * discount[: len(hits)]).sum() / ideal))
        prec_at = np.cumsum(hits) / np.arange(1, len(hits) + 1)
        m.append(float((prec_at * hits).sum() / min(len(want), k)))
    return {"precision": float(np.mean(p)), "recall": float(np.mean(r)),
            "ndcg": float(np.mean(n)), "map": float(np.mean(m)), "users": float(len(p))}


def evaluate(lines: pl.DataFrame, cutoff: datetime, end: datetime,
             models: dict[str, Callable[[], object]], k: int = 10,
             unavailable: set[str] | None = None) -> list[dict[str, object]]:
    """Train each model on lines before ``cutoff``; score purchases in ``[cutoff, end)``.

    Reported for all items and for items new to each customer (their past items excluded from
    both the list and the truth); ``stockout_share`` is the share of recommended items in
    ``unavailable``.
    """
    lf = lines_frame(lines) if "invoice_no" in lines.columns else lines
    inter = build(lf, cutoff)
    bask = baskets(lf, cutoff, inter.items)
    want = truth(lf, cutoff, end, inter.users)
    users = [u for u in inter.users if u in want]
    rows = np.array([inter.user_index()[u] for u in users])
    seen = inter.matrix[rows].toarray() > 0
    rows_out: list[dict[str, object]] = []
    for name, factory in models.items():
        started = time.perf_counter()
        model = factory().fit(inter, bask)  # type: ignore[attr-defined]
        fit_s = time.perf_counter() - started
        scores = model.scores(rows)
        for mode, mask in (("all", None), ("new", seen)):
            idx = top_k(scores, k, mask)
            recs = [[inter.items[j] for j in r] for r in idx]
            truth_sets = [want[u] - ({inter.items[j] for j in np.flatnonzero(seen[i])}
                                     if mode == "new" else set())
                          for i, u in enumerate(users)]
            out = metrics(recs, truth_sets, k)
            flat = {s for r in recs for s in r}
            out["coverage"] = len(flat) / len(inter.items)
            out["stockout_share"] = (sum(s in (unavailable or set()) for r in recs for s in r)
                                     / max(1, sum(len(r) for r in recs)))
            rows_out.append({"model": name, "items": mode, **out, "fit_s": fit_s})
    return rows_out
