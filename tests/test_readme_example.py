"""The README's worked example runs top to bottom, and its quoted outputs are what it prints.

``scripts/readme_example.py`` runs every command of the example in a temporary clone-like
folder (``docs/examples/readme.txt`` is its committed transcript); the README quotes outputs
from it under ``<!-- output of: COMMAND -->``.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location(
        "readme_example", ROOT / "scripts" / "readme_example.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["readme_example"] = mod
    spec.loader.exec_module(mod)
    return mod


def _check_quotes(mod, transcript: str) -> None:
    quotes = mod.quotes(mod.README.read_text())
    assert len(quotes) >= 3
    for cmd, text in quotes:
        shown = mod.section(transcript, cmd)
        assert shown.startswith(text.rstrip("\n")), (
            f"README's output of {cmd!r} is stale: run scripts/readme_example.py, then "
            f"scripts/readme_quotes.py")


def test_the_committed_transcript_covers_the_example_and_the_quotes():
    mod = _script()
    transcript = mod.TRANSCRIPT.read_text()
    heads = [p.partition("\n")[0] for p in ("\n" + transcript).split("\n$ ")[1:]]
    assert heads == [line for line, _ in mod.commands(mod.README.read_text())], (
        "the README's example changed: run scripts/readme_example.py")
    _check_quotes(mod, transcript)
    assert "sp_…" in transcript and "/tmp" not in transcript  # no secrets, no temp paths


@pytest.mark.slow  # every command of the example: ~25 s idle, 50–95 s at load 20 (2 cores)
def test_the_example_runs_top_to_bottom_and_prints_what_the_readme_quotes(tmp_path):
    mod = _script()
    transcript, api = mod.run(tmp_path, say=lambda _m: None)
    if os.environ.get("CI") == "true":
        assert "(skipped:" not in transcript
    _check_quotes(mod, transcript)
    # (compared word by word: rich wraps a line naming the temporary folder where its length
    # puts it, and that folder's name differs from run to run)
    assert transcript.split() == mod.TRANSCRIPT.read_text().split(), (
        "the example prints something else now: run scripts/readme_example.py")
    assert api == mod.API_TRANSCRIPT.read_text(), (
        "docs/api.md's requests answer something else now: run scripts/readme_example.py")
    for line in api.splitlines():  # what docs/api.md quotes is what the API answered
        if line.startswith("{") or line.startswith("["):
            assert line in (ROOT / "docs" / "api.md").read_text(), line
