"""The hash-chained, append-only ledger of evaluation records, sealed by signed-off digests.

Each entry is its own object (`ledger/entries/<seq>.json`, written once) holding the
SHA-256 of the previous entry, in the spirit of CloudTrail log file integrity
validation: changing, removing, inserting or reordering any entry breaks the chain from
that point on, and `ccm evidence verify` names where.

A digest (`ledger/digests/<n>.json`, written once) seals the entries appended since the
previous digest: it holds the hash of those entries' hashes, the hash of the last one,
and the SHA-256 of the previous digest, so the digests form a second chain over the
first. It is signed off: it says who or what closed it (the Airflow run, or the person
at the CLI) and when, and is signed when a ledger key is configured (`signing.py`).
Each entry in turn carries the digest that was current when it was appended
(`last_digest`), so removing or rolling back a digest is visible from every later entry.
The evaluate step seals once per run; `ccm evidence seal` seals by hand.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ccm.errors import EvidenceError
from ccm.evidence.signing import Signer
from ccm.evidence.store import EvidenceStore, sha256_bytes
from ccm.evidence.timestamping import TimestampAuthority, stamp

ENTRIES = "ledger/entries"
DIGESTS = "ledger/digests"
GENESIS = "0" * 64


def canonical(doc: dict[str, Any]) -> bytes:
    """The one byte form every hash and signature in the ledger is computed over."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_key(seq: int) -> str:
    return f"{ENTRIES}/{seq:012d}.json"


def digest_key(digest_seq: int) -> str:
    return f"{DIGESTS}/{digest_seq:06d}.json"


def seq_of_key(key: str) -> int | None:
    """The sequence number a ledger object's file name claims, or None if the name is foreign."""
    stem = key.rsplit("/", 1)[-1].split(".", 1)[0]
    return int(stem) if stem.isdigit() else None


@dataclass(frozen=True)
class LedgerEntry:
    seq: int
    prev_hash: str
    recorded_at: str
    kind: str
    body: dict[str, Any]
    entry_hash: str
    last_digest: dict[str, Any] | None = None  # {"digest_seq", "sha256"} current when appended

    @staticmethod
    def hashed_fields(seq: int, prev_hash: str, recorded_at: str, kind: str, body: dict[str, Any],
                      last_digest: dict[str, Any] | None) -> dict[str, Any]:
        doc = {"seq": seq, "prev_hash": prev_hash, "recorded_at": recorded_at, "kind": kind, "body": body}
        if last_digest is not None:
            doc["last_digest"] = last_digest
        return doc

    @staticmethod
    def compute_hash(seq: int, prev_hash: str, recorded_at: str, kind: str, body: dict[str, Any],
                     last_digest: dict[str, Any] | None = None) -> str:
        return sha256_bytes(canonical(LedgerEntry.hashed_fields(seq, prev_hash, recorded_at, kind, body, last_digest)))

    def recomputed_hash(self) -> str:
        return self.compute_hash(self.seq, self.prev_hash, self.recorded_at, self.kind, self.body, self.last_digest)

    def to_bytes(self) -> bytes:
        doc = self.hashed_fields(self.seq, self.prev_hash, self.recorded_at, self.kind, self.body, self.last_digest)
        return canonical({**doc, "entry_hash": self.entry_hash})

    @classmethod
    def from_bytes(cls, data: bytes) -> LedgerEntry:
        doc = json.loads(data)
        return cls(doc["seq"], doc["prev_hash"], doc["recorded_at"], doc["kind"], doc["body"], doc["entry_hash"],
                   doc.get("last_digest"))


@dataclass(frozen=True)
class Digest:
    """A signed-off seal over the entries [from_seq, to_seq]."""

    digest_seq: int
    from_seq: int
    to_seq: int
    entries_sha256: str  # SHA-256 over the covered entries' hashes, one per line, in order
    last_entry_hash: str
    previous_digest_sha256: str  # SHA-256 of the previous digest object's bytes (GENESIS for the first)
    closed_by: dict[str, Any]
    closed_at: str
    signature: dict[str, str] | None = None

    def unsigned_doc(self) -> dict[str, Any]:
        return {
            "digest_seq": self.digest_seq, "from_seq": self.from_seq, "to_seq": self.to_seq,
            "entry_count": self.to_seq - self.from_seq + 1, "entries_sha256": self.entries_sha256,
            "last_entry_hash": self.last_entry_hash, "previous_digest_sha256": self.previous_digest_sha256,
            "closed_by": self.closed_by, "closed_at": self.closed_at,
        }

    def signed_payload(self) -> bytes:
        return canonical(self.unsigned_doc())

    def to_bytes(self) -> bytes:
        return canonical({**self.unsigned_doc(), "signature": self.signature})

    @classmethod
    def from_bytes(cls, data: bytes) -> Digest:
        doc = json.loads(data)
        return cls(doc["digest_seq"], doc["from_seq"], doc["to_seq"], doc["entries_sha256"], doc["last_entry_hash"],
                   doc["previous_digest_sha256"], doc["closed_by"], doc["closed_at"], doc.get("signature"))


