"""AWS configuration and IAM: one audit role per account, read through boto3.

The `aws_default` connection names the accounts to audit (`extra.accounts`: account id,
name, the read-only role to assume, the regions the company is active in), optionally an
endpoint (`extra.endpoint_url`, e.g. a moto server; `extra.endpoint_urls` per service)
and the home region. Credentials are the connection's login/password when set, otherwise
the standard AWS credential chain; each account is entered with STS AssumeRole. Nothing
credential-like is ever logged or stored. Instead of `extra.accounts`, `extra.organization`
discovers the accounts from the AWS Organization at every extract (organization.py). The
audit role's least-privilege policy is include/aws/ccm-audit-policy.json, deployed to every
account by include/aws/ccm-audit-stackset.yaml; a test records every call the extract makes
and checks the policy allows it and nothing more.

Every call uses botocore's standard retry mode (throttling and transient errors, bounded
by `settings.http_max_attempts`); pagination is bounded; a call that still fails raises
`SourceError` naming the account, region and API, so the whole extract fails and the
lake keeps what it had.

Datasets are snapshots observed at extract time except `backup_jobs`, an event dataset
over the extract's interval. Records keep the API's shapes (datetimes as ISO-8601
strings), wrapped with the account (and region) they came from.

The family's parts: datasets.py (the dataset contracts), client.py (accounts, boto3 pool, AssumeRole, endpoints, make_client), fetchers.py (records per API, the credential report).
Import names from those modules (the package only builds `FAMILY`); tunables (page
sizes, limits) stay in the module that uses them: patch them there.
"""

from __future__ import annotations

from ccm.sources.aws import client, datasets, fetchers
from ccm.sources.family import SourceFamily

FAMILY = SourceFamily.from_modules(datasets, client, fetchers)
