"""CloudTrail fetchers: events, trail changes (tolerating gaps the digests report) and digest
coverage rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from ccm.datasets import Dataset
from ccm.manifests import InputFile
from ccm.sources.cloudtrail.client import CloudTrailClient, ObjectInfo
from ccm.sources.cloudtrail.datasets import DIGESTS, EVENTS, TRAIL_CHANGE_EVENTS, TRAIL_CHANGES
from ccm.sources.cloudtrail.mapping import Mapper
from ccm.sources.cloudtrail.reader import Digest, Reader, Verified, days_between, read_ahead, verified_batches
from ccm.sources.extract import FetchLog, Interval

LOG_DELIVERY_SLACK = timedelta(hours=1)  # files holding an interval's last events arrive within this


def _fetch_events(client: CloudTrailClient, interval: Interval, fetch_log: FetchLog, dataset: Dataset,
                  event_filter: str | None, keep: Any, tolerate_gaps: bool) -> Iterator[Any]:
    reader = Reader(client, interval, fetch_log)
    days = days_between(interval.start, interval.end + LOG_DELIVERY_SLACK)
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
    mapper = Mapper(dataset, interval, event_filter, fetch_log, client)
    unverified: list[Verified] = []
    read = 0
    for batch in read_ahead(verified_batches(reader, wanted, listed, keep)):
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
        reader = Reader(client, interval, fetch_log)
        # the digests just before and after the interval decide the chain at its edges
        digests = reader.digests(days_between(interval.start - timedelta(hours=2), interval.end + timedelta(hours=2)))
        fetch_log.inputs.extend(InputFile(d.key, d.sha256, d.size) for d in sorted(digests, key=lambda d: d.key))
        in_interval = [d for d in digests if d.start is not None and interval.start <= d.start < interval.end]
        listed = reader.listed(in_interval)
        present = reader._list(sorted({k.rsplit("/", 1)[0] + "/" for k in listed}))
        found = {k: present[k] for k in listed if k in present}
        checked = {v.key: v for batch in verified_batches(reader, found, listed, keep=lambda body: False) for v in batch}
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


def _digest_row(digest: Digest, present: dict[str, ObjectInfo], checked: dict[str, Verified],
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
