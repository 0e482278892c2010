"""Recommenders on the vendored real sample: metrics by hand, models, stock-aware re-ranking."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from stockpilot.ingest.online_retail import read_invoices
from stockpilot.ingest.online_retail_import import split_lines
from stockpilot.recommend import models as m
from stockpilot.recommend.evaluate import evaluate, metrics, top_k
from stockpilot.recommend.rerank import rerank

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample" / "online_retail_top300.csv.gz"


@pytest.fixture(scope="module")
def lines():
    kept, _, _ = split_lines(read_invoices(SAMPLE))
    return kept


def test_metrics_by_hand():
    got = metrics([["a", "x", "b"]], [{"a", "b"}], k=3)
    assert got["precision"] == pytest.approx(2 / 3) and got["recall"] == 1.0
    dcg = 1 + 1 / np.log2(4)
    assert got["ndcg"] == pytest.approx(dcg / (1 + 1 / np.log2(3)))
    assert got["map"] == pytest.approx((1 + 2 / 3) / 2)


def test_top_k_respects_exclusions():
    s = np.array([[0.9, 0.8, 0.1, 0.5]])
    assert top_k(s, 2).tolist() == [[0, 1]]
    assert top_k(s, 2, np.array([[True, False, False, False]])).tolist() == [[1, 3]]


def test_models_rank_on_real_sample(lines):
    rows = evaluate(lines, datetime(2011, 9, 1), datetime(2011, 10, 1),
                    {"popularity": m.Popularity, "repeat": m.RepeatPurchase,
                     "ease": m.EASE, "item_knn": m.ItemKNN})
    ndcg = {(r["model"], r["items"]): r["ndcg"] for r in rows}
    assert ndcg[("repeat", "all")] > ndcg[("popularity", "all")] > 0
    assert ndcg[("ease", "new")] > ndcg[("popularity", "new")]
    assert all(0 <= r["coverage"] <= 1 for r in rows)


def test_rerank_never_shows_unavailable_and_substitutes_similar():
    scores = np.array([0.9, 0.8, 0.7, 0.1, 0.05])
    available = np.array([False, True, True, True, True])
    sim = np.zeros((5, 5))
    sim[0, 4] = 0.9  # item 4 is item 0's closest in-stock twin
    assert rerank(scores, available, 3, "filter") == [1, 2, 3]
    assert rerank(scores, available, 3, "substitute", sim) == [4, 1, 2]
    boosted = rerank(scores, available, 2, "boost", sim, overstock=np.array([0, 0, 0, 1.0, 0]),
                     weight=2.0)
    assert boosted[0] == 3 and all(available[i] for i in boosted)


def test_trained_model_serves_only_available_items(lines, tmp_path):
    from stockpilot.recommend.service import for_customer, load, train

    trained = train(lines, datetime(2011, 9, 1), tmp_path)
    again = load(tmp_path)
    assert again.items == trained.items
    customer = trained.users[0]
    everything = {i: 10 for i in trained.items}
    first = for_customer(again, customer, everything, k=5)
    assert len(first) == 5
    without = {**everything, first[0]: 0, first[1]: 0}
    second = for_customer(again, customer, without, k=5)
    assert first[0] not in second and first[1] not in second and len(second) == 5
    assert all(without[i] > 0 for i in for_customer(again, "no-such-customer", without, k=5))


def test_new_models_beat_popularity_on_new_items(lines):
    from stockpilot.recommend.data import descriptions
    from stockpilot.recommend.data import lines_frame as lf
    from stockpilot.recommend.ranker import LearnedRanker

    texts = descriptions(lines)
    assert texts["85123A"].startswith("WHITE HANGING HEART")
    cut = datetime(2011, 9, 1)
    rows = evaluate(lines, cut, datetime(2011, 10, 1),
                    {"popularity": m.Popularity, "repeat": m.RepeatPurchase, "bpr": m.BPR,
                     "content": lambda: m.ContentTFIDF(texts),
                     "ranker": lambda: LearnedRanker(lf(lines), cut, cutoffs=2, candidates=30,
                                                     n_estimators=50)})
    ndcg = {(r["model"], r["items"]): r["ndcg"] for r in rows}
    for name in ("bpr", "content", "ranker"):
        assert ndcg[(name, "all")] > ndcg[("popularity", "all")], name
    # The ranker learns from repeat features, so it must not fall far below repeat purchase.
    assert ndcg[("ranker", "all")] > 0.9 * ndcg[("repeat", "all")]


def test_content_model_finds_textual_twins():
    from stockpilot.recommend.data import Interactions

    items = ["A", "B", "C", "D"]
    texts = {"A": "RED RETROSPOT MUG", "B": "RED RETROSPOT CUP", "C": "GARDEN KNEELING PAD",
             "D": "GARDEN KNEELING MAT"}
    import scipy.sparse as sp

    x = sp.csr_matrix(np.array([[1.0, 0, 0, 0], [0, 0, 1.0, 0]], dtype=np.float32))
    inter = Interactions(["u1", "u2"], items, x, x.copy(), x.copy())
    model = m.ContentTFIDF(texts).fit(inter, sp.csr_matrix((0, 4)))
    s = model.scores(np.array([0, 1]))
    assert s[0, 1] > s[0, 2] and s[1, 3] > s[1, 1]
    sim = model.similar(0)
    assert int(np.argsort(-sim)[1]) == 1


def test_neural_embedding_learns_on_real_sample(lines):
    pytest.importorskip("torch")
    from stockpilot.recommend.neural import NeuralEmbedding

    rows = evaluate(lines, datetime(2011, 9, 1), datetime(2011, 10, 1),
                    {"popularity": m.Popularity,
                     "neural": lambda: NeuralEmbedding(dim=32, epochs=4)})
    ndcg = {(r["model"], r["items"]): r["ndcg"] for r in rows}
    assert ndcg[("neural", "all")] > ndcg[("popularity", "all")]


def test_service_answers_only_with_available_items(lines, tmp_path):
    from stockpilot.errors import NotFound
    from stockpilot.recommend.service import bought_together, popular_in_stock, similar_items, train

    trained = train(lines, datetime(2011, 9, 1), tmp_path)
    everything = {i: 5 for i in trained.items}
    sku = "85123A"
    sim = similar_items(trained, sku, everything, k=5)
    assert len(sim) == 5 and sku not in sim
    gone = {**everything, sim[0]: 0}
    assert sim[0] not in similar_items(trained, sku, gone, k=5)
    together = bought_together(trained, [sku, sim[0]], gone, k=5)
    assert together and sku not in together and sim[0] not in together
    assert all(gone[i] > 0 for i in together)
    pop = popular_in_stock(trained, gone, k=10)
    assert len(pop) == 10 and all(gone[i] > 0 for i in pop)
    with pytest.raises(NotFound, match="NOPE"):
        similar_items(trained, "NOPE", everything)
