"""Print the OpenAPI schema (``python -m stockpilot.api.openapi > docs/openapi.json``)."""

import json
import tempfile
from pathlib import Path

from stockpilot.api.app import create_app
from stockpilot.store.db import make_engine
from stockpilot.store.history import HistoryStore

if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(make_engine(f"sqlite:///{tmp}/x.db"), HistoryStore(Path(tmp)))
        print(json.dumps(app.openapi(), indent=2, sort_keys=True))
