"""A write-once evidence store on the local filesystem or S3.

Nothing in it is ever overwritten: writing a key that exists with different content is
an error; writing identical content is a no-op (so a retried task is harmless). On S3,
objects are written with Object Lock in compliance mode and a retention the operator
chooses, so not even the bucket owner can rewrite history.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ccm.errors import EvidenceError


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class EvidenceStore:
    """Keys are POSIX-style relative paths ("evaluations/iam_okta_mfa/2025-10-01/...json")."""

    def __init__(self, uri: str, s3_endpoint_url: str | None = None, retention_days: int = 400) -> None:
        self.uri = uri
        self.retention_days = retention_days
        if uri.startswith("s3://"):
            import boto3

            bucket, _, prefix = uri.removeprefix("s3://").partition("/")
            self.bucket, self.prefix = bucket, prefix.strip("/")
            self._s3 = boto3.client("s3", endpoint_url=s3_endpoint_url)
            self.root: Path | None = None
        else:
            self.root = Path(uri).resolve()
            self.root.mkdir(parents=True, exist_ok=True)
            self.bucket, self.prefix = "", ""
            self._s3 = None

    @property
    def is_local(self) -> bool:
        return self.root is not None

    def _key(self, relative: str) -> str:
        relative = relative.lstrip("/")
        if ".." in relative.split("/"):
            raise EvidenceError(f"evidence key {relative!r} must not contain '..'")
        return posixpath.join(self.prefix, relative) if self.prefix else relative

    def local_path(self, relative: str) -> Path:
        if self.root is None:
            raise EvidenceError("this evidence store is on S3; there is no local path")
        return self.root / self._key(relative)

    # reads ---------------------------------------------------------------------------
    def exists(self, relative: str) -> bool:
        if self.root is not None:
            return self.local_path(relative).is_file()
        try:
            self._s3.head_object(Bucket=self.bucket, Key=self._key(relative))
            return True
        except self._s3.exceptions.ClientError:
            return False

    def get(self, relative: str) -> bytes:
        if self.root is not None:
            path = self.local_path(relative)
            if not path.is_file():
                raise EvidenceError(f"evidence {relative} is missing")
            return path.read_bytes()
        try:
            return self._s3.get_object(Bucket=self.bucket, Key=self._key(relative))["Body"].read()
        except self._s3.exceptions.NoSuchKey:
            raise EvidenceError(f"evidence {relative} is missing") from None

    def list(self, prefix: str = "") -> Iterator[str]:
        """Relative keys under `prefix`, sorted."""
        if self.root is not None:
            base = self.root / prefix if prefix else self.root
            if not base.exists():
                return iter(())
            found = sorted(
                p.relative_to(self.root).as_posix() for p in base.rglob("*")
                if p.is_file() and not p.name.startswith(".tmp-")
            )
            return iter(found)
        return self._list_s3(prefix)

    def _list_s3(self, prefix: str) -> Iterator[str]:
        paginator = self._s3.get_paginator("list_objects_v2")
        full = self._key(prefix) if prefix else (self.prefix + "/" if self.prefix else "")
        strip = len(self.prefix) + 1 if self.prefix else 0
        keys = []
        for page in paginator.paginate(Bucket=self.bucket, Prefix=full):
            keys += [obj["Key"][strip:] for obj in page.get("Contents", [])]
        return iter(sorted(keys))

    # writes --------------------------------------------------------------------------
    def put(self, relative: str, data: bytes) -> str:
        """Write once; returns the SHA-256 of the content."""
        digest = sha256_bytes(data)
        if self.exists(relative):
            if sha256_bytes(self.get(relative)) == digest:
                return digest
            raise EvidenceError(f"evidence {relative} already exists with different content; it is never overwritten")
        if self.root is not None:
            path = self.local_path(relative)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
            tmp.write_bytes(data)
            os.link(tmp, path)  # fails if the target appeared meanwhile: never replaces
            tmp.unlink()
        else:
            retain_until = datetime.now(UTC) + timedelta(days=self.retention_days)
            self._s3.put_object(
                Bucket=self.bucket, Key=self._key(relative), Body=data,
                ChecksumAlgorithm="SHA256",
                ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=retain_until,
            )
        return digest

    def put_file(self, relative: str, source: Path) -> str:
        return self.put(relative, Path(source).read_bytes())
