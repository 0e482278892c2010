"""Unit of work: one transaction per command, rolled back unless committed (cosmicpython).

The one transaction style of the use cases: an edge opens a unit of work (:func:`writing` to
commit on success, :func:`reading` for a read-only one, or :class:`UnitOfWork` to commit
itself, e.g. after adding the API's idempotency record) and passes it to use cases, which work
on ``uow.conn`` and never commit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

from sqlalchemy import Connection, Engine


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
