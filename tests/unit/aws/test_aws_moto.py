"""The AWS stand-in's patches of moto (`aws_moto`) change no answer.

A bucket with the prefix-indexed key store must list exactly as one with moto's own store:
the same keys and common prefixes in the same order, the same truncation and tokens, page
after page, with and without delimiter, StartAfter and delete markers. Both buckets live
in one moto backend of an account no other test uses; the indexed bucket goes through the
patched `list_objects`, the other through moto's code unchanged.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest

from ccm_demo.standins.aws_moto import indexed_store_class, patch_moto

ACCOUNT = "000000000042"
KEYS = [
    "AWSLogs/111122223333/CloudTrail/us-east-1/2025/10/01/a.json.gz",
    "AWSLogs/111122223333/CloudTrail/us-east-1/2025/10/01/b.json.gz",
    "AWSLogs/111122223333/CloudTrail/us-east-1/2025/10/02/a.json.gz",
    "AWSLogs/111122223333/CloudTrail/eu-west-1/2025/10/01/a.json.gz",
    "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2025/10/01/d.json.gz",
    "AWSLogs/444455556666/CloudTrail/us-east-1/2025/10/01/a.json.gz",
    "AWSLogs/444455556666/CloudTrail/us-east-1/2025/10/01/a.json.gz.copy",
    "AWSLogs/",
    "AWSLogs",
    "AWSLogs-other/x",
    "_ccm-standin/marker",
    "a/b/c", "a/b/d", "a/bc", "a/b", "a-b/c", "a", "ab", "b/a/b/c", "z",
]
DELETED = {"AWSLogs/111122223333/CloudTrail/us-east-1/2025/10/01/b.json.gz", "a/bc", "z"}
PREFIXES = [None, "", "A", "AWSLogs", "AWSLogs/", "AWSLogs/111122223333/CloudTrail/",
            "AWSLogs/111122223333/CloudTrail/us-east-1/2025/10/01/", "AWSLogs/111122223333/CloudTrail/us-east-1/2025/10/0",
            "a", "a/", "a/b", "a/b/", "a/bc", "b/a/", "z", "zz", "\u00ff"]
DELIMITERS = [None, "/", "-", "b/"]


@pytest.fixture(scope="module")
def backend() -> Iterator[Any]:
    from moto.s3.models import s3_backends

    patch_moto()
    backend = s3_backends[ACCOUNT]["aws"]
    yield backend
    backend.reset()


@pytest.fixture(scope="module", params=["unversioned", "versioned"])
def buckets(request, backend) -> tuple[Any, Any]:
    """(moto's own store, the indexed store), holding the same keys, versions and delete markers."""
    from moto.s3.utils import _VersionedKeyStore

    plain = backend.create_bucket(f"plain-{request.param}", "us-east-1")
    assert type(plain.keys) is indexed_store_class()  # a bucket created after the patch
    plain.keys = _VersionedKeyStore()  # ... given moto's own store back
    indexed = backend.create_bucket(f"indexed-{request.param}", "us-east-1")
    for bucket in (plain, indexed):
        if request.param == "versioned":
            backend.put_bucket_versioning(bucket.name, "Enabled")
        for key in KEYS:
            backend.put_object(bucket.name, key, key.encode())
        backend.put_object(bucket.name, "a/b/c", b"second version")
        for key in DELETED:
            backend.delete_object(bucket.name, key)  # versioned: a delete marker hides the key
    return plain, indexed


def _names(items: Any) -> list[str]:
    return [item if isinstance(item, str) else item.name for item in items]


def _v2_pages(backend: Any, bucket: Any, prefix: str | None, delimiter: str | None, max_keys: int,
              start_after: str | None) -> list[tuple[list[str], bool, str | None]]:
    pages, token = [], None
    while True:
        items, truncated, token = backend.list_objects_v2(bucket, prefix, delimiter, token, start_after, max_keys)
        pages.append((_names(items), truncated, token))
        if not truncated or len(pages) > len(KEYS) + 1:
            return pages


def test_listings_are_moto_s_own(backend, buckets):
    plain, indexed = buckets
    assert type(indexed.keys) is indexed_store_class()
    for prefix, delimiter in itertools.product(PREFIXES, DELIMITERS):
        for max_keys, start_after in itertools.product([1, 2, 3, 1000], [None, "a/b", "AWSLogs/4"]):
            expected = _v2_pages(backend, plain, prefix, delimiter, max_keys, start_after)
            assert _v2_pages(backend, indexed, prefix, delimiter, max_keys, start_after) == expected, (
                prefix, delimiter, max_keys, start_after)
        for marker, max_keys in itertools.product([None, "a/b", "AWSLogs/1"], [None, 2, 1000]):
            keys, folders, truncated, following = backend.list_objects(plain, prefix, delimiter, marker, max_keys)
            got = backend.list_objects(indexed, prefix, delimiter, marker, max_keys)
            assert (_names(got[0]), list(got[1]), got[2], got[3]) == (_names(keys), list(folders), truncated, following)


def test_the_index_follows_puts_and_deletes(backend, buckets):
    plain, indexed = buckets
    prefix = "AWSLogs/111122223333/CloudTrail/us-east-1/2025/10/01/"
    for bucket in (plain, indexed):
        backend.put_object(bucket.name, prefix + "c.json.gz", b"new")
        backend.delete_object(bucket.name, prefix + "a.json.gz")
        for version in list(bucket.keys.getlist(prefix + "b.json.gz", [])):  # every version, markers too
            backend.delete_object(bucket.name, prefix + "b.json.gz", version_id=version.version_id)
    try:
        assert _v2_pages(backend, indexed, prefix, None, 1000, None) == _v2_pages(backend, plain, prefix, None, 1000, None)
        assert _names(backend.list_objects_v2(indexed, prefix, None, None, None, 1000)[0]) == [prefix + "c.json.gz"]
        assert prefix + "b.json.gz" not in indexed.keys._names
    finally:
        for bucket in (plain, indexed):
            backend.put_object(bucket.name, prefix + "a.json.gz", b"a")
            backend.delete_object(bucket.name, prefix + "c.json.gz")


def test_moto_lists_its_modules_once():
    import moto.backends

    patch_moto()
    listed = moto.backends.list_of_moto_modules()
    assert "s3" in listed and "iam" in listed and "__pycache__" not in listed
    assert moto.backends.list_of_moto_modules() is listed
