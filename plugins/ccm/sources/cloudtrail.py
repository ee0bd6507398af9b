"""CloudTrail: management events and log-file integrity digests from the trail's S3 bucket.

The trail delivers gzip log files (`{"Records": [...]}`) under
`AWSLogs/<acct>/CloudTrail/<region>/YYYY/MM/DD/` keyed by delivery date, and hourly digest
files under `AWSLogs/<acct>/CloudTrail-Digest/<region>/YYYY/MM/DD/` that list the log files
delivered during the hour with the SHA-256 of their uncompressed content and chain to the
previous digest by its hash. Three datasets:

- `cloudtrail.events`: every management event, partitioned by `eventTime` (never by the
  file's name or date: the last minutes of a day are delivered after midnight). An
  extract over [start, end) lists the date prefixes that can hold its events (its days
  and the next), reads the digests under those prefixes, and reads the log files
  the digests say overlap the interval plus any file no digest lists yet. It is complete
  only if every file a digest lists for the interval was delivered with the hash the
  digest records and every record fits the contract; otherwise it is incomplete naming
  the file or record, and nothing is written. Records are deduplicated by eventID
  (CloudTrail may deliver a record twice).
- `cloudtrail.trail_changes`: the calls that change what the trail records
  (StopLogging, DeleteTrail, UpdateTrail, PutEventSelectors, ...), read the same way
  but complete over the files that were delivered intact: a listed file that is missing
  or altered is a gap the digests dataset reports (and the continuity control fails),
  not a reason to stop looking at the rest. Only the continuity control uses it.
- `cloudtrail.digests`: one row per hour of digest coverage per account and region in
  scope: the digest found (or the hour missing one), the log files it lists and how
  many of them were not delivered or differ from their recorded hash, and whether the
  next digest's chain confirms this digest's own hash. The basis of log continuity.

Scope (accounts and regions) comes from the `aws_default` connection's extra (`accounts`
with `regions`; the bucket in `cloudtrail_bucket`, an optional key prefix in
`cloudtrail_prefix`); without it, the account and region prefixes found in the bucket
are used. The RSA signatures of digests are not verified (that needs AWS's public keys
through `ListPublicKeys`); the hash chain is.

Parsing is bulk: files are fetched and verified in a thread pool, decompressed once,
and mapped onto the typed columns by DuckDB (`ccm.sources.json_bulk`), producing one
Arrow table per extract. No boto3, duckdb or pyarrow at import time.
"""

from __future__ import annotations

import hashlib
import json
import logging
import struct
import threading
import zlib
from collections import OrderedDict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from ccm.constants import DatasetKind
from ccm.datasets import RAW, Column, ColumnType, Dataset
from ccm.errors import SourceError
from ccm.manifests import InputFile
from ccm.sources.extract import FetchLog, Interval

log = logging.getLogger(__name__)

SOURCE = "cloudtrail"
CONN_ID = "aws_default"

TRAIL_CHANGE_EVENTS = ("StopLogging", "DeleteTrail", "UpdateTrail", "PutEventSelectors",
                       "PutInsightSelectors", "DeleteEventDataStore")
LOG_DELIVERY_SLACK = timedelta(hours=1)  # files holding an interval's last events arrive within this
FETCH_WORKERS = 8
MAPPING_CONNECTION_INTERVALS = 7  # intervals mapped on one DuckDB connection before it is renewed

# the fields the controls (and a first look at an incident) need; everything else is in raw
_EVENT_COLUMNS = (
    Column("event_id", "eventID", required=True, description="Unique per event; duplicates are dropped."),
    Column("event_time", "eventTime", ColumnType.TIMESTAMP, required=True),
    Column("event_source", "eventSource", required=True),
    Column("event_name", "eventName", required=True),
    Column("event_type", "eventType", description="AwsApiCall, AwsConsoleSignIn, AwsServiceEvent, ..."),
    Column("aws_region", "awsRegion"),
    Column("recipient_account_id", "recipientAccountId"),
    Column("source_ip_address", "sourceIPAddress"),
    Column("read_only", "readOnly", ColumnType.BOOL),
    Column("error_code", "errorCode"),
    Column("user_type", "userIdentity.type", description="Root, IAMUser, AssumedRole, FederatedUser, AWSService, ..."),
    Column("user_arn", "userIdentity.arn"),
    Column("user_invoked_by", "userIdentity.invokedBy", description="the AWS service that acted for the identity"),
    Column("console_login_result", "responseElements.ConsoleLogin", description="ConsoleLogin: Success or Failure"),
    Column("mfa_used", "additionalEventData.MFAUsed", description="ConsoleLogin: Yes or No"),
    Column("saml_provider_arn", "additionalEventData.SamlProviderArn",
           description="ConsoleLogin through a SAML identity provider (the IdP did the authentication)"),
    Column("log_file", "log_file", description="S3 key of the log file the record was read from (not a record field)"),
)

