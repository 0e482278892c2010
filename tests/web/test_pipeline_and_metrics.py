"""The pipeline's records on the API and the dashboard; ``/metrics`` computed from the
database at scrape time with the dashboard's KPI definitions; the Grafana dashboard's queries
name metrics that ``/metrics`` serves."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select
from web_fixture import client, login

from stockpilot.api.auth import create_key
from stockpilot.config import PipelineSettings, Settings
from stockpilot.jobs import pipeline
from stockpilot.jobs.pipeline_steps import Context
from stockpilot.jobs.runs import run_job
from stockpilot.store import schema as t
from stockpilot.store import schema_events as te
from stockpilot.usecases.actor import SYSTEM
from stockpilot.web.data import Sources
from stockpilot.web.kpis import overview

GRAFANA = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "stockpilot.json"


def _runs(web) -> tuple[int, int]:
    """One run that succeeds (compact) and one that fails at its plan step (no forecast)."""
    ctx = Context(web.engine, web.history, Settings(workspace=web.root,
                                                    pipeline=PipelineSettings()))
    ok = pipeline.run_pipeline(ctx, ["compact"])
    (web.history.root / "forecasts").rename(web.history.root / "forecasts-away")
    try:
        bad = pipeline.run_pipeline(Context(web.engine, web.history, ctx.settings), ["plan"])
    finally:
        (web.history.root / "forecasts-away").rename(web.history.root / "forecasts")
    return ok, bad


def _samples(text: str) -> dict[tuple[str, tuple], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for fam in text_string_to_metric_families(text) for s in fam.samples}


def test_runs_on_the_api_and_the_dashboard(web):
    ok, bad = _runs(web)
    c = client(web)
    h = {"X-API-Key": create_key(web.engine, "grafana", "viewer")}
    page = c.get("/pipeline/runs", headers=h).json()
    assert page["total"] == 2 and [r["id"] for r in page["items"]] == [bad, ok]
    failed = c.get(f"/pipeline/runs/{bad}", headers=h).json()
    assert failed["status"] == "failed" and failed["steps"][0]["step"] == "plan"
    assert "no forecasts yet" in failed["steps"][0]["error"]
    other = run_job(web.engine, "plan", {}, lambda: {})
    assert c.get(f"/pipeline/runs/{other}", headers=h).status_code == 404
    assert c.get("/pipeline/runs", params={"status": "succeeded"}, headers=h).json()[
        "total"] == 1

    login(c, "viewer")
    html = c.get("/ui/pipeline").text
    assert f"stockpilot pipeline run --resume {bad}" in html
    assert re.search(rf"<td>{ok}</td><td>succeeded</td>", html)
    assert "no forecasts yet" in html and 'href="/ui/pipeline" aria-current="page"' in html


def test_metrics_are_the_dashboards_kpis_at_scrape_time_and_grafana_reads_them(web):
    c = client(web)
    h = {"X-API-Key": create_key(web.engine, "prometheus", "viewer")}
    before = _samples(c.get("/metrics", headers=h).text)
    assert before[("stockpilot_planning_open_alerts", ())] == 2  # the fixture's two alerts
    kpis = overview(Sources(web.engine, web.history), SYSTEM)
    assert kpis["below_rop"]["value"] > 0  # the number the dashboard shows, not 0
    assert before[("stockpilot_planning_skus_below_reorder_point", ())] == kpis["below_rop"][
        "value"]
    assert before[("stockpilot_planning_projected_stockouts", ())] == kpis["stockouts"]["value"]
    with web.engine.connect() as conn:  # stock value, summed independently of the dashboard
        value = conn.execute(select(func.sum(t.stock.c.on_hand * t.skus.c.unit_cost)).join(
            t.skus, t.skus.c.sku == t.stock.c.sku)).scalar_one()
        open_alerts = conn.execute(select(func.count()).select_from(te.alerts).where(
            te.alerts.c.status != "resolved")).scalar_one()
    assert before[("stockpilot_planning_stock_value", ())] == float(value) > 0
    assert open_alerts == 2
    assert before[("stockpilot_pipeline_last_run_succeeded", ())] != before[
        ("stockpilot_pipeline_last_run_succeeded", ())]  # NaN: no run yet

    _, bad = _runs(web)
    after = _samples(c.get("/metrics", headers=h).text)
    assert after[("stockpilot_pipeline_last_run_succeeded", ())] == 0.0  # the failed one
    assert 0 <= after[("stockpilot_pipeline_last_run_age_seconds", ())] < 60
    c.get(f"/pipeline/runs/{bad}", headers=h)
    routes = {dict(k[1]).get("route") for k in after} | {
        dict(k[1]).get("route") for k in _samples(c.get("/metrics", headers=h).text)}
    assert "/pipeline/runs/{run_id}" in routes and f"/pipeline/runs/{bad}" not in routes
    assert "/metrics" in routes

    # every Grafana query names metrics that /metrics serves (same workspace, to save a setup)
    served = {s[0] for s in _samples(c.get("/metrics", headers=h).text)}
    board = json.loads(GRAFANA.read_text())
    exprs = [tg["expr"] for p in board["panels"] for tg in p.get("targets", [])]
    assert len(exprs) >= 8
    for expr in exprs:
        names = set(re.findall(r"\bstockpilot_[a-z0-9_]+", expr))
        assert names and names <= served, (expr, names - served)
