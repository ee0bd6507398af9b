"""Okta fetchers: users (DEPROVISIONED too), factors, admin roles through the assignees
listing, the System Log.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from ccm import clock
from ccm.datasets import parse_timestamp
from ccm.errors import SourceError
from ccm.sources.extract import Fetcher, FetchLog, Interval
from ccm.sources.http_client import ApiClient
from ccm.sources.okta.datasets import ADMIN_ROLES, FACTORS, SOURCE, SYSTEM_LOG, USERS

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


def _user_list(client: ApiClient, fetch_log: FetchLog, user_id: str, resource: str, expected: str) -> list[Any]:
    """`GET /api/v1/users/{id}/<resource>`, one page that must be a JSON list."""
    path = f"/api/v1/users/{user_id}/{resource}"
    body, _ = client.get_json(path)
    fetch_log.pages += 1
    if not isinstance(body, list):
        raise SourceError(SOURCE, f"GET {path}: expected {expected}")
    return body


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
            for factor in _user_list(client, fetch_log, user_id, "factors", "a JSON list"):
                yield {"userId": user_id, "factor": factor}

    return fetch


def fetch_admin_roles(client: ApiClient) -> Fetcher:
    def fetch(interval: Interval, fetch_log: FetchLog) -> Iterator[dict[str, Any]]:
        for user_id in iter_role_assignees(client, fetch_log):
            for role in _user_list(client, fetch_log, user_id, "roles", "a JSON list of role assignments"):
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
