"""``stockpilot network`` end to end: zones from invoices, sites imported, design as JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

INVOICES = """InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
1,A,a,1000,2011-01-03 10:00:00,1.0,1,United Kingdom
2,A,a,400,2011-01-04 10:00:00,1.0,2,Germany
3,A,a,300,2011-02-04 10:00:00,1.0,3,Poland
C4,A,a,-100,2011-02-05 10:00:00,1.0,2,Germany
5,A,a,50,2011-02-06 10:00:00,1.0,4,Unspecified
6,A,a,70,2011-02-06 10:00:00,1.0,5,Australia
"""


def run(*args: str, ws: Path | None, ok: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    env.pop("STOCKPILOT_DB_URL", None)
    where = ["-w", str(ws)] if ws else []
    proc = subprocess.run([sys.executable, "-m", "stockpilot", *args, *where],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert (proc.returncode == 0) == ok, proc.stdout + proc.stderr
    return proc


def test_zones_sites_and_design(tmp_path: Path):
    ws = tmp_path / "shop"
    run("init", ws=ws)
    (tmp_path / "inv.csv").write_text(INVOICES)
    out = run("network", "zones", "--online-retail", str(tmp_path / "inv.csv"), "-o",
              str(tmp_path / "zones.csv"), "--sites-out", str(tmp_path / "sites.csv"),
              "--continent", "EU", "--fixed-cost", "100", ws=None).stdout
    assert "Unspecified (50 units)" in out and "Australia (70 units)" in out
    zones = (tmp_path / "zones.csv").read_text().splitlines()
    assert zones[0] == "zone,name,latitude,longitude,demand_units"
    assert any(z.startswith("DE,Germany,52.5") and z.endswith(",150.0") for z in zones)
    run("import", "locations", str(tmp_path / "sites.csv"), ws=ws)
    answer = tmp_path / "answer.json"
    run("network", "design", "--zones", str(tmp_path / "zones.csv"), "--cost-per-unit-km", "1",
        "--keep-current", "--json", str(answer), ws=ws)
    got = json.loads(answer.read_text())
    assert got["current_sites"] == ["DC_GB"]
    assert "DC_GB" in got["best"]["open_sites"] and len(got["best"]["open_sites"]) >= 2
    assert got["saving"] > 0
    assert got["saving"] == got["current"]["total_cost"] - got["best"]["total_cost"]
    bad = run("network", "design", "--zones", str(tmp_path / "zones.csv"), "--cost-per-unit-km",
              "1", "--current", "NOPE", ws=ws, ok=False)
    assert "NOPE" in bad.stderr and "Traceback" not in bad.stderr
