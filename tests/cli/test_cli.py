"""The CLI end to end, as a user runs it: real processes, real files, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, ws: Path | None, ok: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    env.pop("STOCKPILOT_DB_URL", None)
    where = ["-w", str(ws)] if ws else []
    proc = subprocess.run([sys.executable, "-m", "stockpilot", *args, *where],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert (proc.returncode == 0) == ok, proc.stdout + proc.stderr
    return proc


def test_init_import_events_show_check_export(tmp_path):
    ws = tmp_path / "shop"
    run("init", ws=ws)
    assert (ws / "stockpilot.toml").exists() and (ws / "stockpilot.db").exists()
    (tmp_path / "loc.csv").write_text("location\nW\n")
    (tmp_path / "skus.csv").write_text("sku,name\n=cmd,Evil\nA,Apple\n")
    run("import", "locations", str(tmp_path / "loc.csv"), ws=ws)
    run("import", "skus", str(tmp_path / "skus.csv"), ws=ws)
    events = [
        {"kind": "receipt", "event_id": "r1", "sku": "A", "location": "W", "quantity": 5,
         "occurred_at": "2024-01-01T09:00:00+00:00"},
        {"kind": "receipt", "event_id": "r2", "sku": "=cmd", "location": "W", "quantity": 1,
         "occurred_at": "2024-01-01T09:00:00+00:00"},
        {"kind": "sale", "event_id": "s1", "sku": "A", "location": "W", "quantity": 7,
         "occurred_at": "2024-01-01T10:00:00+00:00"},
        {"kind": "sale", "event_id": "s2", "sku": "A", "location": "W", "quantity": 2,
         "occurred_at": "2024-01-01T10:00:00+00:00"},
    ]
    (tmp_path / "ev.jsonl").write_text("\n".join(json.dumps(e) for e in events))
    # a rejected event makes the run exit 1 (issue 17 item 2: it exited 0)
    proc = run("events", "apply", str(tmp_path / "ev.jsonl"), ws=ws, ok=False)
    assert proc.returncode == 1
    out = proc.stdout
    assert "3 applied" in out and "1 rejected" in out
    assert "requested 7, available 5" in out
    again = run("events", "apply", str(tmp_path / "ev.jsonl"), ws=ws, ok=False).stdout
    assert "3 duplicate" in again
    shown = run("stock", "show", "--sku", "A", ws=ws).stdout
    assert "│ A " in shown and " 3 " in shown
    run("stock", "check", ws=ws)
    run("stock", "export", str(tmp_path / "pos.csv"), ws=ws)
    lines = (tmp_path / "pos.csv").read_text().splitlines()
    assert lines[1].startswith("'=cmd,W,1,")


def test_bad_file_prints_one_line_without_traceback(tmp_path):
    ws = tmp_path / "shop"
    run("init", ws=ws)
    (tmp_path / "loc.csv").write_text("location,allows_backorders\nW,maybe\n")
    proc = run("import", "locations", str(tmp_path / "loc.csv"), ws=ws, ok=False)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    err = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert len(err) == 1
    assert "loc.csv:2: allows_backorders: not true/false ('maybe')" in err[0]


def test_import_spec_documents_columns(tmp_path):
    out = run("import", "spec", "stock", ws=None).stdout
    assert "| quantity | int | yes | nonneg |" in out


def test_usage_error_has_no_traceback(tmp_path):
    proc = run("stock", "show", "--no-such-flag", ws=tmp_path, ok=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "No such option" in proc.stderr


def test_sample_forecast_plan_budget_segments_approve(tmp_path):
    sample = ROOT / "data" / "sample"
    ws = tmp_path / "shop"
    run("init", ws=ws)
    run("import", "online-retail", str(sample / "online_retail_top300.csv.gz"), ws=ws)
    run("import", "suppliers", str(sample / "suppliers.csv"), ws=ws)
    run("import", "supplier-items", str(sample / "supplier_items.csv"), ws=ws)
    run("import", "stock", str(sample / "stock.csv"), "--counted-at",
        "2011-09-30T23:59:00+00:00", ws=ws)
    run("forecast", "--models", "SeasonalNaive,CrostonOptimized", ws=ws)
    out = run("plan", "--budget", "FAR-EAST=300", "--show", "50", ws=ws).stdout
    assert "demand over lead time: " in out and "compound-poisson" in out
    assert "lines deferred by the budget" in out and "within the budget" in out
    bad = run("plan", "--budget", "FAR-EAST", ws=ws, ok=False)
    assert bad.returncode == 2 and "SUPPLIER=AMOUNT" in bad.stderr + bad.stdout
    seg = run("segments", "--k", "3", "--out", str(tmp_path / "seg.csv"), ws=ws).stdout
    assert "k = 3" in seg and (tmp_path / "seg.csv").read_text().startswith("unique_id,")
    run("orders", "approve", ws=ws)


def test_serve_refuses_a_public_host_with_default_secrets(tmp_path):
    ws = tmp_path / "shop"
    run("init", ws=ws)
    proc = run("serve", "--host", "0.0.0.0", ws=ws, ok=False)
    out = proc.stdout + proc.stderr
    assert "refusing to serve on 0.0.0.0" in out and "STOCKPILOT_SECRET_KEY" in out
    assert "Traceback" not in out