EVENTS = Dataset(
    source=SOURCE,
    name="events",
    kind=DatasetKind.EVENT,
    description="CloudTrail management events of every account and region in scope, by eventTime.",
    key_columns=("event_id",),
    time_column="event_time",
    columns=_EVENT_COLUMNS,
    late_arriving=True,
)

TRAIL_CHANGES = Dataset(
    source=SOURCE,
    name="trail_changes",
    kind=DatasetKind.EVENT,
    description=(
        "Calls that change what a trail records (StopLogging, DeleteTrail, UpdateTrail, PutEventSelectors, ...), "
        "from every log file delivered intact; files missing or altered are reported by cloudtrail.digests."
    ),
    key_columns=("event_id",),
    time_column="event_time",
    columns=_EVENT_COLUMNS,
    late_arriving=True,
)

DIGESTS = Dataset(
    source=SOURCE,
    name="digests",
    kind=DatasetKind.EVENT,
    description="Hourly digest coverage per account and region: digest found, log files listed, missing, altered.",
    key_columns=("account_id", "region", "digest_start_time"),
    time_column="digest_start_time",
    columns=(
        Column("account_id", "account_id", required=True),
        Column("region", "region", required=True),
        Column("digest_start_time", "digest_start_time", ColumnType.TIMESTAMP, required=True),
        Column("digest_end_time", "digest_end_time", ColumnType.TIMESTAMP, required=True),
        Column("digest_found", "digest_found", ColumnType.BOOL, required=True,
               description="false: no digest covers this hour (none delivered, or not yet)"),
        Column("digest_s3_object", "digest_s3_object",
               description="the digest's key; for a missing hour, the key the next digest's chain names, if any"),
        Column("digest_intact", "digest_intact", ColumnType.BOOL,
               description="the next digest records this digest's SHA-256 (null: no next digest yet)"),
        Column("previous_digest_s3_object", "previous_digest_s3_object"),
        Column("log_file_count", "log_file_count", ColumnType.INT),
        Column("log_files_missing", "log_files_missing", ColumnType.INT,
               description="listed log files not in the bucket"),
        Column("log_files_altered", "log_files_altered", ColumnType.INT,
               description="listed log files whose uncompressed SHA-256 differs from the digest, or unreadable"),
        Column("log_files", "log_files", ColumnType.JSON,
               description="[{s3_object, hash_value, found, intact, oldest_event_time, newest_event_time}]"),
        Column("oldest_event_time", "oldest_event_time", ColumnType.TIMESTAMP),
        Column("newest_event_time", "newest_event_time", ColumnType.TIMESTAMP),
    ),
    late_arriving=True,
)

DATASETS = (EVENTS, TRAIL_CHANGES, DIGESTS)


# ---------------------------------------------------------------------------------------
# where the files are


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


_OBJECTS = _Cache(32 * 2**20)  # compressed log files: a day or more of them
_DIGESTS = _Cache(8 * 2**20)  # parsed digests (by their uncompressed size)


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


def make_client(connection: Any, settings: Any, **overrides: Any) -> CloudTrailClient:
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


# ---------------------------------------------------------------------------------------
# reading digests and log files


def _days(start: datetime, end: datetime) -> list[date]:
    """Every UTC date from start's through end's (inclusive)."""
    out, day = [], start.date()
    while day <= end.date():
        out.append(day)
        day += timedelta(days=1)
    return out


