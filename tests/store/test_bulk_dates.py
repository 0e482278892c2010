"""The bulk path writes SQLite datetimes exactly as SQLAlchemy reads them, early years too."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.dialects import sqlite

from stockpilot.store.bulk import _sqlite_datetime


def test_year_38_is_written_with_four_digits_and_reads_back():
    """glibc's strftime wrote year 38 as "38"; reading it back was a 500 (schemathesis)."""
    when = datetime(38, 1, 15, 12, 12, 45, 7, tzinfo=UTC)
    text = _sqlite_datetime(when)
    assert text == "0038-01-15 12:12:45.000007"
    read = sqlite.DATETIME().result_processor(sqlite.dialect(), None)
    assert read(text) == when.replace(tzinfo=None)
    assert _sqlite_datetime(datetime(2024, 6, 1, 9, 30)) == "2024-06-01 09:30:00.000000"
