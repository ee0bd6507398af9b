"""CrowdStrike Falcon stand-in: the Hosts API and its OAuth2 token.

- `POST /oauth2/token` (form: client_id, client_secret) answers 201 `{"access_token",
  "token_type": "bearer", "expires_in": 1799}`;
- `GET /devices/queries/devices/v1?offset=&limit=&sort=` answers `{"meta": {"query_time",
  "pagination": {"offset", "limit", "total"}, "powered_by", "trace_id"}, "resources":
  [device ids], "errors": []}` (limit at most 5000);
- `POST /devices/entities/devices/v2` with `{"ids": [...]}` (at most 5000) answers the
  device details in `resources`; unknown ids are reported in `errors`;
- every answer carries `X-RateLimit-Limit` / `X-RateLimit-Remaining`; a 429 carries
  `Retry-After` and `X-RateLimit-RetryAfter` (epoch seconds); errors in the Falcon
  envelope (`{"meta", "resources": [], "errors": [{"code", "message"}]}`).
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

from ccm_demo.standins.base import Request, Response
from ccm_demo.standins.oauth_tokens import ClientCredentialsStandin
from ccm_demo.world import devices as world

QUERY_PATH = "/devices/queries/devices/v1"
DETAILS_PATH = "/devices/entities/devices/v2"
DEFAULT_LIMIT, MAX_LIMIT = 100, 5000


class CrowdStrikeStandin(ClientCredentialsStandin):
    name = "crowdstrike"
    conn_id = "crowdstrike_default"
    public_url = "https://api.crowdstrike.com"
    token_status = 201
    client_id = "1b2c3d4e5f60718293a4b5c6d7e8f901"
    client_secret = "demo-falcon-secret-0000"
    lifetime_s = 1799
    rate_limit = 6000

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.devices = world.load_devices(self.world_dir) if self.world_dir else []

    def _meta(self, **extra: Any) -> dict[str, Any]:
        return {"query_time": 0.004, "powered_by": "device-api", "trace_id": str(uuid.uuid4()), **extra}

    def error_body(self, status: int, message: str) -> Any:
        if status == 401:
            message = "access denied, invalid bearer token"
        return {"meta": self._meta(), "resources": [], "errors": [{"code": status, "message": message}]}

    def token_error(self, status: int, code: str, description: str) -> Response:
        return Response(status, {"meta": self._meta(), "errors": [{"code": status, "message": description}]})

    def _rate_headers(self) -> dict[str, str]:
        headers = super()._rate_headers()
        remaining = headers.get("X-Rate-Limit-Remaining", str(self.rate_limit))
        return {"X-RateLimit-Limit": str(self.rate_limit), "X-RateLimit-Remaining": remaining,
                "X-RateLimit-RetryAfter": str(int(time.time()) + 1)}

    def routes(self):
        return [("GET", QUERY_PATH, self.query_devices), ("POST", DETAILS_PATH, self.device_details)]

    def _hosts(self) -> dict[str, dict[str, Any]]:
        moment = self.now()
        hosts = (world.falcon_host_at(d, moment) for d in self.devices)
        return {h["device_id"]: h for h in hosts if h}

    def query_devices(self, request: Request) -> Response:
        try:
            offset = int(request.query.get("offset", 0))
            limit = int(request.query.get("limit", DEFAULT_LIMIT))
        except ValueError:
            return Response(400, self.error_body(400, "offset and limit must be integers"))
        if not 1 <= limit <= MAX_LIMIT or offset < 0:
            return Response(400, self.error_body(400, f"limit must be between 1 and {MAX_LIMIT}"))
        ids = sorted(self._hosts())
        if request.query.get("sort", "device_id.asc") == "device_id.desc":
            ids.reverse()
        page = ids[offset:offset + limit]
        return Response(200, {"meta": self._meta(pagination={"offset": offset, "limit": limit, "total": len(ids)}),
                              "resources": page, "errors": []})

    def device_details(self, request: Request) -> Response:
        try:
            ids = (request.json() or {}).get("ids")
        except ValueError:
            ids = None
        if not isinstance(ids, list) or not ids or len(ids) > MAX_LIMIT:
            return Response(400, self.error_body(400, f"ids: between 1 and {MAX_LIMIT} device ids are required"))
        hosts = self._hosts()
        found = [hosts[i] for i in ids if i in hosts]
        errors = [{"code": 404, "message": f"Device not found: {i}"} for i in ids if i not in hosts]
        return Response(200, {"meta": self._meta(), "resources": found, "errors": errors})

    def connection_env(self) -> dict[str, str]:
        return {f"AIRFLOW_CONN_{self.conn_id.upper()}": json.dumps(self.connection_document())}


def start(demo_dir: Path, clock_file: Path, port: int = 0) -> CrowdStrikeStandin:
    return CrowdStrikeStandin(demo_dir, clock_file, port=port).start()
