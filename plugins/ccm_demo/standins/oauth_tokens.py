"""OAuth2 client-credentials token issuing shared by the stand-ins of APIs that use it
(Microsoft identity platform for Graph, CrowdStrike Falcon, Jamf Pro).

Tokens are random, live `lifetime_s` seconds of wall-clock time (the tokens are about the
HTTP session, not the simulated company), and can all be expired at once through
`POST /_standin/expire-tokens` (or `expire_tokens()`, or `expire_tokens_after(n)` requests), which is how the fault tests make
an extract's token go stale in the middle of its paging.
"""

from __future__ import annotations

import secrets
import threading
import time
from typing import Any
from urllib.parse import parse_qs

from ccm_demo.standins.base import Request, Response, StandinServer

EXPIRE_PATH = "/_standin/expire-tokens"


class ClientCredentialsStandin(StandinServer):
    """A stand-in whose bearer tokens come from its own token endpoint (`token_path`)."""

    token_path = "/oauth2/token"
    token_status = 200
    client_id = "demo-client-id"
    client_secret = "demo-client-secret-0000"
    lifetime_s = 3599

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._tokens: dict[str, float] = {}
        self._token_lock = threading.Lock()
        self.tokens_issued = 0
        self._expire_after: int | None = None

    def token_error(self, status: int, code: str, description: str) -> Response:
        return Response(status, {"error": code, "error_description": description})

    def issue_token(self, request: Request) -> Response:
        form = {k: v[-1] for k, v in parse_qs(request.body.decode(errors="replace")).items()}
        if form.get("grant_type") != "client_credentials":
            return self.token_error(400, "unsupported_grant_type", "grant_type must be client_credentials")
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return self.token_error(401, "invalid_client", "Invalid client id or secret provided.")
        token = secrets.token_urlsafe(32)
        with self._token_lock:
            self._tokens[token] = time.time() + self.lifetime_s
            self.tokens_issued += 1
        return Response(self.token_status, {"access_token": token, "token_type": "Bearer",
                                            "expires_in": self.lifetime_s})

    def expire_tokens_after(self, requests: int) -> None:
        """Let `requests` more API requests through, then expire every token issued so far
        (a token going stale in the middle of an extract's paging)."""
        with self._token_lock:
            self._expire_after = requests

    def expire_tokens(self) -> None:
        with self._token_lock:
            self._tokens = dict.fromkeys(self._tokens, 0.0)

    def authorized(self, headers: dict[str, str]) -> bool:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        with self._token_lock:
            expires = self._tokens.get(token)
        return scheme.lower() == "bearer" and expires is not None and time.time() < expires

    def dispatch(self, request: Request) -> Response:
        if request.method == "POST" and request.path == EXPIRE_PATH:
            self.expire_tokens()
            return Response(204)
        if request.method == "POST" and request.path == self.token_path:
            return self.issue_token(request)
        response = super().dispatch(request)
        with self._token_lock:
            if self._expire_after is not None:
                self._expire_after -= 1
                if self._expire_after <= 0:
                    self._expire_after = None
                    self._tokens = dict.fromkeys(self._tokens, 0.0)
        return response

    def connection_document(self) -> dict[str, Any]:
        return {"conn_type": "http", "host": self.url, "login": self.client_id, "password": self.client_secret}
