"""Choose the ranker's settings on an EARLIER split: NDCG@10 (all items) vs repeat purchase.

    python benchmarks/recommend_ranker_choice.py --cutoff 2011-08-01 "windows=False" "cutoffs=6"

Each argument is one ranker configuration (``LearnedRanker`` keyword arguments); the model is
trained before ``--cutoff`` and scored on the next 30 days, like the report split of
``recommend_production.py`` one month earlier.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import machine
from stockpilot.recommend import models as m
from stockpilot.recommend.evaluate import evaluate
from stockpilot.recommend.lines import read_order_lines
from stockpilot.recommend.ranker import LearnedRanker

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--cutoff", default="2011-08-01")
    ap.add_argument("configs", nargs="*", default=[""])
    args = ap.parse_args()
    lines = read_order_lines(args.data / "online_retail" / "online_retail.csv.gz")
    cut = datetime.fromisoformat(args.cutoff)
    variants: dict[str, object] = {"repeat": m.RepeatPurchase}
    for spec in args.configs:
        kw = {k: json.loads(v) for k, v in (p.split("=") for p in spec.split(",") if p)}
        variants[f"ranker {spec}"] = lambda kw=kw: LearnedRanker(lines, cut, **kw)
    rows = [r for r in evaluate(lines, cut, cut + timedelta(days=30), variants, 10)  # type: ignore[arg-type]
            if r["items"] == "all"]
    rep = float(rows[0]["ndcg"])
    print(f"# ranker settings on the split at {args.cutoff} — {machine()}\n")
    print("| model | NDCG@10 | × repeat | fit s |\n|---|---:|---:|---:|")
    for r in rows:
        print(f"| {r['model']} | {r['ndcg']:.4f} | {float(r['ndcg']) / rep:.3f} | "  # type: ignore[arg-type]
              f"{r['fit_s']:.0f} |")
    print("command: python benchmarks/recommend_ranker_choice.py " + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
