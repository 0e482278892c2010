"""Run the README's worked example, command by command, and keep what each one printed.

``python scripts/readme_example.py`` runs every line of the ```bash block under "## A worked
example" in a fresh temporary folder laid out like a clone (``data/`` beside it, ``../shared``
when present) and writes the transcript to ``docs/examples/readme.txt``; the README's sample
outputs are copied from it (``tests/test_readme_example.py`` checks they match). Commands run
in this one process through Typer's test runner: one interpreter start instead of twenty, the
same code path as the ``stockpilot`` executable (``stockpilot.cli.main.app``).

A line whose comment starts ``# fails`` must exit non-zero (the README shows its error); its
error is printed as the ``stockpilot`` executable prints it (``error: …``). Lines naming
``../shared/data`` (the M5 files, not in the repository) are skipped when that
folder is absent, except under ``CI=true``, where it must be there.
"""

from __future__ import annotations

import os
import re
import shlex
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
TRANSCRIPT = ROOT / "docs" / "examples" / "readme.txt"
API_TRANSCRIPT = ROOT / "docs" / "examples" / "api.txt"
#: The requests of docs/api.md's worked example, on the workspace the README example built,
#: with a key limited to ONLINE: (method, url, JSON body, extra headers).
T = "2011-10-02T10:12:00+00:00"
API_REQUESTS: list[tuple[str, str, object, dict[str, str]]] = [
    ("GET", "/stock/85123A", None, {}),
    ("GET", "/stock?limit=2&sort=on_hand,sku", None, {}),
    ("POST", "/events", {"kind": "sale", "event_id": "order-1001-1", "sku": "85123A",
                         "location": "ONLINE", "quantity": 2, "customer_id": "17850",
                         "occurred_at": T}, {"Idempotency-Key": "order-1001"}),
    ("POST", "/events", {"kind": "sale", "event_id": "order-1002-1", "sku": "85123A",
                         "location": "ONLINE", "quantity": 5000, "occurred_at": T}, {}),
    ("POST", "/events", {"kind": "sale", "event_id": "order-1003-1", "sku": "85123A",
                         "location": "ONLINE", "quantity": "two", "occurred_at": T}, {}),
    ("POST", "/events", {"events": [
        {"kind": "sale", "event_id": "b-1", "sku": "85123A", "location": "ONLINE",
         "quantity": 1, "occurred_at": T},
        {"kind": "sale", "event_id": "b-2", "sku": "NO-SUCH", "location": "ONLINE",
         "quantity": 1, "occurred_at": T}]}, {}),
    ("GET", "/dead-letters?limit=1&error_type=UnknownSku", None, {}),
    ("GET", "/locations/DC", None, {}),
]
SHARED = "../shared/data"


class ExampleFailed(Exception):
    """A command of the example exited non-zero."""


def commands(readme: str) -> list[tuple[str, bool]]:
    """The worked example's command lines (comments dropped), each with "must it fail"."""
    section = readme.split("## A worked example", 1)[1]
    body = section.split("```bash\n", 1)[1].split("```", 1)[0]
    out = []
    for line in body.splitlines():
        words = shlex.split(line, comments=True)
        if words:
            out.append((shlex.join(words), bool(re.search(r"#\s*fails\b", line))))
    return out


def _normalise(text: str, folder: Path) -> str:
    """Output that is the same on every run: no temp paths, secrets or durations."""
    text = text.replace(str(folder.resolve()), ".").replace(str(folder), ".")
    text = re.sub(r"sp_[A-Za-z0-9_\-]{8,}", "sp_…", text)
    text = re.sub(r"\b\d{8}T\d{6}-[0-9a-f]{6}-[0-9a-f]{4}\b", "RUN_ID", text)
    text = re.sub(r"\b\d+(\.\d+)? ?(ms|s)\b(?=[ ,;)]|$)", "… s", text, flags=re.M)
    # progress lines (spinners, bars with elapsed time) differ from run to run
    lines = [line.rstrip() for line in text.splitlines()
             if not re.search(r"^[\u2800-\u28ff]|━━━|\d:\d\d:\d\d\s*$", line)]
    return "\n".join(lines)


