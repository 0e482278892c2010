"""Worklists: the same rows in the dashboard, the API and the CLI; cards count their lists.

On the dashboard's fixture workspace (SKUs A and B at W, A at S; user "shop" sees only S).
"""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner
from web_fixture import client, login

from stockpilot.alerts.inputs import PlanCache
from stockpilot.alerts.service import findings
from stockpilot.api.auth import create_key
from stockpilot.cli.main import app as cli
from stockpilot.usecases import kpis

# the SQL is the same for every list (one stock table): both backends are covered by the
# parity and location-scope tests; the rest filter frames, once is enough
SQLITE_ONLY = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)


def _csv(body: bytes | str) -> list[dict[str, str]]:
    text = body.decode() if isinstance(body, bytes) else body
    return list(csv.DictReader(io.StringIO(text)))


def _api(ws, locations=None):
    c = client(ws)
    c.headers["X-API-Key"] = create_key(ws.engine, f"k{locations}", "viewer", locations)
    return c


def test_dashboard_api_and_export_list_the_same_rows_in_urgency_order(web):
    ui = client(web)
    login(ui, "planner")
    html = ui.get("/ui/lists/skus").text
    shown = re.findall(r'<td data-label="SKU" class="c-sku"><a href="/ui/sku/(\w+)\?location=(\w)',
                       html)
    api = _api(web).get("/worklists/skus").json()
    assert [(r["sku"], r["location"]) for r in api["items"]] == shown == [
        ("B", "W"), ("A", "W"), ("A", "S")]  # out of stock, runs out in 4 d < 7 d lead, low
    assert [r["status"] for r in api["items"]] == ["out", "stockout", "reorder"]
    first = api["items"][0]
    assert first["name"] == "Blue <b>bowl</b>" and first["days_of_cover"] == 0.0
    assert first["forecast_per_day"] == 4.0 and first["stock_value"] == 120.0
    assert "Blue &lt;b&gt;bowl&lt;/b&gt;" in html  # names are escaped
    exported = _csv(ui.get("/ui/lists/skus/export?format=csv").content)
    assert [(r["sku"], r["location"], r["status"]) for r in exported] == [
        (r["sku"], r["location"], r["status"]) for r in api["items"]]


