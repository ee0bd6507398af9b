"""Google Workspace through a service account with domain-wide delegation (google-auth).

An OAuth access token pasted into the connection expires after an hour, so a deployment
could not run unattended. With `extra.subject` (the admin the service account acts as) the
connection's password is the service account's JSON key instead: google-auth signs a JWT
assertion (`iss` = the service account, `sub` = the admin, `scope`, `aud` = the key's
`token_uri`, an hour at most) and exchanges it at the token endpoint for an access token.
`GoogleDelegatedAuth` refreshes that token `RENEW_BEFORE_S` before it expires and once more
on a 401, so a long Directory listing survives expiry.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Generator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from ccm.errors import ConfigError, SourceError
from ccm.sources.http_client import Secret

SCOPES = ("https://www.googleapis.com/auth/admin.directory.user.readonly",)
RENEW_BEFORE_S = 300.0


class GoogleDelegatedAuth(httpx.Auth):
    """Access tokens for a service account acting as `subject`, refreshed as they expire."""

    def __init__(self, key_json: Secret, subject: str, scopes: tuple[str, ...] = SCOPES) -> None:
        from google.oauth2 import service_account

        try:
            info: dict[str, Any] = json.loads(str(key_json))
        except json.JSONDecodeError:
            raise ConfigError("connection google_default: with extra.subject the password must be the service "
                              "account's JSON key") from None
        if "@" not in subject:
            raise ConfigError(f"connection google_default: extra.subject must be an admin's email, got {subject!r}")
        try:
            self.credentials = service_account.Credentials.from_service_account_info(
                info, scopes=list(scopes), subject=subject)
        except (ValueError, KeyError) as exc:
            raise ConfigError(f"connection google_default: the service account key is not usable: {exc}") from None
        self._lock = threading.Lock()
        self.refreshes = 0

    def _refresh(self) -> None:
        import google.auth.exceptions
        import google.auth.transport.requests

        try:
            self.credentials.refresh(google.auth.transport.requests.Request())
        except google.auth.exceptions.RefreshError as exc:
            raise SourceError("google", f"the service account could not get a token for "
                                        f"{self.credentials._subject}: {exc} (check domain-wide delegation of the "
                                        f"client id to {' '.join(self.credentials.scopes or [])})") from None
        self.refreshes += 1

    def token(self, force: bool = False) -> str:
        with self._lock:
            expiry = self.credentials.expiry  # naive UTC in google-auth
            soon = datetime.now(UTC).replace(tzinfo=None) + timedelta(seconds=RENEW_BEFORE_S)
            if force or not self.credentials.token or expiry is None or expiry <= soon:
                self._refresh()
            return str(self.credentials.token)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self.token()}"
        response = yield request
        if response.status_code == 401:
            request.headers["Authorization"] = f"Bearer {self.token(force=True)}"
            yield request