def _parse_time(text: Any) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _key_time(key: str) -> datetime | None:
    """The timestamp in a CloudTrail object's name (a digest's end, a log file's delivery)."""
    stem = key.rsplit("/", 1)[-1].removesuffix(".json.gz")
    for part in reversed(stem.split("_")):
        for pattern in ("%Y%m%dT%H%M%SZ", "%Y%m%dT%H%MZ"):
            try:
                return datetime.strptime(part, pattern).replace(tzinfo=UTC)
            except ValueError:
                continue
    return None


_DEFLATE_MAX_RATIO = 1032  # deflate cannot inflate one byte into more than this


def _gunzip(data: bytes) -> bytes:
    """The uncompressed content; zlib.error for a truncated or corrupt gzip stream.

    A gzip file ends with its uncompressed size (mod 2**32): given as the output buffer's
    size, the content is inflated into one buffer that becomes the result, where growing
    blocks would be copied into it at the end (a copy of every log file into freshly
    faulted memory, a fifth of the extract's page faults). A size that cannot be right
    (a truncated file ends mid-stream) is capped at deflate's ratio limit and only costs
    a larger first buffer.
    """
    stated = struct.unpack("<I", data[-4:])[0] if len(data) >= 18 else 0
    size = min(stated, len(data) * _DEFLATE_MAX_RATIO) or zlib.DEF_BUF_SIZE
    # gzip or zlib header, detected; raises for a stream that ends early (truncated)
    return zlib.decompress(data, wbits=47, bufsize=size)


@dataclass(frozen=True)
class Listed:
    """A log file as a digest lists it."""

    key: str
    bucket: str
    sha256: str
    oldest: datetime | None
    newest: datetime | None
    digest: str

    def overlaps(self, start: datetime, end: datetime) -> bool:
        if self.oldest is None or self.newest is None:
            return True
        return self.oldest < end and self.newest >= start


@dataclass
class Digest:
    key: str
    account_id: str
    region: str
    sha256: str  # of the uncompressed digest, as the next digest's chain records it
    size: int
    doc: dict[str, Any]
    problem: str | None = None  # the digest cannot be read: treat its hour as unverifiable

    @property
    def start(self) -> datetime:
        return _parse_time(self.doc.get("digestStartTime"))  # type: ignore[return-value]

    @property
    def end(self) -> datetime:
        return _parse_time(self.doc.get("digestEndTime"))  # type: ignore[return-value]


