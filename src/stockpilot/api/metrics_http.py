"""``/metrics`` for the API: request counts and latencies per route, planning gauges at scrape.

Requests are labelled by the route's *template* (``/stock/{sku}``), never the raw path, so a
scan of SKUs cannot blow up the series count; a path no route matched is ``unmatched``. The
planning gauges are set from :func:`stockpilot.usecases.planning_gauges.planning_gauges` on
each scrape (the dashboard's KPIs, memoised by it for a few seconds), so ``/metrics`` always
shows what the database says — not what the last ``alerts check`` left in this process.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from prometheus_client import Counter, Gauge, Histogram

from stockpilot import metrics

REQUESTS = Counter("stockpilot_http_requests_total", "API and dashboard requests",
                   ["method", "route", "status"], registry=metrics.REGISTRY)
LATENCY = Histogram("stockpilot_http_request_duration_seconds", "Time to answer a request",
                    ["method", "route"], registry=metrics.REGISTRY,
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
_NEW = {
    "planning_stock_value": "Σ on hand × unit cost now (the dashboard's stock value)",
    "planning_open_alerts": "Open or acknowledged alerts",
    "pipeline_last_run_age_seconds": "Seconds since the last pipeline run ended",
    "pipeline_last_run_succeeded": "1 when the last pipeline run succeeded, 0 when it failed",
}
GAUGES: dict[str, Gauge] = {
    "planning_skus_below_reorder_point": metrics.BELOW_REORDER,
    "planning_projected_stockouts": metrics.PROJECTED_STOCKOUTS,
    "planning_fill_rate_28d": metrics.FILL_RATE_28D,
    **{name: Gauge(f"stockpilot_{name}", text, registry=metrics.REGISTRY)
       for name, text in _NEW.items()}}


def install(app: FastAPI) -> None:
    """Count and time every request of ``app`` by method, route template and status."""

    @app.middleware("http")
    async def observe(request: Request,
                      call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        start = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            route = request.scope.get("route")
            name = getattr(route, "path", None) or "unmatched"
            LATENCY.labels(request.method, name).observe(time.perf_counter() - start)
            REQUESTS.labels(request.method, name, str(status)).inc()


def refresh_planning_gauges(app: Any) -> None:
    """Set the planning gauges from the database and the artifact store, now."""
    from stockpilot.store.uow import reading
    from stockpilot.usecases.actor import SYSTEM
    from stockpilot.usecases.planning_gauges import planning_gauges
    from stockpilot.web.kpis import overview

    web = app.state.stockpilot_web
    kpis = overview(web.src, SYSTEM)
    with reading(web.src.engine) as uow:
        values = planning_gauges(uow, kpis)
    for name, value in values.items():
        # a gauge with nothing to measure reads NaN (Prometheus' "no value"), not a stale number
        GAUGES[name].set(float("nan") if value is None else value)
