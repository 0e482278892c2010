"""Recommenders behind one small surface: ``fit(interactions, baskets)``, ``scores(rows)``.

Baselines first, because on retail data they are strong: global popularity over a recent
window, and personal repeat purchase (what you bought, by frequency and recency). Then
item-item cosine kNN on baskets, EASE (Steck 2019, closed form), implicit ALS (the `implicit`
library, Hu, Koren & Volinsky 2008) and a hybrid that blends normalised scores with weights
chosen on a validation month.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np
import scipy.sparse as sp

from stockpilot.recommend.data import Interactions

Array = np.ndarray


def _rownorm(s: Array) -> Array:
    """Scale each row to [0, 1] so that models can be blended."""
    hi = s.max(axis=1, keepdims=True)
    return np.asarray(np.divide(s, hi, out=np.zeros_like(s), where=hi > 0))


class Popularity:
    """Distinct recent buyers per item (last ``window_days`` before the cut-off)."""

    name = "popularity"

    def __init__(self, window_days: int = 90) -> None:
        self.window_days = window_days

    def fit(self, inter: Interactions, baskets: sp.csr_matrix) -> Self:
        """Count recent buyers."""
        del baskets
        recent = inter.last_seen.copy()
        recent.data = (recent.data <= self.window_days).astype(np.float32)
        self.pop_ = np.asarray(recent.sum(axis=0)).ravel()
        return self

    def scores(self, rows: Array) -> Array:
        """The same popularity for every user."""
        return np.tile(self.pop_, (len(rows), 1)).astype(np.float32)


class RepeatPurchase:
    """Re-buy: orders with the item × exp(−days since last / ``half_life_days``); popularity after.

    Frequency counts orders, not units: one wholesale order of 500 units is one signal.
    """

    name = "repeat"

    def __init__(self, half_life_days: float = 90.0) -> None:
        self.half_life_days = half_life_days

    def fit(self, inter: Interactions, baskets: sp.csr_matrix) -> Self:
        """Keep the user's history; popularity breaks ties and fills the list."""
        decay = inter.last_seen.copy()
        decay.data = np.exp(-decay.data / self.half_life_days)
        self.score_ = inter.orders.multiply(decay).tocsr()
        self.pop_ = Popularity().fit(inter, baskets).pop_
        return self

    def scores(self, rows: Array) -> Array:
        """History score, plus a popularity term too small to outrank any history."""
        own = self.score_[rows].toarray()
        return np.asarray(own + 1e-6 * self.pop_ / max(self.pop_.max(), 1.0))


class ItemKNN:
    """Item-item cosine similarity from baskets; a user's items vote for their neighbours."""

    name = "item_knn"

    def __init__(self, neighbours: int = 100) -> None:
        self.neighbours = neighbours

    def fit(self, inter: Interactions, baskets: sp.csr_matrix) -> Self:
        """Cosine of item columns over baskets, keeping the top neighbours per item."""
        norms = np.sqrt(np.asarray(baskets.multiply(baskets).sum(axis=0))).ravel()
        co = (baskets.T @ baskets).toarray()
        np.fill_diagonal(co, 0.0)
        sim = co / np.maximum(np.outer(norms, norms), 1e-9)
        if self.neighbours < sim.shape[1]:
            cut = np.partition(sim, -self.neighbours, axis=1)[:, -self.neighbours][:, None]
            sim[sim < cut] = 0.0
        self.sim_ = sp.csr_matrix(sim.astype(np.float32))
        self.user_ = inter.matrix.log1p().tocsr()
        return self

    def scores(self, rows: Array) -> Array:
        """Sum of similarities to the user's items."""
        return np.asarray((self.user_[rows] @ self.sim_).todense())


class EASE:
    """Embarrassingly shallow autoencoder: B = I − P·diag(1/diag(P)), P = (XᵀX + λI)⁻¹."""

    name = "ease"

    def __init__(self, l2: float = 200.0) -> None:
        self.l2 = l2

    def fit(self, inter: Interactions, baskets: sp.csr_matrix) -> Self:
        """Closed-form item weights (Steck 2019, eq. 8) on binary user histories."""
        del baskets
        x = inter.matrix.copy()
        x.data[:] = 1.0
        g = (x.T @ x).toarray().astype(np.float64)
        g[np.diag_indices_from(g)] += self.l2
        p = np.linalg.inv(g)
        b = -p / np.diag(p)
        np.fill_diagonal(b, 0.0)
        self.b_ = b.astype(np.float32)
        self.x_ = x.tocsr()
        return self

    def scores(self, rows: Array) -> Array:
        """Xᵤ·B."""
        return np.asarray(self.x_[rows] @ self.b_)


