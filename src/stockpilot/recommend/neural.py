"""A neural user/item embedding recommender (PyTorch, the optional ``deep`` extra).

User and item embeddings plus an item bias, trained with full softmax over the catalogue on
(user, item) purchase pairs weighted by log units — a retail catalogue of a few thousand items
makes the exact softmax cheap, so no negative sampling is needed. Scores are dot products.
Install with ``pip install 'stockpilot[deep]'``; without torch, constructing the model raises
a clear error.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np
import scipy.sparse as sp

from stockpilot.errors import StockpilotError
from stockpilot.recommend.data import Interactions

Array = np.ndarray


def _torch() -> Any:
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise StockpilotError("the neural recommender needs PyTorch: "
                              "pip install 'stockpilot[deep]'") from exc
    return torch


class NeuralEmbedding:
    """Embedding dot-product model trained with softmax cross-entropy (CPU)."""

    name = "neural"

    def __init__(self, dim: int = 64, epochs: int = 20, batch_size: int = 2048,
                 lr: float = 0.01, weight_decay: float = 1e-5, seed: int = 0) -> None:
        self.dim = dim
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.seed = seed
        _torch()

    def fit(self, inter: Interactions, baskets: sp.csr_matrix) -> Self:
        """Adam over shuffled (user, item) pairs, each weighted by log(1 + units)."""
        del baskets
        torch = _torch()
        torch.manual_seed(self.seed)
        coo = inter.matrix.tocoo()
        users = torch.as_tensor(coo.row, dtype=torch.long)
        items = torch.as_tensor(coo.col, dtype=torch.long)
        weight = torch.as_tensor(np.log1p(coo.data), dtype=torch.float32)
        n_users, n_items = inter.matrix.shape
        u_emb = torch.nn.Embedding(n_users, self.dim)
        i_emb = torch.nn.Embedding(n_items, self.dim)
        bias = torch.nn.Parameter(torch.zeros(n_items))
        for e in (u_emb, i_emb):
            torch.nn.init.normal_(e.weight, std=0.05)
        params = [*u_emb.parameters(), *i_emb.parameters(), bias]
        opt = torch.optim.Adam(params, lr=self.lr, weight_decay=self.weight_decay)
        gen = torch.Generator().manual_seed(self.seed)
        for _ in range(self.epochs):
            order = torch.randperm(len(users), generator=gen)
            for start in range(0, len(order), self.batch_size):
                b = order[start:start + self.batch_size]
                logits = u_emb(users[b]) @ i_emb.weight.T + bias
                loss = torch.nn.functional.cross_entropy(logits, items[b], reduction="none")
                loss = (loss * weight[b]).sum() / weight[b].sum()
                opt.zero_grad()
                loss.backward()
                opt.step()
        with torch.no_grad():
            self.users_ = u_emb.weight.numpy().copy()
            self.items_ = i_emb.weight.numpy().copy()
            self.bias_ = bias.numpy().copy()
        return self

    def scores(self, rows: Array) -> Array:
        """Logits per item."""
        out: Array = self.users_[rows] @ self.items_.T + self.bias_
        return out
