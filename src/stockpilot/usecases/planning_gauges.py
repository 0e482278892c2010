"""The planning gauges of ``/metrics``, from the source of truth at scrape time.

The planning numbers are the dashboard's KPIs — :func:`stockpilot.web.kpis.overview`, one
definition, handed in by the edge that serves ``/metrics`` (a use case imports no edge) — and
the last pipeline run's age and status come from its record
(:func:`stockpilot.usecases.pipeline_runs.last_run`). Nothing here is a second definition.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from stockpilot.store.uow import UnitOfWork
from stockpilot.usecases import pipeline_runs

#: gauge name (without the ``stockpilot_`` prefix) → the dashboard KPI it reports
FROM_KPIS = {"planning_skus_below_reorder_point": "below_rop",
             "planning_projected_stockouts": "stockouts",
             "planning_stock_value": "stock_value",
             "planning_open_alerts": "alerts",
             "planning_fill_rate_28d": "fill_rate"}


def planning_gauges(uow: UnitOfWork, kpis: Mapping[str, Any],
                    now: datetime | None = None) -> dict[str, float | None]:
    """Gauge values; ``None`` where there is nothing to measure yet (no plan, no run)."""
    out: dict[str, float | None] = {
        name: _number(kpis.get(kpi)) for name, kpi in FROM_KPIS.items()}
    last = pipeline_runs.last_run(uow)
    if last is None:
        out["pipeline_last_run_age_seconds"] = out["pipeline_last_run_succeeded"] = None
        return out
    ended = last["finished_at"] or last["started_at"]
    ended = ended if ended.tzinfo else ended.replace(tzinfo=UTC)
    out["pipeline_last_run_age_seconds"] = ((now or datetime.now(UTC)) - ended).total_seconds()
    out["pipeline_last_run_succeeded"] = 1.0 if last["status"] == "succeeded" else 0.0
    return out


def _number(kpi: Any) -> float | None:
    value = kpi.get("value") if isinstance(kpi, Mapping) else kpi
    return None if value is None else float(value)
