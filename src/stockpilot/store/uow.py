"""Unit of work: one transaction per command, rolled back unless committed (cosmicpython).

The one transaction style of the use cases: an edge opens a unit of work (:func:`writing` to
commit on success, :func:`reading` for a read-only one, or :class:`UnitOfWork` to commit
itself, e.g. after adding the API's idempotency record) and passes it to use cases, which work
on ``uow.conn`` and never commit. :func:`transact` is the same unit of work for a write that can
lose a race or a connection: it retries the whole unit under the one retry policy.

Every service exists once, taking the open connection (or unit of work); there is no second
copy taking an engine (issue 12).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy import Connection, Engine

from stockpilot import retry

P = ParamSpec("P")
T = TypeVar("T")


class UnitOfWork:
    """``with UnitOfWork(engine) as uow: …; uow.commit()`` — anything else rolls back."""

    def __init__(self, engine: Engine, *, readonly: bool = False) -> None:
        self.engine = engine
        self.readonly = readonly
        self._committed = False

    def __enter__(self) -> UnitOfWork:
        conn = self.engine.connect()
        if self.readonly:
            conn = conn.execution_options(readonly=True)
        self.conn: Connection = conn
        self._tx = conn.begin()
        return self

    @property
    def dialect(self) -> str:
        """The database's dialect name (``sqlite``, ``postgresql``)."""
        return self.engine.dialect.name

    def commit(self) -> None:
        """Make the work durable."""
        self._tx.commit()
        self._committed = True

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if not self._committed and self._tx.is_active:
                self._tx.rollback()
        finally:
            self.conn.close()


@contextmanager
def writing(engine: Engine) -> Iterator[UnitOfWork]:
    """A unit of work committed when the block ends without an error."""
    with UnitOfWork(engine) as uow:
        yield uow
        uow.commit()


@contextmanager
def reading(engine: Engine) -> Iterator[UnitOfWork]:
    """A read-only unit of work (on SQLite a deferred BEGIN: it never waits for writers)."""
    with UnitOfWork(engine, readonly=True) as uow:
        yield uow


def transact(engine: Engine, work: Callable[Concatenate[Connection, P], T], /,
             *args: P.args, **kwargs: P.kwargs) -> T:
    """``work(conn, *args, **kwargs)`` in one unit of work, committed when it returns.

    A transient failure (a lost race, a serialization failure, a lost connection; see
    :mod:`stockpilot.retry`) rolls the unit back and runs it again, whole, under the one retry
    policy: retrying a single statement would be wrong once the transaction is aborted.

    Example: ``transact(engine, apply_events, [ReceiveStock(...)])``.
    """

    def once() -> T:
        with writing(engine) as uow:
            return work(uow.conn, *args, **kwargs)

    return retry.call(once)
