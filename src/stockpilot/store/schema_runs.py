"""Tables of job runs: the planning job's history and stored simulation results."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Index, String, Table, Text

from stockpilot.store.schema import BigId, Tz, metadata

# One row per run of a named job (``plan``, …): when, how it ended, what it did.
job_runs = Table(
    "job_runs",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("job", String(32), nullable=False),
    Column("status", String(16), nullable=False),  # running | succeeded | failed
    Column("params", JSON, nullable=False),
    Column("summary", JSON),
    Column("error", Text),
    Column("started_at", Tz, nullable=False),
    Column("finished_at", Tz),
    Index("ix_job_runs_job_started", "job", "started_at"),
)

# A simulation run's parameters and KPI rows (one per policy and knob), kept to compare later.
simulation_runs = Table(
    "simulation_runs",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(128), nullable=False),
    Column("params", JSON, nullable=False),
    Column("rows", JSON, nullable=False),
    Column("created_at", Tz, nullable=False),
)
