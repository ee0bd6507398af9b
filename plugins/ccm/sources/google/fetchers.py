"""Google Workspace fetchers: the user listing, active and deleted, by nextPageToken."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ccm.errors import SourceError
from ccm.sources.extract import Fetcher, FetchLog, Interval
from ccm.sources.google.datasets import SOURCE, USERS
from ccm.sources.http_client import ApiClient

PAGE_SIZE = 500  # the Directory API's maximum maxResults
USERS_PATH = "/admin/directory/v1/users"


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
