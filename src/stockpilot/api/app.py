"""The FastAPI application: authenticated routes over the ledger, forecasts, plans, alerts.

Every route needs an API key (``X-API-Key`` or ``Authorization: Bearer``) of at least the
route's role (viewer < planner < operator < admin); objects outside a key's locations answer
404; each key has a token-bucket rate limit (429 with ``Retry-After``). Errors are RFC 7807
``application/problem+json``. Lists are paged (``limit`` ≤ 500, ``offset``), filtered and
sorted by whitelisted fields. Every POST honours ``Idempotency-Key``.

The routers live in :mod:`stockpilot.api.routes`, one module per resource; another package
(the dashboard) adds its own with ``app.include_router(...)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI

from stockpilot import __version__
from stockpilot.api import docs_ui, guards, metrics_http, problems
from stockpilot.api.context import ApiContext
from stockpilot.api.routes import (
    alerts,
    catalogue,
    counts,
    dead_letters,
    experiments,
    feedback,
    forecasts,
    jobs,
    keys,
    leadtimes,
    network,
    orders,
    overrides,
    pipeline,
    plans,
    purchasing,
    recommendations,
    reports,
    simulations,
    stock,
    system,
    transfers,
    vmi,
    worklists,
)
from stockpilot.config import Settings
from stockpilot.store.history import HistoryStore

if TYPE_CHECKING:
    from stockpilot.store.db import Engine

ROUTERS = (system.router, catalogue.router, stock.router, transfers.router, forecasts.router,
           plans.router, purchasing.router, alerts.router, simulations.router,
           recommendations.router, feedback.router, experiments.router, jobs.router,
           reports.router, keys.router, network.router, vmi.supplier_router, vmi.shop_router,
           leadtimes.router, overrides.router, counts.router, pipeline.router,
           dead_letters.router, orders.router, worklists.router)


def create_app(engine: Engine, history: HistoryStore, workspace: Path | None = None,
               settings: Settings | None = None) -> FastAPI:
    """The API for one database and history store.

    ``workspace`` is the folder of the trained recommender and the report files (without one,
    those routes answer 404); ``settings`` sets the rate limit and the default location.
    """
    app = FastAPI(title="stockpilot", version=__version__,
                  description="Inventory planning API. Authenticate with `X-API-Key` or "
                  "`Authorization: Bearer`; errors are RFC 7807 problems.",
                  docs_url=None, redoc_url=None)  # served from vendored files: docs_ui
    app.state.api = ApiContext(engine, history, settings or Settings(), workspace)
    problems.install(app)
    metrics_http.install(app)
    docs_ui.install(app)
    for router in ROUTERS:
        app.include_router(router)
    from stockpilot.web.app import mount

    mount(app, engine, history, settings)  # the dashboard: /, /ui/…, /static/…
    guards.install(app)  # body size, JSON depth, failed sign-ins per IP
    return app
