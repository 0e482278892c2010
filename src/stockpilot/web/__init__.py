"""The server-rendered dashboard (Jinja2 + htmx, charts with the vendored ECharts).

:func:`mount` adds the pages, the login and the static files to the API's FastAPI app.
"""

from stockpilot.web.app import mount

__all__ = ["mount"]
