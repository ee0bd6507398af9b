"""Google Workspace stand-in: the Admin SDK Directory API's users.list.

`GET /admin/directory/v1/users?customer=my_customer&maxResults=&pageToken=&showDeleted=`
as the Directory API answers it: `{"kind": "admin#directory#users", "etag", "users": [...],
"nextPageToken"}`, ordered by primary email; the `users` key is absent when there are
none; `showDeleted=true` lists only deleted users (within their retention); errors in
Google's shape (`{"error": {"code", "message", "errors": [{"domain", "reason",
"message"}], "status"}}`); `Authorization: Bearer <token>`. Google sends no rate-limit
headers; throttling is a 403 `userRateLimitExceeded` or a 429.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

from ccm_demo.standins.base import Request, Response, StandinServer
from ccm_demo.world import google as world

DEFAULT_MAX_RESULTS, MAX_RESULTS = 100, 500
_REASONS = {400: ("invalid", "INVALID_ARGUMENT"), 401: ("authError", "UNAUTHENTICATED"),
            403: ("forbidden", "PERMISSION_DENIED"), 404: ("notFound", "NOT_FOUND"),
            429: ("rateLimitExceeded", "RESOURCE_EXHAUSTED"), 500: ("backendError", "INTERNAL"),
            503: ("backendError", "UNAVAILABLE")}


GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"  # what Google requires as `aud`


class GoogleStandin(StandinServer):
    name = "google"
    conn_id = "google_default"
    default_token = "demo-google-access-token-0000"
    auth_scheme = "Bearer"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.users = world.load_users(self.world_dir) if self.world_dir else []

    def error_body(self, status: int, message: str) -> Any:
        reason, state = _REASONS.get(status, ("backendError", "UNKNOWN"))
        if status == 401:
            message = "Request had invalid authentication credentials. Expected OAuth 2 access token."
        return {"error": {"code": status, "message": message,
                          "errors": [{"message": message, "domain": "global", "reason": reason}],
                          "status": state}}

    def _rate_headers(self) -> dict[str, str]:
        return {}

    # service account with domain-wide delegation ---------------------------------------
    def configure_service_account(self, client_email: str, public_key_pem: str, subjects: tuple[str, ...],
                                  scopes: tuple[str, ...], token_lifetime_s: int = 3600,
                                  token_max_requests: int | None = None) -> None:
        """Serve Google's token endpoint (`POST /token`, the key's `token_uri`) for one service
        account: the JWT assertion's RS256 signature, `iss`, `aud`, `exp` (an hour at most), the
        delegated `sub` and the scopes its client id is granted domain-wide are checked as Google
        does; access tokens expire after `token_lifetime_s` or `token_max_requests` calls."""
        import threading

        self._service_account = {"email": client_email, "public_key": public_key_pem, "subjects": set(subjects),
                                 "scopes": set(scopes), "lifetime": token_lifetime_s, "max": token_max_requests}
        self._access_tokens: dict[str, dict[str, Any]] = {}
        self._tokens_lock = threading.Lock()
        self.tokens_issued = 0

    def _issue_token(self, request: Request) -> Response:
        import time
        from urllib.parse import parse_qs

        import jwt

        account = getattr(self, "_service_account", None)
        form = {k: v[-1] for k, v in parse_qs(request.body.decode()).items()}
        if account is None or form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return Response(400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type"})
        try:
            claims = jwt.decode(form.get("assertion", ""), account["public_key"], algorithms=["RS256"], leeway=60,
                                audience=[GOOGLE_TOKEN_AUDIENCE] + [f"{base}/token" for base in
                                                                    {request.link_base, request.base_url, self.url}
                                                                    if base],
                                options={"require": ["iss", "aud", "exp", "iat", "scope"]})
        except jwt.InvalidSignatureError:
            return Response(400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."})
        except jwt.PyJWTError as exc:
            return Response(400, {"error": "invalid_grant", "error_description": f"Invalid JWT: {type(exc).__name__}"})
        if claims["iss"] != account["email"] or claims["exp"] - claims["iat"] > 3600:
            return Response(400, {"error": "invalid_grant", "error_description": "Invalid JWT: iss or lifetime"})
        if claims.get("sub") not in account["subjects"] or not set(claims["scope"].split()) <= account["scopes"]:
            return Response(401, {"error": "unauthorized_client", "error_description": "Client is unauthorized to "
                                  "retrieve access tokens using this method, or client not authorized for any of the "
                                  "scopes requested."})
        token = "ya29." + hashlib.sha256(f"{claims['iat']}{time.monotonic_ns()}".encode()).hexdigest()
        with self._tokens_lock:
            self._access_tokens[token] = {"expires": time.time() + account["lifetime"], "uses_left": account["max"]}
            self.tokens_issued += 1
        return Response(200, {"access_token": token, "expires_in": account["lifetime"], "token_type": "Bearer"})

    def authorized(self, headers: dict[str, str]) -> bool:
        import time

        if super().authorized(headers):
            return True
        tokens = getattr(self, "_access_tokens", None)
        if tokens is None:
            return False
        with self._tokens_lock:
            live = tokens.get(headers.get("authorization", "").removeprefix("Bearer "))
            return bool(live) and live["expires"] > time.time() and (live["uses_left"] is None
                                                                     or live["uses_left"] >= 0)

    def dispatch(self, request: Request) -> Response:
        if request.path == "/token" and request.method == "POST":
            return self._issue_token(request)
        tokens = getattr(self, "_access_tokens", None)
        if tokens is not None:
            with self._tokens_lock:  # one use per API request
                live = tokens.get(request.headers.get("authorization", "").removeprefix("Bearer "))
                if live and live["uses_left"] is not None:
                    live["uses_left"] -= 1
        return super().dispatch(request)

    def routes(self):
        return [("GET", r"/admin/directory/v1/users", self.list_users)]

    def list_users(self, request: Request) -> Response:
        query = request.query
        if not query.get("customer") and not query.get("domain"):
            return Response(400, self.error_body(400, "Bad Request: customer or domain is required"))
        if query.get("customer") not in (None, "my_customer", world.CUSTOMER_ID):
            return Response(404, self.error_body(404, "Resource Not Found: customer"))
        try:
            limit = int(query.get("maxResults", DEFAULT_MAX_RESULTS))
        except ValueError:
            return Response(400, self.error_body(400, "Invalid value for maxResults"))
        if not 1 <= limit <= MAX_RESULTS:
            return Response(400, self.error_body(400, f"Invalid value '{limit}'. Values must be within the range: "
                                                      f"[1, {MAX_RESULTS}]"))
        moment = self.now()
        deleted = query.get("showDeleted", "false").lower() == "true"
        rendered = []
        for user in self.users:
            listed = world.deleted_listed_at(user, moment) if deleted else world.exists_at(user, moment)
            if listed:
                rendered.append(world.user_at(user, moment))
        rendered.sort(key=lambda u: u["primaryEmail"])
        token = query.get("pageToken")
        if token:
            after = _decode(token)
            if after is None:
                return Response(400, self.error_body(400, "Invalid Input: pageToken"))
            rendered = [u for u in rendered if u["primaryEmail"] > after]
        page, rest = rendered[:limit], rendered[limit:]
        etag = hashlib.sha256("".join(u["etag"] for u in page).encode()).hexdigest()[:27]
        body: dict[str, Any] = {"kind": "admin#directory#users", "etag": f'"{etag}"'}
        if page:
            body["users"] = page
        if rest:
            body["nextPageToken"] = _encode(page[-1]["primaryEmail"])
        return Response(200, body)


def _encode(email: str) -> str:
    return base64.urlsafe_b64encode(f"v1|{email}".encode()).decode().rstrip("=")


def _decode(token: str) -> str | None:
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    return text[3:] if text.startswith("v1|") else None


def start(demo_dir: Path, clock_file: Path, port: int = 0) -> GoogleStandin:
    return GoogleStandin(demo_dir, clock_file, port=port).start()
