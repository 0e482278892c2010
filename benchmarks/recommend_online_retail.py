"""Recommenders on UCI Online Retail: accuracy side by side, training time, serving latency.

    python benchmarks/recommend_online_retail.py [--data ../shared/data] [--cutoff 2011-09-01]

Train on rows before the cut-off, evaluate each customer's (seen before the cut-off) net
purchases in the following 30 days, top 10, all items and items new to the customer. Serving:
one request = the hybrid's scores for one customer + stock-aware re-ranking (substitute mode,
EASE weights as similarity) against an availability mask in which a seeded 15% of the
catalogue is out of stock (a stand-in for live positions); 2,000 requests in process.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import machine
from stockpilot.ingest.online_retail import read_invoices
from stockpilot.ingest.online_retail_import import split_lines
from stockpilot.recommend.data import baskets, build, lines_frame
from stockpilot.recommend.evaluate import evaluate
from stockpilot.recommend.hybrid import tune, tuned_hybrid, zoo
from stockpilot.recommend.rerank import rerank

ROOT = Path(__file__).resolve().parents[1]


def print_rerank_cost(kept, cutoff, inter, hybrid, avail, sim, rng) -> None:  # type: ignore[no-untyped-def]
    """NDCG@10 (all items) of the hybrid per re-ranking mode, and the overstock it exposes."""
    from stockpilot.recommend.data import truth
    from stockpilot.recommend.evaluate import metrics

    want = truth(lines_frame(kept), cutoff, cutoff + timedelta(days=30), inter.users)
    users = [u for u in inter.users if u in want]
    rows = np.array([inter.user_index()[u] for u in users])
    scores = hybrid.scores(rows)
    overstock = np.where(avail, rng.random(len(inter.items)) < 0.10, False).astype(float)
    print("\n| re-ranking | NDCG@10 | P@10 | share out of stock | overstocked slots |")
    print("|---|---|---|---|---|")
    for mode, kw in (("none", {}), ("filter", {}), ("substitute", {}),
                     ("boost 0.2", {"overstock": overstock, "weight": 0.2}),
                     ("boost 0.5", {"overstock": overstock, "weight": 0.5})):
        recs = []
        for s in scores:
            if mode == "none":
                idx = list(np.argsort(-s)[:10])
            else:
                idx = rerank(s, avail, 10, mode.split()[0], sim, **kw)
            recs.append(idx)
        names = [[inter.items[j] for j in r] for r in recs]
        m = metrics(names, [want[u] for u in users], 10)
        out = np.mean([not avail[j] for r in recs for j in r])
        over = np.mean([overstock[j] for r in recs for j in r])
        print(f"| {mode} | {m['ndcg']:.4f} | {m['precision']:.4f} | {out:.3f} | {over:.3f} |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--cutoff", default="2011-09-01")
    args = ap.parse_args()
    cutoff = datetime.fromisoformat(args.cutoff)
    kept, _, _ = split_lines(read_invoices(args.data / "online_retail" / "online_retail.csv.gz"))
    t0 = time.perf_counter()
    weights, val = tune(kept, cutoff)
    tune_s = time.perf_counter() - t0
    lf = lines_frame(kept)
    inter = build(lf, cutoff)
    bask = baskets(lf, cutoff, inter.items)
    factories = zoo(kept, cutoff, weights)
    rng = np.random.default_rng(15)
    unavailable = set(np.array(inter.items)[rng.random(len(inter.items)) < 0.15])
    rows = evaluate(kept, cutoff, cutoff + timedelta(days=30), factories, 10, unavailable)
    fit_s = {str(r["model"]): float(r["fit_s"]) for r in rows}  # type: ignore[arg-type]
    print(f"# recommenders on Online Retail, cut-off {args.cutoff} — {machine()}")
    print(f"hybrid weights chosen on the previous 30 days: {weights} (validation NDCG {val:.4f},"
          f" {tune_s:.1f} s)\n")
    print("| model | items | P@10 | R@10 | NDCG@10 | MAP@10 | coverage | share out of stock | "
          "fit s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['model']} | {r['items']} | {r['precision']:.4f} | {r['recall']:.4f} | "
              f"{r['ndcg']:.4f} | {r['map']:.4f} | {r['coverage']:.3f} | "
              f"{r['stockout_share']:.3f} | {fit_s[r['model']]:.2f} |")
    hybrid = tuned_hybrid(weights).fit(inter, bask)
    sim = hybrid.parts[1].b_
    avail = np.array([i not in unavailable for i in inter.items])
    print_rerank_cost(kept, cutoff, inter, hybrid, avail, sim, rng)
    lat = []
    users = rng.integers(0, len(inter.users), 2000)
    for u in users:
        t0 = time.perf_counter()
        rerank(hybrid.scores(np.array([u]))[0], avail, 10, "substitute", sim)
        lat.append(time.perf_counter() - t0)
    lat_ms = np.array(lat) * 1000
    print(f"\nserving (hybrid + substitute re-ranking, in process): p50 "
          f"{np.percentile(lat_ms, 50):.2f} ms, p99 {np.percentile(lat_ms, 99):.2f} ms")
    print("training on the whole file before the cut-off: " + ", ".join(
        f"{n} {v:.1f} s" for n, v in fit_s.items()) + f"; all {len(fit_s)} models "
          f"{sum(fit_s.values()):.1f} s; peak RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    print(f"command: python benchmarks/recommend_online_retail.py --cutoff {args.cutoff}")


if __name__ == "__main__":
    main()
