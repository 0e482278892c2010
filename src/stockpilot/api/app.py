"""The FastAPI application: authenticated routes over the ledger, forecasts, plans, alerts.

Every route needs an API key (``X-API-Key`` or ``Authorization: Bearer``). Errors are RFC 7807
``application/problem+json``. Objects outside a key's locations answer 404. List routes are
paged (``limit`` ≤ 500, ``offset``).
"""


from datetime import UTC, datetime
from typing import Annotated, Any

import polars as pl
from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy import Engine, func, select

from stockpilot import __version__
from stockpilot.api.auth import Principal, lookup
from stockpilot.errors import StockpilotError
from stockpilot.ledger.positions import get_positions
from stockpilot.store import schema as t
from stockpilot.store.history import HistoryStore

PROBLEM = "application/problem+json"


class Page(BaseModel):
    """A page of a list."""

    model_config = ConfigDict(extra="forbid")
    items: list[dict[str, Any]]
    limit: int
    offset: int
    total: int


class EventsIn(BaseModel):
    """A batch of events (the wire format of :mod:`stockpilot.events.schema`)."""

    model_config = ConfigDict(extra="forbid")
    events: list[dict[str, Any]]


def _problem(status: int, title: str, detail: str) -> JSONResponse:
    return JSONResponse({"type": "about:blank", "title": title, "status": status,
                         "detail": detail}, status_code=status, media_type=PROBLEM)


