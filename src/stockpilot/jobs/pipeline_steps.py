"""The nightly pipeline's steps, each a small function over existing code.

A step takes the :class:`Context` and returns a :class:`StepResult` (rows touched, the
forecast or plan run it produced, a short detail); ``None`` rows with ``skipped`` mean there
was nothing to do. Each wraps the job the CLI already runs by hand, so the pipeline and the
hand-run commands cannot drift apart:

=========  ==============================================================================
import     files dropped in ``[pipeline] watch_dir`` (:mod:`stockpilot.ingest.files`)
compact    ledger → daily history (:func:`stockpilot.jobs.compact.compact`)
forecast   refit when the champion is older than ``retrain_days``, else only on drift
           (:func:`stockpilot.forecast.pipeline.run_forecast`'s ``retrain_if_drift``)
plan       :func:`stockpilot.jobs.plan.run_plan`
alerts     every alert rule, routed to ``[alerts]`` channels
recommend  the served recommender refitted on the order lines after its cut-off
           (:func:`stockpilot.usecases.recommend_training.refresh`), when one is trained
report     the workspace report (:func:`stockpilot.reports.build.write_report`), HTML, PDF
           or xlsx
notify     the run's summary, the alert digest and (optionally) the report, mailed
=========  ==============================================================================
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stockpilot.config import Settings
from stockpilot.store.history import HistoryStore

if TYPE_CHECKING:
    from sqlalchemy import Engine

STEPS = ("import", "compact", "forecast", "plan", "alerts", "recommend", "report", "notify")
#: Watched-folder files are imported in this order (catalogue before what refers to it).
IMPORT_KINDS = ("locations", "skus", "suppliers", "supplier_items", "stock", "purchase_orders",
                "sales")


@dataclass
class Context:
    """What every step needs: the database, the history store, the settings, the run."""

    engine: Engine
    history: HistoryStore
    settings: Settings
    run_id: int = 0
    results: dict[str, StepResult] = field(default_factory=dict)


@dataclass
class StepResult:
    """What one step did."""

    rows: int | None = None
    forecast_run_id: str | None = None
    plan_run_id: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    skipped: bool = False


Step = Callable[[Context], StepResult]


def import_files(ctx: Context) -> StepResult:
    """Import the files in the watched folder (``<kind>*.csv``), moving each to ``done/``.

    A rejected file goes to ``failed/`` and fails the step (its error names file, row and
    field); files already imported are gone from the folder, so a retry does not repeat them.
    """
    from stockpilot.ingest import files

    folder = ctx.settings.pipeline.watch_dir
    if not folder:
        return StepResult(skipped=True, detail={"reason": "no [pipeline] watch_dir"})
    root = Path(folder) if Path(folder).is_absolute() else ctx.settings.workspace / folder
    done: list[str] = []
    rows = 0
    for kind, path in _watched(root):
        try:
            report = (files.import_sales(ctx.engine, path, ctx.history) if kind == "sales"
                      else files.import_stock(ctx.engine, path) if kind == "stock"
                      else files.import_purchase_orders(ctx.engine, path)
                      if kind == "purchase_orders"
                      else files.import_catalogue(ctx.engine, kind, path))
        except Exception:
            _move(path, root / "failed")
            raise
        _move(path, root / "done")
        rows += report.written
        done.append(path.name)
    return StepResult(rows=rows, detail={"files": done}, skipped=not done)


def _watched(root: Path) -> list[tuple[str, Path]]:
    """``(kind, file)`` of the CSV files in ``root``, in :data:`IMPORT_KINDS` order."""
    found = []
    for path in sorted(root.glob("*.csv*")) if root.is_dir() else []:
        stem = path.name.replace("-", "_").lower()
        kind = next((k for k in sorted(IMPORT_KINDS, key=len, reverse=True)
                     if stem.startswith(k)), None)
        if kind is not None:
            found.append((IMPORT_KINDS.index(kind), kind, path))
    return [(k, p) for _, k, p in sorted(found)]


def _move(path: Path, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.move(str(path), folder / path.name)


def compact_ledger(ctx: Context) -> StepResult:
    """Fold new ledger movements into the daily history."""
    from stockpilot.jobs.compact import compact

    got = compact(ctx.engine, ctx.history)
    return StepResult(rows=got.new_movements, detail={
        "series_recomputed": got.series_recomputed, "daily_rows": got.daily_rows,
        "stockout_days": got.stockout_days})


def forecast(ctx: Context) -> StepResult:
    """Refit on schedule (champion older than ``retrain_days``), else only on drift."""
    from stockpilot.forecast.pipeline import run_forecast
    from stockpilot.forecast.selection import groupings

    cfg = ctx.settings.pipeline
    if not ctx.history.parts("daily"):
        return StepResult(skipped=True, detail={"reason": "no demand history yet"})
    if "dept" in groupings(cfg.models):
        from stockpilot.ingest.signals import copy_catalogue

        copy_catalogue(ctx.history, ctx.engine)  # the -dept models group by catalogue category
    age = _champion_age(ctx.history)
    due = age is None or age >= timedelta(days=cfg.retrain_days)
    run = run_forecast(ctx.history, horizon=cfg.horizon, models=tuple(cfg.models),
                       n_windows=cfg.windows,
                       retrain_if_drift=None if due else cfg.drift_threshold)
    return StepResult(rows=run.series, forecast_run_id=run.run_id, detail={
        "refit": run.refit, "why": "schedule" if due else "drift check", "notes": run.notes})


def _champion_age(history: HistoryStore) -> timedelta | None:
    latest = history.root / "runs" / "latest.json"
    if not latest.exists():
        return None
    made = datetime.fromisoformat(json.loads(latest.read_text())["created_at"])
    return datetime.now(UTC) - made


def plan(ctx: Context) -> StepResult:
    """Policies and today's suggestions from the latest forecast."""
    import polars as pl

    from stockpilot.jobs.plan import run_plan
    from stockpilot.store.artifacts import ArtifactStore

    done = run_plan(ctx.engine, ctx.history, review_days=ctx.settings.pipeline.review_days,
                    sourcing_routes=ctx.settings.sourcing,
                    service_levels=ctx.settings.service_levels)
    due = done.filter(pl.col("order_qty") > 0)
    return StepResult(rows=done.height, plan_run_id=ArtifactStore(ctx.history).plan().run_id,
                      detail={"due": due.height,
                              "order_value": float(due["order_value"].sum() or 0.0)})


