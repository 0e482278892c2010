"""``stockpilot simulate`` end to end: a workspace with sales history, every output file, and
every KPI of the JSON table recomputed from the trace file alone."""

from __future__ import annotations

import csv
import json
import sys
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

# the CLI runner and the independent KPI recomputation are shared with their own tests
sys.path[:0] = [str(Path(__file__).resolve().parent),
                str(Path(__file__).resolve().parents[1] / "simulate")]
from test_cli import run  # noqa: E402
from test_trace import _recompute  # noqa: E402


@pytest.mark.slow
def test_simulate_writes_kpis_trace_and_chart_that_agree(tmp_path: Path) -> None:
    ws = tmp_path / "shop"
    run("init", ws=ws)
    (tmp_path / "loc.csv").write_text("location\nW\n")
    skus = [f"S{i}" for i in range(5)]
    (tmp_path / "skus.csv").write_text("sku,name\n" + "".join(f"{s},{s}\n" for s in skus))
    rng = np.random.default_rng(2)
    d0 = date(2024, 1, 1)
    with (tmp_path / "sales.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["order_id", "sku", "location", "quantity", "occurred_at"])
        for i, s in enumerate(skus):
            for t, q in enumerate(rng.poisson(0.6 + i, 200)):
                if q:
                    w.writerow([f"o{i}-{t}", s, "W", int(q), (d0 + timedelta(days=t)).isoformat()])
    run("import", "locations", str(tmp_path / "loc.csv"), ws=ws)
    run("import", "skus", str(tmp_path / "skus.csv"), ws=ws)
    run("import", "sales", str(tmp_path / "sales.csv"), ws=ws)
    out = run("simulate", "--start", "2024-05-20", "--end", "2024-07-14", "--lead-time", "7",
              "--review", "7", "--service-level", "0.95", "--calibration-weeks", "4",
              "--json", str(tmp_path / "k.json"), "--trace", str(tmp_path / "t.csv"),
              "--chart", str(tmp_path / "c.png"), ws=ws).stdout
    assert "achieved CSL at target 95%" in out
    rows = json.loads((tmp_path / "k.json").read_text())
    assert {"ours", "ours (calibrated)", "normal", "erp_min_max", "oracle"} <= {
        r["policy"] for r in rows}
    assert (tmp_path / "c.png").stat().st_size > 1000
    trace = pl.read_csv(tmp_path / "t.csv", try_parse_dates=True,
                        schema_overrides={"sku": pl.Utf8, "location": pl.Utf8})
    for (policy, knob), part in trace.group_by("policy", "knob"):
        row = next(r for r in rows if r["policy"] == policy and r["knob"] == knob)
        for name, value in _recompute(part).items():
            assert value == pytest.approx(row[name], rel=1e-12), (policy, name)
