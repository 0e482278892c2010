"""The nightly pipeline on the vendored real sample: every step recorded, a failed step resumed
without redoing the ones before it, the failure alerted over a real SMTP server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from stockpilot.config import AlertChannels, AlertSettings, PipelineSettings, Settings
from stockpilot.errors import StockpilotError
from stockpilot.ingest import files
from stockpilot.jobs import pipeline
from stockpilot.jobs.demo import import_sample, sample_dir
from stockpilot.jobs.pipeline_steps import STEPS, Context
from stockpilot.store import schema as t
from stockpilot.store.artifacts import ArtifactStore
from stockpilot.store.history import HistoryStore
from stockpilot.store.uow import reading
from stockpilot.usecases import alerts, pipeline_runs
from stockpilot.usecases.actor import SYSTEM
from stockpilot.usecases.paging import PageRequest

FAST = PipelineSettings(models=["SeasonalNaive"], windows=1, horizon=14)


def _ctx(engine, tmp_path: Path, **settings) -> Context:
    s = Settings(workspace=tmp_path, pipeline=settings.pop("pipeline", FAST), **settings)
    return Context(engine, HistoryStore(tmp_path / "history"), s)


def _run(engine, run_id: int) -> dict:
    with reading(engine) as uow:
        return pipeline_runs.get_run(uow, SYSTEM, run_id)


def test_select_steps_keeps_pipeline_order_and_rejects_unknown_names():
    assert pipeline.select_steps() == list(STEPS)
    assert pipeline.select_steps(["plan", "compact"]) == ["compact", "plan"]
    assert pipeline.select_steps(None, "alerts") == ["alerts", "recommend", "report", "notify"]
    with pytest.raises(pipeline.UnknownStep, match=r"'forcast'.*one of import, compact"):
        pipeline.select_steps(["forcast"])


@pytest.mark.slow  # the whole pipeline on the sample: ~6 s on SQLite, ~10 s on PostgreSQL
def test_every_step_is_recorded_with_its_rows_and_run_ids(engine, tmp_path):
    ctx = _ctx(engine, tmp_path)
    import_sample(engine, ctx.history)
    run_id = pipeline.run_pipeline(ctx)
    run = _run(engine, run_id)
    assert run["status"] == "succeeded" and run["error"] is None
    got = {s["step"]: s for s in run["steps"]}
    assert [s["step"] for s in run["steps"]] == list(STEPS)
    assert got["import"]["status"] == got["notify"]["status"] == "skipped"  # not configured
    with engine.connect() as conn:  # the stock snapshot's count movements, folded once
        assert got["compact"]["rows"] == conn.execute(
            select(func.count()).select_from(t.movements)).scalar_one() > 0
    champion = json.loads((ctx.history.root / "runs" / "latest.json").read_text())
    assert got["forecast"]["forecast_run_id"] == champion["run_id"]
    assert got["forecast"]["rows"] == champion["series"] == 300
    plan = ArtifactStore(ctx.history).plan()
    assert got["plan"]["plan_run_id"] == plan.run_id and got["plan"]["rows"] == plan.frame.height
    with reading(engine) as uow:
        raised, _ = alerts.list_alerts(uow, SYSTEM, PageRequest(1, 0, "-id"))
    # the first check: every condition found is a new alert
    assert got["alerts"]["rows"] == got["alerts"]["detail"]["conditions"] > 0
    assert raised and Path(got["report"]["detail"]["report"]).is_file()
    assert all(s["attempts"] == 1 and s["finished_at"] >= s["started_at"] for s in run["steps"])
    assert run["summary"]["plan"] == {"status": "succeeded", "rows": plan.frame.height}




def test_a_failed_step_is_alerted_and_resumed_without_redoing_earlier_steps(
        sqlite_engine, tmp_path, smtp):
    from stockpilot.ingest.online_retail_import import import_online_retail

    port, box = smtp
    mail = AlertSettings(channels=AlertChannels(smtp_host="127.0.0.1", smtp_port=port,
                                                email_to=["ops@shop.example"]),
                         routes={"pipeline_failed": ["email"], "default": []})
    ctx = _ctx(sqlite_engine, tmp_path, alerts=mail)
    import_online_retail(sqlite_engine, sample_dir() / "online_retail_top300.csv.gz",
                         ctx.history)  # sales only: no supplier terms, so planning must fail
    run_id = pipeline.run_pipeline(ctx, ["compact", "forecast", "plan", "alerts"])
    run = _run(sqlite_engine, run_id)
    steps = {s["step"]: s for s in run["steps"]}
    assert run["status"] == "failed" and run["error"].startswith("step plan: StockpilotError")
    assert steps["plan"]["status"] == "failed" and "supplier terms" in steps["plan"]["error"]
    assert steps["alerts"]["status"] == "pending"  # never started
    [msg] = box
    assert "pipeline_failed" in msg["Subject"] and f"--resume {run_id}" in msg.get_payload()
    forecast_id = steps["forecast"]["forecast_run_id"]

    for kind in ("suppliers", "supplier_items"):  # the fix: import what was missing
        files.import_catalogue(sqlite_engine, kind, sample_dir() / f"{kind}.csv")
    assert pipeline.resume(_ctx(sqlite_engine, tmp_path, alerts=mail), run_id) == run_id
    again = {s["step"]: s for s in _run(sqlite_engine, run_id)["steps"]}
    assert _run(sqlite_engine, run_id)["status"] == "succeeded"
    assert again["compact"]["attempts"] == again["forecast"]["attempts"] == 1  # not redone
    assert again["forecast"]["forecast_run_id"] == forecast_id
    assert again["plan"]["attempts"] == 2 and again["plan"]["status"] == "succeeded"
    assert again["alerts"]["attempts"] == 1 and again["alerts"]["status"] == "succeeded"
    assert json.loads((ctx.history.root / "runs" / "latest.json").read_text())[
        "run_id"] == forecast_id
    with reading(sqlite_engine) as uow:  # the run that failed succeeded: its alert is resolved
        [alert], _ = alerts.list_alerts(uow, SYSTEM, PageRequest(5, 0, "id"),
                                        rule="pipeline_failed")
    assert alert["status"] == "resolved"


def test_resume_of_an_unknown_or_foreign_run_is_not_found(sqlite_engine, tmp_path):
    from stockpilot.errors import NotFound
    from stockpilot.jobs.runs import run_job

    other = run_job(sqlite_engine, "plan", {}, lambda: {})
    for bad in (other, 999):
        with pytest.raises(NotFound):
            pipeline.resume(_ctx(sqlite_engine, tmp_path), bad)


def test_watched_folder_imports_in_catalogue_order_and_sets_a_bad_file_aside(
        sqlite_engine, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()  # dropped in the wrong order on purpose: terms before their SKUs and supplier
    (inbox / "supplier-items-0601.csv").write_text(
        "supplier,sku,lead_time_days,moq,pack_size,order_cost,unit_cost\n"
        "ACME,A1,7,12,12,15.0,0.5\nACME,B2,7,1,1,15.0,2.0\n")
    (inbox / "skus-0601.csv").write_text("sku,name,price\nA1,Widget,1.5\nB2,Gadget,4\n")
    (inbox / "suppliers-0601.csv").write_text("supplier,name,email\nACME,Acme,o@acme.example\n")
    ctx = _ctx(sqlite_engine, tmp_path, pipeline=FAST.model_copy(update={"watch_dir": "inbox"}))
    run = _run(sqlite_engine, pipeline.run_pipeline(ctx, ["import"]))
    [step] = run["steps"]
    assert run["status"] == "succeeded", run["error"]
    assert step["detail"]["files"] == ["skus-0601.csv", "suppliers-0601.csv",
                                       "supplier-items-0601.csv"]
    assert step["rows"] == 5 and len(list((inbox / "done").iterdir())) == 3

    (inbox / "skus-bad.csv").write_text("sku,name,price\nA1,Widget,1\nC3,Thing,not-a-number\n")
    run = _run(sqlite_engine, pipeline.run_pipeline(ctx, ["import"]))
    assert run["status"] == "failed" and "skus-bad.csv:3: price" in run["error"], run["error"]
    with reading(sqlite_engine) as uow:  # nothing half written: A1 keeps its price
        assert uow.conn.execute(select(t.skus.c.price).where(t.skus.c.sku == "A1")
                                ).scalar_one() == 1.5
    assert (inbox / "failed" / "skus-bad.csv").exists() and not (inbox / "skus-bad.csv").exists()


def test_unknown_step_is_a_user_error():
    assert issubclass(pipeline.UnknownStep, StockpilotError)


@pytest.mark.slow  # the whole pipeline on the sample (~6 s)
def test_notify_mails_one_alert_digest_and_the_report_and_records_both(
        sqlite_engine, tmp_path, smtp):
    from stockpilot.usecases import deliveries

    port, box = smtp
    mail = AlertSettings(channels=AlertChannels(smtp_host="127.0.0.1", smtp_port=port,
                                                email_to=["buyer@shop.example"]),
                         digest=["email"], routes={"default": ["email"]})
    ctx = _ctx(sqlite_engine, tmp_path, alerts=mail,
               pipeline=FAST.model_copy(update={"mail_report": True}))
    import_sample(sqlite_engine, ctx.history)
    run = _run(sqlite_engine, pipeline.run_pipeline(ctx))
    notify = {s["step"]: s for s in run["steps"]}["notify"]
    assert run["status"] == "succeeded" and notify["status"] == "succeeded", run
    raised = {s["step"]: s for s in run["steps"]}["alerts"]["rows"]
    from email.header import decode_header, make_header

    subjects = [str(make_header(decode_header(m["Subject"]))) for m in box]
    assert len(box) == 2, subjects  # one digest (not a mail per alert) and the report
    assert subjects[0].startswith(f"[stockpilot] {raised} alerts (")
    reports = [m for m, s in zip(box, subjects, strict=True)
               if s.startswith("[stockpilot] pipeline-")]
    attached = {p.get_filename(): p for p in reports[0].walk() if p.get_filename()}
    page = attached.pop(f"pipeline-{run['id']}.html")  # the page, and its charts beside it
    assert b"stockpilot" in page.get_payload(decode=True)
    assert attached and all(n.endswith(".png") for n in attached)
    with reading(sqlite_engine) as uow:
        kinds = sorted(d["kind"] for d in deliveries.deliveries(uow, SYSTEM))
    assert kinds == ["digest", "report"]


@pytest.mark.slow  # trains the hybrid recommender on the sample (~10 s)
def test_the_recommend_step_refits_the_served_model_on_newer_order_lines(sqlite_engine,
                                                                        tmp_path):
    from datetime import datetime

    from stockpilot.recommend.service import load, train
    from stockpilot.store.uow import reading as read
    from stockpilot.usecases.recommendations import order_lines

    ctx = _ctx(sqlite_engine, tmp_path)
    import_sample(sqlite_engine, ctx.history)
    folder = tmp_path / "models" / "recommend"
    with read(sqlite_engine) as uow:
        lines = order_lines(uow, SYSTEM)
    train(lines.filter(lines["at"] < datetime(2011, 9, 1)), datetime(2011, 9, 1), folder)
    run = _run(sqlite_engine, pipeline.run_pipeline(ctx, ["recommend"]))
    [step] = run["steps"]
    assert step["status"] == "succeeded" and step["rows"] > 0, step
    assert load(folder, "hybrid").cutoff > datetime(2011, 9, 29)  # refitted up to the newest
    assert (folder / "refresh_runs.jsonl").read_text().count('"refreshed": true') == 1
