"""Imports atomic across the database and the Parquet history store (a two-step commit).

1. :meth:`Stage.write` puts every history part in ``<root>/.staging/<stage_id>/`` (the live
   parts are untouched), each file fsynced.
2. The import's database transaction calls :meth:`Stage.record` (one ``history_commits`` row
   naming the stage) and commits: that commit is the import's single point of truth.
3. :meth:`Stage.publish` moves the staged parts into place (``os.replace``, atomic per file)
   and removes the stage.

A kill before 2 leaves a stage with no row: :func:`recover` deletes it (nothing happened). A
kill after 2 leaves a row and some staged parts: :func:`recover` moves the rest into place
(everything happened). Every import calls :func:`recover` first, so "the next run" finishes
or undoes the last one; readers between a kill and that run may see the older parts.
Without a database (history-only imports) step 2 is skipped and the parts publish at once.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
from sqlalchemy import Connection, Engine, insert, select

from stockpilot.store.history import DAILY_SCHEMA, HistoryStore
from stockpilot.store.schema_imports import history_commits

STAGING = ".staging"


class Stage:
    """History parts of one import, written aside until its database commit."""

    def __init__(self, history: HistoryStore, kind: str) -> None:
        self.history, self.kind = history, kind
        self.stage_id = f"{kind}-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
        self.folder = history.root / STAGING / self.stage_id

    def write(self, dataset: str, part: str, df: pl.DataFrame) -> None:
        """Stage one part (what :meth:`HistoryStore.write` would write)."""
        target = self.folder / dataset / f"{part}.parquet"
        target.parent.mkdir(parents=True, exist_ok=True)
        df.write_parquet(target, compression="zstd", statistics=True)
        _fsync(target)

    def write_daily(self, source: str, df: pl.DataFrame) -> None:
        """Stage a source's daily demand (as :meth:`HistoryStore.write_daily`)."""
        out = df.select([pl.col(c).cast(t) for c, t in DAILY_SCHEMA.items()])
        self.write("daily", source, out.sort("sku", "location", "date"))

    def record(self, conn: Connection) -> None:
        """Mark the stage committed, inside the import's own transaction."""
        _fsync_tree(self.folder)
        conn.execute(insert(history_commits).values(stage_id=self.stage_id, kind=self.kind,
                                                    committed_at=datetime.now(UTC)))

    def publish(self) -> None:
        """Move the staged parts into place and remove the stage (after the commit)."""
        _publish(self.history, self.folder)

    def discard(self) -> None:
        """Throw the stage away (the import failed before its commit)."""
        shutil.rmtree(self.folder, ignore_errors=True)


@contextmanager
def staged(history: HistoryStore, kind: str) -> Iterator[Stage]:
    """A :class:`Stage` discarded if the block raises (the caller records and publishes)."""
    stage = Stage(history, kind)
    try:
        yield stage
    except BaseException:
        stage.discard()
        raise


def recover(history: HistoryStore, engine: Engine | None) -> list[str]:
    """Finish or undo every stage a killed import left; the stage ids finished.

    A stage whose ``history_commits`` row exists is published (the database committed);
    any other is deleted. Without an engine only stages of history-only imports exist and
    those publish at once, so anything left is incomplete and deleted.
    """
    root = history.root / STAGING
    if not root.exists():
        return []
    stages = sorted(p for p in root.iterdir() if p.is_dir())
    committed: set[str] = set()
    if engine is not None and stages:
        with engine.connect() as conn:
            committed = set(conn.execute(select(history_commits.c.stage_id).where(
                history_commits.c.stage_id.in_([p.name for p in stages]))).scalars())
    done = []
    for folder in stages:
        if folder.name in committed:
            _publish(history, folder)
            done.append(folder.name)
        else:
            shutil.rmtree(folder, ignore_errors=True)
    return done


def _publish(history: HistoryStore, folder: Path) -> None:
    for staged_file in sorted(folder.glob("*/*.parquet")):
        target = history.path(staged_file.parent.name, staged_file.stem)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged_file, target)
        _fsync(target.parent)
    shutil.rmtree(folder, ignore_errors=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(folder: Path) -> None:
    for d in [folder, *(p for p in folder.rglob("*") if p.is_dir())]:
        _fsync(d)

