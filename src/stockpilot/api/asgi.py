"""The app of the workspace named by the environment, for ``uvicorn --factory`` workers.

``stockpilot serve --workers N`` starts N processes, each calling :func:`app_from_env`
(``STOCKPILOT_WORKSPACE``, ``STOCKPILOT_DB_URL`` and the other ``STOCKPILOT_*`` settings).
Rate limits and the key cache are per process.
"""

from __future__ import annotations

from fastapi import FastAPI


def app_from_env() -> FastAPI:
    """Build the API for ``$STOCKPILOT_WORKSPACE`` (its database, history and settings)."""
    from stockpilot.api.app import create_app
    from stockpilot.store.workspace import open_workspace

    w = open_workspace(None)
    return create_app(w.engine, w.history, w.settings.workspace, w.settings)
