"""Patches of the stand-in's in-process moto that keep a request's cost independent of how
long the demo has run. Neither changes an answer.

- Dispatch: moto's server finds the service of every request by listing its own package
  directory (`moto.backends.list_of_moto_modules`, a `listdir`/`isdir` per service) under
  the dispatcher's global lock, so concurrent requests queue behind file system calls.
  The directory does not change while moto runs: it is listed once.
- S3 listing by prefix: moto's `S3Backend.list_objects` (behind ListObjects and
  ListObjectsV2) walks every key of the bucket, including every key a delete marker
  hides, to keep those under the prefix, and a ListObjectsV2 page walks them all again;
  listing one day of CloudTrail files cost time in proportion to the whole log archive.
  Real S3 lists a prefix in time independent of the bucket's other keys. Here a bucket's
  key store also keeps its key names sorted (`PrefixIndexedKeyStore`), and a listing
  with a prefix hands moto's own `list_objects` a view of the bucket holding only the
  keys under that prefix: moto's code still filters, sorts, pages and groups by
  delimiter, so order, MaxKeys, ContinuationToken, StartAfter and
  Delimiter/CommonPrefixes are moto's own (tests/unit/aws/test_aws_moto.py compares).

A third patch is the demo's, not a cost: EC2 assigns security group ids, but the world
names its groups by id (names repeat across VPCs) and the answer key and the exceptions
must know them beforehand. `CreateSecurityGroup` with the tag `GROUP_ID_TAG` (moto's
"custom id" idea, which moto offers for other resources but not security groups) creates
the group with that id; the tag itself is not kept, so DescribeSecurityGroups shows what
EC2 would.

moto is imported only when the patches are applied: this module is imported wherever
the stand-ins are discovered, moto is slow to import, and only the process
serving the stand-in needs it.
"""

from __future__ import annotations

import functools
import threading
from bisect import bisect_left
from typing import Any

GROUP_ID_TAG = "ccm-demo:group-id"  # CreateSecurityGroup tag: the id the group gets
_LOCK = threading.Lock()  # the sorted names of every indexed store (one lock: they are seldom contended)


def patch_moto() -> None:
    """Apply both patches to this process's moto (idempotent). Buckets created afterwards
    get the indexed key store; the stand-in resets moto right after, so all of its do."""
    import moto.backends
    import moto.ec2.models.security_groups as ec2_groups
    import moto.s3.models as s3_models

    with _LOCK:
        if not hasattr(moto.backends.list_of_moto_modules, "cache_info"):
            moto.backends.list_of_moto_modules = _listed_once(moto.backends.list_of_moto_modules)
        store = indexed_store_class()
        s3_models._VersionedKeyStore = store  # the name FakeBucket.__init__ builds its key store from
        if not getattr(s3_models.S3Backend.list_objects, "prefix_indexed", False):
            s3_models.S3Backend.list_objects = _prefix_indexed(s3_models.S3Backend.list_objects, store,
                                                               s3_models.FakeTableStorageBucket)
        backend = ec2_groups.SecurityGroupBackend
        if not getattr(backend.create_security_group, "group_id_from_tag", False):
            backend.create_security_group = _group_id_from_tag(backend.create_security_group)


def _group_id_from_tag(create_security_group: Any) -> Any:
    """moto's `create_security_group`, giving the group the id its `GROUP_ID_TAG` names."""

    @functools.wraps(create_security_group)
    def create(self: Any, name: str, description: str, vpc_id: str | None = None,
               tags: dict[str, str] | None = None, **kwargs: Any) -> Any:
        tags = dict(tags or {})
        wanted = tags.pop(GROUP_ID_TAG, None)
        group = create_security_group(self, name, description, vpc_id=vpc_id, tags=tags, **kwargs)
        if wanted and wanted != group.id:
            if any(wanted in groups for groups in self.groups.values()):
                raise ValueError(f"security group id {wanted} is taken")
            groups = self.groups[group.vpc_id]
            del groups[group.id]
            if group.id in self.tags:  # the group's other tags (TaggedEC2Resource keeps them by id)
                self.tags[wanted] = self.tags.pop(group.id)
            group.arn = group.arn.rsplit("/", 1)[0] + "/" + wanted
            group.id = group.group_id = wanted
            for rule in group.egress_rules + group.ingress_rules:
                rule.group_id = wanted
            groups[wanted] = group
        return group

    create.group_id_from_tag = True  # type: ignore[attr-defined]
    return create


