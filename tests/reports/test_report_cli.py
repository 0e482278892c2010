"""`stockpilot report` through the CLI on a fresh workspace (no plan, no forecast yet)."""

from __future__ import annotations

from typer.testing import CliRunner

from stockpilot.cli.main import app


def test_report_on_an_empty_workspace_and_the_deliveries_list(tmp_path):
    ws = str(tmp_path / "ws")
    run = CliRunner().invoke
    assert run(app, ["init", "-w", ws]).exit_code == 0
    r = run(app, ["report", "-w", ws])
    assert r.exit_code == 0, r.output
    page = (tmp_path / "ws" / "report" / "report.html").read_text()
    assert "no plan yet" in page and "Purchase suggestions" in page
    r = run(app, ["report", "-w", ws, "--location", "S", "--format", "xlsx"])
    assert r.exit_code == 0 and (tmp_path / "ws" / "report" / "locations" / "S" /
                                 "report.xlsx").exists()
    r = run(app, ["report", "digest", "-w", ws])
    assert r.exit_code != 0 and "no digest channel" in str(r.exception or r.output)
    r = run(app, ["report", "deliveries", "-w", ws, "--failed"])
    assert r.exit_code == 0 and "status" in r.output
