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
Import names from those modules (the package only builds `FAMILY`); tunables (page
sizes, limits) stay in the module that uses them: patch them there.
"""

from __future__ import annotations

from ccm.sources.family import SourceFamily
from ccm.sources.google import client, datasets, fetchers

FAMILY = SourceFamily.from_modules(datasets, client, fetchers)
