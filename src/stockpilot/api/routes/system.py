"""Liveness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

from stockpilot import __version__
from stockpilot.api.deps import Viewer
from stockpilot.api.problems import COMMON

router = APIRouter(tags=["system"], responses=COMMON)


class Health(BaseModel):
    """The server is up."""

    status: str
    version: str


@router.get("/health")
def health(who: Viewer) -> Health:
    """Liveness, for a key of any role."""
    del who
    return Health(status="ok", version=__version__)


@router.get("/metrics", response_class=PlainTextResponse)
def metrics_route(who: Viewer, request: Request) -> PlainTextResponse:
    """Prometheus metrics (text format); the planning gauges are computed at scrape time."""
    del who
    from stockpilot.api.metrics_http import refresh_planning_gauges
    from stockpilot.metrics import exposition

    refresh_planning_gauges(request.app)
    return PlainTextResponse(exposition().decode(), media_type="text/plain; version=0.0.4")
