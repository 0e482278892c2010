"""Movement kinds of the stock ledger.

Each kind has a stable integer code that is stored in the database and never renumbered
(as InvenTree's ``StockHistoryCode``): add new kinds with new codes, never reuse one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import IntEnum


class MovementKind(IntEnum):
    """What a ledger line records. Codes are part of the storage format."""

    RECEIPT = 10
    SALE = 20
    RETURN = 30
    ADJUSTMENT = 40
    TRANSFER_OUT = 50
    TRANSFER_IN = 51
    RESERVATION = 60
    RELEASE = 61
    COUNT = 70
    WRITE_OFF = 80

    @property
    def label(self) -> str:
        """Lower-case name used in files, the API and the CLI."""
        return self.name.lower()


#: Kinds that count as customer demand when the ledger is compacted into daily history.
DEMAND_KINDS = frozenset({MovementKind.SALE, MovementKind.RETURN})


@dataclass(frozen=True)
class Movement:
    """One immutable ledger line. ``on_hand_delta`` and ``reserved_delta`` are signed units."""

    event_id: str
    seq: int
    kind: MovementKind
    sku: str
    location: str
    on_hand_delta: int
    reserved_delta: int
    occurred_at: datetime
    lot_code: str | None = None
    expiry: date | None = None
    variance: int | None = None
    reference: str | None = None
