"""Google Workspace: directory users from the Admin SDK Directory API.

`GET /admin/directory/v1/users?customer=my_customer&maxResults=500&pageToken=...` pages
through `nextPageToken` in the body (not a Link header); the `users` key is absent from a
page with no users. Deleted users are only listed with `showDeleted=true`, so the
extract asks twice, as it does for Okta's DEPROVISIONED users. Throttling comes back as
HTTP 429 or as HTTP 403 with reason `userRateLimitExceeded` / `rateLimitExceeded` /
`quotaExceeded`; both are retried with back-off, any other 403 is a permission problem
and fails at once.

Auth is `Authorization: Bearer <access token>`: the `google_default` connection's
password holds an OAuth access token for an admin (e.g. minted from a service account
with domain-wide delegation for the `admin.directory.user.readonly` scope).

The family's parts: datasets.py (the dataset contract), client.py (token auth, quota errors, make_client), fetchers.py (the user listings).
The package re-exports what callers use; tunables (page sizes, limits) stay in the module
that uses them: patch them there.
"""

from __future__ import annotations

from ccm.sources.family import SourceFamily
from ccm.sources.google.client import config_from_connection, make_client
from ccm.sources.google.datasets import CONN_ID, DATASETS, SOURCE, USERS
from ccm.sources.google.fetchers import FETCHERS, fetch_users

FAMILY = SourceFamily(name=SOURCE, conn_id=CONN_ID, datasets=DATASETS, make_client=make_client,
                      fetchers=FETCHERS)

__all__ = [
    "CONN_ID", "DATASETS", "FAMILY", "FETCHERS", "SOURCE", "USERS", "config_from_connection",
    "fetch_users", "make_client",
]
