"""``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) from vendored files: they work offline.

FastAPI's defaults load both from a CDN, so on a machine without internet ``/docs`` is blank.
The UIs' own files are vendored unmodified under ``api/static/`` (see its README for versions
and licences) and served at :data:`ASSETS`. The OpenAPI document declares the two ways to
present a key (``X-API-Key`` header, ``Authorization: Bearer``; :mod:`stockpilot.api.deps`),
so Swagger UI's *Authorize* button sends it; ``persistAuthorization`` keeps it across reloads.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"
ASSETS = "/api-docs-assets"


def install(app: FastAPI) -> None:
    """Serve the vendored UIs at ``/docs`` and ``/redoc`` (create the app without its own)."""
    app.mount(ASSETS, StaticFiles(directory=STATIC), name="api-docs-assets")
    title = f"{app.title} API"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json", title=title,
            swagger_js_url=f"{ASSETS}/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/swagger-ui/favicon-32x32.png",
            swagger_ui_parameters={"persistAuthorization": True,
                                   "defaultModelsExpandDepth": -1})

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url=app.openapi_url or "/openapi.json", title=title,
                              redoc_js_url=f"{ASSETS}/redoc/redoc.standalone.js",
                              redoc_favicon_url=f"{ASSETS}/swagger-ui/favicon-32x32.png",
                              with_google_fonts=False)
