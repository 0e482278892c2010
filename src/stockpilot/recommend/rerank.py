"""Stock-aware serving: never recommend what is unavailable; offer the nearest in-stock item.

Modes (per request, vectorised over the candidate list):
  * ``filter`` — drop unavailable items and take the next best;
  * ``substitute`` — put, in place of each unavailable item, its most similar available item
    (item-item similarity, e.g. EASE weights or basket cosine) not already listed;
  * ``boost`` — ``substitute`` after adding ``weight × overstock`` (0–1 per item, e.g. units
    above the order-up-to level or close to expiry, scaled by margin) to the scores.
"""

from __future__ import annotations

import numpy as np

Array = np.ndarray


def rerank(scores: Array, available: Array, k: int, mode: str = "substitute",
           similarity: Array | None = None, overstock: Array | None = None,
           weight: float = 0.0) -> list[int]:
    """Item indices to show, best first; every one of them available."""
    s = scores.astype(np.float64, copy=True)
    if mode == "boost" and overstock is not None:
        s = s + weight * overstock * (s.max() if s.max() > 0 else 1.0)
    order = np.argsort(-s)
    if mode == "filter" or similarity is None:
        return [int(i) for i in order if available[i]][:k]
    out: list[int] = []
    taken = np.zeros(len(s), dtype=bool)
    for i in order:
        if len(out) == k:
            break
        if available[i] and not taken[i]:
            out.append(int(i))
            taken[i] = True
            continue
        if available[i]:
            continue
        sim = np.where(available & ~taken, similarity[i], -np.inf)
        j = int(np.argmax(sim))
        if np.isfinite(sim[j]) and sim[j] > 0:
            out.append(j)
            taken[j] = True
    return out
