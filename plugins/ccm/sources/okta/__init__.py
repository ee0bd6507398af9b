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

The family's parts: datasets.py (the dataset contracts), client.py (token auth, make_client), fetchers.py (listings and the System Log).
The package re-exports what callers use; tunables (page sizes, limits) stay in the module
that uses them: patch them there.
"""

from __future__ import annotations

from ccm.sources.family import SourceFamily
from ccm.sources.okta.client import config_from_connection, make_client
from ccm.sources.okta.datasets import CONN_ID, DATASETS, SOURCE, SYSTEM_LOG
from ccm.sources.okta.fetchers import FETCHERS, fetch_system_log

FAMILY = SourceFamily(name=SOURCE, conn_id=CONN_ID, datasets=DATASETS, make_client=make_client,
                      fetchers=FETCHERS)

__all__ = [
    "CONN_ID", "DATASETS", "FAMILY", "FETCHERS", "SOURCE", "SYSTEM_LOG", "config_from_connection",
    "fetch_system_log", "make_client",
]
