"""The AWS client: accounts from the connection, one boto3 session per connection, STS
AssumeRole per account, endpoint overrides, bounded retries and pagination.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ccm.errors import ConfigError, SourceError
from ccm.sources.aws.datasets import CONN_ID, SOURCE
from ccm.sources.connections import Connection, required
from ccm.sources.extract import FetchLog

if TYPE_CHECKING:
    from ccm.config import Settings

MAX_PAGES = 1000  # per paginated call; a source that pages beyond this is misbehaving
SESSION_NAME = "ccm-audit-extract"


@dataclass(frozen=True)
class AwsAccount:
    account_id: str
    name: str
    role_arn: str
    regions: tuple[str, ...]

    def __str__(self) -> str:
        return f"account {self.account_id} ({self.name})"


def accounts_from_extra(extra: dict[str, Any], conn_id: str = CONN_ID) -> tuple[AwsAccount, ...]:
    """The accounts to audit, validated: a bad entry names the field and the entry."""
    entries = extra.get("accounts")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"connection {conn_id}: extra.accounts must list the accounts to audit "
                          "(account_id, name, role_arn, regions)")
    accounts = []
    for number, entry in enumerate(entries, start=1):
        where = f"connection {conn_id}: extra.accounts #{number}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: expected an object")
        account_id = str(entry.get("account_id", ""))
        if len(account_id) != 12 or not account_id.isdigit():
            raise ConfigError(f"{where}: account_id must be 12 digits, got {entry.get('account_id')!r}")
        role_arn = entry.get("role_arn") or ""
        if not str(role_arn).startswith(f"arn:aws:iam::{account_id}:role/"):
            raise ConfigError(f"{where} ({account_id}): role_arn must be a role in that account, got {role_arn!r}")
        regions = entry.get("regions")
        if not isinstance(regions, list) or not regions or not all(isinstance(r, str) and r for r in regions):
            raise ConfigError(f"{where} ({account_id}): regions must be a non-empty list of region names")
        accounts.append(AwsAccount(account_id, str(entry.get("name") or account_id), str(role_arn), tuple(regions)))
    return tuple(accounts)


def strip_account_host_label(request: Any, **_: Any) -> None:
    """S3 Control puts the account id in the host name (`<account>.s3-control...`); a loopback
    endpoint (an IP or localhost) cannot take that label, so it is removed after endpoint
    resolution. Endpoints with a real host name are left alone."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(request.url)
    label, _, rest = parts.netloc.partition(".")
    host = rest.rsplit(":", 1)[0]
    if label.isdigit() and len(label) == 12 and (host == "localhost" or host.replace(".", "").isdigit()):
        request.url = urlunsplit(parts._replace(netloc=rest))


class _Pool:
    """Assumed-role credentials and clients for one connection, shared by the extracts a
    process runs (a demo or backfill runs hundreds): creating a botocore client costs tens
    of milliseconds, assuming a role a round trip. Credentials (valid an hour) are reused
    for at most REUSE_S; all clients share one boto3 session, so service models load once."""

    REUSE_S = 45 * 60

    def __init__(self) -> None:
        import boto3

        self.boto = boto3.Session()
        self.lock = threading.RLock()
        self.credentials: dict[str, tuple[dict[str, Any], float]] = {}
        self.clients: dict[tuple[str, str, str, float], Any] = {}


_POOLS: dict[tuple[Any, ...], _Pool] = {}
_POOLS_LOCK = threading.Lock()


def _pool_for(key: tuple[Any, ...]) -> _Pool:
    with _POOLS_LOCK:
        if key not in _POOLS:
            _POOLS[key] = _Pool()
        return _POOLS[key]


