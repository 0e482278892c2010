"""`stockpilot import events|promotions|price-lists` and `forecast` using them, end to end."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, ws: Path, ok: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    env.pop("STOCKPILOT_DB_URL", None)
    proc = subprocess.run([sys.executable, "-m", "stockpilot", *args, "-w", str(ws)],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    assert (proc.returncode == 0) == ok, proc.stdout + proc.stderr
    return proc


def test_signals_reach_the_global_model_from_the_cli(tmp_path: Path) -> None:
    ws = tmp_path / "shop"
    run("init", ws=ws)
    run("import", "online-retail", str(ROOT / "data" / "sample" / "online_retail_top300.csv.gz"),
        ws=ws)
    (tmp_path / "events.csv").write_text("date,name,type,location\n"
                                         "2011-08-29,Summer bank holiday,holiday,\n"
                                         "2011-10-10,Trade fair,cultural,ONLINE\n")
    (tmp_path / "promos.csv").write_text("sku,category,location,start,end,type,discount\n"
                                         "85123A,,,2011-10-03,2011-10-07,email,0.15\n")
    (tmp_path / "prices.csv").write_text("sku,location,valid_from,valid_to,price\n"
                                         "85123A,,2010-12-01,,2.55\n85123A,,2011-10-01,,2.25\n")
    out = run("import", "events", str(tmp_path / "events.csv"), ws=ws).stdout
    assert "2 rows" in out
    run("import", "promotions", str(tmp_path / "promos.csv"), ws=ws)
    run("import", "price-lists", str(tmp_path / "prices.csv"), ws=ws)
    (tmp_path / "bad.csv").write_text("sku,location,valid_from,valid_to,price\n"
                                      "85123A,,2011-10-09,2011-10-01,-1\n")
    bad = run("import", "price-lists", str(tmp_path / "bad.csv"), ws=ws, ok=False)
    assert "valid_to" in bad.stdout + bad.stderr and "price" in bad.stdout + bad.stderr
    out = run("forecast", "--models", "SeasonalNaive,LightGBMDirect", "--horizon", "14",
              "--windows", "1", ws=ws).stdout
    assert "covariates for LightGBMDirect" in out
    for column in ("event_holiday", "promo_discount", "sell_price"):
        assert column in out


def test_runs_promote_rollback_from_the_cli(tmp_path: Path) -> None:
    ws = tmp_path / "shop"
    run("init", ws=ws)
    run("import", "online-retail", str(ROOT / "data" / "sample" / "online_retail_top300.csv.gz"),
        ws=ws)
    run("forecast", "--models", "WindowAverage28", "--horizon", "7", "--windows", "1", ws=ws)
    out = run("forecast", "--models", "SeasonalNaive", "--horizon", "7", "--windows", "1",
              "--challenger", ws=ws).stdout
    assert "challenger: stored as run" in out
    listed = run("forecast", "runs", ws=ws).stdout
    assert "champion" in listed and "challenger" in listed
    challenger = next(line.split("│")[1].strip() for line in listed.splitlines()
                      if "challenger" in line and "│" in line)
    refused = run("forecast", "promote", challenger, ws=ws, ok=False)
    assert "no new days yet" in refused.stdout + refused.stderr
    run("forecast", "promote", challenger, "--force", ws=ws)
    assert "rolled back" in run("forecast", "rollback", ws=ws).stdout
