"""Okta OAuth 2.0 service app: client credentials with `private_key_jwt`, instead of an API token.

An API token acts as the administrator who made it and never expires; an API service app is
granted only the scopes it needs and its access tokens live an hour. The flow (Okta docs,
"Implement OAuth for Okta with a service app"):
1. a client assertion JWT, RS256-signed with the app's private key: `iss` = `sub` = the
   client id, `aud` = the token endpoint, `iat`, `exp` (at most an hour), a unique `jti`;
2. `POST {org}/oauth2/v1/token` (form): `grant_type=client_credentials`, `scope`,
   `client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer`,
   `client_assertion` → `{"access_token", "token_type": "Bearer", "expires_in"}`;
3. API calls carry `Authorization: Bearer <access token>`.

`OktaServiceAppAuth` is a `RenewingBearerAuth` (`ccm.sources.bearer`): renewed before it
expires and once more on a 401, so a long System Log extract survives expiry.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import httpx

from ccm.errors import ConfigError, SourceError
from ccm.sources.bearer import RenewingBearerAuth
from ccm.sources.http_client import Secret

ASSERTION_LIFETIME_S = 300
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# what the okta datasets read: users and factors, admin role assignments, the System Log
DEFAULT_SCOPES = ("okta.users.read", "okta.roles.read", "okta.logs.read")


class OktaServiceAppAuth(RenewingBearerAuth):
    """Access tokens for an Okta API service app, renewed as they expire."""

    def __init__(self, base_url: str, client_id: str, private_key: Secret, scopes: tuple[str, ...] = DEFAULT_SCOPES,
                 key_id: str | None = None, clock: Callable[[], float] = time.time, timeout_s: float = 30.0) -> None:
        if not client_id:
            raise ConfigError("connection okta_default: extra.client_id is required for a service app")
        if "PRIVATE KEY" not in str(private_key):
            raise ConfigError("connection okta_default: with extra.client_id the password must be the service app's "
                              "private key (PEM)")
        if not scopes or not all(s.startswith("okta.") for s in scopes):
            raise ConfigError(f"connection okta_default: extra.scopes must be Okta scopes, got {list(scopes)}")
        super().__init__(clock)
        self.token_url = f"{base_url.rstrip('/')}/oauth2/v1/token"
        self.client_id = client_id
        self.scopes = tuple(scopes)
        self.key_id = key_id
        self._private_key = private_key
        self._timeout_s = timeout_s

    def client_assertion(self) -> str:
        import jwt

        now = int(self._clock())
        claims = {"iss": self.client_id, "sub": self.client_id, "aud": self.token_url, "iat": now,
                  "exp": now + ASSERTION_LIFETIME_S, "jti": uuid.uuid4().hex}
        headers = {"kid": self.key_id} if self.key_id else None
        return jwt.encode(claims, str(self._private_key), algorithm="RS256", headers=headers)

    def _issue(self) -> tuple[Secret, float]:
        response = httpx.post(self.token_url, timeout=self._timeout_s, headers={"Accept": "application/json"}, data={
            "grant_type": "client_credentials", "scope": " ".join(self.scopes),
            "client_assertion_type": ASSERTION_TYPE, "client_assertion": self.client_assertion()})
        if response.status_code != 200:
            raise SourceError("okta", f"POST /oauth2/v1/token returned HTTP {response.status_code}: "
                                      f"{response.text[:200]} (check extra.client_id, the app's public key in Okta, "
                                      f"and that it is granted {' '.join(self.scopes)})")
        body = response.json()
        return Secret(body["access_token"]), self._clock() + float(body.get("expires_in", 3600))
