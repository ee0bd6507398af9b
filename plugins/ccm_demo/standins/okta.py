"""Okta stand-in: users (+ DEPROVISIONED filter), factors, admin roles, the System Log.

Serves the demo world as of the simulated clock, with Okta's error shape
({"errorCode", "errorSummary", ...}), `Link` cursor pagination and X-Rate-Limit-* headers:
- `GET /api/v1/users`, `/api/v1/users/{id}`, `/api/v1/users/{id}/factors`;
- `GET /api/v1/iam/assignees/users` (users holding an admin role; the next page is in
  the body's `_links.next.href`, as the Role Assignment API does) and
  `GET /api/v1/users/{id}/roles`;
- `GET /api/v1/logs` with `since` / `until` / `limit` / `after` / `sortOrder`. As Okta
  does, every non-empty page carries a `Link: rel="next"`, also the last one of a bounded
  query; following it returns an empty page and, once a bounded window is exhausted, no
  next link. A polling query (no `until`) always has a next link. Events older than the
  90-day retention are gone, and events after the simulated "now" do not exist yet.
"""

from __future__ import annotations

import re
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ccm.datasets import parse_timestamp
from ccm_demo.standins.base import Request, Response, StandinServer, paginate
from ccm_demo.world import okta as world

_FILTER = re.compile(r'^status eq "([A-Z_]+)"$')
LOG_RETENTION = timedelta(days=90)
LOG_DEFAULT_LIMIT, LOG_MAX_LIMIT = 100, 1000
ASSIGNEES_MAX_LIMIT = 100
ORG_ID = "00o1kestrel0demo000"