class _Reader:
    """One extract's view of the archive: digests and log files around an interval."""

    def __init__(self, client: CloudTrailClient, interval: Interval, fetch_log: FetchLog) -> None:
        self.client = client
        self.archive = client.trail.archive
        self.interval = interval
        self.fetch_log = fetch_log
        self.scope = client.scope()
        self.prefix = client.trail.prefix

    def _map(self, function: Any, items: list[Any]) -> list[Any]:
        if len(items) <= 1 or self.client.workers <= 1:
            return [function(item) for item in items]
        with ThreadPoolExecutor(self.client.workers) as pool:
            return list(pool.map(function, items))

    def _list(self, prefixes: list[str]) -> dict[str, ObjectInfo]:
        found: dict[str, ObjectInfo] = {}
        for listing in self._map(self.archive.list, prefixes):
            found.update(listing)
        self.fetch_log.pages += len(prefixes)
        return found

    def log_keys(self, days: list[date]) -> dict[str, ObjectInfo]:
        """Log files delivered under the given dates' prefixes."""
        return {k: v for k, v in self._list([f"{self.prefix}AWSLogs/{acct}/CloudTrail/{region}/{day:%Y/%m/%d}/"
                                             for acct, region in self.scope for day in days]).items()
                if k.endswith(".json.gz")}

    def digests(self, days: list[date]) -> list[Digest]:
        """Every digest under the given dates' prefixes, parsed. One that cannot be read is
        returned with `problem` set (and its hour taken from its key): it vouches for nothing."""
        wanted = []
        for acct, region in self.scope:
            listing = self._list([f"{self.prefix}AWSLogs/{acct}/CloudTrail-Digest/{region}/{day:%Y/%m/%d}/"
                                  for day in days])
            wanted += [(acct, region, key, info) for key, info in sorted(listing.items()) if key.endswith(".json.gz")]

        def load(item: tuple[str, str, str, ObjectInfo]) -> Digest:
            acct, region, key, info = item
            cache_key = (self.archive.uri, key, info.version)
            cached = _DIGESTS.get(cache_key)
            if cached is None:
                body = b""
                try:
                    body = _gunzip(self.archive.get(key))
                    doc = json.loads(body)
                    problem = None if isinstance(doc, dict) and isinstance(doc.get("logFiles"), list) else (
                        f"digest {key} has no logFiles list")
                except (zlib.error, ValueError) as exc:
                    doc, problem = {}, f"digest {key} is unreadable ({exc})"
                if problem:
                    end = _key_time(key)
                    doc = {"digestStartTime": _iso(end - timedelta(hours=1)) if end else None,
                           "digestEndTime": _iso(end) if end else None, "logFiles": []}
                cached = (hashlib.sha256(body).hexdigest(), doc, problem)
                _DIGESTS.put(cache_key, cached, len(body) or 1)
            return Digest(key, acct, region, cached[0], info.size, cached[1], cached[2])

        if not wanted and not self.log_keys(days):
            # a trail delivers a digest every hour, activity or not: nothing at all means a
            # wrong bucket or prefix, or objects expired by a lifecycle rule; an empty but
            # "complete" extract would replace the lake's copy of these days with nothing
            raise SourceError(SOURCE, f"no digest or log file under the {len(days)} date prefixes from "
                                      f"{days[0]:%Y/%m/%d} in {self.archive.uri}/{self.prefix} for any account and region "
                                      "in scope (not delivered, or expired)")
        return self._map(load, wanted)

    def listed(self, digests: list[Digest]) -> dict[str, Listed]:
        out: dict[str, Listed] = {}
        for digest in digests:
            for entry in digest.doc.get("logFiles") or []:
                key = entry.get("s3Object") if isinstance(entry, dict) else None
                if isinstance(key, str):
                    out[key] = Listed(key, entry.get("s3Bucket", ""), str(entry.get("hashValue", "")).lower(),
                                      _parse_time(entry.get("oldestEventTime")),
                                      _parse_time(entry.get("newestEventTime")), digest.key)
        return out

    def get(self, key: str, info: ObjectInfo) -> bytes:
        cache_key = (self.archive.uri, key, info.version)
        data = _OBJECTS.get(cache_key)
        if data is None:
            data = self.archive.get(key)
            _OBJECTS.put(cache_key, data, len(data))
        return data


@dataclass
class _Verified:
    key: str
    problem: str | None  # why the file cannot be used
    altered: bool = False  # listed, but its content differs from the digest (or cannot be hashed)
    sha256: str = ""  # of the uncompressed content
    size: int = 0
    body: bytes | None = None  # the uncompressed content, when kept for parsing


BATCH_BYTES = 32 * 2**20  # plain JSON parsed per query: memory is a few times this, whatever the interval
FETCH_CHUNK = 32  # files fetched and verified together (in the thread pool)


def _verify(reader: _Reader, key: str, info: ObjectInfo, listed: dict[str, Listed], keep: Any = None) -> _Verified:
    """Read one log file, decompress it and check it against its digest; keep the content if
    `keep(body)` (default: always) and it can be used."""
    data = reader.get(key, info)
    entry = listed.get(key)
    try:
        body = _gunzip(data)
    except zlib.error as exc:
        return _Verified(key, f"log file {key} is not a readable gzip file ({exc})", altered=entry is not None,
                         size=len(data))
    digest = hashlib.sha256(body).hexdigest()
    if entry is not None and digest != entry.sha256:
        return _Verified(key, f"log file {key} differs from the SHA-256 its digest {entry.digest} records",
                         altered=True, sha256=digest, size=len(data))
    return _Verified(key, None, sha256=digest, size=len(data), body=body if keep is None or keep(body) else None)


def _verified_batches(reader: _Reader, files: dict[str, ObjectInfo], listed: dict[str, Listed],
                      keep: Any = None) -> Iterator[list[_Verified]]:
    """Every file verified, in key order, in batches holding about BATCH_BYTES of kept content."""
    keys = sorted(files)
    batch: list[_Verified] = []
    size = 0
    # a small first batch: nothing is mapped until it is there
    limit, starts = BATCH_BYTES // 4, [0, *range(FETCH_CHUNK // 4, len(keys), FETCH_CHUNK)]
    for start, end in zip(starts, [*starts[1:], len(keys)], strict=True):
        for verified in reader._map(lambda key: _verify(reader, key, files[key], listed, keep), keys[start:end]):
            batch.append(verified)
            size += len(verified.body or b"")
            if size >= limit:
                yield batch
                batch, size, limit = [], 0, BATCH_BYTES
    if batch:
        yield batch


