"""The Microsoft Graph client for Intune: OAuth2 client credentials from the Microsoft identity
platform (`https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token`, scope
`https://graph.microsoft.com/.default`), bearer token on the shared retrying client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ccm.errors import ConfigError
from ccm.sources.connections import Connection, required
from ccm.sources.http_client import HttpSourceConfig, Secret
from ccm.sources.intune.datasets import CONN_ID, SOURCE
from ccm.sources.oauth2 import PLACEHOLDER_TOKEN, ClientCredentials, OAuthApiClient, oauth_api_client

if TYPE_CHECKING:
    from ccm.config import Settings

LOGIN_URL = "https://login.microsoftonline.com"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"


def make_client(connection: Connection | None, settings: Settings, /, sleep: Any = None,
                **overrides: Any) -> OAuthApiClient:
    """From a Connection: host = Graph root (https://graph.microsoft.com), login = application (client)
    id, password = client secret, extra.tenant_id = the directory (tenant) id; extra.token_url
    overrides the token endpoint (national clouds, the demo)."""
    connection = required(connection, SOURCE, CONN_ID)
    extra = connection.extra or {}
    tenant = extra.get("tenant_id")
    if not tenant:
        raise ConfigError(f"connection {connection.conn_id}: extra.tenant_id (the Entra directory id) is required")
    if not connection.login:
        raise ConfigError(f"connection {connection.conn_id}: login (the application's client id) is required")
    token_url = extra.get("token_url") or f"{LOGIN_URL}/{tenant}/oauth2/v2.0/token"
    limits = {"max_attempts": settings.http_max_attempts, "max_total_wait_s": settings.http_max_total_wait_s}
    config = HttpSourceConfig(source=SOURCE, base_url=connection.base_url.rstrip("/"), token=PLACEHOLDER_TOKEN,
                              auth_prefix="Bearer ", **{**limits, **overrides})
    credentials = ClientCredentials(token_url=token_url, client_id=connection.login,
                                    client_secret=Secret(connection.password), scope=extra.get("scope", GRAPH_SCOPE))
    return oauth_api_client(config, credentials, sleep)
