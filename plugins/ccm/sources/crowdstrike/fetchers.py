"""CrowdStrike fetchers: the host ids (offset paging, `meta.pagination.total`), then their
details in batches."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ccm.errors import SourceError
from ccm.sources.crowdstrike.datasets import SOURCE
from ccm.sources.extract import Fetcher, FetchLog, Interval
from ccm.sources.oauth2 import OAuthApiClient

QUERY_PATH = "/devices/queries/devices/v1"
DETAILS_PATH = "/devices/entities/devices/v2"
ID_PAGE_SIZE = 500  # the query's limit (at most 5000)
DETAILS_BATCH = 100  # ids per details request (the POST variant takes up to 5000)


def _envelope(body: Any, where: str) -> tuple[list[Any], dict[str, Any]]:
    """The `resources` list and `meta` of a Falcon answer; its `errors` are the source's failure."""
    if not isinstance(body, dict):
        raise SourceError(SOURCE, f"{where}: expected a JSON object")
    errors = body.get("errors") or []
    if errors:
        messages = "; ".join(f"{e.get('code')}: {e.get('message')}" if isinstance(e, dict) else str(e)
                             for e in errors)
        raise SourceError(SOURCE, f"{where}: the answer carries errors: {messages}")
    resources = body.get("resources")
    if resources is None:
        resources = []
    if not isinstance(resources, list):
        raise SourceError(SOURCE, f"{where}: 'resources' is not a list")
    return resources, body.get("meta") or {}


def host_ids(client: OAuthApiClient, fetch_log: FetchLog) -> list[str]:
    """Every host id, in the API's order (sorted by device_id so offsets stay stable)."""
    ids: list[str] = []
    offset, total = 0, None
    while True:
        params = {"offset": offset, "limit": ID_PAGE_SIZE, "sort": "device_id.asc"}
        where = f"GET {QUERY_PATH}?offset={offset}"
        body, _ = client.get_json(QUERY_PATH, params)
        fetch_log.pages += 1
        resources, meta = _envelope(body, where)
        pagination = meta.get("pagination")
        if not isinstance(pagination, dict) or not isinstance(pagination.get("total"), int):
            raise SourceError(SOURCE, f"{where}: meta.pagination.total is missing")
        if total is not None and pagination["total"] != total:
            raise SourceError(SOURCE, f"{where}: the host count changed while paging ({total} -> "
                                      f"{pagination['total']}); offsets no longer line up")
        total = pagination["total"]
        ids.extend(str(i) for i in resources)
        offset += len(resources)
        if offset >= total:
            break
        if not resources:
            raise SourceError(SOURCE, f"{where}: an empty page before the announced total ({offset} of {total})")
    if len(set(ids)) != len(ids):
        raise SourceError(SOURCE, f"GET {QUERY_PATH}: a host id was listed twice while paging")
    fetch_log.api_total = total
    return ids


def fetch_hosts(client: OAuthApiClient) -> Fetcher:
    def fetch(interval: Interval, fetch_log: FetchLog) -> Iterator[Any]:
        ids = host_ids(client, fetch_log)
        for first in range(0, len(ids), DETAILS_BATCH):
            batch = ids[first:first + DETAILS_BATCH]
            body, _ = client.post_json(DETAILS_PATH, {"ids": batch})
            fetch_log.pages += 1
            resources, _meta = _envelope(body, f"POST {DETAILS_PATH} (ids {first + 1}-{first + len(batch)})")
            returned = {r.get("device_id") for r in resources if isinstance(r, dict)}
            missing = [i for i in batch if i not in returned]
            if missing:
                raise SourceError(SOURCE, f"POST {DETAILS_PATH}: no details for {len(missing)} listed host(s), "
                                          f"e.g. {missing[0]}")
            yield from resources

    return fetch


FETCHERS = {"hosts": fetch_hosts}