def _binary_value(body: bytes) -> Any:
    """A one-value large_binary Arrow array over `body` without copying it."""
    import pyarrow as pa

    offsets = pa.py_buffer(struct.pack("<qq", 0, len(body)))
    return pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, pa.py_buffer(body)])


def _read_ahead(batches: Iterator[list[_Verified]]) -> Iterator[list[_Verified]]:
    """The batches, the next one fetched and verified in a thread while the caller maps this
    one: decompressing and hashing (which release the GIL) overlap DuckDB's parse instead of
    leaving a core idle between batches. Holds at most two batches."""
    end = object()
    with ThreadPoolExecutor(1) as pool:
        upcoming = pool.submit(next, batches, end)
        while (batch := upcoming.result()) is not end:
            upcoming = pool.submit(next, batches, end)
            yield batch


class _Mapper:
    """Maps batches of verified files onto a dataset's columns with DuckDB, keeping the
    records inside the interval that fit and collecting what does not."""

    def __init__(self, dataset: Dataset, interval: Interval, event_filter: str | None, fetch_log: FetchLog,
                 client: CloudTrailClient) -> None:
        self.dataset = dataset
        self.interval = interval
        self.fetch_log = fetch_log
        columns = tuple(c for c in dataset.columns if c.name != "log_file")
        self.mapping = Dataset(dataset.source, dataset.name, dataset.kind, columns, dataset.key_columns,
                               dataset.time_column)
        # only rows the filter selects matter; a row whose filter fields are absent might be one
        self.selected = f"({event_filter}) or event_source is null or event_name is null" if event_filter else "true"
        self.tables: list[Any] = []
        self.problems: list[tuple[str, str, str]] = []
        self.not_logs: set[tuple[str, str | None]] = set()
        self.con, self.views = client.mapping_connection()
        self.view = f"mapped_{dataset.name}"

    def _create_view(self) -> str:
        """The mapping as a view over the registered `contents` (created with the first batch,
        as its columns bind to it), so each batch runs a short query: the mapping's SQL is
        12 kB, and parsing and planning it per batch took a quarter of mapping a 32 MB batch."""
        from ccm.sources.json_bulk import leaves_structure, typed_select

        if self.view in self.views:
            return self.view
        # one pass over each document for the records' JSON text, one for their typed leaves
        leaves = json.dumps({"Records": [json.loads(leaves_structure(self.mapping))]}).replace("'", "''")
        records_sql = (
            "select log_file, kind,"
            "       unnest(case when len(records) > 0 then records else [null::json] end) as record,"
            "       unnest(case when len(records) > 0 then parsed else [null] end) as _parsed from ("
            "  select log_file, from_json(text, '{\"Records\": \"JSON[]\"}').Records as records,"
            f"        from_json(text, '{leaves}').Records as parsed,"
            "         case when records is null then json_type(text, '$.Records') else 'ARRAY' end as kind"
            "  from (select log_file, decode(content) as text from contents))"
        )
        mapped_sql = typed_select(self.mapping, records_sql, "record", ("log_file", "kind"), parsed="_parsed")
        self.con.execute(f"create temp view {self.view} as select *, coalesce({self.selected}, false) as _selected "
                         f"from ({mapped_sql})")
        self.views.add(self.view)
        return self.view

    def add(self, files: list[_Verified]) -> None:
        import duckdb
        import pyarrow as pa
        import pyarrow.compute as pc

        from ccm.sources.json_bulk import PROBLEM

        files = [f for f in files if f.body is not None]
        mapped = None
        while files:
            # one record batch per file: DuckDB parses batches in parallel
            contents = pa.Table.from_batches([
                pa.record_batch({"log_file": [f.key], "content": _binary_value(f.body)}) for f in files])
            self.con.register("contents", contents)
            try:
                mapped = self.con.sql(f"select * from {self._create_view()}").to_arrow_table()
                break
            except (duckdb.Error, OSError):  # a file is not JSON (the reader reports it as OSError): say which
                unreadable = {f.key: why for f in files if (why := _not_json(f.body or b""))}
                if not unreadable:
                    raise
                for key, why in unreadable.items():
                    self.fetch_log.reject(why, where=key)
                files = [f for f in files if f.key not in unreadable]
            finally:
                self.con.unregister("contents")
                del contents
        if mapped is None:
            return
        records_array = pc.fill_null(pc.equal(mapped.column("kind"), "ARRAY"), False)
        odd = mapped.select(["log_file", "kind"]).filter(pc.invert(records_array))
        self.not_logs.update(zip(odd.column("log_file").to_pylist(), odd.column("kind").to_pylist(), strict=True))
        keep = pc.and_(pc.and_(pc.is_valid(mapped.column(RAW)), records_array), mapped.column("_selected"))
        bad = mapped.filter(pc.and_(keep, pc.is_valid(mapped.column(PROBLEM))))
        self.problems += zip(bad.column("log_file").to_pylist(), bad.column(RAW).to_pylist(),
                             bad.column(PROBLEM).to_pylist(), strict=True)
        times = mapped.column("event_time")
        inside = pc.and_(pc.and_(keep, pc.is_null(mapped.column(PROBLEM))),
                         pc.and_(pc.greater_equal(times, pa.scalar(self.interval.start, times.type)),
                                 pc.less(times, pa.scalar(self.interval.end, times.type))))
        if not pc.all(inside).as_py():  # usually every row is kept: then no copy is made
            mapped = mapped.filter(inside)
        self.tables.append(mapped.select([*(c.name for c in self.dataset.columns), RAW]))

    def result(self) -> Any:
        """The records kept, deduplicated by eventID; rejections reported to the fetch log."""
        import pyarrow as pa
        import pyarrow.compute as pc

        fetch_log = self.fetch_log
        for key, kind in sorted(self.not_logs, key=lambda item: item[0]):
            fetch_log.reject(f"log file is not a CloudTrail log ({{\"Records\": [...]}}); Records is "
                             f"{(kind or 'absent').lower()}", where=key)
        self.problems.sort()
        for key, raw, problem in self.problems[:1000]:
            fetch_log.reject(problem, where=_record_ref(key, raw), record=json.loads(raw))
        if len(self.problems) > 1000:
            fetch_log.notes.append(f"{len(self.problems)} records rejected; the first 1000 are quarantined")
        if not self.tables:
            return pa.Table.from_pylist([], schema=self.dataset.arrow_schema)
        table = pa.concat_tables(self.tables)
        self.tables = []
        duplicates = table.num_rows - pc.count_distinct(table.column("event_id")).as_py()
        if duplicates:  # CloudTrail may deliver a record twice: keep one per eventID (from the first file by key)
            self.con.register("kept", table)
            table = self.con.sql(f"select * from kept qualify row_number() over "
                                 f"(partition by event_id order by log_file, {RAW}) = 1").to_arrow_table()
            self.con.unregister("kept")
            fetch_log.notes.append(f"{duplicates} duplicate records (same eventID) dropped")
        return table