@SQLITE_ONLY
def test_filters_sort_paging_and_xlsx(web):
    c = _api(web)
    got = c.get("/worklists/skus", params={"q": "MUG", "sort": "-available"}).json()
    assert [(r["sku"], r["location"]) for r in got["items"]] == [("A", "S"), ("A", "W")]
    page = c.get("/worklists/skus", params={"limit": 1, "offset": 1}).json()
    assert page["total"] == 3 and [r["location"] for r in page["items"]] == ["W"]
    assert c.get("/worklists/skus", params={"location": "S"}).json()["total"] == 1
    assert c.get("/worklists/skus", params={"status": "overstock"}).json()["total"] == 0
    bad = c.get("/worklists/skus", params={"status": "lost"})
    assert bad.status_code == 422 and "out, stockout" in bad.json()["detail"]
    assert c.get("/worklists/skus", params={"sort": "colour"}).status_code == 422
    xlsx = c.get("/worklists/suggestions/export", params={"format": "xlsx"})
    rows = list(load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("sku", "name", "location") and len(rows) == 3
    assert {r[rows[0].index("order_value")] for r in rows[1:]} == {150.0}


@SQLITE_ONLY
def test_overview_cards_count_their_lists_and_the_alert_rules(web):
    ui = client(web)
    login(ui, "planner")
    html = ui.get("/").text
    api = _api(web)
    found = findings(web.engine, web.history)
    rule_count = {"reorder": "low_stock", "stockout": "projected_stockout"}
    for status, card in (("out", "kpi-out"), ("stockout", "kpi-stockouts"),
                         ("reorder", "kpi-below-rop"), ("overstock", "kpi-overstock")):
        shown = int(re.search(rf'id="{card}">([^<]+)<', html).group(1))
        assert f'href="/ui/lists/skus?status={status}"' in html
        listed = api.get("/worklists/skus", params={"status": status}).json()["total"]
        assert shown == listed, status
        if status in rule_count:
            assert shown == sum(f.rule == rule_count[status] for f in found), status
    assert PlanCache(web.history).get("plans") is not None
    assert set(kpis.STATUSES) >= {"out", "stockout", "reorder", "overstock"}


@SQLITE_ONLY
def test_alerts_are_paged_named_and_critical_first(web):
    c = _api(web)
    got = c.get("/worklists/alerts", params={"limit": 1}).json()
    assert got["total"] == 2 and got["items"][0]["severity"] == "critical"
    assert got["items"][0]["name"] == "Red mug"
    ui = client(web)
    login(ui, "planner")
    html = ui.get("/ui/alerts?q=mug&limit=1").text
    assert html.index("projected_stockout") < html.index("low_stock")
    assert "Red mug" in html
    assert ui.get("/ui/sku?q=", follow_redirects=False).headers["location"] == "/ui/lists/skus"


def test_a_location_limited_user_sees_only_their_locations_everywhere(web):
    ui = client(web)
    login(ui, "shop")  # planner at S only
    for name in ("skus", "alerts", "suggestions", "expiring", "overstock"):
        rows = _csv(ui.get(f"/ui/lists/{name}/export?format=csv").content)
        assert {r["location"] for r in rows} <= {"S"}, name
        api = _api(web, ["S"]).get(f"/worklists/{name}", params={"status": "all"}
                                    if name == "alerts" else {}).json()
        assert {r["location"] for r in api["items"]} <= {"S"}, name
    assert "/ui/sku/B" not in ui.get("/ui/lists/skus").text
    assert len(_csv(ui.get("/ui/lists/skus/export?format=csv").content)) == 1


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_the_cli_lists_and_exports_the_same_rows(web, tmp_path):
    out = tmp_path / "skus.csv"
    db = web.engine.url.render_as_string(hide_password=False)
    res = CliRunner().invoke(cli, ["list", "skus", "-w", str(web.root), "--db", db,
                                   "--status", "reorder", "--export", str(out)])
    assert res.exit_code == 0, res.output
    api = _api(web).get("/worklists/skus", params={"status": "reorder"}).json()["items"]
    assert [(r["sku"], r["location"]) for r in _csv(out.read_bytes())] == [
        (r["sku"], r["location"]) for r in api]
    shown = CliRunner().invoke(cli, ["list", "alerts", "-w", str(web.root), "--db", db])
    assert shown.exit_code == 0 and "Alerts: 2 rows (sort urgency" in shown.output
    bad = CliRunner().invoke(cli, ["list", "nope", "-w", str(web.root), "--db", db])
    assert bad.exit_code != 0


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_returns_are_charted_apart_from_demand(web):
    import polars as pl

    daily = web.history.scan("daily").collect()
    last = daily["date"].max()
    returned = daily.with_columns(
        pl.when((pl.col("sku") == "A") & (pl.col("location") == "W") & (pl.col("date") == last))
        .then(-3).otherwise(pl.col("units")).alias("units"))
    web.history.write_daily("import", returned)
    ui = client(web)
    login(ui, "planner")
    page = ui.get("/ui/sku/A", params={"location": "W"}).text
    chart = json.loads(
        re.search(r'id="chart-data">(.*?)</script>', page, re.S).group(1))
    assert chart["returns"] == [[last.isoformat(), -3]]
    assert chart["history"][-1] == [last.isoformat(), 0]
    assert min(u for _, u in chart["history"]) >= 0


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_a_ledger_change_shows_at_once_despite_the_kept_table(web):
    from datetime import UTC, datetime

    from stockpilot.domain.commands import RecordSale
    from stockpilot.ledger.service import apply_events
    from stockpilot.store.uow import transact

    c = _api(web)
    before = c.get("/worklists/skus", params={"location": "S"}).json()["items"][0]
    transact(web.engine, apply_events, [RecordSale(event_id="late-sale", sku="A", location="S",
                                                   quantity=5, occurred_at=datetime.now(UTC))])
    after = c.get("/worklists/skus", params={"location": "S"}).json()["items"][0]
    assert (before["available"], after["available"]) == (40, 35)