class OktaStandin(StandinServer):
    name = "okta"
    public_url = "https://kestrel.okta.com"
    conn_id = "okta_default"
    default_token = "demo-okta-token-00000000"
    auth_scheme = "SSWS"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.users = world.load_users(self.world_dir) if self.world_dir else []
        self._by_id = {u["id"]: u for u in self.users}
        self._log_cache: dict[tuple[datetime, datetime], list[dict[str, Any]]] = {}
        self._log_lock = threading.Lock()

    def error_body(self, status: int, message: str) -> Any:
        codes = {401: "E0000011", 404: "E0000007", 429: "E0000047", 400: "E0000031"}
        return {"errorCode": codes.get(status, "E0000009"), "errorSummary": message,
                "errorLink": codes.get(status, "E0000009"), "errorId": "oae-standin", "errorCauses": []}

    # OAuth 2.0 service app (client credentials with private_key_jwt) -------------------
    def configure_service_app(self, client_id: str, public_key_pem: str, scopes: tuple[str, ...],
                              token_lifetime_s: int = 3600, token_max_requests: int | None = None) -> None:
        """Serve an API service app: `POST /oauth2/v1/token` checks the client assertion (RS256
        signature with `public_key_pem`; `iss` = `sub` = client id; `aud` = this token endpoint;
        `exp` within an hour; `jti` not reused) and the scopes requested against those granted,
        and issues access tokens that expire after `token_lifetime_s` or `token_max_requests`
        API calls (a test can expire one mid-extract)."""
        self._service_app = {"client_id": client_id, "public_key": public_key_pem, "scopes": set(scopes),
                             "lifetime": token_lifetime_s, "max_requests": token_max_requests}
        self._access_tokens: dict[str, dict[str, Any]] = {}
        self._seen_jti: set[str] = set()
        self.tokens_issued = 0

    def _oauth_error(self, status: int, error: str, description: str) -> Response:
        return Response(status, {"error": error, "error_description": description})

    def _issue_access_token(self, request: Request) -> Response:
        import hashlib
        import time
        from urllib.parse import parse_qs

        import jwt

        app = getattr(self, "_service_app", None)
        form = {k: v[-1] for k, v in parse_qs(request.body.decode()).items()}
        if app is None:
            return self._oauth_error(401, "invalid_client", "no such client")
        if form.get("grant_type") != "client_credentials":
            return self._oauth_error(400, "unsupported_grant_type", "grant_type must be client_credentials")
        if form.get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
            return self._oauth_error(400, "invalid_client", "client_assertion_type must be jwt-bearer")
        audiences = [f"{base}/oauth2/v1/token" for base in {request.link_base, request.base_url, self.url} if base]
        try:
            claims = jwt.decode(form.get("client_assertion", ""), app["public_key"], algorithms=["RS256"], leeway=60,
                                audience=audiences, options={"require": ["iss", "sub", "aud", "exp", "iat", "jti"]})
        except jwt.PyJWTError as exc:
            return self._oauth_error(401, "invalid_client", f"The client_assertion is invalid ({type(exc).__name__})")
        if claims["iss"] != app["client_id"] or claims["sub"] != app["client_id"]:
            return self._oauth_error(401, "invalid_client", "iss and sub must be the client id")
        if claims["exp"] - claims["iat"] > 3600 or claims["jti"] in self._seen_jti:
            return self._oauth_error(401, "invalid_client", "the assertion lives too long or its jti was used")
        self._seen_jti.add(claims["jti"])
        requested = set((form.get("scope") or "").split())
        if not requested or not requested <= app["scopes"]:
            return self._oauth_error(400, "invalid_scope", "The following scopes are not granted: "
                                     + " ".join(sorted(requested - app["scopes"])))
        token = hashlib.sha256(f"{claims['jti']}{time.monotonic_ns()}".encode()).hexdigest()
        with self._log_lock:
            self._access_tokens[token] = {"expires": time.time() + app["lifetime"], "uses_left": app["max_requests"]}
            self.tokens_issued += 1
        return Response(200, {"token_type": "Bearer", "expires_in": app["lifetime"], "access_token": token,
                              "scope": " ".join(sorted(requested))})

    def authorized(self, headers: dict[str, str]) -> bool:
        import time

        if super().authorized(headers):
            return True
        value = headers.get("authorization", "")
        if not value.startswith("Bearer "):
            return False
        with self._log_lock:
            live = getattr(self, "_access_tokens", {}).get(value.removeprefix("Bearer "))
            return bool(live) and live["expires"] > time.time() and (live["uses_left"] is None
                                                                     or live["uses_left"] >= 0)

    def dispatch(self, request: Request) -> Response:
        if request.path == "/oauth2/v1/token" and request.method == "POST":
            return self._issue_access_token(request)
        value = request.headers.get("authorization", "")
        with self._log_lock:  # one use per API request
            live = getattr(self, "_access_tokens", {}).get(value.removeprefix("Bearer "))
            if live and live["uses_left"] is not None:
                live["uses_left"] -= 1
        return super().dispatch(request)

    def routes(self):
        return [
            ("GET", r"/api/v1/users", self.list_users),
            ("GET", r"/api/v1/users/(?P<user_id>[^/]+)", self.get_user),
            ("GET", r"/api/v1/users/(?P<user_id>[^/]+)/factors", self.list_factors),
            ("GET", r"/api/v1/users/(?P<user_id>[^/]+)/roles", self.list_roles),
            ("GET", r"/api/v1/iam/assignees/users", self.list_role_assignees),
            ("GET", r"/api/v1/logs", self.list_logs),
        ]

    def _rendered(self, moment: datetime, base_url: str) -> list[dict[str, Any]]:
        return [r for u in self.users if (r := world.user_at(u, moment, base_url)) is not None]

    def _not_found(self, user_id: str) -> Response:
        return Response(404, self.error_body(404, f"Not found: Resource not found: {user_id} (User)"))

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
            return self._not_found(request.match["user_id"])
        return Response(200, rendered)

    def list_factors(self, request: Request) -> Response:
        user = self._by_id.get(request.match["user_id"])
        moment = self.now()
        if user is None or world.status_at(user, moment)[0] is None:
            return self._not_found(request.match["user_id"])
        users_url = f"{request.base_url}/api/v1/users/{user['id']}"
        return Response(200, [{**factor, "_links": {
            "self": {"href": f"{users_url}/factors/{factor['id']}", "hints": {"allow": ["GET", "DELETE"]}},
            "verify": {"href": f"{users_url}/factors/{factor['id']}/verify", "hints": {"allow": ["POST"]}},
            "user": {"href": users_url, "hints": {"allow": ["GET"]}},
        }} for factor in world.factors_at(user, moment)])

    # administrator roles ---------------------------------------------------------------
    def list_roles(self, request: Request) -> Response:
        user = self._by_id.get(request.match["user_id"])
        moment = self.now()
        if user is None or world.status_at(user, moment)[0] is None:
            return self._not_found(request.match["user_id"])
        return Response(200, world.roles_at(user, moment, request.base_url))

    def list_role_assignees(self, request: Request) -> Response:
        moment = self.now()
        try:
            limit = min(ASSIGNEES_MAX_LIMIT, max(1, int(request.query.get("limit", ASSIGNEES_MAX_LIMIT))))
        except ValueError:
            return Response(400, self.error_body(400, "Api validation failed: limit"))
        after = request.query.get("after")
        ids = sorted(u["id"] for u in self.users
                     if world.status_at(u, moment)[0] is not None and world.roles_at(u, moment, ""))
        if after:
            ids = [i for i in ids if i > after]
        page, rest = ids[:limit], ids[limit:]
        body: dict[str, Any] = {"value": [
            {"id": i, "orn": f"orn:okta:directory:{ORG_ID}:users:{i}",
             "_links": {"self": {"href": f"{request.base_url}/api/v1/users/{i}"},
                        "roles": {"href": f"{request.base_url}/api/v1/users/{i}/roles"}}}
            for i in page]}
        if rest:
            body["_links"] = {"next": {"href": f"{request.link_base}/api/v1/iam/assignees/users"
                                               f"?limit={limit}&after={page[-1]}"}}
        return Response(200, body)

    # the System Log --------------------------------------------------------------------
    def _events(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        with self._log_lock:
            if (start, end) not in self._log_cache:
                if len(self._log_cache) > 64:
                    self._log_cache.clear()
                self._log_cache[(start, end)] = world.events_between(self.users, start, end)
            return self._log_cache[(start, end)]

    def list_logs(self, request: Request) -> Response:
        now = self.now()
        query = request.query
        if query.get("filter") or query.get("q"):
            return Response(400, self.error_body(400, "filter and q are not supported by this stand-in"))
        try:
            until = parse_timestamp(query["until"]) if query.get("until") else None
            since = parse_timestamp(query["since"]) if query.get("since") else (until or now) - timedelta(days=7)
        except (TypeError, ValueError) as exc:
            return Response(400, self.error_body(400, f"Api validation failed: since/until ({exc})"))
        try:
            limit = min(LOG_MAX_LIMIT, max(1, int(query.get("limit", LOG_DEFAULT_LIMIT))))
        except ValueError:
            return Response(400, self.error_body(400, "Api validation failed: limit"))
        order = query.get("sortOrder", "ASCENDING")
        if order not in ("ASCENDING", "DESCENDING"):
            return Response(400, self.error_body(400, "Api validation failed: sortOrder"))
        if until is not None and until < since:
            return Response(400, self.error_body(400, "Api validation failed: since must be before until"))
        window_start = max(since, now - LOG_RETENTION)
        window_end = min(until or now, now)
        events = self._events(window_start, window_end) if window_start < window_end else []
        if order == "DESCENDING":
            events = list(reversed(events))
        after = query.get("after")
        if after:
            position = next((i for i, e in enumerate(events) if _cursor(e) == after), None)
            if position is None:
                return Response(400, self.error_body(400, f"Api validation failed: after ({after})"))
            events = events[position + 1:]
        page = events[:limit]
        base = {k: v for k, v in query.items() if k != "after"}
        links = [self.link_header(request.link_base, request.path, query, "self")]
        if page:
            links.append(self.link_header(request.link_base, request.path, {**base, "after": _cursor(page[-1])},
                                          "next"))
        elif until is None:  # a polling query never ends
            links.append(self.link_header(request.link_base, request.path, query, "next"))
        return Response(200, page, {"Link": ", ".join(links)})


def _cursor(event: dict[str, Any]) -> str:
    """Okta's after cursors are opaque; this one is <epoch ms>_<uuid> of the last event."""
    moment = parse_timestamp(event["published"])
    return f"{int(moment.timestamp() * 1000)}_{event['uuid']}"


def start(demo_dir: Path, clock_file: Path, port: int = 0) -> OktaStandin:
    return OktaStandin(demo_dir, clock_file, port=port).start()


