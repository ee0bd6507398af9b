"""Intune fetchers: every managed device, following `@odata.nextLink` until there is none."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ccm.errors import SourceError
from ccm.sources.extract import Fetcher, FetchLog, Interval
from ccm.sources.intune.datasets import SOURCE
from ccm.sources.oauth2 import OAuthApiClient

PATH = "/v1.0/deviceManagement/managedDevices"
PAGE_SIZE = 100  # $top; Graph may page smaller, and says so through @odata.nextLink
SELECT = ("id,deviceName,operatingSystem,osVersion,isEncrypted,complianceState,managementState,lastSyncDateTime,"
          "enrolledDateTime,userPrincipalName,emailAddress,serialNumber,managedDeviceOwnerType,model,manufacturer")


def iter_managed_devices(client: OAuthApiClient, fetch_log: FetchLog) -> Iterator[Any]:
    url: str | None = PATH
    params: dict[str, Any] | None = {"$top": PAGE_SIZE, "$select": SELECT}
    seen: set[str] = set()
    while url:
        if fetch_log.pages >= client.config.max_pages:
            raise SourceError(SOURCE, f"more than {client.config.max_pages} pages from GET {PATH}; giving up")
        body, _ = client.get_json(url, params)
        fetch_log.pages += 1
        where = f"GET {url if params is None else PATH} (page {fetch_log.pages})"
        if not isinstance(body, dict) or not isinstance(body.get("value"), list):
            raise SourceError(SOURCE, f"{where}: expected a JSON object with a 'value' list")
        yield from body["value"]
        following = body.get("@odata.nextLink")
        if following is not None and (not isinstance(following, str) or following in seen):
            raise SourceError(SOURCE, f"{where}: @odata.nextLink does not advance ({following!r})")
        if following:
            seen.add(following)
        url, params = following, None


def fetch_managed_devices(client: OAuthApiClient) -> Fetcher:
    def fetch(interval: Interval, fetch_log: FetchLog) -> Iterator[Any]:
        yield from iter_managed_devices(client, fetch_log)

    return fetch


FETCHERS = {"managed_devices": fetch_managed_devices}
