"""``stockpilot pipeline run/runs`` and ``stockpilot scheduler`` through the CLI."""

from __future__ import annotations

from typer.testing import CliRunner

from stockpilot.cli.main import app
from stockpilot.jobs.pipeline import UnknownStep


def test_a_failed_run_exits_1_says_how_to_resume_and_is_listed(tmp_path):
    cli = CliRunner()
    got = cli.invoke(app, ["pipeline", "run", "--steps", "compact,plan", "-w", str(tmp_path)])
    assert got.exit_code == 1, got.output
    assert "plan      failed: StockpilotError: no forecasts yet" in got.output
    assert "pipeline run 1: failed" in got.output and "--resume 1" in got.output
    again = cli.invoke(app, ["pipeline", "run", "--resume", "1", "-w", str(tmp_path)])
    assert again.exit_code == 1 and "compact" not in again.output  # only the failed step
    listed = cli.invoke(app, ["pipeline", "runs", "-w", str(tmp_path)])
    assert listed.exit_code == 0 and "compact: succeeded" in listed.output
    assert "plan: failed" in listed.output and "no forecasts yet" in listed.output
    bad = cli.invoke(app, ["pipeline", "run", "--from", "planning", "-w", str(tmp_path)])
    assert isinstance(bad.exception, UnknownStep) and "'planning'" in str(bad.exception)


def test_scheduler_needs_a_schedule(tmp_path):
    got = CliRunner().invoke(app, ["scheduler", "-w", str(tmp_path)])
    assert got.exit_code == 2 and "no [schedule] in stockpilot.toml" in got.output
