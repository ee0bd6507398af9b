"""The Directory API client: Bearer token auth; 403 quota errors are retried like 429s."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ccm.sources.connections import Connection, required
from ccm.sources.google.datasets import CONN_ID, SOURCE
from ccm.sources.http_client import ApiClient, HttpSourceConfig, Secret, api_client

if TYPE_CHECKING:
    from ccm.config import Settings

THROTTLED_REASONS = {"userRateLimitExceeded", "rateLimitExceeded", "quotaExceeded"}


def is_throttled(response: Any) -> bool:
    """Google's quota errors: 403 with a rate-limit reason (429s are retried anyway)."""
    if response.status_code != 403:
        return False
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        return False
    reasons = {e.get("reason") for e in error.get("errors") or [] if isinstance(e, dict)}
    return bool(reasons & THROTTLED_REASONS)


def config_from_connection(base_url: str, token: str, auth: Any = None, **overrides: Any) -> HttpSourceConfig:
    return HttpSourceConfig(source=SOURCE, base_url=base_url.rstrip("/"), token=Secret("" if auth else token),
                            auth_prefix="Bearer ", retry_when=is_throttled, auth=auth, **overrides)


def make_client(connection: Connection | None, settings: Settings, /, sleep: Any = None,
                **overrides: Any) -> ApiClient:
    """A Directory API client from a Connection (host = API root, password = access token)."""
    connection = required(connection, SOURCE, CONN_ID)
    auth = None
    if (connection.extra or {}).get("subject"):  # a service account with domain-wide delegation
        from ccm.sources.google.service_account import GoogleDelegatedAuth

        auth = GoogleDelegatedAuth(Secret(str(connection.password)), str(connection.extra["subject"]))
    return api_client(settings, lambda **limits: config_from_connection(connection.base_url, connection.password,
                                                                        auth, **limits), sleep, **overrides)