def alerts(ctx: Context) -> StepResult:
    """Every alert rule; new alerts go to their routed channels."""
    from stockpilot.alerts.routing import Router
    from stockpilot.alerts.service import findings, raise_alerts
    from stockpilot.store.uow import reading
    from stockpilot.usecases.stock import data_as_of

    cfg = ctx.settings.alerts
    with reading(ctx.engine) as uow:  # a workspace of old imported data is judged at its end
        today = data_as_of(uow, ctx.history)
    found = findings(ctx.engine, ctx.history, today=today)
    new = raise_alerts(ctx.engine, found, Router.from_settings(cfg),
                       cooldown=timedelta(hours=cfg.cooldown_hours))
    return StepResult(rows=len(new), detail={"conditions": len(found)})


def recommend(ctx: Context) -> StepResult:
    """Refit the served recommender on the order lines newer than its cut-off (timed)."""
    from stockpilot.store.uow import reading
    from stockpilot.usecases.recommend_training import refresh

    folder = ctx.settings.workspace / "models" / "recommend"
    model = ctx.settings.recommend.model
    if not (folder / f"{model}.pkl").exists():
        return StepResult(skipped=True, detail={
            "reason": f"no trained {model!r} model (stockpilot recommend train)"})
    with reading(ctx.engine) as uow:
        run = refresh(uow, folder, model)
    return StepResult(rows=int(run.get("customers", 0)) if run["refreshed"] else 0, detail=run)


def report(ctx: Context) -> StepResult:
    """The workspace report (``[pipeline] report_format``) as ``report/pipeline-<run>.<fmt>``.

    Written where ``GET /reports`` and ``stockpilot report`` keep reports (all locations).
    """
    from stockpilot.reports.build import write_report

    fmt = ctx.settings.pipeline.report_format
    out = ctx.settings.workspace / "report" / f"pipeline-{ctx.run_id}.{fmt}"
    page = write_report(ctx.engine, ctx.history, out, fmt=fmt,
                        title=f"stockpilot — pipeline run {ctx.run_id}")
    return StepResult(rows=1, detail={"report": str(page)})


