"""Create or upgrade a database to the newest schema with Alembic."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(engine: Engine | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations (and ``engine`` when given)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        # configparser reads % as interpolation: a URL with %-escapes (e.g. options=-c…%3D…)
        # must be written with %% to survive
        url = engine.url.render_as_string(hide_password=False)
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Bring the database up to ``revision`` in one transaction (idempotent).

    Each area (ledger, events, API, …) keeps its own migration branch off ``0001``, so the
    default target is every head.
    """
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def current_revisions(engine: Engine) -> tuple[str, ...]:
    """The revisions the database is at (empty when it was never migrated)."""
    with engine.connect() as conn:
        return tuple(MigrationContext.configure(conn).get_current_heads())


def head_revisions() -> tuple[str, ...]:
    """The newest revision of every branch shipped with this version of stockpilot."""
    return tuple(ScriptDirectory.from_config(alembic_config()).get_heads())
