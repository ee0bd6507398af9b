"""The Okta API client: SSWS token auth on the shared retrying ApiClient."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ccm.sources.connections import Connection, required
from ccm.sources.http_client import ApiClient, HttpSourceConfig, Secret, api_client
from ccm.sources.okta.datasets import CONN_ID, SOURCE

if TYPE_CHECKING:
    from ccm.config import Settings


def config_from_connection(base_url: str, token: str, auth: Any = None, **overrides: Any) -> HttpSourceConfig:
    return HttpSourceConfig(
        source=SOURCE, base_url=base_url.rstrip("/"), token=Secret("" if auth else token),
        auth_prefix="SSWS ", auth=auth, **overrides,
    )


def make_client(connection: Connection | None, settings: Settings, /, sleep: Any = None,
                **overrides: Any) -> ApiClient:
    """An Okta client from a Connection (host = org URL, password = API token; or, with
    extra.client_id, an OAuth service app whose private key is the password: oauth.py)."""
    connection = required(connection, SOURCE, CONN_ID)
    extra = connection.extra or {}
    auth = None
    if extra.get("client_id"):
        from ccm.sources.okta.oauth import DEFAULT_SCOPES, OktaServiceAppAuth

        auth = OktaServiceAppAuth(connection.base_url, str(extra["client_id"]), Secret(str(connection.password)),
                                  tuple(extra.get("scopes") or DEFAULT_SCOPES), extra.get("key_id"))
    return api_client(settings, lambda **limits: config_from_connection(connection.base_url, connection.password,
                                                                        auth, **limits), sleep, **overrides)