def _layout(tmp: Path) -> Path:
    """A clone-like folder: ``clone/data`` → the repository's data, ``shared`` beside it."""
    clone = tmp / "clone"
    clone.mkdir()
    (clone / "data").symlink_to(ROOT / "data")
    shared = Path(os.environ.get("STOCKPILOT_SHARED_DATA", ROOT.parent / "shared" / "data"))
    if shared.exists():
        (tmp / "shared").mkdir()
        (tmp / "shared" / "data").symlink_to(shared)
    return clone


def run(tmp: Path, say: Callable[[str], object] = print) -> tuple[str, str]:
    """Run the example in ``tmp``; its transcript and the answers to docs/api.md's requests.

    The requests go to the workspace the example built; a failing command raises
    :class:`ExampleFailed`.
    """
    from typer.testing import CliRunner

    from stockpilot.cli.main import app
    from stockpilot.errors import StockpilotError

    clone = _layout(tmp)
    runner = CliRunner()
    parts, here = [], Path.cwd()
    os.chdir(clone)
    try:
        for line, fails in commands(README.read_text()):
            if SHARED in line and not (clone / SHARED).exists():
                if os.environ.get("CI") == "true":
                    raise ExampleFailed(f"{SHARED} is missing (needed under CI): {line}")
                parts.append(f"$ {line}\n(skipped: {SHARED} is not beside this clone)")
                continue
            started = time.monotonic()
            res = runner.invoke(app, shlex.split(line)[1:], env={"COLUMNS": "100",
                                                                 "NO_COLOR": "1"})
            say(f"{time.monotonic() - started:6.1f} s  {line}")
            if (res.exit_code != 0) != fails:
                raise ExampleFailed(f"{line!r} exited {res.exit_code}:\n{res.output}"
                                    + (f"\n{res.exception!r}" if res.exception else ""))
            shown = res.output
            if fails and isinstance(res.exception, StockpilotError):
                shown += f"error: {res.exception}"  # as `main()` prints it
            parts.append(f"$ {line}\n{_normalise(shown, clone).strip()}")
        api = api_examples(clone / "shop")
    finally:
        os.chdir(here)
    return "\n\n".join(parts) + "\n", api


def quotes(readme: str) -> list[tuple[str, str]]:
    """The README's quoted outputs: ``(command, text)`` per ``<!-- output of: CMD -->``."""
    found = re.findall(r"<!-- output of: (.+?) -->\s*```text\n(.*?)```", readme, re.S)
    return [(cmd.strip(), text) for cmd, text in found]


def api_examples(shop: Path) -> str:
    """docs/api.md's requests against ``shop`` (in process): each request and its answer."""
    import json

    from fastapi.testclient import TestClient

    from stockpilot.api.app import create_app
    from stockpilot.api.auth import create_key
    from stockpilot.store.workspace import open_workspace

    w = open_workspace(shop)
    key = create_key(w.engine, "docs-example", "operator", ["ONLINE"])
    client = TestClient(create_app(w.engine, w.history, shop, w.settings))
    parts = []
    for method, url, body, headers in API_REQUESTS:
        r = client.request(method, url, json=body, headers={"X-API-Key": key, **headers})
        answer = json.dumps(r.json(), ensure_ascii=False, separators=(",", ":"))
        answer = re.sub(r'"created_at":"[^"]+"', '"created_at":"…"', answer)
        parts.append(f"$ {method} {url}\n{r.status_code} {r.headers['content-type']}\n"
                     f"{answer}")
    w.engine.dispose()
    return "\n\n".join(parts) + "\n"


def section(transcript: str, command: str) -> str:
    """What ``command`` printed in a transcript."""
    for part in transcript.split("\n\n$ "):
        head, _, out = part.removeprefix("$ ").partition("\n")
        if head == command:
            return out
    raise KeyError(command)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        t0 = time.monotonic()
        text, api = run(Path(folder), say=lambda m: print(m, file=sys.stderr))
        print(f"{time.monotonic() - t0:.1f} s in all", file=sys.stderr)
    TRANSCRIPT.write_text(text)
    API_TRANSCRIPT.write_text(api)
    print(f"wrote {TRANSCRIPT.relative_to(ROOT)}, {API_TRANSCRIPT.relative_to(ROOT)}",
          file=sys.stderr)
