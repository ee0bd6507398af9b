"""The CrowdStrike Falcon client: OAuth2 client credentials (`POST /oauth2/token` on the same
API host: api.crowdstrike.com, api.us-2.crowdstrike.com, api.eu-1.crowdstrike.com, ...),
bearer token on the shared retrying client (which honours Retry-After on 429)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ccm.errors import ConfigError
from ccm.sources.connections import Connection, required
from ccm.sources.crowdstrike.datasets import CONN_ID, SOURCE
from ccm.sources.http_client import HttpSourceConfig, Secret
from ccm.sources.oauth2 import PLACEHOLDER_TOKEN, ClientCredentials, OAuthApiClient, oauth_api_client

if TYPE_CHECKING:
    from ccm.config import Settings


def make_client(connection: Connection | None, settings: Settings, /, sleep: Any = None,
                **overrides: Any) -> OAuthApiClient:
    """From a Connection: host = the cloud's API URL, login = API client id, password = its secret
    (scope: Hosts read)."""
    connection = required(connection, SOURCE, CONN_ID)
    if not connection.login:
        raise ConfigError(f"connection {connection.conn_id}: login (the Falcon API client id) is required")
    base_url = connection.base_url.rstrip("/")
    limits = {"max_attempts": settings.http_max_attempts, "max_total_wait_s": settings.http_max_total_wait_s}
    config = HttpSourceConfig(source=SOURCE, base_url=base_url, token=PLACEHOLDER_TOKEN, auth_prefix="Bearer ",
                              **{**limits, **overrides})
    credentials = ClientCredentials(token_url=f"{base_url}/oauth2/token", client_id=connection.login,
                                    client_secret=Secret(connection.password))
    return oauth_api_client(config, credentials, sleep)
