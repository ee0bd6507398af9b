"""Reading digests and log files around an interval: listing, caching, decompressing, verifying
against the digests.
"""

from __future__ import annotations

import hashlib
import json
import struct
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from ccm.errors import SourceError
from ccm.sources.cloudtrail.client import DIGEST_CACHE, OBJECT_CACHE, CloudTrailClient, ObjectInfo
from ccm.sources.cloudtrail.datasets import SOURCE
from ccm.sources.extract import FetchLog, Interval


def days_between(start: datetime, end: datetime) -> list[date]:
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


class Reader:
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
            cached = DIGEST_CACHE.get(cache_key)
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
                DIGEST_CACHE.put(cache_key, cached, len(body) or 1)
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
        data = OBJECT_CACHE.get(cache_key)
        if data is None:
            data = self.archive.get(key)
            OBJECT_CACHE.put(cache_key, data, len(data))
        return data


@dataclass
class Verified:
    key: str
    problem: str | None  # why the file cannot be used
    altered: bool = False  # listed, but its content differs from the digest (or cannot be hashed)
    sha256: str = ""  # of the uncompressed content
    size: int = 0
    body: bytes | None = None  # the uncompressed content, when kept for parsing


BATCH_BYTES = 32 * 2**20  # plain JSON parsed per query: memory is a few times this, whatever the interval
FETCH_CHUNK = 32  # files fetched and verified together (in the thread pool)


def _verify(reader: Reader, key: str, info: ObjectInfo, listed: dict[str, Listed], keep: Any = None) -> Verified:
    """Read one log file, decompress it and check it against its digest; keep the content if
    `keep(body)` (default: always) and it can be used."""
    data = reader.get(key, info)
    entry = listed.get(key)
    try:
        body = _gunzip(data)
    except zlib.error as exc:
        return Verified(key, f"log file {key} is not a readable gzip file ({exc})", altered=entry is not None,
                         size=len(data))
    digest = hashlib.sha256(body).hexdigest()
    if entry is not None and digest != entry.sha256:
        return Verified(key, f"log file {key} differs from the SHA-256 its digest {entry.digest} records",
                         altered=True, sha256=digest, size=len(data))
    return Verified(key, None, sha256=digest, size=len(data), body=body if keep is None or keep(body) else None)


def verified_batches(reader: Reader, files: dict[str, ObjectInfo], listed: dict[str, Listed],
                      keep: Any = None) -> Iterator[list[Verified]]:
    """Every file verified, in key order, in batches holding about BATCH_BYTES of kept content."""
    keys = sorted(files)
    batch: list[Verified] = []
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


def read_ahead(batches: Iterator[list[Verified]]) -> Iterator[list[Verified]]:
    """The batches, the next one fetched and verified in a thread while the caller maps this
    one: decompressing and hashing (which release the GIL) overlap DuckDB's parse instead of
    leaving a core idle between batches. Holds at most two batches."""
    end = object()
    with ThreadPoolExecutor(1) as pool:
        upcoming = pool.submit(next, batches, end)
        while (batch := upcoming.result()) is not end:
            upcoming = pool.submit(next, batches, end)
            yield batch
