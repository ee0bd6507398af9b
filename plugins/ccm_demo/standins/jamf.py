"""Jamf Pro stand-in: the computer inventory and the API client's OAuth2 token.

- `POST /api/oauth/token` (form: grant_type=client_credentials, client_id,
  client_secret) answers `{"access_token", "scope", "token_type": "Bearer",
  "expires_in"}`; tokens are short-lived, as Jamf's are;
- `GET /api/v1/computers-inventory?section=...&page=&page-size=&sort=id:asc` answers
  `{"totalCount", "results": [...]}` with pages numbered from 0 (page-size at most 2000);
- errors in Jamf's shape (`{"httpStatus", "errors": [{"code", "field", "description",
  "id"}]}`); throttling is 429 with `Retry-After`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ccm_demo.standins.base import Request, Response
from ccm_demo.standins.oauth_tokens import ClientCredentialsStandin
from ccm_demo.world import devices as world

PATH = "/api/v1/computers-inventory"
DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 100, 2000


class JamfStandin(ClientCredentialsStandin):
    name = "jamf"
    conn_id = "jamf_default"
    public_url = "https://kestrel.jamfcloud.com"
    token_path = "/api/oauth/token"
    client_id = "5d1e3f7a-9b2c-4e6d-8f0a-1c3e5a7b9d2f"
    client_secret = "demo-jamf-secret-0000"
    lifetime_s = 119

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.devices = world.load_devices(self.world_dir) if self.world_dir else []

    def error_body(self, status: int, message: str) -> Any:
        code = {401: "INVALID_TOKEN", 400: "INVALID_FIELD", 404: "NOT_FOUND"}.get(status, "SERVER_ERROR")
        return {"httpStatus": status, "errors": [{"code": code, "field": None, "description": message, "id": "0"}]}

    def issue_token(self, request: Request) -> Response:
        response = super().issue_token(request)
        if response.status == 200:
            response.body["scope"] = "api-role:1"
        return response

    def _rate_headers(self) -> dict[str, str]:
        return {}

    def routes(self):
        return [("GET", PATH, self.list_computers)]

    def list_computers(self, request: Request) -> Response:
        try:
            page = int(request.query.get("page", 0))
            size = int(request.query.get("page-size", DEFAULT_PAGE_SIZE))
        except ValueError:
            return Response(400, self.error_body(400, "page and page-size must be integers"))
        if page < 0 or not 1 <= size <= MAX_PAGE_SIZE:
            return Response(400, self.error_body(400, f"page-size must be between 1 and {MAX_PAGE_SIZE}"))
        moment = self.now()
        computers = sorted((c for c in (world.jamf_computer_at(d, moment) for d in self.devices) if c),
                           key=lambda c: int(c["id"]))
        return Response(200, {"totalCount": len(computers), "results": computers[page * size:(page + 1) * size]})

    def connection_env(self) -> dict[str, str]:
        return {f"AIRFLOW_CONN_{self.conn_id.upper()}": json.dumps(self.connection_document())}


def start(demo_dir: Path, clock_file: Path, port: int = 0) -> JamfStandin:
    return JamfStandin(demo_dir, clock_file, port=port).start()
