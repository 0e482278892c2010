"""The suite's own layout: pytest imports test modules by basename (rootdir import mode), so
two files of one name in different folders stop collection of the whole suite."""

from __future__ import annotations

from collections import Counter
from pathlib import Path


def test_no_two_test_modules_share_a_basename():
    here = Path(__file__).parent
    names = Counter(p.name for p in here.rglob("*.py")
                    if p.name not in ("conftest.py", "__init__.py"))
    assert [n for n, k in names.items() if k > 1] == []
