"""Errors named for what went wrong, carrying what a user needs to act on them.

The API maps every `StockpilotError` to an RFC 7807 problem response (``status`` and
``title`` below); the CLI prints ``str(error)`` on one line without a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class StockpilotError(Exception):
    """Base of every error a user can cause and fix."""

    status = 400
    title = "Bad request"


class UnknownSku(StockpilotError):
    """A SKU id that is not in the catalogue."""

    status = 404
    title = "Unknown SKU"

    def __init__(self, sku: str) -> None:
        super().__init__(f"unknown SKU {sku!r}")
        self.sku = sku


class UnknownLocation(StockpilotError):
    """A location id that is not in the catalogue."""

    status = 404
    title = "Unknown location"

    def __init__(self, location: str) -> None:
        super().__init__(f"unknown location {location!r}")
        self.location = location


class InsufficientStock(StockpilotError):
    """A movement would take available stock below zero (oversell)."""

    status = 409
    title = "Insufficient stock"

    def __init__(self, sku: str, location: str, requested: int, available: int) -> None:
        super().__init__(
            f"insufficient stock for SKU {sku!r} at {location!r}: "
            f"requested {requested}, available {available}"
        )
        self.sku = sku
        self.location = location
        self.requested = requested
        self.available = available


class EventConflict(StockpilotError):
    """An event id was reused for a different event."""

    status = 409
    title = "Event id reused with a different body"

    def __init__(self, event_id: str) -> None:
        super().__init__(f"event id {event_id!r} was already used for a different event")
        self.event_id = event_id


class InvalidEvent(StockpilotError):
    """An event that breaks a ledger rule other than stock (e.g. a lot is missing)."""

    status = 422
    title = "Invalid event"

    def __init__(self, event_id: str, reason: str) -> None:
        super().__init__(f"event {event_id!r}: {reason}")
        self.event_id = event_id
        self.reason = reason


class ValueRejected(StockpilotError):
    """A value the database column cannot hold, refused before the write (never truncated)."""

    status = 422
    title = "Value out of bounds"

    def __init__(self, table: str, column: str, row: int, reason: str) -> None:
        super().__init__(f"{table}.{column}, row {row}: {reason}")
        self.table = table
        self.column = column
        self.row = row
        self.reason = reason


class NotFound(StockpilotError):
    """A named object does not exist (or is outside the caller's scope)."""

    status = 404
    title = "Not found"


class ConfigError(StockpilotError):
    """The workspace configuration is unusable."""

    title = "Configuration error"


@dataclass(frozen=True)
class InvalidRow:
    """One bad row of an input file: where it is and why it was refused."""

    file: str
    row: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.row}: {self.field}: {self.reason}"


@dataclass
class ImportRejected(StockpilotError):
    """A file had bad rows, so nothing of it was imported; every bad row is listed."""

    file: str
    problems: list[InvalidRow] = field(default_factory=list)
    status = 422
    title = "Import rejected"

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        n = len(self.problems)
        rows = len({p.row for p in self.problems})
        what = f"{rows} bad row{'s' if rows != 1 else ''}"
        if n != rows:
            what += f" ({n} problems)"
        head = f"{self.file}: {what}, nothing imported"
        shown = "; ".join(str(p) for p in self.problems[:5])
        more = f" (and {n - 5} more)" if n > 5 else ""
        return f"{head}: {shown}{more}" if n else head