def _not_json(body: bytes) -> str | None:
    """Why a file is not one JSON document (None if it is one)."""
    try:
        json.loads(body)
        return None
    except ValueError as exc:
        error = exc
    lines = [line for line in body.splitlines() if line.strip()]
    try:
        if len(lines) > 1 and all(isinstance(json.loads(line), dict) for line in lines):
            return "log file is JSON lines (one object per line), not a CloudTrail log ({\"Records\": [...]})"
    except ValueError:
        pass
    return f"log file is not JSON: {error}"


def _record_ref(key: str, raw: str) -> str:
    try:
        doc = json.loads(raw)
    except ValueError:
        return key
    event_id = doc.get("eventID") if isinstance(doc, dict) else None
    return f"{key} eventID={event_id}" if event_id else f"{key} (record without eventID)"


# ---------------------------------------------------------------------------------------
# fetchers


def _fetch_events(client: CloudTrailClient, interval: Interval, fetch_log: FetchLog, dataset: Dataset,
                  event_filter: str | None, keep: Any, tolerate_gaps: bool) -> Iterator[Any]:
    reader = _Reader(client, interval, fetch_log)
    days = _days(interval.start, interval.end + LOG_DELIVERY_SLACK)
    digests = reader.digests(days)
    listed = reader.listed(digests)
    present = reader.log_keys(days)
    for digest in digests:
        if digest.problem and digest.start and digest.start < interval.end + LOG_DELIVERY_SLACK \
                and digest.end > interval.start:
            # the files of its hour cannot be verified, nor known to be all there
            if tolerate_gaps:
                fetch_log.notes.append(f"gap reported by cloudtrail.digests: {digest.problem}")
            else:
                fetch_log.reject(digest.problem, where=digest.key)
    fetch_log.inputs.extend(InputFile(d.key, d.sha256, d.size) for d in sorted(digests, key=lambda d: d.key))
    bucket = getattr(reader.archive, "bucket", None)
    gaps: list[tuple[str, str]] = []  # (key, why)
    for key, entry in sorted(listed.items()):
        if key in present or not entry.overlaps(interval.start, interval.end):
            continue
        if bucket and entry.bucket and entry.bucket != bucket:
            fetch_log.notes.append(f"{key} is listed in {entry.digest} for bucket {entry.bucket}, not {bucket}")
        gaps.append((key, f"log file {key} is listed in digest {entry.digest} but was not delivered"))
    wanted = {k: info for k, info in present.items()
              if k not in listed or listed[k].overlaps(interval.start, interval.end)}
    mapper = _Mapper(dataset, interval, event_filter, fetch_log, client)
    unverified: list[_Verified] = []
    read = 0
    for batch in _read_ahead(_verified_batches(reader, wanted, listed, keep)):
        read += len(batch)
        for verified in batch:
            if verified.key not in listed and verified.problem is None:
                unverified.append(verified)
            if verified.problem is None:
                continue
            if verified.altered and tolerate_gaps:
                gaps.append((verified.key, verified.problem))
            else:
                fetch_log.reject(verified.problem, where=verified.key)
        mapper.add(batch)
    table = mapper.result()
    for key, why in gaps:
        if tolerate_gaps:
            fetch_log.notes.append(f"gap reported by cloudtrail.digests: {why}")
        else:
            fetch_log.reject(why, where=key)
    if unverified:
        fetch_log.inputs.extend(InputFile(f.key, f.sha256, f.size) for f in unverified)
        fetch_log.notes.append(f"{len(unverified)} log files no digest lists (yet) were read unverified")
    fetch_log.notes.append(f"{read} log files read under {len(days)} date prefixes, verified against "
                           f"the {len(digests)} digests listed in inputs")
    fetch_log.pages += read
    yield table


