"""Okta: users (including DEPROVISIONED), their factors, admin role assignments, System Log.

API shapes follow developer.okta.com: `/api/v1/users` pages with `Link: rel="next"`
(`after` cursors) and omits DEPROVISIONED users unless filtered for them; factors live
at `/api/v1/users/{id}/factors`; the System Log at `/api/v1/logs` is queried with a
bounded `since`/`until` window. Auth is `Authorization: SSWS <token>`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ccm.constants import DatasetKind
from ccm.datasets import Column, ColumnType, Dataset
from ccm.errors import SourceError
from ccm.sources.extract import FetchLog, Interval
from ccm.sources.http_client import ApiClient, HttpSourceConfig, Secret

SOURCE = "okta"
CONN_ID = "okta_default"
PAGE_SIZE = 200
# statuses whose factors matter: everyone who can still sign in or be reactivated
_STATUSES_WITH_FACTORS = {"STAGED", "PROVISIONED", "ACTIVE", "RECOVERY", "PASSWORD_EXPIRED", "LOCKED_OUT", "SUSPENDED"}

USERS = Dataset(
    source=SOURCE,
    name="users",
    kind=DatasetKind.SNAPSHOT,
    description="Every Okta user and its lifecycle status, as observed at observed_at.",
    key_columns=("user_id",),
    columns=(
        Column("user_id", "id", required=True),
        Column("status", "status", required=True),
        Column("login", "profile.login", required=True),
        Column("email", "profile.email"),
        Column("first_name", "profile.firstName"),
        Column("last_name", "profile.lastName"),
        Column("employee_number", "profile.employeeNumber"),
        Column("user_type", "profile.userType"),
        Column("created", "created", ColumnType.TIMESTAMP, required=True),
        Column("activated", "activated", ColumnType.TIMESTAMP),
        Column("status_changed", "statusChanged", ColumnType.TIMESTAMP),
        Column("last_login", "lastLogin", ColumnType.TIMESTAMP),
        Column("last_updated", "lastUpdated", ColumnType.TIMESTAMP),
        Column("password_changed", "passwordChanged", ColumnType.TIMESTAMP),
    ),
)

FACTORS = Dataset(
    source=SOURCE,
    name="factors",
    kind=DatasetKind.SNAPSHOT,
    description="Enrolled authenticator factors per user (record = {userId, factor}).",
    key_columns=("user_id", "factor_id"),
    columns=(
        Column("user_id", "userId", required=True),
        Column("factor_id", "factor.id", required=True),
        Column("factor_type", "factor.factorType", required=True),
        Column("provider", "factor.provider"),
        Column("status", "factor.status", required=True),
        Column("created", "factor.created", ColumnType.TIMESTAMP),
        Column("last_updated", "factor.lastUpdated", ColumnType.TIMESTAMP),
    ),
)

DATASETS = (USERS, FACTORS)


def config_from_connection(base_url: str, token: str, **overrides: Any) -> HttpSourceConfig:
    return HttpSourceConfig(
        source=SOURCE, base_url=base_url.rstrip("/"), token=Secret(token),
        auth_prefix="SSWS ", **overrides,
    )


def _list_users(client: ApiClient, fetch_log: FetchLog, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for page, _response in client.paginate("/api/v1/users", params):
        fetch_log.pages += 1
        yield from page


def iter_users(client: ApiClient, fetch_log: FetchLog) -> Iterator[dict[str, Any]]:
    """All users: the default listing, then the DEPROVISIONED ones it leaves out."""
    seen: set[str] = set()
    for user in _list_users(client, fetch_log, {"limit": PAGE_SIZE}):
        if isinstance(user, dict) and user.get("id"):
            if user["id"] in seen:
                continue
            seen.add(user["id"])
        yield user
    for user in _list_users(client, fetch_log, {"limit": PAGE_SIZE, "filter": 'status eq "DEPROVISIONED"'}):
        if isinstance(user, dict) and user.get("id") in seen:
            continue
        yield user


def fetch_users(client: ApiClient):
    def fetch(interval: Interval, fetch_log: FetchLog) -> Iterator[dict[str, Any]]:
        yield from iter_users(client, fetch_log)

    return fetch


def fetch_factors(client: ApiClient):
    def fetch(interval: Interval, fetch_log: FetchLog) -> Iterator[dict[str, Any]]:
        users = list(iter_users(client, fetch_log))
        for user in users:
            if not isinstance(user, dict) or user.get("status") not in _STATUSES_WITH_FACTORS:
                continue
            user_id = user.get("id")
            if not user_id:
                continue  # the users extract quarantines it; nothing to ask for here
            body, _ = client.get_json(f"/api/v1/users/{user_id}/factors")
            fetch_log.pages += 1
            if not isinstance(body, list):
                raise SourceError(SOURCE, f"GET /api/v1/users/{user_id}/factors: expected a JSON list")
            for factor in body:
                yield {"userId": user_id, "factor": factor}

    return fetch


FETCHERS = {USERS.name: fetch_users, FACTORS.name: fetch_factors}


def make_client(connection: Any, settings: Any, sleep: Any = None, **overrides: Any) -> ApiClient:
    """An Okta client from a Connection (host = org URL, password = API token)."""
    limits = {"max_attempts": settings.http_max_attempts, "max_total_wait_s": settings.http_max_total_wait_s}
    config = config_from_connection(connection.base_url, connection.password, **{**limits, **overrides})
    return ApiClient(config, sleep=sleep) if sleep else ApiClient(config)
