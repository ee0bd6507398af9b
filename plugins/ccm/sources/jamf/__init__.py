"""Jamf Pro: the Macs' inventory (MDM).

`GET /api/v1/computers-inventory?section=GENERAL&section=HARDWARE&section=DISK_ENCRYPTION
&section=OPERATING_SYSTEM&section=USER_AND_LOCATION&page=N&page-size=M&sort=id:asc`
answers `{"totalCount", "results": [{"id", "udid", "general": {..., "remoteManagement":
{"managed"}, "lastContactTime"}, "hardware": {"serialNumber", ...}, "diskEncryption":
{"bootPartitionEncryptionDetails": {"partitionFileVault2State"}}, "operatingSystem":
{"name", "version", "fileVault2Status"}, "userAndLocation": {"username", "email"}}]}`;
pages are numbered from 0 and the total must be reached with a stable count. Auth is
OAuth2 client credentials at `POST /api/oauth/token` (`ccm.sources.oauth2`).

The family's parts: datasets.py, client.py, fetchers.py.
"""

from __future__ import annotations

from ccm.sources.family import SourceFamily
from ccm.sources.jamf import client, datasets, fetchers

FAMILY = SourceFamily.from_modules(datasets, client, fetchers)