def create_app(engine: Engine, history: HistoryStore) -> FastAPI:
    """The app for one workspace's database and history store."""
    app = FastAPI(title="stockpilot", version=__version__)

    @app.exception_handler(StockpilotError)
    async def _domain(_: Request, exc: StockpilotError) -> JSONResponse:
        return _problem(exc.status, exc.title, str(exc))

    @app.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException) -> JSONResponse:
        return _problem(exc.status_code, "Error", str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return _problem(422, "Invalid request", "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()))

    def principal(x_api_key: Annotated[str | None, Header()] = None,
                  authorization: Annotated[str | None, Header()] = None) -> Principal:
        secret = x_api_key or (authorization[7:] if authorization and
                               authorization.lower().startswith("bearer ") else None)
        who = lookup(engine, secret) if secret else None
        if who is None:
            raise HTTPException(401, "a valid API key is required")
        return who

    def role(name: str) -> Any:
        def check(who: Annotated[Principal, Depends(principal)]) -> Principal:
            if not who.at_least(name):
                raise HTTPException(403, f"this route needs the {name} role")
            return who
        return check

    Viewer = Annotated[Principal, Depends(role("viewer"))]
    Operator = Annotated[Principal, Depends(role("operator"))]
    Limit = Annotated[int, Query(ge=1, le=500)]
    Offset = Annotated[int, Query(ge=0)]

    @app.get("/health")
    def health(who: Viewer) -> dict[str, str]:
        """Liveness, for a key of any role."""
        del who
        return {"status": "ok", "version": __version__}

    @app.get("/metrics", response_class=PlainTextResponse)
    def metrics_route(who: Viewer) -> PlainTextResponse:
        """Prometheus metrics (text format)."""
        del who
        from stockpilot.metrics import exposition

        return PlainTextResponse(exposition().decode(), media_type="text/plain; version=0.0.4")

    @app.get("/skus", response_model=Page)
    def skus(who: Viewer, limit: Limit = 100, offset: Offset = 0) -> Page:
        """The catalogue, by SKU id."""
        del who
        s = t.skus.c
        with engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(t.skus)).scalar_one()
            rows = conn.execute(select(s.sku, s.name, s.category, s.price, s.lot_tracked)
                                .order_by(s.sku).limit(limit).offset(offset)).all()
        return Page(items=[_plain(r._mapping) for r in rows], limit=limit, offset=offset,
                    total=total)

    @app.get("/stock", response_model=Page)
    def stock(who: Viewer, sku: str | None = None, location: str | None = None,
              limit: Limit = 100, offset: Offset = 0) -> Page:
        """Stock positions (on hand, reserved, available, on order, projected)."""
        if location is not None and not who.sees(location):
            return Page(items=[], limit=limit, offset=offset, total=0)
        with engine.connect() as conn:
            rows = [p for p in get_positions(conn, sku=sku, location=location)
                    if who.sees(p.location)]
        return Page(items=[p.to_dict() for p in rows[offset:offset + limit]], limit=limit,
                    offset=offset, total=len(rows))

    @app.get("/stock/{sku}")
    def stock_of(sku: str, who: Viewer) -> list[dict[str, Any]]:
        """One SKU's positions at the locations the key may see (404 when none)."""
        with engine.connect() as conn:
            rows = [p.to_dict() for p in get_positions(conn, sku=sku) if who.sees(p.location)]
        if not rows:
            raise HTTPException(404, f"no stock for SKU {sku!r}")
        return rows

    @app.get("/forecasts/{sku}")
    def forecast_of(sku: str, who: Viewer) -> list[dict[str, Any]]:
        """The latest quantile forecast of one SKU (visible locations only)."""
        if "latest" not in history.parts("forecasts"):
            raise HTTPException(404, "no forecasts yet")
        fc = history.read("forecasts", "latest").filter(pl.col("sku") == sku)
        rows = [_plain(r) for r in fc.iter_rows(named=True) if who.sees(r["location"])]
        if not rows:
            raise HTTPException(404, f"no forecast for SKU {sku!r}")
        return rows

    @app.post("/events")
    def post_events(body: EventsIn, who: Operator,
                    idempotency_key: Annotated[str | None, Header(max_length=255)] = None
                    ) -> Any:
        """Apply a batch of events (idempotent by event id); bad ones are dead-lettered.

        With an ``Idempotency-Key`` header, the same key and body return the stored response
        (recorded in the same transaction as the events); another body answers 422, and a
        request still in flight with that key 409.
        """
        import hashlib
        import json

        from sqlalchemy.exc import IntegrityError

        from stockpilot.events.consumer import Message, apply_messages
        from stockpilot.store import schema_api as ta

        digest = hashlib.sha256(body.model_dump_json().encode()).hexdigest()
        if idempotency_key:
            i = ta.idempotency_keys.c
            with engine.connect() as conn:
                seen = conn.execute(select(i.body_sha256, i.response).where(
                    i.key_id == who.key_id, i.idem_key == idempotency_key)).first()
            if seen is not None:
                if seen.body_sha256 != digest:
                    return _problem(422, "Idempotency-Key reused",
                                    "this key was used with a different body")
                return seen.response
        msgs, refused = [], []
        for e in body.events:
            locs = [e.get("location"), e.get("to_location")]
            if any(loc is not None and not who.sees(str(loc)) for loc in locs):
                refused.append(str(e.get("event_id")))
                continue
            msgs.append(Message(str(e.get("event_id", "")), json.dumps(e).encode()))

        def response(res: Any) -> dict[str, Any]:
            return {"applied": res.applied, "duplicate": res.duplicate, "dead": res.dead,
                    "refused_out_of_scope": refused}

        def record(conn: Any, res: Any) -> None:
            if idempotency_key:
                conn.execute(ta.idempotency_keys.insert().values(
                    key_id=who.key_id, idem_key=idempotency_key, body_sha256=digest,
                    status_code=200, response=response(res), created_at=datetime.now(UTC)))

        try:
            res = apply_messages(engine, "api", msgs, record)
        except IntegrityError:
            return _problem(409, "Request in flight",
                            "another request with this Idempotency-Key is being processed")
        return response(res)

    __import__("stockpilot.web", fromlist=["mount"]).mount(app, engine, history)  # dashboard
    return app


def _plain(row: Any) -> dict[str, Any]:
    out = {}
    for k, v in dict(row).items():
        out[k] = float(v) if hasattr(v, "as_integer_ratio") and not isinstance(v, int | float) \
            else v.isoformat() if hasattr(v, "isoformat") else v
    return out
