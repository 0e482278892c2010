"""The sourcing network: which supplier or DC supplies each location.

Routes live in the ``sourcing_routes`` table (``stockpilot sourcing import FILE``); a
``[sourcing]`` table in ``stockpilot.toml`` overrides them per location, e.g.::

    [sourcing]
    DC1 = "supplier"
    S1 = "dc:DC1"
    S2 = "dc:DC1"

No routes at all means every location buys from its own supplier (the plan is unchanged).

:func:`load_sourcing` works on the planning job's open connection; :func:`routes` and
:func:`import_sourcing` take an open :class:`~stockpilot.store.uow.UnitOfWork` and the
:class:`~stockpilot.usecases.actor.Actor`: it sees the routes of its locations, and only an
actor of every location may replace the whole network.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path

import polars as pl
from sqlalchemy import Connection, delete, select

from stockpilot.domain.series import unique_id
from stockpilot.errors import ImportRejected, InvalidRow
from stockpilot.planning.pipeline import SOURCING_SCHEMA
from stockpilot.store import schema as t
from stockpilot.store.schema_plan2 import sourcing_routes as sr
from stockpilot.store.uow import UnitOfWork
from stockpilot.usecases.actor import Actor, Forbidden, require


def parse_route(location: str, text: str) -> tuple[str, str | None]:
    """``"supplier"`` / ``"supplier:NAME"`` → (supplier, NAME); ``"dc:LOC"`` → (dc, LOC).

    Raises:
        ValueError: anything else (the message names the location).
    """
    kind, _, source = text.partition(":")
    kind = kind.strip().lower()
    if kind == "supplier":
        return "supplier", source.strip() or None
    if kind == "dc" and source.strip():
        return "dc", source.strip()
    raise ValueError(f"sourcing for {location!r}: {text!r} (expected 'supplier' or 'dc:LOC')")


def load_sourcing(conn: Connection, overrides: Mapping[str, str] | None = None) -> pl.DataFrame:
    """``location, source_kind, source``: the table's routes, then ``overrides`` (toml)."""
    routes = {loc: (kind, src) for loc, kind, src in conn.execute(
        select(sr.c.location, sr.c.source_kind, sr.c.source))}
    for loc, text in (overrides or {}).items():
        routes[loc] = parse_route(loc, text)
    rows = [(loc, kind, src) for loc, (kind, src) in sorted(routes.items())]
    return pl.DataFrame(rows, schema=dict(SOURCING_SCHEMA), orient="row")


def import_sourcing(uow: UnitOfWork, actor: Actor, path: Path) -> int:
    """Replace the routes with a CSV ``location,source`` (``supplier`` or ``dc:LOC``).

    All or nothing: an unknown location, a DC that is not a location, or a malformed route
    rejects the file naming its row.

    Raises:
        Forbidden: the actor is below planner or limited to locations (the file replaces
            the routes of every location).
        ImportRejected: one :class:`InvalidRow` per bad row.
    """
    require(actor, "planner")
    if actor.locations is not None:
        raise Forbidden("importing sourcing replaces every location's routes: this needs "
                        "an actor of every location")
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    known = set(uow.conn.execute(select(t.locations.c.location)).scalars())
    good, bad = [], []
    for n, r in enumerate(rows, start=2):
        loc = (r.get("location") or "").strip()
        try:
            kind, src = parse_route(loc, r.get("source") or "")
        except ValueError as exc:
            bad.append(InvalidRow(path.name, n, "source", str(exc)))
            continue
        if loc not in known:
            bad.append(InvalidRow(path.name, n, "location", f"unknown location {loc!r}"))
        elif kind == "dc" and src not in known:
            bad.append(InvalidRow(path.name, n, "source", f"unknown DC location {src!r}"))
        else:
            good.append({"location": loc, "source_kind": kind, "source": src,
                         "transfer_days": 1})
    if bad:
        raise ImportRejected(path.name, bad)
    uow.conn.execute(delete(sr))
    if good:
        uow.conn.execute(sr.insert(), good)
    return len(good)


def with_dc_series(ids: pl.DataFrame, sourcing: pl.DataFrame) -> pl.DataFrame:
    """``ids`` (unique_id, sku, location) plus each store's DC for the store's SKUs.

    A DC that sells nothing itself has no forecast, yet it must be planned: it holds and
    orders the stock of its stores.
    """
    dcs = sourcing.filter(pl.col("source_kind") == "dc").select("location", "source")
    extra = ids.join(dcs, on="location").select(
        unique_id("sku", "source"), "sku",
        pl.col("source").alias("location"))
    return pl.concat([ids, extra]).unique("unique_id", keep="first")


def routes(uow: UnitOfWork, actor: Actor, overrides: Mapping[str, str] | None = None
           ) -> pl.DataFrame:
    """:func:`load_sourcing`: the routes of the actor's locations."""
    df = load_sourcing(uow.conn, overrides)
    if actor.locations is None:
        return df
    return df.filter(pl.col("location").is_in(sorted(actor.locations)))
