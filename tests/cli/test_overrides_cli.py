"""``stockpilot overrides set|list|remove`` as a planner types them."""

from __future__ import annotations

from typer.testing import CliRunner

from stockpilot.cli.common import workspace
from stockpilot.cli.main import app
from stockpilot.errors import UnknownSku
from stockpilot.ledger.catalogue import upsert_locations, upsert_skus


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def test_set_list_remove_and_an_unknown_sku(tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "220")
    ws = str(tmp_path)
    with workspace(tmp_path).engine.begin() as conn:
        upsert_locations(conn, [{"location": "W"}])
        upsert_skus(conn, [{"sku": "A", "name": "A"}])
    out = invoke("overrides", "set", "A", "max", "80", "--location", "W", "--author", "ann",
                 "--expires", "2099-01-01", "--note", "shelf space", "-w", ws)
    assert out.exit_code == 0 and "override 1 set" in out.output, out.output
    listed = invoke("overrides", "list", "-w", ws).output
    row = next(ln for ln in listed.splitlines() if ln.startswith("│ 1"))
    assert "max" in row and "80" in row and "ann" in row and "yes" in row
    bad = invoke("overrides", "set", "NOPE", "max", "5", "-w", ws)
    assert isinstance(bad.exception, UnknownSku) and "NOPE" in str(bad.exception)
    assert invoke("overrides", "remove", "1", "-w", ws).exit_code == 0
    assert "│ 1" not in invoke("overrides", "list", "-w", ws).output
