"""The Jamf Pro client: OAuth2 client credentials (API roles and clients) at `POST /api/oauth/token`
on the Jamf Pro host, bearer token on the shared retrying client. Jamf's access tokens are
short-lived (the API client's lifetime, often a minute or two): the client renews them as
they age (`ccm.sources.oauth2`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ccm.errors import ConfigError
from ccm.sources.connections import Connection, required
from ccm.sources.http_client import HttpSourceConfig, Secret
from ccm.sources.jamf.datasets import CONN_ID, SOURCE
from ccm.sources.oauth2 import PLACEHOLDER_TOKEN, ClientCredentials, OAuthApiClient, oauth_api_client

if TYPE_CHECKING:
    from ccm.config import Settings


def make_client(connection: Connection | None, settings: Settings, /, sleep: Any = None,
                **overrides: Any) -> OAuthApiClient:
    """From a Connection: host = the Jamf Pro URL (https://<org>.jamfcloud.com), login = API client
    id, password = its secret (privilege: Read Computers)."""
    connection = required(connection, SOURCE, CONN_ID)
    if not connection.login:
        raise ConfigError(f"connection {connection.conn_id}: login (the Jamf Pro API client id) is required")
    base_url = connection.base_url.rstrip("/")
    limits = {"max_attempts": settings.http_max_attempts, "max_total_wait_s": settings.http_max_total_wait_s}
    config = HttpSourceConfig(source=SOURCE, base_url=base_url, token=PLACEHOLDER_TOKEN, auth_prefix="Bearer ",
                              **{**limits, **overrides})
    credentials = ClientCredentials(token_url=f"{base_url}/api/oauth/token", client_id=connection.login,
                                    client_secret=Secret(connection.password))
    return oauth_api_client(config, credentials, sleep)
