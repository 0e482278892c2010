"""Flink's alert candidates → alerts: overlapping windows give one alert, bad ones skipped."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from stockpilot.events.candidates import BadCandidate, finding_of, raise_from
from stockpilot.store import schema_events as te


def _cand(sku: str, start: str, units: int, rule: str = "demand_spike_1h") -> bytes:
    return json.dumps({"rule": rule, "sku": sku, "location": "ONLINE",
                       "window_start": start, "window_end": "later", "units": units,
                       "upper_bound": 12.5}).encode()


def test_a_candidate_becomes_a_finding_that_says_why():
    f = finding_of(_cand("85123A", "2011-12-01 10:00:00", 40))
    assert (f.rule, f.sku, f.location, f.severity) == ("demand_spike_1h", "85123A", "ONLINE",
                                                       "warning")
    assert "40 units" in f.message and "12.5" in f.message
    with pytest.raises(BadCandidate):
        finding_of(b'{"rule": "x"}')


def test_overlapping_windows_raise_one_alert_per_rule_and_sku(engine):
    bodies = [_cand("A", f"2011-12-01 10:{m:02d}:00", 30 + m) for m in (0, 5, 10)]
    bodies += [_cand("A", "2011-12-01 00:00:00", 90, rule="demand_spike_1d"),
               _cand("B", "2011-12-01 10:00:00", 20), b"{junk"]
    raised, bad = raise_from(engine, bodies)
    assert len(raised) == 3 and bad == 1
    again, _ = raise_from(engine, bodies[:2])  # a replay after a crash: still open, no new one
    assert again == []
    with engine.connect() as conn:
        rows = conn.execute(select(te.alerts.c.rule, te.alerts.c.sku)).all()
    assert sorted(rows) == [("demand_spike_1d", "A"), ("demand_spike_1h", "A"),
                            ("demand_spike_1h", "B")]


@pytest.mark.kafka
def test_candidates_on_a_kafka_topic_become_alerts_once(engine, kafka_url, kafka_topic):
    from stockpilot.events import candidates, kafka

    bodies = [_cand("A", f"2011-12-01 10:{m:02d}:00", 30 + m) for m in (0, 5)]
    kafka.publish(kafka_url, [(f"c{i}", b) for i, b in enumerate(bodies)], topic=kafka_topic,
                  keys=[b"A@ONLINE"] * 2)
    raised = candidates.consume(engine, kafka_url, topic=kafka_topic, idle_exit=1.5,
                                group=f"g-{kafka_topic}")
    assert len(raised) == 1
    again = candidates.consume(engine, kafka_url, topic=kafka_topic, idle_exit=1.0,
                               group=f"g-{kafka_topic}")
    assert again == []  # offsets were committed after the alert was stored


def test_stockpilot_candidates_reads_the_jobs_output_folder(tmp_path):
    import os
    import subprocess
    import sys

    ws = tmp_path / "shop"
    out = tmp_path / "out"
    out.mkdir()
    (out / "part-0-0").write_text("\n".join(
        b.decode() for b in (_cand("A", "2011-12-01 10:00:00", 40),
                             _cand("A", "2011-12-01 10:05:00", 41))) + "\n")
    (out / ".part-1.inprogress").write_text(_cand("Z", "x", 1).decode())  # not committed yet

    def run(*args: str) -> str:
        env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
        env.pop("STOCKPILOT_DB_URL", None)
        proc = subprocess.run([sys.executable, "-m", "stockpilot", *args, "-w", str(ws)],
                              capture_output=True, text=True, env=env, timeout=120,
                              check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc.stdout

    run("init")
    assert "1 alerts raised, 0 bad candidates" in run("candidates", "--from-dir", str(out))
    assert "0 alerts raised" in run("candidates", "--from-dir", str(out))  # still open
