"""Imports are atomic across the database and the Parquet history (issue 17 item 8).

Before: ``import online-retail`` killed at 95% left order lines and SKUs committed with no
history; ``import m5`` killed midway left history parts and no catalogue. Now history is
staged, the database commit records the stage, and the next run finishes or undoes it.
"""

from __future__ import annotations

import gzip
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import func, select

from stockpilot.store import schema as t
from stockpilot.store import staging
from stockpilot.store.db import make_engine
from stockpilot.store.history import HistoryStore
from stockpilot.store.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample" / "online_retail_top300.csv.gz"
SCRIPT = """
import sys
from pathlib import Path
from stockpilot.ingest.online_retail_import import import_online_retail
from stockpilot.store.db import make_engine
from stockpilot.store.history import HistoryStore
ws = Path(sys.argv[1])
import_online_retail(make_engine(f"sqlite:///{ws / 'stockpilot.db'}"), Path(sys.argv[2]),
                     HistoryStore(ws / "history"))
"""


def _state(ws: Path) -> tuple[int, int, bool, bool]:
    """(SKUs, order lines, history part present, stage left) after the next run's recovery."""
    engine = make_engine(f"sqlite:///{ws / 'stockpilot.db'}")
    history = HistoryStore(ws / "history")
    staging.recover(history, engine)
    with engine.connect() as conn:
        skus = conn.execute(select(func.count()).select_from(t.skus)).scalar_one()
        lines = conn.execute(select(func.count()).select_from(t.order_lines)).scalar_one()
    engine.dispose()
    stage_left = any((ws / "history" / staging.STAGING).glob("*"))
    return skus, lines, history.path("daily", "online_retail").exists(), stage_left


def _small_sample(tmp_path: Path, n_lines: int = 20_000) -> Path:
    with gzip.open(SAMPLE, "rt", encoding="utf-8") as fh:
        head = [next(fh) for _ in range(n_lines)]
    path = tmp_path / "or.csv"
    path.write_text("".join(head), encoding="utf-8")
    return path


def _run(ws: Path, sample: Path, kill_after: float | None) -> float:
    """Import ``sample`` into a fresh workspace in a subprocess, SIGKILLed after a delay."""
    ws.mkdir()
    upgrade(make_engine(f"sqlite:///{ws / 'stockpilot.db'}"))
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(ws), str(sample)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    while proc.poll() is None and (kill_after is None or time.monotonic() - t0 < kill_after):
        time.sleep(0.01)
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    _, err = proc.communicate(timeout=120)
    if kill_after is None:
        assert proc.returncode == 0, err.decode()[-2000:]
    return time.monotonic() - t0


@pytest.mark.slow
def test_kill_nine_at_random_points_leaves_nothing_or_everything(tmp_path):
    sample = _small_sample(tmp_path)
    rng = random.Random(8)
    full = _run(tmp_path / "full", sample, None)  # uninterrupted: how long a whole run takes
    assert _state(tmp_path / "full")[2]
    outcomes = []
    for trial in range(6):
        # kill points spread over the run: from loading the file to after the commit
        delay = rng.uniform(0.3 * full, 1.05 * full)
        ws = tmp_path / f"ws{trial}"
        _run(ws, sample, delay)
        skus, lines, history, stage_left = _state(ws)
        assert not stage_left, trial
        nothing = (skus, lines, history) == (0, 0, False)
        everything = skus > 0 and lines > 0 and history
        assert nothing or everything, (trial, delay, full, skus, lines, history)
        outcomes.append("everything" if everything else "nothing")
    assert set(outcomes) == {"nothing", "everything"}, outcomes  # both sides of the commit


def test_a_stage_recorded_in_a_commit_is_published_by_recovery(tmp_path, sqlite_engine):
    history = HistoryStore(tmp_path / "h")
    stage = staging.Stage(history, "test")
    stage.write("daily", "x", pl.DataFrame({"sku": ["A"], "units": [1]}))
    with sqlite_engine.begin() as conn:
        stage.record(conn)
    # killed here: committed, not published
    assert not history.path("daily", "x").exists()
    assert staging.recover(history, sqlite_engine) == [stage.stage_id]
    assert history.read("daily", "x")["units"].to_list() == [1]
    assert not stage.folder.exists()


def test_a_stage_without_its_commit_is_thrown_away(tmp_path, sqlite_engine):
    history = HistoryStore(tmp_path / "h")
    history.write("daily", "x", pl.DataFrame({"sku": ["A"], "units": [7]}))
    stage = staging.Stage(history, "test")
    stage.write("daily", "x", pl.DataFrame({"sku": ["A"], "units": [1]}))
    # killed here: staged, the database never committed
    assert staging.recover(history, sqlite_engine) == []
    assert history.read("daily", "x")["units"].to_list() == [7]  # the old part stands
    assert not stage.folder.exists()
