"""Bearer tokens that expire mid-extract: one `httpx.Auth` for every source that renews its own.

A GitHub App installation token, an Okta service app's and a Google delegated service
account's access tokens live an hour; a long paginated extract outlives one. Each is renewed
`RENEW_BEFORE_S` before it expires, and once more when the API answers 401 (revoked or expired
before its time), replaying that request once; a second 401 is a real refusal. The sources
differ only in how they obtain a token (`RenewingBearerAuth._issue`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator

import httpx

from ccm.sources.http_client import Secret

RENEW_BEFORE_S = 300.0  # renew a token this long before it expires


class RenewingBearerAuth(httpx.Auth):
    """Adds `Authorization: Bearer <token>` to every request, renewing the token as it expires."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._token: Secret | None = None
        self._expires_at = 0.0

    def _issue(self) -> tuple[Secret, float]:
        """A new token and when it expires (epoch seconds)."""
        raise NotImplementedError

    def _seconds_left(self) -> float:
        """How long the current token still lives (0 without one)."""
        return self._expires_at - self._clock() if self._token is not None else 0.0

    def token(self, force: bool = False) -> Secret:
        with self._lock:
            if force or self._token is None or self._seconds_left() < RENEW_BEFORE_S:
                self._token, self._expires_at = self._issue()
            return self._token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self.token()}"
        response = yield request
        if response.status_code == 401:  # expired or revoked before its time: one fresh token, one replay
            request.headers["Authorization"] = f"Bearer {self.token(force=True)}"
            yield request
