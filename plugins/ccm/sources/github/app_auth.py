"""GitHub App authentication: a JWT signed with the app's private key buys an installation
access token, renewed before it expires and again if the API rejects it mid-extract.

Installation tokens live an hour; a long paginated extract outlives one. The flow
(GitHub docs, "Authenticating as a GitHub App installation"):
1. a JWT, RS256-signed with the app's private key: `iss` = the app's id, `iat` 60 s in the
   past (clock drift), `exp` at most 10 minutes after `iat`;
2. `POST /app/installations/{installation_id}/access_tokens` with `Authorization: Bearer <JWT>`
   answers `{"token": "ghs_…", "expires_at": "…Z"}`;
3. API calls carry `Authorization: Bearer <installation token>`.

`GitHubAppAuth` is a `RenewingBearerAuth` (`ccm.sources.bearer`): renewed before it expires
and once more on a 401.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

import httpx

from ccm.errors import ConfigError, SourceError
from ccm.sources.bearer import RenewingBearerAuth
from ccm.sources.http_client import Secret

JWT_LIFETIME_S = 540  # GitHub accepts at most 600 s; leave room for clock drift


class GitHubAppAuth(RenewingBearerAuth):
    """Installation-token auth for one GitHub App installation."""

    def __init__(self, base_url: str, app_id: str, installation_id: str, private_key: Secret,
                 clock: Callable[[], float] = time.time, timeout_s: float = 30.0) -> None:
        if not str(app_id).isdigit() or not str(installation_id).isdigit():
            raise ConfigError("connection github_default: extra.app_id and extra.installation_id must be numbers")
        if "PRIVATE KEY" not in str(private_key):
            raise ConfigError("connection github_default: the password must be the GitHub App's private key (PEM)")
        super().__init__(clock)
        self.base_url = base_url.rstrip("/")
        self.app_id = str(app_id)
        self.installation_id = str(installation_id)
        self._private_key = private_key
        self._timeout_s = timeout_s

    def app_jwt(self) -> str:
        """The app's JWT (RS256), valid JWT_LIFETIME_S from 60 s ago."""
        import jwt

        now = int(self._clock())
        return jwt.encode({"iat": now - 60, "exp": now - 60 + JWT_LIFETIME_S, "iss": self.app_id},
                          str(self._private_key), algorithm="RS256")

    def _issue(self) -> tuple[Secret, float]:
        url = f"{self.base_url}/app/installations/{self.installation_id}/access_tokens"
        response = httpx.post(url, headers={"Authorization": f"Bearer {self.app_jwt()}",
                                            "Accept": "application/vnd.github+json"}, timeout=self._timeout_s)
        if response.status_code != 201:
            raise SourceError("github", f"POST /app/installations/{self.installation_id}/access_tokens returned HTTP "
                                        f"{response.status_code}: {response.text[:200]} (check extra.app_id, "
                                        "extra.installation_id and the app's private key)")
        body = response.json()
        return Secret(body["token"]), datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00")).timestamp()
