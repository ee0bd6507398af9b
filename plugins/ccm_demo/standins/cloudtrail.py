"""CloudTrail delivery: log and digest files appear in the log archive bucket on time.

The world (`ccm_demo.world.cloudtrail`) lists every object CloudTrail delivers with its
delivery moment. Whenever the simulated clock moves, exactly the objects delivered by
then are present in the bucket of the moto server the `aws_default` connection points
at: files never delivered (planted gaps) never appear, a late file appears hours after
its neighbours, and moving the clock back removes what was delivered after it, so a
re-run of an earlier day sees what that day's run saw.

The bucket carries a lifecycle rule expiring log and digest files `LOG_ARCHIVE_EXPIRY`
after delivery, and their noncurrent versions a day later, as a log archive whose
long-term copy is the lake: S3 would delete them, moto only stores the rule, so the
stand-in removes them itself. The world's log archive bucket is versioned, so a plain
DeleteObject would only hide a file behind a delete marker: moto would keep every file
ever delivered (and its bytes) and walk them all on each listing. An expired file is
removed with its versions (DeleteObjects by version id), as the rule would a day later,
and so is a file withdrawn because the clock moved back (it was never delivered at that
moment). moto's bucket stays about a month's objects in size whatever the window;
nothing the pipeline reads (ListObjectsV2, GetObject) tells this apart from S3.

Incremental: the bucket keeps a marker object with the moment it was last advanced to,
and each advance only puts (or deletes) the objects that differ between the two moments,
about three hundred a day at the default size. A fresh moto server has no bucket and
no marker, so everything due is delivered once.
"""

from __future__ import annotations

import json
import logging
from bisect import bisect_right
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ccm_demo.world import cloudtrail as world

log = logging.getLogger(__name__)

MARKER_KEY = "_ccm-standin/cloudtrail-delivered-until"  # outside AWSLogs/: the pipeline never lists it
LOG_ARCHIVE_EXPIRY = timedelta(days=35)  # a month of late-data re-runs and backfills, with margin
MAX_REMOVAL_ROUNDS = 10  # versions of one key the stand-in removes (it puts one; tests may add a few)
_cache: dict[tuple[str, float], list[world.Delivery]] = {}


def _deliveries(demo_dir: Path) -> list[world.Delivery]:
    path = Path(demo_dir) / world.DELIVERIES_FILE
    if not path.exists():
        return []
    key = (str(path), path.stat().st_mtime)
    if key not in _cache:
        _cache.clear()
        _cache[key] = world.load_deliveries(demo_dir)
    return _cache[key]


def log_archive(env: dict[str, str]) -> tuple[Any, str] | None:
    """The S3 client and bucket of the aws_default connection, or None without one."""
    text = env.get("AIRFLOW_CONN_AWS_DEFAULT")
    if not text:
        return None
    import boto3

    doc = json.loads(text)
    extra = doc.get("extra") or {}
    if isinstance(extra, str):
        extra = json.loads(extra)
    bucket = extra.get("cloudtrail_bucket")
    if not bucket:
        return None
    client = boto3.client("s3", endpoint_url=extra.get("endpoint_url"), region_name=extra.get("region_name") or "us-east-1",
                          aws_access_key_id=doc.get("login") or None, aws_secret_access_key=doc.get("password") or None)
    return client, bucket


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _present(times: list[str], moment: datetime) -> range:
    """Indexes of the objects in the bucket at `moment`: delivered, not yet expired."""
    return range(bisect_right(times, _stamp(moment - LOG_ARCHIVE_EXPIRY)), bisect_right(times, _stamp(moment)))


def _create_bucket(client: Any, bucket: str) -> None:
    client.create_bucket(Bucket=bucket)
    client.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [{
        "ID": "expire-log-archive", "Status": "Enabled", "Filter": {"Prefix": "AWSLogs/"},
        "Expiration": {"Days": LOG_ARCHIVE_EXPIRY.days}, "NoncurrentVersionExpiration": {"NoncurrentDays": 1}}]})


def _current_version(client: Any, bucket: str, key: str) -> tuple[str, str | None] | None:
    """(key, version id) of the object's current version (None in a bucket never
    versioned), or None when the key shows no object."""
    try:
        return key, client.head_object(Bucket=bucket, Key=key).get("VersionId")
    except client.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey"):
            return None
        raise


def _remove(client: Any, bucket: str, keys: list[str], pool: ThreadPoolExecutor) -> None:
    """Remove `keys` from the bucket with every version: delete each current version by
    its id until no key shows an object (an older version becomes current when a newer one
    is deleted; in a bucket never versioned the first round removes the object)."""
    for _ in range(MAX_REMOVAL_ROUNDS):
        current = [found for found in pool.map(lambda key: _current_version(client, bucket, key), keys) if found]
        if not current:
            return
        for start in range(0, len(current), 1000):  # DeleteObjects takes up to 1000 keys
            objects = [{"Key": key, "VersionId": version} if version else {"Key": key}
                       for key, version in current[start:start + 1000]]
            errors = client.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True}).get("Errors")
            if errors:
                raise RuntimeError(f"cloudtrail stand-in: cannot delete from s3://{bucket}: {errors[:5]}")
        keys = _still_listed(client, bucket, [key for key, _ in current])
    if keys:
        raise RuntimeError(f"cloudtrail stand-in: {len(keys)} objects of s3://{bucket} keep older versions, e.g. {keys[0]}")


def _still_listed(client: Any, bucket: str, keys: list[str]) -> list[str]:
    """Those of `keys` a listing of their directories still shows."""
    wanted = set(keys)
    listed: set[str] = set()
    for directory in sorted({key.rsplit("/", 1)[0] + "/" for key in keys}):
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=directory):
            listed.update(item["Key"] for item in page.get("Contents", []) if item["Key"] in wanted)
    return sorted(listed)


def advance_to(demo_dir: Path, moment: datetime, env: dict[str, str]) -> None:
    """Make exactly the objects delivered by `moment`, and not yet expired, present in the bucket."""
    deliveries = _deliveries(demo_dir)
    target = log_archive(env) if deliveries else None
    if target is None:
        return
    client, bucket = target
    try:
        client.head_bucket(Bucket=bucket)
        try:
            previous = client.get_object(Bucket=bucket, Key=MARKER_KEY)["Body"].read().decode().strip()
        except client.exceptions.NoSuchKey:
            previous = None
    except client.exceptions.ClientError:
        _create_bucket(client, bucket)
        previous = None
    times = [d.deliver_at for d in deliveries]
    now = _present(times, moment)
    before = range(0) if previous is None else _present(times, datetime.fromisoformat(previous))
    puts = [deliveries[i] for i in now if i not in before]
    deletes = [deliveries[i] for i in before if i not in now]

    def put(delivery: world.Delivery) -> None:
        client.put_object(Bucket=bucket, Key=delivery.key, Body=world.read_object(demo_dir, delivery))

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(put, puts))
        _remove(client, bucket, sorted({d.key for d in deletes}), pool)
    client.put_object(Bucket=bucket, Key=MARKER_KEY, Body=_stamp(moment).encode())
    log.info("cloudtrail stand-in: %s delivered, %s withdrawn or expired, bucket at %s",
             len(puts), len(deletes), _stamp(moment))
