"""The hash-chained, append-only ledger of evaluation records.

Each entry is its own object (`ledger/entries/<seq>.json`, written once) holding the
SHA-256 of the previous entry, in the spirit of CloudTrail log file integrity
validation: changing, removing, inserting or reordering any entry breaks the chain from
that point on, and `ccm evidence verify` names where.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ccm.errors import EvidenceError
from ccm.evidence.store import EvidenceStore, sha256_bytes

ENTRIES = "ledger/entries"
GENESIS = "0" * 64


def canonical(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_key(seq: int) -> str:
    return f"{ENTRIES}/{seq:012d}.json"


@dataclass(frozen=True)
class LedgerEntry:
    seq: int
    prev_hash: str
    recorded_at: str
    kind: str
    body: dict[str, Any]
    entry_hash: str

    @staticmethod
    def compute_hash(seq: int, prev_hash: str, recorded_at: str, kind: str, body: dict[str, Any]) -> str:
        return sha256_bytes(canonical(
            {"seq": seq, "prev_hash": prev_hash, "recorded_at": recorded_at, "kind": kind, "body": body}
        ))

    def to_bytes(self) -> bytes:
        return canonical({
            "seq": self.seq, "prev_hash": self.prev_hash, "recorded_at": self.recorded_at, "kind": self.kind,
            "body": self.body, "entry_hash": self.entry_hash,
        })

    @classmethod
    def from_bytes(cls, data: bytes) -> LedgerEntry:
        doc = json.loads(data)
        return cls(doc["seq"], doc["prev_hash"], doc["recorded_at"], doc["kind"], doc["body"], doc["entry_hash"])


class Ledger:
    def __init__(self, store: EvidenceStore) -> None:
        self.store = store

    def keys(self) -> list[str]:
        return [k for k in self.store.list(ENTRIES) if k.endswith(".json")]

    def last(self) -> LedgerEntry | None:
        keys = self.keys()
        return LedgerEntry.from_bytes(self.store.get(keys[-1])) if keys else None

    def append(self, kind: str, body: dict[str, Any], recorded_at: str) -> LedgerEntry:
        last = self.last()
        seq = last.seq + 1 if last else 1
        prev = last.entry_hash if last else GENESIS
        entry = LedgerEntry(seq, prev, recorded_at, kind, body,
                            LedgerEntry.compute_hash(seq, prev, recorded_at, kind, body))
        key = entry_key(seq)
        if self.store.exists(key):
            raise EvidenceError(f"ledger entry {seq} already exists; another writer is appending")
        self.store.put(key, entry.to_bytes())
        return entry

    def entries(self) -> list[LedgerEntry]:
        return [LedgerEntry.from_bytes(self.store.get(k)) for k in self.keys()]