def _listed_once(list_of_moto_modules: Any) -> Any:
    @functools.cache
    def listed() -> tuple[str, ...]:
        return tuple(list_of_moto_modules())

    return listed


@functools.cache
def indexed_store_class() -> type:
    """`PrefixIndexedKeyStore`: moto's S3 key store (key -> versions) that also keeps its
    key names in a sorted list.

    moto changes a bucket's store through `__setitem__`, `setlist` and `pop`; those, and
    the dict's `__delitem__` and `clear`, keep the list in step. `items_under` reads the
    versions from the store itself, so a name the list kept by mistake could not show a
    key the bucket does not hold."""
    from moto.s3.utils import _VersionedKeyStore

    class PrefixIndexedKeyStore(_VersionedKeyStore):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._names: list[str] = sorted(dict.keys(self))

        def _add_name(self, key: str) -> None:
            with _LOCK:
                at = bisect_left(self._names, key)
                if at == len(self._names) or self._names[at] != key:
                    self._names.insert(at, key)

        def _drop_name(self, key: str) -> None:
            with _LOCK:
                at = bisect_left(self._names, key)
                if at < len(self._names) and self._names[at] == key and not dict.__contains__(self, key):
                    del self._names[at]

        def __setitem__(self, key: str, value: Any) -> Any:
            super().__setitem__(key, value)
            self._add_name(key)

        def setlist(self, key: Any, list_: Any) -> Any:
            super().setlist(key, list_)
            self._add_name(key)

        def pop(self, key: str) -> None:  # type: ignore[override]
            super().pop(key)
            self._drop_name(key)

        def __delitem__(self, key: str) -> None:
            super().__delitem__(key)
            self._drop_name(key)

        def clear(self) -> None:
            super().clear()
            with _LOCK:
                self._names.clear()

        def items_under(self, prefix: str) -> list[tuple[str, Any]]:
            """(name, latest version) of the keys starting with `prefix`, in name order:
            what moto's `items()` yields for them, found by bisection instead of a walk."""
            with _LOCK:
                names = self._names
                start = end = bisect_left(names, prefix)
                while end < len(names) and names[end].startswith(prefix):
                    end += 1
                under = names[start:end]
            items = []
            for name in under:
                versions = self.getlist(name)
                if versions:
                    items.append((name, versions[-1]))
            return items

    return PrefixIndexedKeyStore


class _KeysUnder:
    """The part of a bucket's key store under a prefix, as moto's `list_objects` reads it."""

    def __init__(self, store: Any, prefix: str) -> None:
        self._store, self._prefix = store, prefix

    def items(self) -> list[tuple[str, Any]]:
        return self._store.items_under(self._prefix)


class _BucketUnder:
    """A bucket whose `keys` are only those under a prefix; everything else is the bucket's."""

    def __init__(self, bucket: Any, prefix: str) -> None:
        self._bucket = bucket
        self.keys = _KeysUnder(bucket.keys, prefix)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._bucket, name)


def _prefix_indexed(list_objects: Any, store: type, table_bucket: type) -> Any:
    @functools.wraps(list_objects)
    def patched(self: Any, bucket: Any, prefix: str | None, *args: Any, **kwargs: Any) -> Any:
        if prefix and isinstance(bucket.keys, store) and not isinstance(bucket, table_bucket):
            bucket = _BucketUnder(bucket, prefix)
        return list_objects(self, bucket, prefix, *args, **kwargs)

    patched.prefix_indexed = True  # type: ignore[attr-defined]
    return patched