@dataclass
class AwsClient:
    """Clients per audited account (STS AssumeRole), service and region."""

    accounts: tuple[AwsAccount, ...]
    home_region: str
    endpoint_url: str | None
    endpoint_urls: dict[str, str]
    max_attempts: int
    login: str = field(default="", repr=False)
    password: str = field(default="", repr=False)
    page_size: int | None = None  # None: each API's default
    sleep: Callable[[float], None] = time.sleep

    def __post_init__(self) -> None:
        secret = hashlib.sha256(self.password.encode()).hexdigest()
        self._pool = _pool_for((self.endpoint_url, tuple(sorted(self.endpoint_urls.items())), self.home_region,
                                self.login, secret, self.max_attempts))

    def __enter__(self) -> AwsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        return None  # clients stay in the process's pool for the next extract

    def account_regions(self) -> Iterator[tuple[AwsAccount, str]]:
        """Every audited account with each of its regions, in the connection's order."""
        for account in self.accounts:
            for region in account.regions:
                yield account, region

    def _config(self, region: str) -> Any:
        from botocore.config import Config

        return Config(region_name=region, retries={"mode": "standard", "total_max_attempts": self.max_attempts},
                      connect_timeout=10, read_timeout=60, s3={"addressing_style": "path"},
                      user_agent_extra="ccm-audit")

    def _endpoint(self, service: str) -> str | None:
        return self.endpoint_urls.get(service) or self.endpoint_url

    def _credentials(self, account: AwsAccount) -> tuple[dict[str, Any], float]:
        pool = self._pool
        with pool.lock:
            cached = pool.credentials.get(account.account_id)
            if cached is not None and time.monotonic() - cached[1] < pool.REUSE_S:
                return cached
            keys = {"aws_access_key_id": self.login, "aws_secret_access_key": self.password} if self.login else {}
            sts = pool.boto.client("sts", endpoint_url=self._endpoint("sts"), config=self._config(self.home_region),
                                   **keys)
            response = self._call(account, self.home_region, "sts", "AssumeRole", sts.assume_role, (),
                                  RoleArn=account.role_arn, RoleSessionName=SESSION_NAME, DurationSeconds=3600)
            credentials = response["Credentials"]
            pool.credentials[account.account_id] = ({
                "aws_access_key_id": credentials["AccessKeyId"],
                "aws_secret_access_key": credentials["SecretAccessKey"],
                "aws_session_token": credentials["SessionToken"],
            }, time.monotonic())
            return pool.credentials[account.account_id]

    def client(self, account: AwsAccount, service: str, region: str | None = None) -> Any:
        region = region or self.home_region
        pool = self._pool
        with pool.lock:
            credentials, stamp = self._credentials(account)
            key = (account.account_id, service, region, stamp)
            if key not in pool.clients:
                for stale in [k for k in pool.clients if k[:3] == key[:3]]:
                    pool.clients.pop(stale).close()
                client = pool.boto.client(service, endpoint_url=self._endpoint(service), config=self._config(region),
                                          **credentials)
                if service == "s3control":
                    client.meta.events.register("before-sign.s3-control", strip_account_host_label)
                pool.clients[key] = client
            return pool.clients[key]

    def _call(self, account: AwsAccount, region: str, service: str, operation: str, method: Callable,
              allow: tuple[str, ...] = (), **kwargs: Any) -> Any:
        """Run one (already retried by botocore) call; errors become SourceError naming the
        account, region and API; error codes in `allow` return None instead."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return method(**kwargs)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            if error.get("Code") in allow:
                return None
            attempts = exc.response.get("ResponseMetadata", {}).get("RetryAttempts", 0) + 1
            raise SourceError(SOURCE, f"{account} {region} {service}:{operation} failed after {attempts} "
                                      f"attempt(s): {error.get('Code', '?')}: {error.get('Message', exc)}") from None
        except BotoCoreError as exc:
            raise SourceError(SOURCE, f"{account} {region} {service}:{operation} failed: {exc}") from None

    def call(self, account: AwsAccount, service: str, operation: str, region: str | None = None,
             allow: tuple[str, ...] = (), **kwargs: Any) -> Any:
        """One API call by its AWS name (e.g. "GetBucketEncryption"); error codes in `allow`
        (e.g. "no configuration") return None."""
        from botocore import xform_name

        region = region or self.home_region
        method = getattr(self.client(account, service, region), xform_name(operation))
        return self._call(account, region, service, operation, method, allow, **kwargs)

    def pages(self, account: AwsAccount, service: str, operation: str, fetch_log: FetchLog,
              region: str | None = None, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Every page of a paginated call, following the API's own tokens; bounded (botocore
        also refuses a token that repeats)."""
        from botocore import xform_name

        region = region or self.home_region
        paginator = self.client(account, service, region).get_paginator(xform_name(operation))
        config = {"PageSize": self.page_size} if self.page_size else {}
        iterator = iter(paginator.paginate(**kwargs, PaginationConfig=config))
        for number in range(1, MAX_PAGES + 2):
            page = self._call(account, region, service, operation, lambda: next(iterator, None))
            if page is None:
                return
            if number > MAX_PAGES:
                raise SourceError(SOURCE, f"{account} {region} {service}:{operation} returned more than "
                                          f"{MAX_PAGES} pages; refusing to continue")
            fetch_log.pages += 1
            yield page

    def paginate(self, account: AwsAccount, service: str, operation: str, result_key: str, fetch_log: FetchLog,
                 region: str | None = None, **kwargs: Any) -> Iterator[Any]:
        """Every item under `result_key` of a paginated call."""
        for page in self.pages(account, service, operation, fetch_log, region, **kwargs):
            yield from page.get(result_key, [])


def make_client(connection: Connection | None, settings: Settings, /,
                sleep: Callable[[float], None] | None = None, **overrides: Any) -> AwsClient:
    """An AwsClient from the aws_default connection (see `ccm.sources.aws` for its extra).
    Overrides (tests, tuning): max_attempts, page_size."""
    unknown = set(overrides) - {"max_attempts", "page_size"}
    if unknown:
        raise ConfigError(f"source {SOURCE}: unknown client override(s) {', '.join(sorted(unknown))}")
    connection = required(connection, SOURCE, CONN_ID)
    extra = connection.extra or {}
    endpoint_urls = extra.get("endpoint_urls") or {}
    if not isinstance(endpoint_urls, dict):
        raise ConfigError(f"connection {CONN_ID}: extra.endpoint_urls must map service names to URLs")
    password = str(connection.password or "")  # a Secret: never shown in reprs
    discovery = None
    if "organization" in extra:  # accounts listed from the AWS Organization (ccm.sources.aws.organization)
        from ccm.sources.aws.organization import OrganizationDiscovery

        if extra.get("accounts"):
            raise ConfigError(f"connection {CONN_ID}: set extra.accounts or extra.organization, not both")
        discovery = OrganizationDiscovery.from_extra(extra["organization"])
    client = AwsClient(
        accounts=() if discovery else accounts_from_extra(extra, connection.conn_id),
        home_region=extra.get("region_name") or "us-east-1",
        endpoint_url=extra.get("endpoint_url") or None,
        endpoint_urls=dict(endpoint_urls),
        max_attempts=int(overrides.pop("max_attempts", settings.http_max_attempts)),
        login=connection.login or "", password=password,
        page_size=overrides.pop("page_size", None),
        sleep=sleep or time.sleep,
    )
    if discovery is not None:
        from ccm.sources.aws.organization import discover_accounts

        client.accounts = discover_accounts(client, discovery)
    return client
