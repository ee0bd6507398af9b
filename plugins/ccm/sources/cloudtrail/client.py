"""Where the trail's files are: the archive (S3 bucket or local directory), caches of objects
read, the client with its scope and DuckDB mapping connection.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ccm.errors import SourceError
from ccm.sources.cloudtrail.datasets import SOURCE
from ccm.sources.connections import Connection

if TYPE_CHECKING:
    from ccm.config import Settings

FETCH_WORKERS = 8
MAPPING_CONNECTION_INTERVALS = 7  # intervals mapped on one DuckDB connection before it is renewed


@dataclass(frozen=True)
class ObjectInfo:
    size: int
    version: str  # S3 ETag, or size and mtime of a local file: a changed object is read again


class LogArchive:
    """The trail's bucket: list keys under a prefix, read one object."""

    uri: str

    def list(self, prefix: str) -> dict[str, ObjectInfo]:
        raise NotImplementedError

    def get(self, key: str) -> bytes:
        raise NotImplementedError

    def list_prefixes(self, prefix: str) -> list[str]:  # the "directories" right under prefix
        raise NotImplementedError


class S3Archive(LogArchive):
    def __init__(self, client: Any, bucket: str) -> None:
        self.client = client
        self.bucket = bucket
        self.uri = f"s3://{bucket}"

    def list(self, prefix: str) -> dict[str, ObjectInfo]:
        found: dict[str, ObjectInfo] = {}
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    found[item["Key"]] = ObjectInfo(item["Size"], item.get("ETag", ""))
        except Exception as exc:
            raise SourceError(SOURCE, f"cannot list s3://{self.bucket}/{prefix}: {exc}") from None
        return found

    def get(self, key: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except Exception as exc:
            raise SourceError(SOURCE, f"cannot read s3://{self.bucket}/{key}: {exc}") from None

    def list_prefixes(self, prefix: str) -> list[str]:
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix,
                                                                          Delimiter="/")
            return [p["Prefix"] for page in pages for p in page.get("CommonPrefixes", [])]
        except Exception as exc:
            raise SourceError(SOURCE, f"cannot list s3://{self.bucket}/{prefix}: {exc}") from None


class LocalArchive(LogArchive):
    """A directory laid out like the bucket (benchmarks, tests, an exported archive)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.uri = self.root.as_posix()

    def list(self, prefix: str) -> dict[str, ObjectInfo]:
        directory = self.root / prefix
        if not directory.is_dir():
            return {}
        found = {}
        for path in directory.iterdir():
            if path.is_file():
                stat = path.stat()
                found[path.relative_to(self.root).as_posix()] = ObjectInfo(stat.st_size, f"{stat.st_size}:{stat.st_mtime_ns}")
        return found

    def get(self, key: str) -> bytes:
        try:
            return (self.root / key).read_bytes()
        except OSError as exc:
            raise SourceError(SOURCE, f"cannot read {self.root / key}: {exc}") from None

    def list_prefixes(self, prefix: str) -> list[str]:
        directory = self.root / prefix
        return sorted(f"{prefix}{p.name}/" for p in directory.iterdir() if p.is_dir()) if directory.is_dir() else []


class _Cache:
    """A bounded, thread-safe LRU of objects already read, by (archive, key, version).

    The events and trail-change extracts read the same files, and every extract re-reads
    its look-back days: in one process each object is downloaded once. A changed object
    has another version (ETag) and is read again.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._items: OrderedDict[tuple[str, str, str], Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str, str]) -> Any:
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
            return None if item is None else item[0]

    def put(self, key: tuple[str, str, str], value: Any, size: int) -> None:
        with self._lock:
            if key in self._items:
                return
            self._items[key] = (value, size)
            self.size += size
            while self.size > self.max_bytes and self._items:
                _, (_, dropped) = self._items.popitem(last=False)
                self.size -= dropped


OBJECT_CACHE = _Cache(32 * 2**20)  # compressed log files: a day or more of them
DIGEST_CACHE = _Cache(8 * 2**20)  # parsed digests (by their uncompressed size)


@dataclass(frozen=True)
class Trail:
    """What is audited: the archive and the accounts and regions expected to deliver."""

    archive: LogArchive
    scope: tuple[tuple[str, str], ...] | None = None  # (account id, region); None: discover
    prefix: str = ""  # before AWSLogs/ (a trail's optional key prefix, an organisation id)


class _MappingConnection(threading.local):
    """One thread's DuckDB connection for mapping log files: the views created on it and
    the intervals it has served (class attributes are each thread's starting values)."""

    connection: Any = None
    views: set[str]  # set with the connection
    uses = 0

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
        self.connection, self.uses = None, 0


