"""``stockpilot recommend`` end to end: a shop's own columns, the workspace, A/B, refresh."""

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
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    assert (proc.returncode == 0) == ok, proc.stdout + proc.stderr
    return proc

SAMPLE = ROOT / "data" / "sample" / "online_retail_top300.csv.gz"
MAP = "customer_id=Cust,order_id=Basket,sku=Item,quantity=Qty,occurred_at=When"


def _shop_file(tmp_path: Path) -> Path:
    """The sample's order lines under a shop's own column names and ISO times."""
    import polars as pl

    from stockpilot.recommend.lines import read_order_lines

    lines = read_order_lines(SAMPLE)
    out = tmp_path / "shop.csv"
    lines.select(pl.col("order_id").alias("Basket"), pl.col("customer_id").alias("Cust"),
                 pl.col("sku").alias("Item"), pl.col("quantity").alias("Qty"),
                 pl.col("at").dt.strftime("%Y-%m-%dT%H:%M:%S").alias("When")).write_csv(out)
    return out


def test_evaluate_a_shops_own_file_equals_the_online_retail_reader(tmp_path):
    shop = _shop_file(tmp_path)
    args = ("recommend", "evaluate", "--cutoff", "2011-09-01", "--models",
            "popularity,repeat,ease", "--json")
    mapped = json.loads(run(*args, "--data", str(shop), "--columns", MAP, ws=None).stdout)
    direct = json.loads(run(*args, "--data", str(SAMPLE), ws=None).stdout)
    strip = [{k: v for k, v in r.items() if k != "fit_s"} for r in mapped]
    assert strip == [{k: v for k, v in r.items() if k != "fit_s"} for r in direct]
    ndcg = {(r["model"], r["items"]): r["ndcg"] for r in mapped}
    assert ndcg[("repeat", "all")] > ndcg[("popularity", "all")] > 0
    (tmp_path / "spec.toml").write_text("[columns]\n" + "\n".join(
        f'{a} = "{b}"' for a, b in (p.split("=") for p in MAP.split(","))))
    out = tmp_path / "recs.csv"
    run("recommend", "export", "--cutoff", "2011-09-01", "--model", "repeat", "--data",
        str(shop), "--spec", str(tmp_path / "spec.toml"), "--out", str(out), ws=None)
    assert out.read_text().splitlines()[0] == "customer_id,rank,sku"


def test_a_bad_row_is_named_without_a_traceback(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("Cust,Basket,Item,Qty,When\n1,o1,A,2,2011-01-01\n1,o2,B,lots,2011-01-02\n")
    proc = run("recommend", "evaluate", "--cutoff", "2011-01-02", "--data", str(bad),
               "--columns", MAP, ws=None, ok=False)
    text = proc.stdout + proc.stderr
    assert "bad.csv:3: quantity: not an integer" in text and "Traceback" not in text


def test_workspace_train_experiment_refresh(tmp_path):
    ws = tmp_path / "shop"
    run("init", ws=ws)
    run("import", "online-retail", str(SAMPLE), ws=ws)
    trained = run("recommend", "train", "--cutoff", "2011-09-01", "--model", "repeat", ws=ws)
    assert "trained repeat" in trained.stdout
    note = json.loads((ws / "models" / "recommend" / "repeat.json").read_text())
    assert note["cutoff"].startswith("2011-09-01") and note["fit_s"] >= 0
    run("recommend", "experiment", "start", "t1", "--variant", "a:repeat",
        "--variant", "b:repeat:filter:2", ws=ws)
    run("recommend", "experiment", "start", "t2", "--variant", "a:repeat", "--variant",
        "b:repeat", ws=ws, ok=False)  # one experiment at a time
    rep = json.loads(run("recommend", "experiment", "report", "t1", "--json", ws=ws).stdout)
    assert [r["variant"] for r in rep["rows"]] == ["a", "b"] and rep["status"] == "running"
    run("recommend", "experiment", "stop", "t1", ws=ws)
    done = run("recommend", "refresh", "--model", "repeat", ws=ws)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["refreshed"] is True and result["cutoff"] > "2011-09-01"
    again = json.loads(run("recommend", "refresh", "--model", "repeat",
                           ws=ws).stdout.strip().splitlines()[-1])
    assert again["refreshed"] is False  # nothing newer than the refreshed model
    assert len((ws / "models" / "recommend" / "refresh_runs.jsonl").read_text().splitlines()) == 2
