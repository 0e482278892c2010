"""Copy the quoted outputs from ``docs/examples/`` (run ``scripts/readme_example.py`` first).

README: each ```text block after ``<!-- output of: CMD -->`` gets the first lines CMD printed.
docs/api.md: the worked example's block is rewritten from ``docs/examples/api.txt``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from readme_example import README, TRANSCRIPT, section


def fill(readme: str, transcript: str, lines: dict[str, int]) -> str:
    """The README with each quoted block replaced by the transcript's first lines."""
    def repl(m: re.Match[str]) -> str:
        cmd = m.group(1).strip()
        want = lines.get(cmd) or max(1, m.group(2).count("\n"))
        out = "\n".join(section(transcript, cmd).splitlines()[:want])
        return f"<!-- output of: {cmd} -->\n```text\n{out}\n```"

    return re.sub(r"<!-- output of: (.+?) -->\s*```text\n(.*?)```", repl, readme, flags=re.S)




def api_block(api: str) -> str:
    """docs/api.md's worked example: each request as curl, its answer as comments."""
    import json

    from readme_example import API_REQUESTS

    answers = api.split("\n\n")
    out = ["<!-- api-examples:start (scripts/readme_quotes.py writes this block) -->",
           "```bash"]
    for (method, url, body, headers), answer in zip(API_REQUESTS, answers, strict=True):
        _, status, shown = answer.split("\n", 2)
        cmd = 'curl -s -H "X-API-Key: $KEY"'
        for name, value in headers.items():
            cmd += f' -H "{name}: {value}"'
        if body is not None:
            cmd += f" -H 'Content-Type: application/json' -X {method}"
        cmd += f' "http://127.0.0.1:8000{url}"'
        if body is not None:
            cmd += f" -d '{json.dumps(body, separators=(',', ':'))}'"
        out += [cmd, f"# {status}", f"# {shown}", ""]
    out[-1] = "```"
    return "\n".join([*out, "<!-- api-examples:end -->"])


def fill_api(doc: str, api: str) -> str:
    """docs/api.md with its example block (or the ``API_EXAMPLES`` placeholder) regenerated."""
    block = api_block(api)
    if "API_EXAMPLES" in doc:
        return doc.replace("API_EXAMPLES", block)
    return re.sub(r"<!-- api-examples:start.*?<!-- api-examples:end -->", lambda _m: block,
                  doc, flags=re.S)


if __name__ == "__main__":
    from readme_example import API_TRANSCRIPT, ROOT

    README.write_text(fill(README.read_text(), TRANSCRIPT.read_text(),
                           {"stockpilot plan -w shop": 4,
                            "stockpilot events apply data/examples/events.jsonl -w shop": 2}))
    api_doc = ROOT / "docs" / "api.md"
    api_doc.write_text(fill_api(api_doc.read_text(), API_TRANSCRIPT.read_text()))
