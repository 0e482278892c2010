"""The dashboard's fixture: a small demo-like workspace (see ``web_fixture``)."""

from __future__ import annotations

import pytest
from web_fixture import WebWorkspace, make_workspace


@pytest.fixture
def web(engine, tmp_path) -> WebWorkspace:
    return make_workspace(engine, tmp_path)


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch):
    """Argon2 at its defaults takes ~1 s a hash on a busy 2-core machine; tests need speed,
    not strength (hashes carry their own parameters, so verification is unchanged)."""
    from argon2 import PasswordHasher

    monkeypatch.setattr("stockpilot.usecases.users._hasher",
                        PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
