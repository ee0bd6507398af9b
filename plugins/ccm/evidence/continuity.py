"""Pack-to-pack continuity: the ledger an auditor kept must be an unchanged prefix of today's.

A pack holds the whole ledger as it stood when the pack was built, and its manifest names the
head (last entry and digest, with their hashes). An auditor who kept last quarter's pack holds
a copy of that history outside the operator's reach: `ccm evidence verify --since-pack PACK`
compares it entry by entry and digest by digest with the store (or a later pack) being
verified. Any rewrite of the earlier history, however consistent in itself, differs there.

The earlier pack is checked first against its own SHA256SUMS, so a damaged or edited copy is
reported as such rather than trusted.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ccm.errors import EvidenceError
from ccm.evidence.ledger import (
    DIGESTS,
    ENTRIES,
    Digest,
    Ledger,
    LedgerEntry,
    digest_key,
    entry_key,
    seq_of_key,
)
from ccm.evidence.store import EvidenceStore

if TYPE_CHECKING:
    from ccm.evidence.verify import PackContinuity, VerificationReport

EVIDENCE_PREFIX = "evidence/"


@dataclass(frozen=True)
class KeptPack:
    """An earlier pack's name, build time, head and ledger objects (relative key -> bytes)."""

    name: str
    generated_at: str | None
    head: dict[str, object] | None
    files: dict[str, bytes]

    @classmethod
    def open(cls, path: Path) -> KeptPack:
        """Read a pack folder or its .zip; refuse one whose files do not match its own SHA256SUMS."""
        path = Path(path)
        if path.is_dir():
            contents = {p.relative_to(path).as_posix(): p.read_bytes() for p in path.rglob("*") if p.is_file()}
        elif zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                contents = {name.split("/", 1)[1]: archive.read(name) for name in archive.namelist()
                            if "/" in name and not name.endswith("/")}
        else:
            raise EvidenceError(f"--since-pack {path}: not an evidence pack folder or .zip")
        if "SHA256SUMS" not in contents or "manifest.json" not in contents:
            raise EvidenceError(f"--since-pack {path}: not an evidence pack (no SHA256SUMS or manifest.json)")
        for line in contents["SHA256SUMS"].decode().splitlines():
            expected, _, relative = line.partition("  ")
            data = contents.get(relative)
            if data is None or hashlib.sha256(data).hexdigest() != expected:
                raise EvidenceError(f"--since-pack {path}: {relative} does not match the pack's SHA256SUMS: "
                                    "this copy of the earlier pack was changed or damaged")
        manifest = json.loads(contents["manifest.json"])
        ledger = {key.removeprefix(EVIDENCE_PREFIX): data for key, data in contents.items()
                  if key.startswith(f"{EVIDENCE_PREFIX}{ENTRIES}/") or key.startswith(f"{EVIDENCE_PREFIX}{DIGESTS}/")}
        return cls(manifest.get("name", path.name), manifest.get("generated_at"), manifest.get("ledger_head"), ledger)

    def objects(self, prefix: str) -> dict[int, bytes]:
        found = {}
        for key, data in self.files.items():
            seq = seq_of_key(key)
            if key.startswith(f"{prefix}/") and seq is not None:
                found[seq] = data
        return found


def check_since_pack(path: Path, entries: dict[int, LedgerEntry], digests: dict[int, tuple[Digest, str]],
                     report: VerificationReport) -> PackContinuity | None:
    """Add a finding for every entry or digest of the earlier pack that is missing or different now."""
    from ccm.evidence.verify import PackContinuity

    try:
        kept = KeptPack.open(path)
    except EvidenceError as exc:
        report.add("earlier-pack-unusable", str(path), str(exc))
        return None
    kept_entries, kept_digests = kept.objects(ENTRIES), kept.objects(DIGESTS)
    if not kept_entries:
        report.add("earlier-pack-unusable", str(path), "the earlier pack holds no ledger entries")
        return None
    head = kept.head or {}
    if head and (head.get("entry_seq") != max(kept_entries) or head.get("digest_seq", 0) != max(kept_digests, default=0)):
        report.add("earlier-pack-unusable", str(path), f"the pack's manifest names head entry {head.get('entry_seq')} "
                   f"and digest {head.get('digest_seq')}, but it holds entries up to {max(kept_entries)} and digests "
                   f"up to {max(kept_digests, default=0)}")
        return None
    rewritten = 0
    for seq, data in sorted(kept_entries.items()):
        now = entries.get(seq)
        kept_entry = LedgerEntry.from_bytes(data)
        if now is None:
            report.add("history-truncated", entry_key(seq), f"entry {seq}, in pack {kept.name}, is no longer in the "
                       "ledger")
            rewritten += 1
        elif now.entry_hash != kept_entry.entry_hash:
            report.add("history-rewritten", entry_key(seq), f"entry {seq} differs from its copy in pack {kept.name}"
                       f" ({kept_entry.kind} {_label(kept_entry)}): the history was rewritten after that pack")
            rewritten += 1
    for seq, data in sorted(kept_digests.items()):
        now_digest = digests.get(seq)
        if now_digest is None:
            report.add("history-truncated", digest_key(seq), f"digest {seq}, in pack {kept.name}, is no longer in the "
                       "store")
            rewritten += 1
        elif now_digest[1] != hashlib.sha256(data).hexdigest():
            report.add("history-rewritten", digest_key(seq), f"digest {seq} differs from its copy in pack {kept.name}")
            rewritten += 1
    if rewritten:
        return None
    return PackContinuity(kept.name, kept.generated_at, max(kept_entries), max(kept_digests, default=0))


def _label(entry: LedgerEntry) -> str:
    body = entry.body
    if entry.kind == "evaluation":
        return f"{body.get('control_id')} {str(body.get('period_start'))[:10]} v{body.get('version')}"
    return ""


def ledger_head(store: EvidenceStore) -> dict[str, object]:
    """What a pack records as the ledger it was built on: its last entry and digest, with their hashes."""
    ledger = Ledger(store)
    last_entry, last_digest = ledger.last(), ledger.last_digest()
    return {"entry_seq": last_entry.seq if last_entry else 0,
            "entry_hash": last_entry.entry_hash if last_entry else None,
            "digest_seq": last_digest[0].digest_seq if last_digest else 0,
            "digest_sha256": last_digest[1] if last_digest else None}
