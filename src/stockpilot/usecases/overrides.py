"""Planner overrides: set, list and remove them; load the active ones for the planner.

Writes are checked before anything is stored: an unknown SKU or location, an unknown kind or
a value no plan can use is refused with an error naming the SKU and location (the same checks
as the pipeline's, :func:`stockpilot.planning.overrides.validate`).

:func:`set_override`, :func:`get_override` and :func:`load_overrides` work on the caller's
open connection; the others take an open :class:`~stockpilot.store.uow.UnitOfWork`, and those
an edge calls the :class:`~stockpilot.usecases.actor.Actor`: it sees overrides at its
locations and those for every location (``*``), and removes only those at its locations.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import polars as pl
from sqlalchemy import Connection, delete, select

from stockpilot.domain.series import SeriesKey, split_unique_id, unique_id
from stockpilot.errors import NotFound, UnknownLocation, UnknownSku
from stockpilot.planning import overrides as ov
from stockpilot.planning.pipeline import OVERRIDES_SCHEMA
from stockpilot.store import schema as t
from stockpilot.store.schema_plan2 import planner_overrides as po
from stockpilot.store.uow import UnitOfWork
from stockpilot.usecases.actor import Actor, check_locations, require

ALL = "*"  # the location of an override that holds at every location of its SKU


@dataclass(frozen=True)
class OverrideIn:
    """An override as a planner states it (``location`` None: every location)."""

    sku: str
    kind: str
    value: float
    author: str
    location: str | None = None
    start: date | None = None
    end: date | None = None
    expires: date | None = None
    note: str | None = None


def set_override(conn: Connection, o: OverrideIn) -> int:
    """Store an override after checking it; returns its id (nothing stored on error).

    Runs on the caller's open transaction (the caller commits).

    Raises:
        UnknownSku / UnknownLocation: not in the catalogue.
        InvalidPlanInput: an unknown kind or an unusable value, naming SKU and location.
    """
    _check(conn, o)
    key = conn.execute(po.insert().values(
        sku=o.sku, location=o.location, kind=o.kind, value=float(o.value), start=o.start,
        end=o.end, author=o.author, expires=o.expires, note=o.note,
        created_at=datetime.now(UTC))).inserted_primary_key
    assert key is not None
    new_id = key[0]
    return int(new_id)


def get_override(conn: Connection, override_id: int) -> dict[str, object]:
    """One override as a dict (``location`` ``*`` for every location).

    Raises:
        NotFound: no override with that id.
    """
    rows = _frame(conn).filter(pl.col("id") == override_id)
    if rows.is_empty():
        raise NotFound(f"no override {override_id}")
    return rows.drop("unique_id").row(0, named=True)


def _check(conn: Connection, o: OverrideIn) -> None:
    if conn.execute(select(t.skus.c.sku).where(t.skus.c.sku == o.sku)).first() is None:
        raise UnknownSku(o.sku)
    if o.location is not None and conn.execute(select(t.locations.c.location).where(
            t.locations.c.location == o.location)).first() is None:
        raise UnknownLocation(o.location)
    uid = str(SeriesKey(o.sku, o.location or ALL))
    row = pl.DataFrame([{"unique_id": uid, "kind": o.kind, "value": float(o.value),
                         "start": o.start, "end": o.end, "author": o.author,
                         "expires": o.expires, "note": o.note}], schema=dict(OVERRIDES_SCHEMA))
    mine = _frame(conn, sku=o.sku).filter(
        (pl.col("location") == (o.location or ALL)) & pl.col("kind").is_in(["min", "max"]))
    both = pl.concat([mine.select(row.columns).cast(row.schema), row])
    ov.validate(both, pl.Series([uid]))


def _frame(conn: Connection, sku: str | None = None) -> pl.DataFrame:
    q = select(po.c.id, po.c.sku, po.c.location, po.c.kind, po.c.value, po.c.start, po.c.end,
               po.c.author, po.c.expires, po.c.note, po.c.created_at).order_by(po.c.id)
    if sku is not None:
        q = q.where(po.c.sku == sku)
    df = pl.DataFrame(conn.execute(q).all(), orient="row", schema={
        "id": pl.Int64, "sku": pl.Utf8, "location": pl.Utf8, "kind": pl.Utf8,
        "value": pl.Float64, "start": pl.Date, "end": pl.Date, "author": pl.Utf8,
        "expires": pl.Date, "note": pl.Utf8, "created_at": pl.Datetime("us", "UTC")})
    return df.with_columns(pl.col("location").fill_null(ALL),
                           unique_id("sku", pl.col("location").fill_null(ALL))
                           .alias("unique_id"))


def list_overrides(uow: UnitOfWork, actor: Actor, sku: str | None = None,
                   as_of: date | None = None) -> pl.DataFrame:
    """Overrides (of ``sku``) the actor sees, with ``active`` on ``as_of`` (default: today)."""
    day = as_of or datetime.now(UTC).date()
    df = _frame(uow.conn, sku)
    if actor.locations is not None:
        df = df.filter(pl.col("location").is_in([ALL, *sorted(actor.locations)]))
    ids = set(ov.active(df, day)["id"].to_list()) if df.height else set()
    return df.with_columns(pl.col("id").is_in(list(ids)).alias("active")).drop("unique_id")


def remove_override(uow: UnitOfWork, actor: Actor, override_id: int) -> None:
    """Delete one override.

    Raises:
        Forbidden: the actor is below planner.
        NotFound: no override with that id, or not at the actor's locations (one for every
            location is outside any limited actor's).
    """
    require(actor, "planner")
    found = get_override(uow.conn, override_id)
    check_locations(actor, [str(found["location"])], "override")
    if uow.conn.execute(delete(po).where(po.c.id == override_id)).rowcount != 1:
        raise NotFound(f"no override {override_id}")


def load_overrides(conn: Connection, planned: pl.Series) -> pl.DataFrame:
    """The pipeline's overrides frame for the ``planned`` series (``sku@location`` ids).

    An override for every location becomes one row per planned location of its SKU; rows
    keep their order (a later one wins over an earlier one of the same kind).
    """
    df = _frame(conn)
    ids = pl.DataFrame({"unique_id": planned}).with_columns(
        split_unique_id()[0])
    one = df.filter(pl.col("location") != ALL).join(ids.select("unique_id"), on="unique_id",
                                                     how="semi")
    every = df.filter(pl.col("location") == ALL).drop("unique_id").join(ids, on="sku")
    cols = list(OVERRIDES_SCHEMA)
    return pl.concat([one.select("id", *cols), every.select("id", *cols)]).sort("id").select(
        cols)


def planned_overrides(uow: UnitOfWork, planned: pl.Series) -> pl.DataFrame:
    """:func:`load_overrides` in a unit of work (what ``simulate`` replays)."""
    return load_overrides(uow.conn, planned)