def notify(ctx: Context) -> StepResult:
    """The run's summary, the alert digest and the report, to the channels configured.

    * the one-line summary to the channels routed for ``pipeline_summary``;
    * one digest of the alerts raised in the last ``[pipeline] digest_hours`` to the
      ``[alerts] digest`` channels (instead of a mail per alert);
    * with ``[pipeline] mail_report``, the report step's file mailed to ``email_to``.

    Every mail is recorded (``stockpilot report deliveries``); a failed one fails the step,
    which raises the ``pipeline_failed`` alert, and ``--resume`` sends again.
    """
    from stockpilot.alerts.routing import Router

    router = Router.from_settings(ctx.settings.alerts)
    detail: dict[str, Any] = {}
    failed = _send_summary(ctx, router, detail) + _send_digest(ctx, router, detail)
    failed += _mail_report(ctx, detail)
    if failed:
        raise RuntimeError(f"not delivered: {'; '.join(failed)}")
    if not detail:
        return StepResult(skipped=True, detail={
            "reason": "nothing to send: no [alerts.routes] pipeline_summary, no [alerts] "
                      "digest channel, [pipeline] mail_report off"})
    return StepResult(rows=sum(int(v) for k, v in detail.items() if k.endswith("_sent")),
                      detail=detail)


def _send_summary(ctx: Context, router: Any, detail: dict[str, Any]) -> list[str]:
    from stockpilot.alerts.notifiers import deliver
    from stockpilot.alerts.routing import route

    if "pipeline_summary" not in ctx.settings.alerts.routes:
        return []
    targets = route(router, "pipeline_summary")
    message = summary(ctx)
    sent = [deliver(n, {"rule": "pipeline_summary", "sku": "-", "location": "-",
                        "severity": "info", "message": message, "id": None})
            for n in targets]
    detail.update(message=message, summary_sent=sum(ok for ok, _, _ in sent))
    return [f"summary: {err}" for ok, _, err in sent if not ok]


def _send_digest(ctx: Context, router: Any, detail: dict[str, Any]) -> list[str]:
    from stockpilot.store.uow import writing
    from stockpilot.usecases import deliveries
    from stockpilot.usecases.actor import SYSTEM

    targets = router.digest_channels()
    if not targets:
        return []
    until = datetime.now(UTC)
    since = until - timedelta(hours=ctx.settings.pipeline.digest_hours)
    with writing(ctx.engine) as uow:
        done = deliveries.send_digest(uow, SYSTEM, targets, since, until)
    detail["digest_sent"] = sum(d.status == "sent" for d in done)
    return [f"digest by {d.channel}: {d.error}" for d in done if d.status != "sent"]


def _mail_report(ctx: Context, detail: dict[str, Any]) -> list[str]:
    from stockpilot.alerts import notifiers as n
    from stockpilot.store.uow import writing
    from stockpilot.usecases import deliveries
    from stockpilot.usecases.actor import SYSTEM

    made = ctx.results.get("report")
    if not ctx.settings.pipeline.mail_report or made is None or "report" not in made.detail:
        return []
    ch = ctx.settings.alerts.channels
    if not ch.smtp_host or not ch.email_to:
        return ["report: [pipeline] mail_report needs [alerts.channels] smtp_host and email_to"]
    path = Path(made.detail["report"])
    files = [path, *sorted(path.parent.glob(f"{path.stem}-*.png"))]
    mail = n.Email(ch.smtp_host, ch.smtp_port, ch.email_from, tuple(ch.email_to))
    with writing(ctx.engine) as uow:
        d = deliveries.mail_report(uow, SYSTEM, mail, files, f"[stockpilot] {path.name}",
                                   f"The report of pipeline run {ctx.run_id} is attached.\n")
    detail["report_sent"] = int(d.status == "sent")
    return [] if d.status == "sent" else [f"report by {d.channel}: {d.error}"]


def summary(ctx: Context) -> str:
    """``pipeline run N: compact 120 rows, forecast 972 rows (run …), …``."""
    parts = [f"{s} {'skipped' if r.skipped else f'{r.rows} rows'}"
             + (f" (run {r.forecast_run_id or r.plan_run_id})"
                if r.forecast_run_id or r.plan_run_id else "")
             for s, r in ctx.results.items()]
    return f"pipeline run {ctx.run_id}: " + ", ".join(parts)


REGISTRY: dict[str, Step] = {
    "import": import_files, "compact": compact_ledger, "forecast": forecast, "plan": plan,
    "alerts": alerts, "recommend": recommend, "report": report, "notify": notify}
