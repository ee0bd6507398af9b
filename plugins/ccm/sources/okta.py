"""Okta: users (including DEPROVISIONED), their factors, admin role assignments, System Log.

API shapes follow developer.okta.com: `/api/v1/users` pages with `Link: rel="next"`
(`after` cursors) and omits DEPROVISIONED users unless filtered for them; factors live
at `/api/v1/users/{id}/factors`; the System Log at `/api/v1/logs` is queried with a
bounded `since`/`until` window. Auth is `Authorization: SSWS <token>`.

Admin roles are read as `GET /api/v1/iam/assignees/users` (every user holding a role,
paged through the body's `_links.next`) and then `GET /api/v1/users/{id}/roles` for each:
a handful of requests for the few administrators, instead of one roles request per user
of the whole directory, and the assignees listing is Okta's own answer to "who is an
admin", so nobody is missed by a client-side filter.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from ccm import clock
from ccm.constants import DatasetKind
from ccm.datasets import Column, ColumnType, Dataset, parse_timestamp
from ccm.errors import SourceError
from ccm.sources.extract import Fetcher, FetchLog, Interval
from ccm.sources.http_client import ApiClient, HttpSourceConfig, Secret

SOURCE = "okta"
CONN_ID = "okta_default"
PAGE_SIZE = 200
LOG_PAGE_SIZE = 1000  # the System Log's maximum `limit`
ASSIGNEES_PAGE_SIZE = 100
# Okta keeps the System Log for 90 days: an older interval can no longer be read completely
LOG_RETENTION = timedelta(days=90)
# events reach the System Log within seconds of happening: an interval that closed less than
# this long ago is read only after waiting out the rest (a run scheduled at midnight would
# otherwise miss the last seconds of the day, and nothing re-reads them)
LOG_SETTLE = timedelta(minutes=2)
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

ADMIN_ROLES = Dataset(
    source=SOURCE,
    name="admin_roles",
    kind=DatasetKind.SNAPSHOT,
    description="Administrator role assignments per user (record = {userId, role}), as observed at observed_at.",
    key_columns=("user_id", "role_assignment_id"),
    columns=(
        Column("user_id", "userId", required=True),
        Column("role_assignment_id", "role.id", required=True),
        Column("role_type", "role.type", required=True),
        Column("role_label", "role.label"),
        Column("role_status", "role.status"),
        Column("assignment_type", "role.assignmentType"),
        Column("created", "role.created", ColumnType.TIMESTAMP),
        Column("last_updated", "role.lastUpdated", ColumnType.TIMESTAMP),
    ),
)

SYSTEM_LOG = Dataset(
    source=SOURCE,
    name="system_log",
    kind=DatasetKind.EVENT,
    description="Okta System Log events (/api/v1/logs), one row per event, by published time.",
    key_columns=("uuid",),
    time_column="published",
    columns=(
        Column("uuid", "uuid", required=True),
        Column("published", "published", ColumnType.TIMESTAMP, required=True),
        Column("event_type", "eventType", required=True),
        Column("version", "version"),
        Column("severity", "severity"),
        Column("legacy_event_type", "legacyEventType"),
        Column("display_message", "displayMessage"),
        Column("actor_id", "actor.id"),
        Column("actor_type", "actor.type"),
        Column("actor_alternate_id", "actor.alternateId"),
        Column("actor_display_name", "actor.displayName"),
        Column("outcome_result", "outcome.result"),
        Column("outcome_reason", "outcome.reason"),
        Column("client_ip", "client.ipAddress"),
        Column("transaction_id", "transaction.id"),
        Column("target", "target", ColumnType.JSON, description="target[] as JSON"),
    ),
)

DATASETS = (USERS, FACTORS, ADMIN_ROLES, SYSTEM_LOG)


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


def fetch_admin_roles(client: ApiClient) -> Fetcher:
    def fetch(interval: Interval, fetch_log: FetchLog) -> Iterator[dict[str, Any]]:
        for user_id in iter_role_assignees(client, fetch_log):
            path = f"/api/v1/users/{user_id}/roles"
            body, _ = client.get_json(path)
            fetch_log.pages += 1
            if not isinstance(body, list):
                raise SourceError(SOURCE, f"GET {path}: expected a JSON list of role assignments")
            for role in body:
                yield {"userId": user_id, "role": role}

    return fetch


def iter_role_assignees(client: ApiClient, fetch_log: FetchLog) -> list[str]:
    """Ids of every user holding an administrator role (body-linked pages, bounded)."""
    url: str | None = "/api/v1/iam/assignees/users"
    params: dict[str, Any] | None = {"limit": ASSIGNEES_PAGE_SIZE}
    seen_urls: set[str] = set()
    user_ids: list[str] = []
    while url:
        if len(seen_urls) >= client.config.max_pages:
            raise SourceError(SOURCE, f"more than {client.config.max_pages} pages from /api/v1/iam/assignees/users")
        body, _ = client.get_json(url, params)
        fetch_log.pages += 1
        where = f"GET {url}"
        if not isinstance(body, dict) or not isinstance(body.get("value"), list):
            raise SourceError(SOURCE, f"{where}: expected an object with a 'value' list of role assignees")
        for position, assignee in enumerate(body["value"]):
            user_id = assignee.get("id") if isinstance(assignee, dict) else None
            if not isinstance(user_id, str) or not user_id:
                raise SourceError(SOURCE, f"{where}: assignee #{position} has no user id: {assignee!r:.200}")
            if user_id not in user_ids:
                user_ids.append(user_id)
        links = body.get("_links") or {}
        following = ((links.get("next") or {}).get("href")) if isinstance(links, dict) else None
        if following and following in seen_urls:
            raise SourceError(SOURCE, f"pagination of /api/v1/iam/assignees/users loops back to {following}")
        if following:
            seen_urls.add(following)
        url, params = following, None
    return user_ids


def fetch_system_log(client: ApiClient) -> Fetcher:
    """Events published in [interval.start, interval.end), through a bounded query.

    Okta answers a bounded query (`since` and `until` both set) page by page, and every
    non-empty page carries a `Link: rel="next"`, the last one included; the window is
    exhausted when a page comes back empty. So: follow next links, stop at the first
    empty page, never follow a link seen before, and never more than `max_pages`. An
    interval that is older than the 90-day retention or has not settled yet cannot be
    read completely and fails, naming why; one that closed moments ago is read once it has
    settled (the wait is at most LOG_SETTLE).
    """

    def fetch(interval: Interval, fetch_log: FetchLog) -> Iterator[dict[str, Any]]:
        now = clock.now()
        if interval.start < now - LOG_RETENTION:
            raise SourceError(SOURCE, f"GET /api/v1/logs since={_iso(interval.start)}: older than the System Log's "
                                      f"{LOG_RETENTION.days}-day retention at {_iso(now)}; it cannot be read completely")
        if interval.end > now:
            raise SourceError(SOURCE, f"GET /api/v1/logs until={_iso(interval.end)}: the interval has not closed "
                                      f"yet (now {_iso(now)})")
        if interval.end > now - LOG_SETTLE:
            wait = (interval.end + LOG_SETTLE - now).total_seconds()
            fetch_log.notes.append(f"waited {wait:.0f}s for the System Log to settle after {_iso(interval.end)}")
            client.sleep(wait)
        params = {"since": _iso(interval.start), "until": _iso(interval.end), "limit": LOG_PAGE_SIZE,
                  "sortOrder": "ASCENDING"}
        seen: dict[str, str] = {}
        duplicates = at_until = 0
        for page, _response in client.paginate("/api/v1/logs", params):
            fetch_log.pages += 1
            if not page:
                break  # the bounded window is exhausted, whatever the next link says
            for event in page:
                if not isinstance(event, dict):
                    yield event  # mapping quarantines it, naming the position
                    continue
                event_id = event.get("uuid")
                if isinstance(event_id, str):
                    canonical = json.dumps(event, sort_keys=True)
                    if event_id in seen:
                        if seen[event_id] == canonical:
                            duplicates += 1
                        else:
                            fetch_log.reject("the same uuid arrived twice with different content",
                                             f"okta.system_log uuid={event_id}", event)
                        continue
                    seen[event_id] = canonical
                if _published_at_or_after(event, interval):
                    at_until += 1  # published exactly at `until`: the next interval owns it
                    continue
                yield event
        if duplicates:
            fetch_log.notes.append(f"{duplicates} events repeated across pages were read once")
        if at_until:
            fetch_log.notes.append(f"{at_until} events published at {_iso(interval.end)} left to the next interval")

    return fetch


def _published_at_or_after(event: dict[str, Any], interval: Interval) -> bool:
    try:
        return parse_timestamp(event.get("published")) >= interval.end
    except (TypeError, ValueError):
        return False  # left to the dataset mapping, which quarantines it with its reason


def _iso(moment: Any) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


FETCHERS = {USERS.name: fetch_users, FACTORS.name: fetch_factors, ADMIN_ROLES.name: fetch_admin_roles,
            SYSTEM_LOG.name: fetch_system_log}


def make_client(connection: Any, settings: Any, sleep: Any = None, **overrides: Any) -> ApiClient:
    """An Okta client from a Connection (host = org URL, password = API token)."""
    limits = {"max_attempts": settings.http_max_attempts, "max_total_wait_s": settings.http_max_total_wait_s}
    config = config_from_connection(connection.base_url, connection.password, **{**limits, **overrides})
    return ApiClient(config, sleep=sleep) if sleep else ApiClient(config)
