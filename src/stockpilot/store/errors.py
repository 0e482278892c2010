"""The database's own errors, named for the edges (which import no SQLAlchemy).

``InvalidValue``: a value the database cannot store (out of range, NUL in text);
``ConstraintViolated``: a constraint the checks before it did not foresee.
"""

from __future__ import annotations

from sqlalchemy.exc import DataError as InvalidValue
from sqlalchemy.exc import IntegrityError as ConstraintViolated

__all__ = ["ConstraintViolated", "InvalidValue", "first_line"]


def first_line(exc: InvalidValue | ConstraintViolated, limit: int = 300) -> str:
    """The driver's message, first line, cut to ``limit`` characters."""
    return str(exc.orig).splitlines()[0][:limit]