@dataclass
class CloudTrailClient:
    """The trail to read, for every extract of one task."""

    trail: Trail
    workers: int = FETCH_WORKERS
    _mapping: _MappingConnection = field(default_factory=_MappingConnection, init=False, repr=False, compare=False)

    def __enter__(self) -> CloudTrailClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self._mapping.close()

    def mapping_connection(self) -> tuple[Any, set[str]]:
        """This thread's DuckDB connection for mapping log files, and the mapping views it holds.

        Shared by up to MAPPING_CONNECTION_INTERVALS intervals (look-back days, a backfill's
        days): a fresh database per day paid ~10% more CPU (new memory to fault in, the view
        to plan), while one kept for a whole backfill held a little more memory every day
        (peak 1.24 -> 1.54 GB over 24 days of 96 MB). Renewing it weekly keeps both bounded.
        """
        import duckdb

        state = self._mapping
        if state.uses >= MAPPING_CONNECTION_INTERVALS:
            state.close()
        if state.connection is None:
            con = duckdb.connect()
            con.execute("set TimeZone = 'UTC'")
            # give memory back when a query is done: the extract holds one interval at a time
            con.execute("set allocator_flush_threshold = '16MB'")
            con.execute("set allocator_bulk_deallocation_flush_threshold = '16MB'")
            state.connection, state.views = con, set()
        state.uses += 1
        return state.connection, state.views

    def scope(self) -> list[tuple[str, str]]:
        if self.trail.scope is not None:
            return list(self.trail.scope)
        archive = self.trail.archive
        found: set[tuple[str, str]] = set()
        for account_prefix in archive.list_prefixes(f"{self.trail.prefix}AWSLogs/"):
            account = account_prefix.rstrip("/").rsplit("/", 1)[-1]
            for kind in ("CloudTrail/", "CloudTrail-Digest/"):
                for region_prefix in archive.list_prefixes(f"{account_prefix}{kind}"):
                    found.add((account, region_prefix.rstrip("/").rsplit("/", 1)[-1]))
        return sorted(found)


_S3_CLIENTS: dict[tuple[Any, ...], Any] = {}
_S3_LOCK = threading.Lock()


def _s3_client(endpoint: str | None, region: str, access_key: str | None, secret: str | None,
               role_arn: str | None) -> Any:
    """One S3 client per endpoint and identity per process (creating one costs a second)."""
    key = (endpoint, region, access_key, secret, role_arn)
    with _S3_LOCK:
        if key not in _S3_CLIENTS:
            import boto3
            from botocore.config import Config

            session = boto3.session.Session(aws_access_key_id=access_key, aws_secret_access_key=secret,
                                            region_name=region)
            if role_arn:
                sts = session.client("sts", endpoint_url=endpoint)
                creds = sts.assume_role(RoleArn=role_arn, RoleSessionName="ccm-cloudtrail")["Credentials"]
                session = boto3.session.Session(aws_access_key_id=creds["AccessKeyId"],
                                                aws_secret_access_key=creds["SecretAccessKey"],
                                                aws_session_token=creds["SessionToken"], region_name=region)
            config = Config(max_pool_connections=FETCH_WORKERS * 2, retries={"max_attempts": 5, "mode": "standard"})
            _S3_CLIENTS[key] = session.client("s3", endpoint_url=endpoint, config=config)
        return _S3_CLIENTS[key]


def make_client(connection: Connection | None, settings: Settings, /, **overrides: Any) -> CloudTrailClient:
    """A client for the trail's bucket from the `aws_default` connection.

    The connection's login/password (access key) are used when present, else the
    standard AWS credential chain; `extra.endpoint_url` points boto3 at another S3
    (the demo's moto server); `extra.cloudtrail_role_arn`, when set, is assumed first.
    """
    extra = dict(getattr(connection, "extra", None) or {})
    bucket = overrides.pop("bucket", None) or extra.get("cloudtrail_bucket")
    if not bucket:
        raise SourceError(SOURCE, "the aws_default connection has no extra.cloudtrail_bucket")
    login = getattr(connection, "login", "") or None
    secret = str(connection.password) if login else None
    endpoint = extra.get("endpoint_url") or getattr(settings, "s3_endpoint_url", None)
    s3 = _s3_client(endpoint, extra.get("region_name") or "us-east-1", login, secret, extra.get("cloudtrail_role_arn"))
    scope = None
    if extra.get("accounts"):
        scope = tuple((str(a["account_id"]), region) for a in extra["accounts"] for region in a.get("regions", []))
    workers = int(overrides.get("workers", FETCH_WORKERS))  # other sources' overrides (HTTP retries) do not apply
    return CloudTrailClient(Trail(S3Archive(s3, bucket), scope, extra.get("cloudtrail_prefix", "")), workers)
