"""The bounds every stored value respects, declared once (pure: no I/O).

The wire schema (:mod:`stockpilot.events.schema`), the import specs
(:mod:`stockpilot.ingest.spec`) and the SQL columns (:mod:`stockpilot.store.schema`) all take
their lengths and ranges from here, and the ledger checks every command against them before
it touches the database (:func:`check_command`). So a value the database cannot hold — a
quantity past a 32-bit ``INTEGER``, a price past ``NUMERIC(14, 4)``, a NUL byte (PostgreSQL
text cannot hold one), an id longer than its ``VARCHAR`` — is refused with a message naming
the field, never truncated (PostgreSQL ``varchar(n)[]`` casts cut silently) and never a crash.
"""

from __future__ import annotations

import hashlib
from dataclasses import fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from stockpilot.domain.commands import LedgerCommand, ReceiveStock

#: SKU, location, supplier, customer and order ids (``VARCHAR(64)``).
ID_LEN = 64
#: Event ids (``ledger_events.event_id``, ``movements.event_id``: ``VARCHAR(128)``).
EVENT_ID_LEN = 128
#: Lot codes (``lots.lot_code``: ``VARCHAR(64)``).
LOT_CODE_LEN = 64
#: Free-text references and names (``VARCHAR(255)``).
TEXT_LEN = 255
#: Categories (``VARCHAR(128)``).
CATEGORY_LEN = 128
#: Transport message ids kept with a dead letter (``dead_letters.message_id``).
MESSAGE_ID_LEN = 160
#: Order-line keys (``order_lines.line_key``: ``VARCHAR(160)``).
LINE_KEY_LEN = 160

#: SQL ``INTEGER`` (32-bit on PostgreSQL; SQLite's is 64-bit but we keep one range).
INT_MIN = -(2**31)
INT_MAX = 2**31 - 1
#: SQL ``BIGINT`` ids (e.g. ``purchase_orders.id``).
BIGINT_MAX = 2**63 - 1
#: ``NUMERIC(14, 4)``: 10 digits before the point, 4 after.
MONEY_PRECISION = 14
MONEY_SCALE = 4
MONEY_LIMIT = 10 ** (MONEY_PRECISION - MONEY_SCALE)  # |value| must stay below this

#: Text fields of the ledger commands and their maximum lengths.
COMMAND_TEXT: dict[str, int] = {
    "event_id": EVENT_ID_LEN, "sku": ID_LEN, "location": ID_LEN, "to_location": ID_LEN,
    "lot_code": LOT_CODE_LEN, "reference": TEXT_LEN, "customer_id": ID_LEN,
    "order_id": ID_LEN, "reason": TEXT_LEN,
}
#: Integer fields of the ledger commands (all within ``INT_MIN … INT_MAX``).
COMMAND_INTS = ("quantity", "on_order_units")
#: Money fields of the ledger commands.
COMMAND_MONEY = ("unit_price",)
#: Dates the SQL drivers and Python both handle (years 1 … 9999 minus a margin for time zones).
FIRST_DATE, LAST_DATE = date(1, 1, 2), date(9999, 12, 30)


class OutOfBounds(ValueError):
    """A value outside the declared bounds; ``field`` names it, ``reason`` says how."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def no_nul(value: str) -> str:
    """``value`` unless it contains a NUL character (PostgreSQL text cannot store one)."""
    if "\x00" in value:
        raise ValueError("contains a NUL character")
    return value


def check_text(field: str, value: object, max_len: int) -> None:
    """Raise :class:`OutOfBounds` unless ``value`` is None or a str that fits ``max_len``."""
    if value is None:
        return
    if not isinstance(value, str):
        raise OutOfBounds(field, f"must be text, got {type(value).__name__}")
    if len(value) > max_len:
        raise OutOfBounds(field, f"{len(value)} characters, at most {max_len}")
    if "\x00" in value:
        raise OutOfBounds(field, "contains a NUL character")


def check_int(field: str, value: object, lo: int = INT_MIN, hi: int = INT_MAX) -> None:
    """Raise :class:`OutOfBounds` unless ``value`` is None or an int in ``lo … hi``."""
    if value is None:
        return
    if type(value) is not int:
        raise OutOfBounds(field, f"must be an integer, got {value!r}")
    if not lo <= value <= hi:
        raise OutOfBounds(field, f"{value} is outside {lo} … {hi}")


def check_money(field: str, value: object) -> None:
    """Raise :class:`OutOfBounds` unless ``value`` is None or a finite amount below the limit."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise OutOfBounds(field, f"must be a number, got {value!r}")
    if not abs(value) < MONEY_LIMIT:  # also refuses NaN
        raise OutOfBounds(field, f"{value} is not a finite amount below {MONEY_LIMIT:.0e}")


def check_date(field: str, value: object) -> None:
    """Raise :class:`OutOfBounds` for a date or time too close to the ends of the calendar."""
    day = value.date() if isinstance(value, datetime) else value
    if isinstance(day, date) and not FIRST_DATE <= day <= LAST_DATE:
        raise OutOfBounds(field, f"{value} is outside {FIRST_DATE} … {LAST_DATE}")


def check_command(cmd: LedgerCommand) -> None:
    """Every field of ``cmd`` within bounds, else :class:`OutOfBounds` naming the first."""
    values: dict[str, Any] = {f.name: getattr(cmd, f.name) for f in fields(cmd)}
    for name, limit in COMMAND_TEXT.items():
        if name in values:
            check_text(name, values[name], limit)
    for name in COMMAND_INTS:
        if name in values:
            check_int(name, values[name])
    for name in COMMAND_MONEY:
        if name in values:
            check_money(name, values[name])
    for name in ("occurred_at", "expiry"):
        check_date(name, values.get(name))
    if isinstance(cmd, ReceiveStock):
        check_int("purchase_order_id", cmd.purchase_order_id, lo=1, hi=BIGINT_MAX)


def fit_id(value: str, max_len: int) -> str:
    """``value`` if it fits ``max_len``, else a prefix plus a hash of the whole (still unique).

    For transport ids (inbox and dead-letter message ids) that must be stored whatever their
    length: cutting them would make two ids one (a dedup key would then drop a message).
    """
    if len(value) <= max_len:
        return value
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{value[:max_len - 17]}~{digest}"


def check_level(field: str, value: int) -> None:
    """A running balance (on hand, reserved, on order) that must still fit its column."""
    check_int(field, value)
