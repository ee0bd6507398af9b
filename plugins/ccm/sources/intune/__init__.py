"""Microsoft Intune through Microsoft Graph: the managed devices (laptops, desktops, phones).

`GET /v1.0/deviceManagement/managedDevices` (`DeviceManagementManagedDevices.Read.All`,
application permission) answers `{"@odata.context", "value": [...], "@odata.nextLink"}`;
the next page is the absolute `@odata.nextLink` URL (a skip token), followed until it is
absent. Auth is OAuth2 client credentials against the Microsoft identity platform
(`ccm.sources.oauth2`). Throttling is 429 with `Retry-After` (honoured by the shared
client). Devices are a snapshot: the list shows only the present state (a retired or
wiped device leaves it once the action completed).

The family's parts: datasets.py, client.py, fetchers.py.
"""

from __future__ import annotations

from ccm.sources.family import SourceFamily
from ccm.sources.intune import client, datasets, fetchers

FAMILY = SourceFamily.from_modules(datasets, client, fetchers)
