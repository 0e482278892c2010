"""The scheduler: cron lines from [schedule], and one run of a job at a time across two
schedulers (separate engines, one database) on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.triggers.date import DateTrigger
from sqlalchemy import select, update

from stockpilot.config import Settings
from stockpilot.errors import ConfigError
from stockpilot.jobs import scheduler
from stockpilot.jobs.pipeline_steps import REGISTRY, StepResult
from stockpilot.store import schema_pipeline as tp
from stockpilot.store.db import make_engine
from stockpilot.store.history import HistoryStore
from stockpilot.store.uow import reading
from stockpilot.usecases import pipeline_runs
from stockpilot.usecases.actor import SYSTEM
from stockpilot.usecases.job_locks import job_lock
from stockpilot.usecases.paging import PageRequest


def test_schedule_lines_become_utc_cron_triggers():
    got = scheduler.triggers({"pipeline": "0 2 * * *", "alerts": "*/30 * * * *"})
    now = datetime(2026, 12, 3, 13, 40, tzinfo=UTC)
    assert got["pipeline"].get_next_fire_time(None, now) == datetime(2026, 12, 4, 2, 0,
                                                                    tzinfo=UTC)
    assert got["alerts"].get_next_fire_time(None, now) == datetime(2026, 12, 3, 14, 0,
                                                                  tzinfo=UTC)
    assert scheduler.steps_of_job("alerts") == ["alerts"]
    with pytest.raises(ConfigError, match=r"\[schedule\] pipeline = '0 25 \* \* \*'"):
        scheduler.triggers({"pipeline": "0 25 * * *"})
    with pytest.raises(ConfigError, match="'backup'"):
        scheduler.triggers({"backup": "0 2 * * *"})


def _second_engine(engine):
    """Another engine on the same database, as another process would have."""
    if engine.dialect.name == "sqlite":
        return make_engine(engine.url.render_as_string(hide_password=False))
    with engine.connect() as conn:  # the test's own schema (see conftest's pg_engine)
        path = conn.exec_driver_sql("SHOW search_path").scalar_one()
    return make_engine(engine.url.render_as_string(hide_password=False),
                       connect_args={"options": f"-csearch_path={path}"})


def test_the_lock_is_exclusive_until_released(engine):
    other = _second_engine(engine)
    try:
        with job_lock(engine, "schedule:pipeline") as first:
            assert first
            with job_lock(other, "schedule:pipeline") as second:
                assert not second
            with job_lock(other, "schedule:alerts") as unrelated:
                assert unrelated
        with job_lock(other, "schedule:pipeline") as after:
            assert after
    finally:
        other.dispose()


def test_an_expired_lock_row_is_taken_over_on_sqlite(sqlite_engine):
    with job_lock(sqlite_engine, "schedule:pipeline", ttl=timedelta(minutes=5)) as got:
        assert got
        with sqlite_engine.begin() as conn:  # the holder died: its heartbeat stopped long ago
            conn.execute(update(tp.job_locks).values(
                expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        with job_lock(sqlite_engine, "schedule:pipeline") as taken:
            assert taken
    with sqlite_engine.connect() as conn:
        assert conn.execute(select(tp.job_locks)).all() == []


def test_the_heartbeat_keeps_a_long_job_locked_on_sqlite(sqlite_engine):
    with job_lock(sqlite_engine, "schedule:pipeline", ttl=timedelta(seconds=0.6)) as got:
        assert got
        time.sleep(1.0)  # longer than the TTL: only the heartbeat keeps the row alive
        with job_lock(sqlite_engine, "schedule:pipeline") as second:
            assert not second


def test_two_schedulers_on_one_database_run_a_job_once(engine, tmp_path):
    """Both fire at the same instant; one runs (slow compaction), the other skips."""
    other = _second_engine(engine)
    history = HistoryStore(tmp_path / "history")

    def slow_compact(ctx):
        got = REGISTRY["compact"](ctx)
        time.sleep(1.5)  # still running when the other scheduler tries
        return StepResult(got.rows, detail=got.detail)

    done: list[tuple[str, int | None]] = []
    at = datetime.now(UTC) + timedelta(seconds=0.8)
    scheds = [scheduler.build(eng, history, Settings(workspace=tmp_path),
                              {"compact": DateTrigger(at)}, {"compact": slow_compact},
                              on_done=lambda job, got, i=i: done.append((str(i), got)))
              for i, eng in enumerate((engine, other))]
    try:
        for s in scheds:
            s.start()
        deadline = time.monotonic() + 15
        while len(done) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        for s in scheds:
            s.shutdown(wait=True)
        other.dispose()
    ran = [got for _, got in done if got is not None]
    assert len(done) == 2 and len(ran) == 1, done
    with reading(engine) as uow:
        runs, total = pipeline_runs.list_runs(uow, SYSTEM, PageRequest(10, 0, "-id"))
    assert total == 1 and runs[0]["id"] == ran[0] and runs[0]["status"] == "succeeded"
    assert runs[0]["params"]["trigger"] == "schedule"
