"""Google Workspace: directory users from the Admin SDK Directory API.

`GET /admin/directory/v1/users?customer=my_customer&maxResults=500&pageToken=...` pages
through `nextPageToken` in the body (not a Link header); the `users` key is absent from a
page with no users. Deleted users are only listed with `showDeleted=true`, so the
extract asks twice, as it does for Okta's DEPROVISIONED users. Throttling comes back as
HTTP 429 or as HTTP 403 with reason `userRateLimitExceeded` / `rateLimitExceeded` /
`quotaExceeded`; both are retried with back-off, any other 403 is a permission problem
and fails at once.

Auth is `Authorization: Bearer <access token>`: the `google_default` connection's
password holds an OAuth access token for an admin (e.g. minted from a service account
with domain-wide delegation for the `admin.directory.user.readonly` scope).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ccm.constants import DatasetKind
from ccm.datasets import Column, ColumnType, Dataset
from ccm.errors import SourceError
from ccm.sources.extract import Fetcher, FetchLog, Interval
from ccm.sources.http_client import ApiClient, HttpSourceConfig, Secret

SOURCE = "google"
CONN_ID = "google_default"
PAGE_SIZE = 500  # the Directory API's maximum maxResults
USERS_PATH = "/admin/directory/v1/users"
THROTTLED_REASONS = {"userRateLimitExceeded", "rateLimitExceeded", "quotaExceeded"}

USERS = Dataset(
    source=SOURCE,
    name="users",
    kind=DatasetKind.SNAPSHOT,
    description="Every Google Workspace user (deleted ones within retention), as observed at observed_at.",
    key_columns=("user_id",),
    columns=(
        Column("user_id", "id", required=True),
        Column("primary_email", "primaryEmail", required=True),
        Column("given_name", "name.givenName"),
        Column("family_name", "name.familyName"),
        Column("is_admin", "isAdmin", ColumnType.BOOL, required=True),
        Column("is_delegated_admin", "isDelegatedAdmin", ColumnType.BOOL),
        Column("is_enrolled_in_2sv", "isEnrolledIn2Sv", ColumnType.BOOL, required=True),
        Column("is_enforced_in_2sv", "isEnforcedIn2Sv", ColumnType.BOOL, required=True),
        Column("suspended", "suspended", ColumnType.BOOL, required=True),
        Column("suspension_reason", "suspensionReason"),
        Column("archived", "archived", ColumnType.BOOL),
        Column("org_unit_path", "orgUnitPath"),
        Column("customer_id", "customerId"),
        Column("creation_time", "creationTime", ColumnType.TIMESTAMP, required=True),
        Column("last_login_time", "lastLoginTime", ColumnType.TIMESTAMP,
               description="1970-01-01T00:00:00Z means never signed in"),
        Column("deletion_time", "deletionTime", ColumnType.TIMESTAMP),
    ),
)

DATASETS = (USERS,)


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


def config_from_connection(base_url: str, token: str, **overrides: Any) -> HttpSourceConfig:
    return HttpSourceConfig(source=SOURCE, base_url=base_url.rstrip("/"), token=Secret(token),
                            auth_prefix="Bearer ", retry_when=is_throttled, **overrides)


def iter_users(client: ApiClient, fetch_log: FetchLog, deleted: bool) -> Iterator[Any]:
    """One listing (active or deleted users), following nextPageToken boundedly."""
    params: dict[str, Any] = {"customer": "my_customer", "maxResults": PAGE_SIZE, "orderBy": "email",
                              "showDeleted": "true" if deleted else "false"}
    tokens: set[str] = set()
    while True:
        if fetch_log.pages >= client.config.max_pages:
            raise SourceError(SOURCE, f"more than {client.config.max_pages} pages from {USERS_PATH}; giving up")
        body, _ = client.get_json(USERS_PATH, params)
        fetch_log.pages += 1
        if not isinstance(body, dict) or body.get("kind") != "admin#directory#users":
            raise SourceError(SOURCE, f"GET {USERS_PATH} (showDeleted={params['showDeleted']}): "
                                      f"expected an admin#directory#users object, got {str(body)[:120]!r}")
        users = body.get("users", [])  # absent when the page has no users
        if not isinstance(users, list):
            raise SourceError(SOURCE, f"GET {USERS_PATH}: 'users' is not a list")
        yield from users
        token = body.get("nextPageToken")
        if not token:
            return
        if token in tokens:
            raise SourceError(SOURCE, f"GET {USERS_PATH}: nextPageToken {token!r} repeats; pagination loops")
        tokens.add(token)
        params = {**params, "pageToken": token}


def fetch_users(client: ApiClient) -> Fetcher:
    def fetch(interval: Interval, fetch_log: FetchLog) -> Iterator[Any]:
        seen: set[str] = set()
        for deleted in (False, True):
            for user in iter_users(client, fetch_log, deleted):
                user_id = user.get("id") if isinstance(user, dict) else None
                if isinstance(user_id, str):
                    if user_id in seen:  # deleted between the two listings: keep the first answer
                        continue
                    seen.add(user_id)
                yield user

    return fetch


FETCHERS = {USERS.name: fetch_users}


def make_client(connection: Any, settings: Any, sleep: Any = None, **overrides: Any) -> ApiClient:
    """A Directory API client from a Connection (host = API root, password = access token)."""
    limits = {"max_attempts": settings.http_max_attempts, "max_total_wait_s": settings.http_max_total_wait_s}
    config = config_from_connection(connection.base_url, connection.password, **{**limits, **overrides})
    return ApiClient(config, sleep=sleep) if sleep else ApiClient(config)
