"""Two versions of the code side by side on the same stream workload, interleaved.

    python benchmarks/stream_ab.py --baseline-src /work/main/src [--events 100000]
        [--skus 30000] [--batch 2000] [--cases ledger-pg,bare-pg,nats] [--rounds 2]

Runs ``benchmarks/events_throughput.py --json`` (this checkout's script) in a fresh process
per round and version — ``PYTHONPATH`` = the baseline's ``src`` or this checkout's — alternating
baseline, ours, baseline, ours, so a busy shared machine hurts both alike; prints each round
and the best of the rounds per version. The ``bare-pg`` rows use no stockpilot code.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import machine

HERE = Path(__file__).resolve().parent


def run(src: str, args: argparse.Namespace) -> list[list]:  # type: ignore[type-arg]
    cmd = [sys.executable, str(HERE / "events_throughput.py"), "--events", str(args.events),
           "--skus", str(args.skus), "--batch", str(args.batch), "--cases", args.cases,
           "--json"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": src})
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--baseline-src", required=True)
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--skus", type=int, default=30_000)
    ap.add_argument("--batch", type=int, default=2_000)
    ap.add_argument("--cases", default="ledger-pg,bare-pg,nats")
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    ours = str(HERE.parent / "src")
    best: dict[tuple[str, str], float] = {}
    loads = []
    for r in range(args.rounds):
        for label, src in (("baseline", args.baseline_src), ("ours", ours)):
            loads.append(os.getloadavg()[0])
            for name, _pub, rate in run(src, args):
                print(f"round {r + 1} {label:8s} {name}: {rate:,.0f} events/s", flush=True)
                best[(label, name)] = max(best.get((label, name), 0.0), rate)
    names = list(dict.fromkeys(n for _, n in best))
    print(f"\n# before/after, {args.events:,} events, {args.skus:,} SKUs, batch {args.batch:,}, "
          f"best of {args.rounds} interleaved rounds — {machine()}; 1-min load at each start: "
          + ", ".join(f"{x:.1f}" for x in loads))
    print("| path | baseline events/s | ours events/s | ours ÷ baseline |")
    print("|---|---|---|---|")
    for n in names:
        b, o = best.get(("baseline", n), 0.0), best.get(("ours", n), 0.0)
        print(f"| {n} | {b:,.0f} | {o:,.0f} | {o / b if b else float('nan'):.2f} |")
    print(f"\ncommand: python benchmarks/stream_ab.py --baseline-src {args.baseline_src} "
          f"--events {args.events} --skus {args.skus} --batch {args.batch} --cases {args.cases} "
          f"--rounds {args.rounds}")


if __name__ == "__main__":
    main()