def fetch_events(client: CloudTrailClient):
    def fetch(interval: Interval, fetch_log: FetchLog) -> Iterator[Any]:
        yield from _fetch_events(client, interval, fetch_log, EVENTS, None, None, tolerate_gaps=False)

    return fetch


def _may_hold_trail_change(body: bytes) -> bool:
    """A record of a trail change names its event source or its event: files with neither
    are not parsed at all (most files), which keeps this extract cheap."""
    return b"cloudtrail.amazonaws.com" in body or any(name.encode() in body for name in TRAIL_CHANGE_EVENTS)


def fetch_trail_changes(client: CloudTrailClient):
    names = ", ".join(f"'{n}'" for n in TRAIL_CHANGE_EVENTS)
    event_filter = f"event_source = 'cloudtrail.amazonaws.com' and event_name in ({names})"

    def fetch(interval: Interval, fetch_log: FetchLog) -> Iterator[Any]:
        yield from _fetch_events(client, interval, fetch_log, TRAIL_CHANGES, event_filter, _may_hold_trail_change,
                                 tolerate_gaps=True)

    return fetch


def fetch_digests(client: CloudTrailClient):
    def fetch(interval: Interval, fetch_log: FetchLog) -> Iterator[dict[str, Any]]:
        reader = _Reader(client, interval, fetch_log)
        # the digests just before and after the interval decide the chain at its edges
        digests = reader.digests(_days(interval.start - timedelta(hours=2), interval.end + timedelta(hours=2)))
        fetch_log.inputs.extend(InputFile(d.key, d.sha256, d.size) for d in sorted(digests, key=lambda d: d.key))
        in_interval = [d for d in digests if d.start is not None and interval.start <= d.start < interval.end]
        listed = reader.listed(in_interval)
        present = reader._list(sorted({k.rsplit("/", 1)[0] + "/" for k in listed}))
        found = {k: present[k] for k in listed if k in present}
        checked = {v.key: v for batch in _verified_batches(reader, found, listed, keep=lambda body: False) for v in batch}
        by_key = {d.key: d for d in digests}
        next_of = {d.doc["previousDigestS3Object"]: d for d in digests if d.doc.get("previousDigestS3Object")}
        for acct, region in reader.scope:
            mine = sorted((d for d in digests if d.account_id == acct and d.region == region and d.start and d.end),
                          key=lambda d: d.start)
            for digest in mine:
                if interval.start <= digest.start < interval.end:
                    yield _digest_row(digest, present, checked, next_of.get(digest.key))
            yield from _gap_rows(acct, region, mine, interval, by_key)

    return fetch


