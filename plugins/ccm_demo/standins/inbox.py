"""The inbox stand-in: HR, LMS and GRC exports appear in the pipeline's inbox on time.

World modules register export files with their delivery time (`WorldContext.add_export`).
Whenever the simulated clock moves, every export delivered by then is present in the
inbox (a directory, or an S3 prefix through boto3) and every later one is absent, so a
re-run of an earlier day sees exactly what that day's run saw.
"""

from __future__ import annotations

import hashlib
import os
from datetime import datetime
from pathlib import Path

from ccm_demo.world.common import parse, read_json


def _inbox_uri(env: dict[str, str]) -> str:
    if env.get("CCM_INBOX_URI"):
        return env["CCM_INBOX_URI"]
    data_dir = env.get("CCM_DATA_DIR") or os.path.join(env.get("CCM_PROJECT_DIR", "."), "var")
    return os.path.join(data_dir, "inbox")


def advance_to(demo_dir: Path, moment: datetime, env: dict[str, str]) -> None:
    deliveries_file = Path(demo_dir) / "world" / "exports" / "_deliveries.json"
    if not deliveries_file.exists():
        return
    uri = _inbox_uri(env)
    source_root = Path(demo_dir) / "world" / "exports"
    due = {d["path"]: parse(d["deliver_at"]) <= moment for d in read_json(deliveries_file)}
    if uri.startswith("s3://"):
        _sync_s3(uri, source_root, due, env)
        return
    root = Path(uri)
    for relative, delivered in due.items():
        target = root / relative
        if delivered:
            source = source_root / relative
            if _same_copy(source, target):
                continue
            data = source.read_bytes()
            if not target.exists() or hashlib.sha256(target.read_bytes()).digest() != hashlib.sha256(data).digest():
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = target.with_name(f".tmp-{target.name}")
                tmp.write_bytes(data)
                tmp.replace(target)
            stat = source.stat()
            os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        elif target.exists():
            target.unlink()


def _same_copy(source: Path, target: Path) -> bool:
    """rsync's quick check: a delivered copy with the source's size and mtime is untouched, so
    the clock can move daily without re-reading every export delivered so far (a copy that
    was edited, e.g. by a test, has a new mtime and is delivered again)."""
    try:
        have, want = target.stat(), source.stat()
    except FileNotFoundError:
        return False
    return have.st_size == want.st_size and have.st_mtime_ns == want.st_mtime_ns


def _sync_s3(uri: str, source_root: Path, due: dict[str, bool], env: dict[str, str]) -> None:
    import boto3

    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    client = boto3.client("s3", endpoint_url=env.get("CCM_S3_ENDPOINT_URL") or env.get("AWS_ENDPOINT_URL"))
    for relative, delivered in due.items():
        key = f"{prefix.strip('/')}/{relative}" if prefix else relative
        if delivered:
            client.put_object(Bucket=bucket, Key=key, Body=(source_root / relative).read_bytes())
        else:
            client.delete_object(Bucket=bucket, Key=key)
