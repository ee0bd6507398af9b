"""Microsoft Intune stand-in: Microsoft Graph's managedDevices and the identity platform's token.

- `POST /{tenant}/oauth2/v2.0/token` (form: grant_type=client_credentials, client_id,
  client_secret, scope) answers `{"token_type": "Bearer", "expires_in", "ext_expires_in",
  "access_token"}`, errors as `{"error", "error_description"}` (AADSTS codes);
- `GET /v1.0/deviceManagement/managedDevices?$top=&$select=` answers `{"@odata.context",
  "value": [...], "@odata.nextLink"}`; the next link is absolute and carries a
  `$skiptoken`; `$top` is at most 1000; devices are ordered by id;
- errors in Graph's shape (`{"error": {"code", "message", "innerError": {"date",
  "request-id", "client-request-id"}}}`); throttling is 429 with `Retry-After`, and Graph
  sends no rate-limit headers otherwise.
"""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from ccm_demo.standins.base import Request, Response
from ccm_demo.standins.oauth_tokens import ClientCredentialsStandin
from ccm_demo.world import devices as world

PATH = "/v1.0/deviceManagement/managedDevices"
DEFAULT_TOP, MAX_TOP = 100, 1000
_CODES = {400: "BadRequest", 401: "InvalidAuthenticationToken", 403: "Forbidden", 404: "ResourceNotFound",
          429: "TooManyRequests", 500: "InternalServerError", 503: "ServiceUnavailable"}


class IntuneStandin(ClientCredentialsStandin):
    name = "intune"
    conn_id = "intune_default"
    public_url = "https://graph.microsoft.com"
    token_path = f"/{world.TENANT_ID}/oauth2/v2.0/token"
    client_id = "8a3c5e70-1d2b-4c6f-9e8a-0b7d6c5f4e31"
    client_secret = "demo-intune-secret~0000"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.devices = world.load_devices(self.world_dir) if self.world_dir else []

    def issue_token(self, request: Request) -> Response:
        response = super().issue_token(request)
        if response.status == 200:
            response.body["ext_expires_in"] = response.body["expires_in"]
        return response

    def token_error(self, status: int, code: str, description: str) -> Response:
        return Response(status, {"error": code, "error_description": f"AADSTS7000215: {description}",
                                 "error_codes": [7000215], "timestamp": self.now().strftime("%Y-%m-%d %H:%M:%SZ")})

    def error_body(self, status: int, message: str) -> Any:
        if status == 401:
            message = "Access token has expired or is not yet valid."
        return {"error": {"code": _CODES.get(status, "UnknownError"), "message": message,
                          "innerError": {"date": self.now().strftime("%Y-%m-%dT%H:%M:%S"),
                                         "request-id": str(uuid.uuid4()), "client-request-id": str(uuid.uuid4())}}}

    def _rate_headers(self) -> dict[str, str]:
        return {}

    def routes(self):
        return [("GET", PATH, self.list_managed_devices)]

    def list_managed_devices(self, request: Request) -> Response:
        try:
            top = int(request.query.get("$top", DEFAULT_TOP))
        except ValueError:
            return Response(400, self.error_body(400, "Invalid $top value."))
        if not 1 <= top <= MAX_TOP:
            return Response(400, self.error_body(400, f"The limit of '{MAX_TOP}' for Top query has been exceeded."))
        after = None
        if request.query.get("$skiptoken"):
            try:
                after = base64.urlsafe_b64decode(request.query["$skiptoken"].encode()).decode()
            except ValueError:
                return Response(400, self.error_body(400, "Invalid $skiptoken."))
        moment = self.now()
        rendered = sorted((d for d in (world.intune_device_at(x, moment) for x in self.devices) if d),
                          key=lambda d: d["id"])
        if after is not None:
            rendered = [d for d in rendered if d["id"] > after]
        selected = [s for s in request.query.get("$select", "").split(",") if s]
        page, rest = rendered[:top], rendered[top:]
        if selected:
            page = [{k: v for k, v in d.items() if k in selected} for d in page]
        body: dict[str, Any] = {"@odata.context": f"{request.base_url}/v1.0/$metadata#deviceManagement/managedDevices",
                                "value": page}
        if rest:
            query = {"$top": top, **({"$select": request.query["$select"]} if selected else {}),
                     "$skiptoken": base64.urlsafe_b64encode(rendered[top - 1]["id"].encode()).decode()}
            body["@odata.nextLink"] = f"{request.link_base}{PATH}?{urlencode(query)}"
        return Response(200, body)

    def connection_env(self) -> dict[str, str]:
        document = {**self.connection_document(),
                    "extra": {"tenant_id": world.TENANT_ID, "token_url": f"{self.url}{self.token_path}"}}
        return {f"AIRFLOW_CONN_{self.conn_id.upper()}": json.dumps(document)}


def start(demo_dir: Path, clock_file: Path, port: int = 0) -> IntuneStandin:
    return IntuneStandin(demo_dir, clock_file, port=port).start()
