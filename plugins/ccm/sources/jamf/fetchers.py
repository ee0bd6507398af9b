"""Jamf Pro fetchers: the computer inventory, page by page (`page`, `page-size`) until the
announced `totalCount` is reached."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ccm.errors import SourceError
from ccm.sources.extract import Fetcher, FetchLog, Interval
from ccm.sources.jamf.datasets import SOURCE
from ccm.sources.oauth2 import OAuthApiClient

PATH = "/api/v1/computers-inventory"
PAGE_SIZE = 100  # page-size; Jamf allows up to 2000
SECTIONS = ["GENERAL", "HARDWARE", "DISK_ENCRYPTION", "OPERATING_SYSTEM", "USER_AND_LOCATION"]


def iter_computers(client: OAuthApiClient, fetch_log: FetchLog) -> Iterator[Any]:
    page, seen, total = 0, 0, None
    while True:
        where = f"GET {PATH}?page={page}"
        body, _ = client.get_json(PATH, {"section": SECTIONS, "page": page, "page-size": PAGE_SIZE,
                                         "sort": "id:asc"})
        fetch_log.pages += 1
        if not isinstance(body, dict) or not isinstance(body.get("results"), list) \
                or not isinstance(body.get("totalCount"), int):
            raise SourceError(SOURCE, f"{where}: expected a JSON object with totalCount and a results list")
        if total is not None and body["totalCount"] != total:
            raise SourceError(SOURCE, f"{where}: the computer count changed while paging ({total} -> "
                                      f"{body['totalCount']}); pages no longer line up")
        total = body["totalCount"]
        yield from body["results"]
        seen += len(body["results"])
        if seen >= total:
            break
        if not body["results"]:
            raise SourceError(SOURCE, f"{where}: an empty page before the announced total ({seen} of {total})")
        page += 1
    fetch_log.api_total = total


def fetch_computers(client: OAuthApiClient) -> Fetcher:
    def fetch(interval: Interval, fetch_log: FetchLog) -> Iterator[Any]:
        yield from iter_computers(client, fetch_log)

    return fetch


FETCHERS = {"computers": fetch_computers}
