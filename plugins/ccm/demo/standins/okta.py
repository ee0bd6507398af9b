"""Okta stand-in: /api/v1/users (+ DEPROVISIONED filter), /api/v1/users/{id}, .../factors.

Serves the demo world as of the simulated clock, with Okta's error shape
({"errorCode", "errorSummary", ...}), `Link` cursor pagination and X-Rate-Limit-* headers.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

from ccm.demo.standins.base import Request, Response, StandinServer, paginate
from ccm.demo.world import okta as world

_FILTER = re.compile(r'^status eq "([A-Z_]+)"$')


class OktaStandin(StandinServer):
    name = "okta"
    conn_id = "okta_default"
    default_token = "demo-okta-token-00000000"
    auth_scheme = "SSWS"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.users = world.load_users(self.world_dir) if self.world_dir else []
        self._by_id = {u["id"]: u for u in self.users}

    def error_body(self, status: int, message: str) -> Any:
        codes = {401: "E0000011", 404: "E0000007", 429: "E0000047", 400: "E0000031"}
        return {"errorCode": codes.get(status, "E0000009"), "errorSummary": message,
                "errorLink": codes.get(status, "E0000009"), "errorId": "oae-standin", "errorCauses": []}

    def routes(self):
        return [
            ("GET", r"/api/v1/users", self.list_users),
            ("GET", r"/api/v1/users/(?P<user_id>[^/]+)", self.get_user),
            ("GET", r"/api/v1/users/(?P<user_id>[^/]+)/factors", self.list_factors),
        ]

    def _rendered(self, moment: datetime, base_url: str) -> list[dict[str, Any]]:
        return [r for u in self.users if (r := world.user_at(u, moment, base_url)) is not None]

    def list_users(self, request: Request) -> Response:
        moment = self.now()
        users = self._rendered(moment, request.base_url)
        wanted = request.query.get("filter")
        if wanted:
            match = _FILTER.match(wanted.strip())
            if not match:
                return Response(400, self.error_body(400, f"Invalid search criteria: {wanted}"))
            users = [u for u in users if u["status"] == match.group(1)]
        else:  # the default listing leaves deprovisioned users out
            users = [u for u in users if u["status"] != "DEPROVISIONED"]
        page, headers = paginate(users, request, key=lambda u: u["id"])
        return Response(200, page, headers)

    def get_user(self, request: Request) -> Response:
        user = self._by_id.get(request.match["user_id"])
        rendered = world.user_at(user, self.now(), request.base_url) if user else None
        if rendered is None:
            return Response(404, self.error_body(404, f"Not found: Resource not found: {request.match['user_id']} (User)"))
        return Response(200, rendered)

    def list_factors(self, request: Request) -> Response:
        user = self._by_id.get(request.match["user_id"])
        moment = self.now()
        if user is None or world.status_at(user, moment)[0] is None:
            return Response(404, self.error_body(404, f"Not found: Resource not found: {request.match['user_id']} (User)"))
        return Response(200, world.factors_at(user, moment))


def start(demo_dir: Path, clock_file: Path, port: int = 0) -> OktaStandin:
    return OktaStandin(demo_dir, clock_file, port=port).start()
