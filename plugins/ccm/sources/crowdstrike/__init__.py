"""CrowdStrike Falcon: the hosts running the Falcon sensor (EDR).

Two steps, as the Hosts API is built: `GET /devices/queries/devices/v1?offset=&limit=`
lists host ids (`{"meta": {"pagination": {"offset", "limit", "total"}}, "resources":
[ids], "errors": []}`), then `POST /devices/entities/devices/v2` with `{"ids": [...]}`
(the POST form of the GET `?ids=` details call, falconpy's PostDeviceDetailsV2) returns
each host (`device_id`, `hostname`, `serial_number`, `last_seen`, `status`,
`platform_name`, `agent_version`, `os_version`, ...). Auth is OAuth2 client credentials
at `POST /oauth2/token` (`ccm.sources.oauth2`); tokens live 30 minutes. Rate limits come as
`X-RateLimit-Limit` / `X-RateLimit-Remaining` and 429 with `Retry-After`. An answer's
`errors` list is a failure, and the listed total must be reached: complete or nothing.

The family's parts: datasets.py, client.py, fetchers.py.
"""

from __future__ import annotations

from ccm.sources.crowdstrike import client, datasets, fetchers
from ccm.sources.family import SourceFamily

FAMILY = SourceFamily.from_modules(datasets, client, fetchers)
