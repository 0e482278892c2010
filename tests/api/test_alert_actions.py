"""Acknowledging and resolving alerts over the API: who is recorded, and closed stays closed."""

from __future__ import annotations

from stockpilot.alerts.service import history_of


def test_history_names_the_key_and_a_resolved_alert_cannot_be_acked(world):
    c, h = world.client, world.h("operator")
    alert = world.ids["alert_in"]
    assert c.post(f"/alerts/{alert}/ack", json={}, headers=h).json()["status"] == "acked"
    assert c.post(f"/alerts/{alert}/resolve", json={}, headers=h).json()["status"] == "resolved"
    again = c.post(f"/alerts/{alert}/ack", json={}, headers=h)
    assert again.status_code == 409, again.text
    assert again.json()["title"] == "Alert already resolved"
    assert c.post(f"/alerts/{alert}/resolve", json={}, headers=h).status_code == 409
    key_id = next(k["id"] for k in c.get("/keys", params={"limit": 500},
                                         headers=world.h("admin")).json()["items"]
                  if k["name"] == "operator-False")
    rows = history_of(world.engine, alert)
    assert [(r["action"], r["actor"]) for r in rows] == [
        ("acked", f"key {key_id}"), ("resolved", f"key {key_id}")]
    assert c.get(f"/alerts/{alert}", headers=h).json()["status"] == "resolved"
