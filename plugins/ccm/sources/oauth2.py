"""OAuth 2.0 client credentials (RFC 6749 section 4.4) for the HTTP sources that need them
(Microsoft Graph, CrowdStrike Falcon, Jamf Pro).

The access token is fetched on the first request and again when it is about to expire or
when the API answers 401 (tokens are revoked or expire early: the client fetches a new one
once and repeats the request; a second 401 is a real authorisation failure and raises).
The client secret and the access token are `Secret`s: they never show in reprs, logs,
errors or manifests.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from ccm.errors import SourceError
from ccm.sources.http_client import ApiClient, HttpSourceConfig, Secret, _snippet, suggested_wait

# a token is renewed this long before the expiry its issuer announced (at most a tenth of its life)
EXPIRY_MARGIN_S = 60.0
# what HttpSourceConfig holds until the first token is fetched (it requires a token)
PLACEHOLDER_TOKEN = Secret("oauth2-token-not-yet-fetched")


@dataclass(frozen=True)
class ClientCredentials:
    """Where and with what a source gets its access tokens."""

    token_url: str
    client_id: str
    client_secret: Secret = field(repr=False)
    scope: str | None = None  # Microsoft identity platform: "https://graph.microsoft.com/.default"

    def __post_init__(self) -> None:
        if not self.token_url.startswith(("http://", "https://")):
            raise ValueError(f"token URL must start with http:// or https://, got {self.token_url!r}")


class OAuthApiClient(ApiClient):
    """The shared retrying ApiClient with a client-credentials bearer token it renews itself."""

    def __init__(self, config: HttpSourceConfig, credentials: ClientCredentials,
                 transport: httpx.BaseTransport | None = None, sleep: Callable[[float], None] = time.sleep,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        super().__init__(config, transport=transport, sleep=sleep)
        self.credentials = credentials
        self.tokens_fetched = 0
        self._expires_at = 0.0
        self._monotonic = monotonic
        self._has_token = False

    def _fetch_token(self) -> None:
        form = {"grant_type": "client_credentials", "client_id": self.credentials.client_id,
                "client_secret": str(self.credentials.client_secret)}
        if self.credentials.scope:
            form["scope"] = self.credentials.scope
        where = f"POST {self.credentials.token_url}"
        response = None
        for attempt in range(1, self.config.max_attempts + 1):
            try:
                response = self._client.post(self.credentials.token_url, data=form,
                                             headers={"Authorization": "", "Accept": "application/json"})
            except httpx.TransportError as exc:
                if attempt == self.config.max_attempts:
                    raise SourceError(self.config.source, f"cannot reach {where}: {type(exc).__name__}: {exc}") \
                        from None
                self._sleep(self.config.backoff_base_s * 2 ** (attempt - 1))
                continue
            throttled = response.status_code == 429 or response.status_code >= 500
            if throttled and attempt < self.config.max_attempts:
                wait = suggested_wait(response)
                self._sleep(min(self.config.max_wait_s,
                                wait if wait is not None else self.config.backoff_base_s * 2 ** (attempt - 1)))
                continue
            break
        assert response is not None
        if not 200 <= response.status_code < 300:  # Falcon answers 201 Created
            raise SourceError(self.config.source, f"{where} (client {self.credentials.client_id}) returned HTTP "
                                                  f"{response.status_code}: {_snippet(response.text)}")
        try:
            body = response.json()
        except ValueError:
            body = None
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise SourceError(self.config.source, f"{where}: the answer has no access_token")
        try:
            lifetime = float(body.get("expires_in", 3600))
        except (TypeError, ValueError):
            lifetime = 3600.0
        self.tokens_fetched += 1
        self._client.headers[self.config.auth_header] = f"{self.config.auth_prefix}{Secret(token)}"
        # renew a minute early, or a tenth of the lifetime for short-lived tokens (Jamf's can live 60 s)
        self._expires_at = self._monotonic() + max(0.0, lifetime - min(EXPIRY_MARGIN_S, lifetime / 10))
        self._has_token = True

    def request(self, method: str, url: str, params: dict[str, Any] | None = None, json_body: Any = None,
                ok_statuses: tuple[int, ...] = ()) -> httpx.Response:
        if not self._has_token or self._monotonic() >= self._expires_at:
            self._fetch_token()
        response = super().request(method, url, params=params, json_body=json_body,
                                   ok_statuses=(*ok_statuses, 401))
        if response.status_code == 401 and 401 not in ok_statuses:
            self._fetch_token()  # revoked or expired before its announced lifetime: once more, with a new one
            response = super().request(method, url, params=params, json_body=json_body, ok_statuses=ok_statuses)
        return response


def oauth_api_client(config: HttpSourceConfig, credentials: ClientCredentials,
                     sleep: Callable[[float], None] | None = None) -> OAuthApiClient:
    return OAuthApiClient(config, credentials, sleep=sleep) if sleep else OAuthApiClient(config, credentials)

