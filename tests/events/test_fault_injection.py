"""A short seeded fault-injection schedule on each database (benchmarks/fault_sim.py).

Events, duplicate deliveries, in-process batches, the real ``stockpilot stream`` killed with
SIGKILL, database refusals, transient serialization failures and restarts; after every step
the books must equal the model of the processed inbox (see the module). The long schedules
run as a benchmark: ``python benchmarks/fault_sim.py --steps 400 --seeds 1,2,3``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import fault_sim  # benchmarks/ is not a package

SEED, STEPS = 2, 40


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_short_fault_schedule_keeps_the_books(db, tmp_path, request):
    if db == "postgres":
        request.getfixturevalue("pg_url")  # skips (or fails under CI) when unreachable
    counts = fault_sim.run_one(db, SEED, STEPS, tmp_path)
    assert sum(counts.values()) == STEPS
    assert counts["kill"] >= 1 and counts["refuse"] >= 1, counts  # the seed exercises both
