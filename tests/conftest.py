"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real data sets in ``../shared/data`` (or ``$STOCKPILOT_SHARED_DATA``)."""
    path = Path(os.environ.get("STOCKPILOT_SHARED_DATA", ROOT.parent / "shared" / "data"))
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"shared data not found at {path}")
        pytest.skip(f"shared data not found at {path} (set STOCKPILOT_SHARED_DATA)")
    return path