def entries_digest(entry_hashes: list[str]) -> str:
    return sha256_bytes("\n".join(entry_hashes).encode())


class Ledger:
    """Appends entries and digests. One writer at a time (the evaluate task runs in a one-slot
    pool); a second writer racing for the same sequence number is refused by the write-once
    store, never silently interleaved."""

    def __init__(self, store: EvidenceStore) -> None:
        self.store = store
        self._last: LedgerEntry | None = None
        self._last_loaded = False
        self._last_digest: tuple[Digest, str] | None = None
        self._digest_loaded = False

    def keys(self) -> list[str]:
        return [k for k in self.store.list(ENTRIES) if k.endswith(".json")]

    def digest_keys(self) -> list[str]:
        return [k for k in self.store.list(DIGESTS) if k.endswith(".json")]

    def last(self) -> LedgerEntry | None:
        if not self._last_loaded:
            keys = self.keys()
            self._last = LedgerEntry.from_bytes(self.store.get(keys[-1])) if keys else None
            self._last_loaded = True
        return self._last

    def last_digest(self) -> tuple[Digest, str] | None:
        """The latest digest and the SHA-256 of its stored bytes."""
        if not self._digest_loaded:
            keys = self.digest_keys()
            if keys:
                data = self.store.get(keys[-1])
                self._last_digest = (Digest.from_bytes(data), sha256_bytes(data))
            self._digest_loaded = True
        return self._last_digest

    def append(self, kind: str, body: dict[str, Any], recorded_at: str) -> LedgerEntry:
        last = self.last()
        seq = last.seq + 1 if last else 1
        prev = last.entry_hash if last else GENESIS
        current = self.last_digest()
        anchor = {"digest_seq": current[0].digest_seq, "sha256": current[1]} if current else None
        entry = LedgerEntry(seq, prev, recorded_at, kind, body,
                            LedgerEntry.compute_hash(seq, prev, recorded_at, kind, body, anchor), anchor)
        key = entry_key(seq)
        if self.store.exists(key):
            raise EvidenceError(f"ledger entry {seq} already exists; another writer is appending")
        self.store.put(key, entry.to_bytes())
        self._last = entry
        return entry

    def entries(self) -> list[LedgerEntry]:
        return [LedgerEntry.from_bytes(self.store.get(k)) for k in self.keys()]

    def seal(self, closed_by: dict[str, Any], closed_at: str, signer: Signer | None = None,
             authority: TimestampAuthority | None = None) -> Digest | None:
        """Write a digest over the entries appended since the last digest (None if there are none),
        then, with a time-stamping authority configured, its RFC 3161 token (`timestamping.py`)."""
        last = self.last()
        current = self.last_digest()
        from_seq = current[0].to_seq + 1 if current else 1
        if last is None or last.seq < from_seq:
            return None
        hashes = [LedgerEntry.from_bytes(self.store.get(entry_key(seq))).entry_hash
                  for seq in range(from_seq, last.seq + 1)]
        digest = Digest(
            digest_seq=current[0].digest_seq + 1 if current else 1, from_seq=from_seq, to_seq=last.seq,
            entries_sha256=entries_digest(hashes), last_entry_hash=last.entry_hash,
            previous_digest_sha256=current[1] if current else GENESIS, closed_by=closed_by, closed_at=closed_at,
        )
        if signer is not None:
            digest = Digest(**{**digest.__dict__, "signature": signer.sign(digest.signed_payload())})
        key = digest_key(digest.digest_seq)
        if self.store.exists(key):
            raise EvidenceError(f"ledger digest {digest.digest_seq} already exists; another writer is sealing")
        data = digest.to_bytes()
        self.store.put(key, data)
        self._last_digest = (digest, sha256_bytes(data))
        if authority is not None:
            stamp(self.store, authority, digest.digest_seq, data)
        return digest


KEY_ROTATION = "key_rotation"


def rotate_key(store: EvidenceStore, previous: Signer, new: Signer, closed_by: dict[str, Any],
               recorded_at: str, authority: TimestampAuthority | None = None) -> tuple[LedgerEntry, Digest | None]:
    """Hand the ledger over to a new signing key: a `key_rotation` entry naming the new key, signed by
    the previous one, then a digest signed by the new key sealing it. `ccm evidence verify` accepts a
    change of key between digests only after such an entry."""
    from ccm.evidence.signing import rotation_payload

    ledger = Ledger(store)
    current = ledger.last_digest()
    signature = current[0].signature if current else None
    if signature is None or signature.get("key_id") != previous.key_id:
        raise EvidenceError(f"the latest digest is not signed by key {previous.key_id}: a rotation must be "
                            "signed by the key that signed the ledger so far")
    payload = rotation_payload(previous.key_id, new.key_id, new.algorithm, new.public_key_b64)
    body = {"previous_key_id": previous.key_id, "new_key_id": new.key_id, "new_algorithm": new.algorithm,
            "new_public_key": new.public_key_b64 or "", "signature": previous.sign(payload)}
    entry = ledger.append(KEY_ROTATION, body, recorded_at)
    return entry, ledger.seal(closed_by, recorded_at, new, authority)
