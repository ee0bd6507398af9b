"""The GitHub session: the REST ApiClient (Bearer token, API version header), the organisation,
the GraphQL URL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ccm.errors import ConfigError
from ccm.sources.connections import Connection, required
from ccm.sources.github.datasets import CONN_ID, SOURCE
from ccm.sources.http_client import ApiClient, HttpSourceConfig, Secret, api_client

if TYPE_CHECKING:
    from ccm.config import Settings

API_VERSION = "2022-11-28"


@dataclass
class GitHubSession:
    """What the fetchers need: the REST client, the organisation, and where GraphQL lives."""

    api: ApiClient
    org: str
    graphql_url: str
    repos_cache: list[dict[str, Any]] | None = field(default=None, repr=False)

    def __enter__(self) -> GitHubSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.api.close()


def _graphql_url(base_url: str) -> str:
    """github.com: https://api.github.com/graphql; GitHub Enterprise Server: https://host/api/graphql."""
    base = base_url.rstrip("/")
    if base.endswith("/api/v3"):
        return base[: -len("/v3")] + "/graphql"
    return base + "/graphql"


def make_client(connection: Connection | None, settings: Settings, /, sleep: Any = None,
                **overrides: Any) -> GitHubSession:
    """A GitHub session from a Connection: host = API URL, password = token, extra.org = organisation."""
    connection = required(connection, SOURCE, CONN_ID)
    org = (connection.extra or {}).get("org")
    if not org:
        raise ConfigError(f"connection {connection.conn_id}: extra.org (the GitHub organisation's login) is required")
    extra = connection.extra or {}
    app_auth = None
    if extra.get("app_id"):  # a GitHub App: the password is its private key (app_auth.py)
        from ccm.sources.github.app_auth import GitHubAppAuth

        app_auth = GitHubAppAuth(connection.base_url, str(extra["app_id"]), str(extra.get("installation_id", "")),
                                 Secret(str(connection.password)))
    api = api_client(settings, lambda **limits: HttpSourceConfig(
        source=SOURCE, base_url=connection.base_url.rstrip("/"),
        token=Secret("" if app_auth else connection.password), auth=app_auth,
        auth_prefix="Bearer ",
        extra_headers={"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION},
        **limits,
    ), sleep, **overrides)
    graphql = (connection.extra or {}).get("graphql_url") or _graphql_url(connection.base_url)
    return GitHubSession(api=api, org=str(org), graphql_url=graphql)
