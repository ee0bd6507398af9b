"""CloudTrail test fixtures: a moto S3 server, a builder for trail buckets, record factories.

Every test builds its own bucket (a unique name on the module's moto server) with log
files and digests shaped exactly as CloudTrail delivers them, so faults can be planted
one at a time. Nothing here reads data from outside the repository: the real-data-shaped records are in
`fixtures/` (hand-made, same shapes as the public Stratus Red Team and OTRF samples).
"""

from __future__ import annotations

import copy
import gzip
import hashlib
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
ACCOUNT = "111122223333"
REGION = "us-east-1"
ACCESS = {"aws_access_key_id": "AKIATESTCLOUDTRAIL01", "aws_secret_access_key": "test-secret"}


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


_TEMPLATE: dict[str, Any] = {
    "eventVersion": "1.09",
    "userIdentity": {"type": "AssumedRole", "principalId": "AROATESTROLE00000001:ci",
                     "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/ci/ci", "accountId": ACCOUNT,
                     "accessKeyId": "ASIATESTROLE00000001",
                     "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": "AROATESTROLE00000001",
                                                          "arn": f"arn:aws:iam::{ACCOUNT}:role/ci", "accountId": ACCOUNT,
                                                          "userName": "ci"},
                                        "attributes": {"creationDate": "2025-10-01T00:00:00Z", "mfaAuthenticated": "false"}}},
    "eventSource": "ec2.amazonaws.com", "eventName": "DescribeInstances", "awsRegion": REGION,
    "sourceIPAddress": "198.51.100.7", "userAgent": "aws-cli/2.17.52", "requestParameters": {"instancesSet": {}},
    "responseElements": None, "readOnly": True, "eventType": "AwsApiCall", "managementEvent": True,
    "recipientAccountId": ACCOUNT, "eventCategory": "Management",
}


def _time_of(record: Any) -> datetime | None:
    try:
        return at(record["eventTime"])
    except (TypeError, KeyError, ValueError, AttributeError):
        return None


def event(event_id: str, when: str, **fields: Any) -> dict[str, Any]:
    """A management event record; `fields` override or add top-level fields."""
    record = copy.deepcopy(_TEMPLATE)
    record["eventTime"] = when
    record["eventID"] = event_id
    record["requestID"] = str(uuid.uuid5(uuid.NAMESPACE_URL, event_id))
    record.update(fields)
    return record


def body_of(records: list[dict[str, Any]]) -> bytes:
    return json.dumps({"Records": records}, separators=(",", ":")).encode()


class TrailBucket:
    """A log archive bucket in moto, filled like CloudTrail fills it."""

    def __init__(self, endpoint: str, bucket: str) -> None:
        import boto3

        self.endpoint = endpoint
        self.bucket = bucket
        self.s3 = boto3.client("s3", endpoint_url=endpoint, region_name=REGION, **ACCESS)
        self.s3.create_bucket(Bucket=bucket)
        self.delivered: list[tuple[str, bytes, datetime, datetime, datetime]] = []  # key, body, at, oldest, newest

    def key(self, deliver_at: datetime, suffix: str, account: str = ACCOUNT, region: str = REGION) -> str:
        return (f"AWSLogs/{account}/CloudTrail/{region}/{deliver_at:%Y/%m/%d}/"
                f"{account}_CloudTrail_{region}_{deliver_at:%Y%m%dT%H%MZ}_{suffix}.json.gz")

    def log_file(self, records: list[dict[str, Any]], deliver_at: str, suffix: str | None = None,
                 body: bytes | None = None, upload: bool = True) -> str:
        """Deliver a log file (gzip of `body`, default {"Records": records}); digests list it."""
        moment = at(deliver_at)
        key = self.key(moment, suffix or uuid.uuid4().hex[:16])
        content = body if body is not None else body_of(records)
        times = [t for r in records if (t := _time_of(r)) is not None] or [moment]
        if upload:
            self.put(key, gzip.compress(content, mtime=0))
        self.delivered.append((key, content, moment, min(times), max(times)))
        return key

    def put(self, key: str, data: bytes) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=data)

    def delete(self, key: str) -> None:
        self.s3.delete_object(Bucket=self.bucket, Key=key)

    def digests(self, start: str, end: str, skip: tuple[str, ...] = ()) -> list[str]:
        """Hourly digests from start to end (chained), listing the files delivered in each hour;
        hours in `skip` (their start, ISO) are written into the chain but never delivered."""
        keys = []
        previous: tuple[str, str] | None = None
        hour = at(start)
        while hour < at(end):
            following = hour + timedelta(hours=1)
            key = (f"AWSLogs/{ACCOUNT}/CloudTrail-Digest/{REGION}/{following:%Y/%m/%d}/"
                   f"{ACCOUNT}_CloudTrail-Digest_{REGION}_test-trail_{REGION}_{following:%Y%m%dT%H%M%SZ}.json.gz")
            listed = [f for f in self.delivered if hour <= f[2] < following]
            doc = {
                "awsAccountId": ACCOUNT, "digestStartTime": stamp(hour), "digestEndTime": stamp(following),
                "digestS3Bucket": self.bucket, "digestS3Object": key,
                "previousDigestS3Bucket": self.bucket if previous else None,
                "previousDigestS3Object": previous[0] if previous else None,
                "previousDigestHashValue": previous[1] if previous else None,
                "previousDigestHashAlgorithm": "SHA-256" if previous else None,
                "logFiles": [{"s3Bucket": self.bucket, "s3Object": k, "hashValue": hashlib.sha256(b).hexdigest(),
                              "hashAlgorithm": "SHA-256", "oldestEventTime": stamp(o), "newestEventTime": stamp(n)}
                             for k, b, _at, o, n in listed],
            }
            content = json.dumps(doc).encode()
            previous = (key, hashlib.sha256(content).hexdigest())
            if stamp(hour) not in skip:
                self.put(key, gzip.compress(content, mtime=0))
                keys.append(key)
            hour = following
        return keys

    def connection(self) -> Any:
        from ccm.sources.connections import Connection
        from ccm.sources.http_client import Secret

        extra = {"endpoint_url": self.endpoint, "region_name": REGION, "cloudtrail_bucket": self.bucket,
                 "accounts": [{"account_id": ACCOUNT, "regions": [REGION]}]}
        return Connection("aws_default", login=ACCESS["aws_access_key_id"],
                          password=Secret(ACCESS["aws_secret_access_key"]), extra=extra)


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """A moto server for this module's tests (each test uses its own bucket)."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def trail(moto_endpoint: str) -> TrailBucket:
    return TrailBucket(moto_endpoint, f"trail-{uuid.uuid4().hex[:12]}")


@pytest.fixture(scope="session")
def stratus_records() -> list[dict[str, Any]]:
    return json.loads((FIXTURES / "stratus_shaped.json").read_text())


@pytest.fixture(scope="session")
def otrf_lines() -> bytes:
    return (FIXTURES / "otrf_shaped.jsonl").read_bytes()