class ALS:
    """Implicit-feedback matrix factorisation (the `implicit` library)."""

    name = "als"

    def __init__(self, factors: int = 64, iterations: int = 15, regularization: float = 0.05,
                 alpha: float = 10.0, random_state: int = 0) -> None:
        self.factors = factors
        self.iterations = iterations
        self.regularization = regularization
        self.alpha = alpha
        self.random_state = random_state

    def fit(self, inter: Interactions, baskets: sp.csr_matrix) -> Self:
        """Confidence 1 + α·log(1 + units) (Hu, Koren & Volinsky 2008)."""
        del baskets
        from implicit.als import AlternatingLeastSquares

        conf = inter.matrix.log1p().multiply(self.alpha).tocsr()
        model: Any = AlternatingLeastSquares(
            factors=self.factors, iterations=self.iterations,
            regularization=self.regularization, random_state=self.random_state)
        model.fit(conf, show_progress=False)
        self.users_, self.items_ = np.asarray(model.user_factors), np.asarray(model.item_factors)
        return self

    def scores(self, rows: Array) -> Array:
        """Dot products of user and item factors."""
        return np.asarray(self.users_[rows] @ self.items_.T)


class Hybrid:
    """Weighted sum of row-normalised scores of fitted models."""

    name = "hybrid"

    def __init__(self, parts: list[Any], weights: list[float]) -> None:
        self.parts = parts
        self.weights = weights

    def fit(self, inter: Interactions, baskets: sp.csr_matrix) -> Self:
        """Fit every part."""
        for m in self.parts:
            m.fit(inter, baskets)
        return self

    def scores(self, rows: Array) -> Array:
        """Blend."""
        total = np.zeros((len(rows), 0))
        for m, w in zip(self.parts, self.weights, strict=True):
            s = w * _rownorm(m.scores(rows))
            total = s if total.size == 0 else total + s
        return total


class BPR:
    """Bayesian personalised ranking (Rendle et al. 2009) through the `implicit` library."""

    name = "bpr"

    def __init__(self, factors: int = 64, iterations: int = 100, learning_rate: float = 0.05,
                 regularization: float = 0.01, random_state: int = 0) -> None:
        self.factors = factors
        self.iterations = iterations
        self.learning_rate = learning_rate
        self.regularization = regularization
        self.random_state = random_state

    def fit(self, inter: Interactions, baskets: sp.csr_matrix) -> Self:
        """Pairwise SGD on binary user histories."""
        del baskets
        from implicit.bpr import BayesianPersonalizedRanking

        x = inter.matrix.copy().tocsr()
        x.data[:] = 1.0
        model: Any = BayesianPersonalizedRanking(
            factors=self.factors, iterations=self.iterations, learning_rate=self.learning_rate,
            regularization=self.regularization, random_state=self.random_state)
        model.fit(x, show_progress=False)
        self.users_, self.items_ = np.asarray(model.user_factors), np.asarray(model.item_factors)
        return self

    def scores(self, rows: Array) -> Array:
        """Dot products of user and item factors (the bias is one of the factors)."""
        return np.asarray(self.users_[rows] @ self.items_.T)


class ContentTFIDF:
    """Content-based: TF-IDF of product descriptions; a user is the mean of their items.

    Works for items nobody has bought yet (cold start): an item's vector needs only its text.
    ``descriptions`` maps item id → text (e.g. the catalogue's or the invoices' descriptions).
    """

    name = "content"

    def __init__(self, descriptions: dict[str, str] | None = None) -> None:
        self.descriptions = descriptions or {}

    def fit(self, inter: Interactions, baskets: sp.csr_matrix) -> Self:
        """Word and character n-gram TF-IDF (scikit-learn), L2-normalised rows."""
        del baskets
        from sklearn.feature_extraction.text import TfidfVectorizer

        texts = [self.descriptions.get(i, "") or "" for i in inter.items]
        vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=2,
                              sublinear_tf=True)
        self.item_vecs_ = vec.fit_transform(texts).astype(np.float32).tocsr()
        weights = inter.matrix.log1p().tocsr()
        self.user_vecs_ = (weights @ self.item_vecs_).tocsr()
        return self

    def similar(self, item: int) -> Array:
        """Cosine similarity of one item to every item."""
        return np.asarray((self.item_vecs_ @ self.item_vecs_[item].T).todense()).ravel()

    def scores(self, rows: Array) -> Array:
        """Cosine-like similarity of the user's profile to each item."""
        return np.asarray((self.user_vecs_[rows] @ self.item_vecs_.T).todense())
