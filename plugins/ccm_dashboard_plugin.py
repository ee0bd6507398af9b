"""Airflow UI entries for the control dashboard and the latest evidence pack.

Operators live in the Airflow UI, so the dashboard (`<data_dir>/reports/dashboard.html`)
and the evidence pack (`<data_dir>/packs/latest/index.html`) are put into its navigation
with Airflow 3's plugin interface: a FastAPI app mounted on the API server at `/ccm`
serves the files, and two `external_views` show them inside the UI (in an iframe, at
`/plugin/ccm-dashboard` and `/plugin/ccm-evidence-pack`).

The app serves three trees and nothing else (not the raw lake, not the warehouse):
`/ccm/reports/` (dashboard and status index), `/ccm/packs/` and `/ccm/evidence/`, laid out
as under the data directory, so the dashboard's relative links (`../evidence/gx/docs/…`,
`../packs/latest/index.html`) work here exactly as they do from the file system. Plugin
apps are not protected by Airflow on their own: every request must carry the Airflow
session (the UI's JWT cookie, or a bearer token) of a user allowed to see the website.

This file is a top-level plugin module (`plugins/.airflowignore` excludes `ccm/`); it
imports only FastAPI, the light `ccm.config` and the stdlib-only `ccm.webpolicy` at load time.
"""

from __future__ import annotations

import html
import mimetypes
from pathlib import Path

from airflow.plugins_manager import AirflowPlugin
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from ccm.webpolicy import served_policy

URL_PREFIX = "/ccm"
DASHBOARD_PATH = "reports/dashboard.html"
PACK_PATH = "packs/latest/index.html"
# navigation icons (the UI shows them above the entry's name)
_ICON = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none" stroke="#51504f" '
         'stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round">{}</svg>')
ICONS = {
    "dashboard": _ICON.format('<rect x="3" y="4" width="18" height="16" rx="2"/><path d="M7 9h2M11 9h2M15 9h2'
                              'M7 13h2M11 13h2M15 13h2M7 17h10"/>'),
    "evidence": _ICON.format('<path d="M12 3l7 3v5c0 4.5-3 8-7 10-4-2-7-5.5-7-10V6z"/><path d="M9 12l2 2 4-4"/>'),
}


def _roots() -> dict[str, Path | None]:
    """The directories served, from the same settings the pipeline uses."""
    from ccm.config import Settings

    settings = Settings.from_env()
    evidence = None if settings.evidence_uri.startswith("s3://") else Path(settings.evidence_uri)
    return {"reports": settings.data_dir / "reports", "packs": settings.data_dir / "packs", "evidence": evidence}


async def _require_airflow_user(request: Request) -> None:
    """401/403 unless the request carries the session of a user allowed to see the Airflow website."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.base_auth_manager import COOKIE_NAME_JWT_TOKEN
    from airflow.api_fastapi.auth.managers.models.resource_details import AccessView
    from airflow.api_fastapi.core_api.security import resolve_user_from_token

    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else request.cookies.get(COOKIE_NAME_JWT_TOKEN)
    user = await resolve_user_from_token(token)
    if not get_auth_manager().is_authorized_view(access_view=AccessView.WEBSITE, user=user):
        raise HTTPException(status_code=403, detail="Forbidden")


def _not_built(what: str, how: str) -> HTMLResponse:
    body = (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(what)}</title></head>"
            "<body style='font:15px system-ui,sans-serif;margin:3rem;color:#17202e'>"
            f"<h1 style='font-size:20px'>No {html.escape(what)} built yet</h1><p>{html.escape(how)}</p></body></html>")
    return HTMLResponse(body, status_code=404, headers=SECURITY_HEADERS)


app = FastAPI(title="ccm: control dashboard and evidence pack", docs_url=None, redoc_url=None, openapi_url=None)


@app.get("/icons/{name}.svg")
async def icon(name: str) -> Response:
    """The navigation icons (public: they show the Airflow logo's neighbours, nothing else)."""
    if name not in ICONS:
        raise HTTPException(status_code=404, detail="Not found")
    return Response(ICONS[name], media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"})


@app.get("/{area}/{path:path}")
async def serve(area: str, path: str, request: Request) -> Response:
    """One file from an allowed tree; directories serve their index.html."""
    await _require_airflow_user(request)
    root = _roots().get(area)
    if root is None:
        raise HTTPException(status_code=404, detail="Not found")
    root = root.resolve()
    target = (root / path).resolve()
    if not target.is_relative_to(root):
        raise HTTPException(status_code=404, detail="Not found")
    if target.is_dir():
        target = target / "index.html"
    if not target.is_file():
        if f"{area}/{path}" == PACK_PATH:
            return _not_built("evidence pack", "Build one with `ccm evidence pack --from DATE --to DATE`; "
                                               "the latest pack is written to packs/latest/ in the data directory.")
        if f"{area}/{path}" == DASHBOARD_PATH:
            return _not_built("dashboard", "The pipeline's publish task writes it after each run; "
                                           "`ccm dashboard` writes it on demand.")
        raise HTTPException(status_code=404, detail="Not found")
    media_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    return FileResponse(target, media_type=media_type, headers={"Cache-Control": "no-cache", **SECURITY_HEADERS})


# on every file served: pages carry values from source data and are shown with the viewer's
# Airflow session, so they run only the scripts GX's pages bring, in a sandbox without
# forms, dialogs or top navigation (see ccm.webpolicy), and nothing is sniffed into HTML
SECURITY_HEADERS = {"Content-Security-Policy": served_policy(), "X-Content-Type-Options": "nosniff"}

_PREFIX = URL_PREFIX.lstrip("/")  # UI hrefs are relative to its base URL (works behind a proxy prefix)


class CcmDashboardPlugin(AirflowPlugin):
    """The control dashboard and the latest evidence pack in the Airflow UI's navigation."""

    name = "ccm_dashboard"
    fastapi_apps = [{"app": app, "url_prefix": URL_PREFIX, "name": "ccm dashboard and evidence pack"}]
    external_views = [
        # short names: the navigation bar truncates anything longer than about nine characters
        {"name": "Controls", "href": f"{_PREFIX}/{DASHBOARD_PATH}", "icon": f"{_PREFIX}/icons/dashboard.svg",
         "url_route": "ccm-dashboard", "destination": "nav", "nav_top_level": True},
        {"name": "Evidence", "href": f"{_PREFIX}/{PACK_PATH}", "icon": f"{_PREFIX}/icons/evidence.svg",
         "url_route": "ccm-evidence-pack", "destination": "nav", "nav_top_level": True},
    ]
