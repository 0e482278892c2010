"""Tables of the nightly pipeline: its steps' records and the scheduler's job locks.

A pipeline run is a ``job_runs`` row (job ``pipeline``, :mod:`stockpilot.store.schema_runs`):
the one run record. Each of its named steps is a ``pipeline_steps`` row — when it ran, how it
ended, the rows it touched and the forecast and plan runs it produced — so a failed step can be
retried without redoing the ones before it. ``job_locks`` keeps two schedulers on SQLite from
running one job at once (PostgreSQL uses an advisory lock instead).
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Index, Integer, String, Table, Text

from stockpilot.store.schema import BigId, Tz, metadata

pipeline_steps = Table(
    "pipeline_steps",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("run_id", BigId, ForeignKey("job_runs.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("step", String(32), nullable=False),
    # pending | running | succeeded | failed | skipped
    Column("status", String(16), nullable=False),
    Column("started_at", Tz),
    Column("finished_at", Tz),
    Column("attempts", Integer, nullable=False, default=0),
    Column("rows", BigInteger),
    Column("forecast_run_id", String(64)),
    Column("plan_run_id", String(64)),
    Column("detail", JSON),
    Column("error", Text),
    Index("ux_pipeline_steps_run_step", "run_id", "step", unique=True),
)

# One row per job name while a scheduler holds it on SQLite; a holder that died stops renewing
# ``expires_at`` (its heartbeat) and the lock can be taken over after it.
job_locks = Table(
    "job_locks",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(128), nullable=False),
    Column("acquired_at", Tz, nullable=False),
    Column("expires_at", Tz, nullable=False),
)