def _digest_row(digest: Digest, present: dict[str, ObjectInfo], checked: dict[str, _Verified],
                following: Digest | None) -> dict[str, Any]:
    files = []
    for entry in digest.doc.get("logFiles") or []:
        key = entry.get("s3Object")
        found = key in present
        intact = found and key in checked and checked[key].problem is None
        files.append({"s3_object": key, "hash_value": entry.get("hashValue"), "found": found, "intact": intact,
                      "oldest_event_time": entry.get("oldestEventTime"),
                      "newest_event_time": entry.get("newestEventTime")})
    intact = None
    if following is not None:
        intact = str(following.doc.get("previousDigestHashValue", "")).lower() == digest.sha256
    if digest.problem:
        intact = False
    return {
        "account_id": digest.account_id, "region": digest.region,
        "digest_start_time": digest.doc.get("digestStartTime"), "digest_end_time": digest.doc.get("digestEndTime"),
        "digest_found": True, "digest_s3_object": digest.key, "digest_intact": intact,
        "previous_digest_s3_object": digest.doc.get("previousDigestS3Object"),
        "log_file_count": len(files), "log_files_missing": sum(1 for f in files if not f["found"]),
        "log_files_altered": sum(1 for f in files if f["found"] and not f["intact"]),
        "log_files": files, "oldest_event_time": digest.doc.get("oldestEventTime"),
        "newest_event_time": digest.doc.get("newestEventTime"), "digest": digest.doc,
    }


def _gap_rows(acct: str, region: str, digests: list[Digest], interval: Interval,
              by_key: dict[str, Digest]) -> Iterator[dict[str, Any]]:
    """One row per hour of the interval that no digest found covers."""
    cursor = interval.start
    spans = []
    for digest in digests:
        if digest.end <= cursor:
            continue
        if digest.start > cursor:
            spans.append((cursor, min(digest.start, interval.end)))
        cursor = max(cursor, digest.end)
        if cursor >= interval.end:
            break
    if cursor < interval.end:
        spans.append((cursor, interval.end))
    # a digest names its predecessor: when that one is missing, its key is known
    expected = {d.start: d.doc["previousDigestS3Object"] for d in digests
                if d.doc.get("previousDigestS3Object") and d.doc["previousDigestS3Object"] not in by_key}
    for start, end in spans:
        slot = start
        while slot < end:
            slot_end = min(slot + timedelta(hours=1), end)
            yield {"account_id": acct, "region": region, "digest_start_time": slot.isoformat(),
                   "digest_end_time": slot_end.isoformat(), "digest_found": False,
                   "digest_s3_object": expected.get(slot_end), "digest_intact": None,
                   "previous_digest_s3_object": None, "log_file_count": None, "log_files_missing": None,
                   "log_files_altered": None, "log_files": None, "oldest_event_time": None,
                   "newest_event_time": None, "digest": None,
                   "reason": "no digest covering this hour was found in the bucket"}
            slot = slot_end


FETCHERS = {EVENTS.name: fetch_events, TRAIL_CHANGES.name: fetch_trail_changes, DIGESTS.name: fetch_digests}
