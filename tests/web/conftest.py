"""The dashboard's fixture: a small demo-like workspace (see ``web_fixture``)."""

from __future__ import annotations

import pytest
from web_fixture import WebWorkspace, make_workspace


@pytest.fixture
def web(engine, tmp_path) -> WebWorkspace:
    return make_workspace(engine, tmp_path)
