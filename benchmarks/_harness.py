"""Run a benchmark case in a fresh process and report wall time and that process's peak RSS."""

from __future__ import annotations

import multiprocessing as mp
import platform
import resource
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any


def _child(fn: Callable[..., Any], args: tuple[Any, ...], queue: Any) -> None:
    start = time.perf_counter()
    result = fn(*args)
    wall = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put((wall, peak_mib, result))


def measure(fn: Callable[..., Any], *args: Any) -> tuple[float, float, Any]:
    """(wall seconds, peak RSS MiB, fn's result) of ``fn(*args)`` in a spawned process."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(fn, args, queue))
    proc.start()
    out = queue.get()
    proc.join()
    if proc.exitcode:
        raise RuntimeError(f"benchmark case failed with exit code {proc.exitcode}")
    return out


def machine() -> str:
    """One line naming the machine and the date."""
    import os

    return (f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.processor() or platform.machine()}"
            f", {os.cpu_count()} cores, Python {platform.python_version()}")
