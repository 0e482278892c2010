"""``stockpilot keys list|revoke`` and ``users list|disable|sessions revoke`` (issue 17
item 6), in process through Typer on a real workspace."""

from __future__ import annotations

from datetime import timedelta

from typer.testing import CliRunner

from stockpilot.api.auth import create_key, lookup
from stockpilot.cli.main import app
from stockpilot.store.db import make_engine
from stockpilot.store.migrate import upgrade
from stockpilot.store.uow import reading, writing
from stockpilot.usecases import users
from stockpilot.usecases.actor import SYSTEM

runner = CliRunner()


def _cli(*args: str, ws) -> str:  # type: ignore[no-untyped-def]
    r = runner.invoke(app, [*args, "-w", str(ws)], env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert r.exit_code == 0, r.output
    return r.output


def _workspace(tmp_path):  # type: ignore[no-untyped-def]
    ws = tmp_path / "ws"
    ws.mkdir()
    engine = make_engine(f"sqlite:///{ws / 'stockpilot.db'}")
    upgrade(engine)
    return ws, engine


def test_keys_list_and_revoke(tmp_path):
    ws, engine = _workspace(tmp_path)
    secret = create_key(engine, "shop-feed", "operator", ["ONLINE"])
    create_key(engine, "reports", "viewer")
    out = _cli("keys", "list", ws=ws)
    assert "shop-feed" in out and "ONLINE" in out and "reports" in out
    assert secret not in out
    assert lookup(engine, secret) is not None
    assert "revoked" in _cli("keys", "revoke", "1", ws=ws)
    assert lookup(engine, secret) is None
    r = runner.invoke(app, ["keys", "revoke", "99", "-w", str(ws)])
    assert r.exit_code != 0


def test_users_list_disable_and_sessions_revoke(tmp_path, monkeypatch):
    from argon2 import PasswordHasher

    monkeypatch.setattr("stockpilot.usecases.users._hasher",
                        PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    ws, engine = _workspace(tmp_path)
    with writing(engine) as uow:
        users.create_user(uow, SYSTEM, "ana", "long enough pw", "planner", ["S"])
        ana = users.authenticate(uow, "ana", "long enough pw")
        assert ana is not None
        for token in ("t1", "t2"):
            users.start_session(uow, ana, token, timedelta(hours=1))
    out = _cli("users", "list", ws=ws)
    assert "ana" in out and "planner" in out and " 2 " in out
    assert "2 session(s) of ana ended" in _cli("users", "sessions", "revoke", "ana", ws=ws)
    with writing(engine) as uow:
        users.start_session(uow, ana, "t3", timedelta(hours=1))
    assert "disabled (1 session(s) ended)" in _cli("users", "disable", "ana", ws=ws)
    with reading(engine) as uow:
        assert users.resolve_session(uow, "t3") is None
        assert users.authenticate(uow, "ana", "long enough pw") is None
