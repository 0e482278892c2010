"""Paged, sorted lists for the use cases: whitelisted sort fields, bounded pages, totals."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy import Connection, Select, func, select

from stockpilot.errors import StockpilotError


class InvalidQuery(StockpilotError):
    """A query parameter the list does not accept (an unknown sort field, …)."""

    status = 422
    title = "Invalid request"


@dataclass(frozen=True)
class PageRequest:
    """``limit`` rows from ``offset``, sorted by ``sort`` (comma-separated, ``-`` descending)."""

    limit: int = 100
    offset: int = 0
    sort: str = ""


@dataclass(frozen=True)
class Paged:
    """One page of rows and the total across pages."""

    items: list[Any]
    total: int


def parse_sort(sort: str, allowed: list[str] | dict[str, Any]) -> list[tuple[str, bool]]:
    """``[(field, descending), …]`` for ``sort``; :class:`InvalidQuery` for an unknown field."""
    terms = []
    for part in (p.strip() for p in sort.split(",")):
        name = part.removeprefix("-")
        if name not in allowed:
            raise InvalidQuery(f"sort: unknown field {name!r}; sortable: {', '.join(allowed)}")
        terms.append((name, part.startswith("-")))
    return terms


def order_by(sort: str, columns: dict[str, Any]) -> list[Any]:
    """ORDER BY terms for ``sort`` (whitelisted in ``columns``)."""
    return [columns[n].desc() if d else columns[n].asc() for n, d in parse_sort(sort, columns)]


def page_of(conn: Connection, stmt: Select[Any], page: PageRequest, columns: dict[str, Any]
            ) -> tuple[list[dict[str, Any]], int]:
    """Rows of one page (sorted by ``page.sort`` over ``columns``) and the total selected."""
    order = order_by(page.sort, columns)
    total = conn.execute(select(func.count()).select_from(
        stmt.order_by(None).subquery())).scalar_one()
    rows = conn.execute(stmt.order_by(*order).limit(page.limit).offset(page.offset))
    return [dict(r._mapping) for r in rows], int(total)


def page_frame(df: pl.DataFrame, page: PageRequest, allowed: list[str]
               ) -> tuple[list[dict[str, Any]], int]:
    """Sort a frame by whitelisted columns and cut one page."""
    terms = parse_sort(page.sort, allowed)
    out = df.sort([n for n, _ in terms], descending=[d for _, d in terms], nulls_last=True) \
        if df.height else df
    return out.slice(page.offset, page.limit).to_dicts(), df.height


class CountCache:
    """Totals of large lists, reused for ``ttl_s`` seconds.

    A total of ≥ ``min_rows`` rows may be up to ``ttl_s`` old; smaller totals are always
    exact. Counting 300,000 rows on every page request would cost more than the page.
    """

    def __init__(self, ttl_s: float = 2.0, min_rows: int = 10_000) -> None:
        self.ttl_s, self.min_rows = ttl_s, min_rows
        self._seen: dict[str, tuple[float, int]] = {}

    def count(self, conn: Connection, stmt: Select[Any], params: dict[str, Any] | None = None,
              key: str | None = None) -> int:
        """The count ``stmt`` (with ``params``) selects, from the cache when large and fresh.

        ``key`` names the statement and its parameters when the caller can (a prebuilt
        statement): compiling the statement only to name it costs more than a page.
        """
        if key is None:
            compiled = stmt.compile(conn)
            key = f"{compiled}|{sorted(compiled.params.items(), key=str)!r}"
        hit = self._seen.get(key)
        now = time.monotonic()
        if hit is not None and hit[0] > now:
            return hit[1]
        total = int(conn.execute(stmt, params or {}).scalar_one())
        if total >= self.min_rows:
            if len(self._seen) > 1000:
                self._seen.clear()
            self._seen[key] = (now + self.ttl_s, total)
        return total
