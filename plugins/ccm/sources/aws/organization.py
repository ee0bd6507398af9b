"""The accounts to audit, discovered from the AWS Organization instead of a hand-written list.

A hand-written `extra.accounts` silently stops covering the organisation the day someone
creates an account. With `extra.organization` in the `aws_default` connection, every extract
lists the organisation's accounts (`organizations:ListAccounts`, from the management
account or a delegated administrator, optionally through `role_arn`) and audits each
ACTIVE one through the same audit role name, so a new account is audited from its first
run; SUSPENDED and PENDING_CLOSURE accounts are skipped. `allow` (audit only these) and
`deny` (never these, e.g. a sandbox) are account ids.

```json
"organization": {"role_name": "ccm-audit", "regions": ["us-east-1", "eu-west-1"],
                 "role_arn": "arn:aws:iam::111111111111:role/ccm-org-reader",
                 "allow": [], "deny": ["222222222222"]}
```
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ccm.errors import ConfigError

_ACCOUNT_ID = re.compile(r"^\d{12}$")
_ROLE_NAME = re.compile(r"^[\w+=,.@/-]{1,64}$")
ACTIVE = "ACTIVE"


@dataclass(frozen=True)
class OrganizationDiscovery:
    """How accounts are found in the organisation and entered; validated on creation."""

    role_name: str
    regions: tuple[str, ...]
    role_arn: str | None = None  # a role in the management / delegated-admin account allowed to ListAccounts
    allow: frozenset[str] = frozenset()  # empty: every active account
    deny: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        where = "connection aws_default: extra.organization"
        if not _ROLE_NAME.match(self.role_name):
            raise ConfigError(f"{where}.role_name must be an IAM role name, got {self.role_name!r}")
        if not self.regions or not all(isinstance(r, str) and r for r in self.regions):
            raise ConfigError(f"{where}.regions must be a non-empty list of region names")
        for name, ids in (("allow", self.allow), ("deny", self.deny)):
            bad = sorted(i for i in ids if not _ACCOUNT_ID.match(i))
            if bad:
                raise ConfigError(f"{where}.{name}: account ids are 12 digits, got {', '.join(bad)}")
        if self.allow & self.deny:
            raise ConfigError(f"{where}: {', '.join(sorted(self.allow & self.deny))} is both allowed and denied")
        if self.role_arn is not None and not self.role_arn.startswith("arn:aws:iam::"):
            raise ConfigError(f"{where}.role_arn must be an IAM role ARN, got {self.role_arn!r}")

    @classmethod
    def from_extra(cls, entry: Any) -> OrganizationDiscovery:
        if not isinstance(entry, dict):
            raise ConfigError("connection aws_default: extra.organization must be an object")
        unknown = set(entry) - {"role_name", "regions", "role_arn", "allow", "deny"}
        if unknown:
            raise ConfigError(f"connection aws_default: extra.organization: unknown keys {sorted(unknown)}")
        return cls(role_name=str(entry.get("role_name") or ""), regions=tuple(entry.get("regions") or ()),
                   role_arn=entry.get("role_arn") or None,
                   allow=frozenset(str(i) for i in entry.get("allow") or ()),
                   deny=frozenset(str(i) for i in entry.get("deny") or ()))

    def select(self, pages: Iterable[dict[str, Any]]) -> list[tuple[str, str]]:
        """(account id, name) of the accounts to audit from ListAccounts pages, in id order."""
        chosen = []
        for page in pages:
            for account in page.get("Accounts", []):
                account_id = str(account["Id"])
                # `State` replaces `Status` in the API from 2025; either says whether it is active
                state = account.get("State") or account.get("Status")
                if state != ACTIVE or account_id in self.deny or (self.allow and account_id not in self.allow):
                    continue
                chosen.append((account_id, str(account.get("Name") or account_id)))
        return sorted(chosen)

    def role_arn_in(self, account_id: str) -> str:
        return f"arn:aws:iam::{account_id}:role/{self.role_name}"


def discover_accounts(client: Any, discovery: OrganizationDiscovery) -> tuple[Any, ...]:
    """The organisation's accounts to audit, listed with the connection's own identity (or
    `discovery.role_arn` assumed first); `client` is the `AwsClient` being built."""
    from ccm.errors import SourceError
    from ccm.sources.aws.client import SESSION_NAME, SOURCE, AwsAccount

    management = AwsAccount("organization", "management account", discovery.role_arn or "", ())
    pool, region = client._pool, client.home_region
    keys: dict[str, str] = ({"aws_access_key_id": client.login, "aws_secret_access_key": client.password}
                            if client.login else {})
    if discovery.role_arn:
        sts = pool.boto.client("sts", endpoint_url=client._endpoint("sts"), config=client._config(region), **keys)
        credentials = client._call(management, region, "sts", "AssumeRole", sts.assume_role,
                                   RoleArn=discovery.role_arn, RoleSessionName=SESSION_NAME)["Credentials"]
        keys = {"aws_access_key_id": credentials["AccessKeyId"], "aws_secret_access_key": credentials["SecretAccessKey"],
                "aws_session_token": credentials["SessionToken"]}
    organizations = pool.boto.client("organizations", endpoint_url=client._endpoint("organizations"),
                                     config=client._config(region), **keys)
    pages = client._call(management, region, "organizations", "ListAccounts",
                         lambda: list(organizations.get_paginator("list_accounts").paginate()))
    chosen = discovery.select(pages)
    if not chosen:
        raise SourceError(SOURCE, "the organization lists no active account to audit (after extra.organization's "
                                  "allow and deny lists)")
    return tuple(AwsAccount(account_id, name, discovery.role_arn_in(account_id), discovery.regions)
                 for account_id, name in chosen)
