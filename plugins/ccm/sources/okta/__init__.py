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
Import names from those modules (the package only builds `FAMILY`); tunables (page
sizes, limits) stay in the module that uses them: patch them there.
"""

from __future__ import annotations

from ccm.sources.family import SourceFamily
from ccm.sources.okta import client, datasets, fetchers

FAMILY = SourceFamily.from_modules(datasets, client, fetchers)
