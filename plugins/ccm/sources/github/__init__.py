"""GitHub: organisation settings and members, SAML identities, repositories, branch protection,
merged pull requests with their reviews, commits and check runs, deployments, workflow runs,
Dependabot alerts and the organisation audit log.

REST v3 (`Authorization: Bearer <token>`, `X-GitHub-Api-Version: 2022-11-28`): lists page
with `Link: rel="next"` (page numbers; Dependabot alerts use `after` cursors), rate limits
come as 403/429 with `retry-after` or `x-ratelimit-remaining: 0` + `x-ratelimit-reset`
(the shared ApiClient waits as told, within its bounds). SAML identities are only in
GraphQL (`organization.samlIdentityProvider.externalIdentities`).

Events or snapshots, and why:
- snapshots (observed at `observed_at`): the organisation (its 2FA requirement), members
  (2FA state, role), SAML identities, repositories, default-branch protection and
  Dependabot alerts. The API only shows their present state; an alert's state can go
  from open to fixed or dismissed and back, so a period is judged on the observation
  made after it closed.
- events: merged pull requests, keyed by `merged_at`; their reviews, commits and the check
  runs of their merged head are stored with the pull request's `merged_at`, so one
  extract over [start, end) holds everything about the pull requests merged in it (what
  happened before a merge cannot change after it). Deployments and workflow runs are
  keyed by `created_at` (ref, sha and creator never change; statuses are as observed).
  The audit log's web events are keyed by their `created_at` (epoch milliseconds), read
  oldest first with `after` cursors; GitHub keeps them 180 days, so an older interval is
  refused rather than extracted empty.
  An event extract lists pull requests by `updated_at` descending and stops at the first
  page older than the interval: a merge always updates the pull request, so nothing
  merged in the interval can be further down the list.

The family's parts: datasets.py (the dataset contracts), client.py (GitHubSession, make_client), fetchers.py (REST and GraphQL listings).
Import names from those modules (the package only builds `FAMILY`); tunables (page
sizes, limits) stay in the module that uses them: patch them there.
"""

from __future__ import annotations

from ccm.sources.family import SourceFamily
from ccm.sources.github import client, datasets, fetchers

FAMILY = SourceFamily.from_modules(datasets, client, fetchers)
