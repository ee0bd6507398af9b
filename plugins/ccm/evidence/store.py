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
            # os.walk reads each directory's entry types with the names (no stat per file):
            # the ledger is listed every run and holds an entry per evaluation ever made
            found = []
            for directory, _, names in os.walk(base):
                relative = Path(directory).relative_to(self.root).as_posix()
                stem = "" if relative == "." else relative + "/"
                found.extend(stem + name for name in names if not name.startswith(".tmp-"))
            return iter(sorted(found))
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
            try:
                # If-None-Match: S3 refuses the PUT if the key appeared since the check above
                self._s3.put_object(
                    Bucket=self.bucket, Key=self._key(relative), Body=data,
                    ChecksumAlgorithm="SHA256", IfNoneMatch="*",
                    ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=retain_until,
                )
            except self._s3.exceptions.ClientError as exc:
                if exc.response.get("Error", {}).get("Code") not in ("PreconditionFailed", "412"):
                    raise
                if sha256_bytes(self.get(relative)) != digest:
                    raise EvidenceError(f"evidence {relative} was written concurrently with different content; "
                                        "it is never overwritten") from None
        return digest

    def put_file(self, relative: str, source: Path) -> str:
        return self.put(relative, Path(source).read_bytes())

    # S3 guarantees ------------------------------------------------------------------
    def check_object_lock(self) -> dict[str, object]:
        """The bucket's Object Lock configuration; raises unless Object Lock is enabled.

        Writes carry their own COMPLIANCE retention (`retention_days`), so a bucket default
        is not required, but a bucket without Object Lock cannot hold evidence at all.
        """
        if self._s3 is None:
            raise EvidenceError("Object Lock applies to S3 evidence stores only")
        try:
            config = self._s3.get_object_lock_configuration(Bucket=self.bucket)["ObjectLockConfiguration"]
        except self._s3.exceptions.ClientError as exc:
            raise EvidenceError(f"evidence bucket {self.bucket} has no Object Lock configuration ({exc}); "
                                "create it with ObjectLockEnabledForBucket") from None
        if config.get("ObjectLockEnabled") != "Enabled":
            raise EvidenceError(f"evidence bucket {self.bucket} does not have Object Lock enabled")
        return config

    def retention(self, relative: str) -> dict[str, object]:
        """The Object Lock retention of one stored object (mode and retain-until date)."""
        if self._s3 is None:
            raise EvidenceError("Object Lock applies to S3 evidence stores only")
        head = self._s3.head_object(Bucket=self.bucket, Key=self._key(relative))
        return {"Mode": head.get("ObjectLockMode"), "RetainUntilDate": head.get("ObjectLockRetainUntilDate")}

    def version_anomalies(self) -> list[tuple[str, str]]:
        """Keys under the prefix with more than one version or a delete marker.

        The writer never writes a key twice, so on a versioned (Object Lock) bucket every key
        has exactly one version; a second version means someone rewrote it, a delete marker
        that someone hid it. Object Lock keeps the original version retrievable either way.
        """
        if self._s3 is None:
            return []
        versions: dict[str, int] = {}
        markers: set[str] = set()
        strip = len(self.prefix) + 1 if self.prefix else 0
        paginator = self._s3.get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + "/" if self.prefix else ""):
            for version in page.get("Versions", []):
                versions[version["Key"][strip:]] = versions.get(version["Key"][strip:], 0) + 1
            for marker in page.get("DeleteMarkers", []):
                markers.add(marker["Key"][strip:])
        found = [(key, f"{count} versions: the object was rewritten after it was written once")
                 for key, count in sorted(versions.items()) if count > 1]
        found += [(key, "a delete marker hides the object (its locked version is still in the bucket)")
                  for key in sorted(markers)]
        return found
