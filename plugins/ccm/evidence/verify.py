"""`ccm evidence verify`: recompute everything from the stored bytes and name what is wrong.

Checked, in order:
1. the ledger chain: every entry's hash, its link to the previous entry, that file names
   and sequence numbers agree and have no gaps (modified, removed, inserted, reordered);
2. the digests: their own chain, that each still matches the entries it sealed, their
   signatures, and that every entry's `last_digest` anchor still matches the digest that
   was current when it was appended (a deleted or rolled-back digest shows there);
3. for each evaluation in the window: its record's SHA-256 against the ledger, and every
   artefact the record names (population, GX result, Data Docs page, extract manifest
   copies) against the SHA-256 in the record;
4. records in the store that no ledger entry names (entries removed);
5. optionally, the warehouse's `ccm.control_results` against the ledger (an independent
   copy of which evaluation sits at which sequence number);
6. on S3, objects with more than one version or a delete marker (rewritten or hidden);
7. the RFC 3161 timestamps beside the digests (`timestamping.py`), under the TSA root(s) the
   verifier trusts: the latest valid one fixes every entry it seals as of the TSA's time;
8. optionally, an earlier evidence pack (`--since-pack`): its ledger must be an unchanged
   prefix of this one (`continuity.py`).

The chain and digests are always checked whole; `--from/--to` limits steps 3-4 to the
evaluations whose period overlaps the window (so a pack, which holds only its window's
records and artefacts, verifies on its own).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from itertools import pairwise
from pathlib import Path
from typing import Any

from ccm.errors import EvidenceError
from ccm.evidence.ledger import (
    DIGESTS,
    ENTRIES,
    GENESIS,
    KEY_ROTATION,
    Digest,
    LedgerEntry,
    digest_key,
    entries_digest,
    entry_key,
    seq_of_key,
)
from ccm.evidence.record import EvaluationRecord
from ccm.evidence.records import EVALUATIONS
from ccm.evidence.signing import (
    PUBLIC_KEY_ENV,
    check_rotation_signature,
    check_signature,
    pinned_key_id,
    rotation_payload,
)
from ccm.evidence.store import EvidenceStore, sha256_bytes
from ccm.evidence.timestamping import TIMESTAMPS, TSA_ROOTS_ENV, check_token, roots_from_env, timestamp_key
from ccm.periods import as_utc


class Trust(StrEnum):
    """What vouches for the ledger's digests, weakest first (the report holds the weakest over
    all digests)."""

    UNSIGNED = "unsigned"  # no signature: only the operator
    UNCHECKED = "unchecked"  # an HMAC, and no secret here to check it
    HMAC = "hmac"  # an HMAC checked with the shared secret the operator also holds
    UNPINNED = "unpinned"  # Ed25519 under the key the digests carry themselves
    PINNED = "pinned"  # Ed25519 under the public key the verifier pinned


@dataclass(frozen=True)
class Finding:
    """One thing that is wrong, naming the object and what is wrong with it."""

    kind: str
    subject: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.subject}: {self.detail}"


@dataclass
class VerificationReport:
    store: str
    verified_at: str
    window: tuple[str, str] | None
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    trust: Trust = Trust.UNSIGNED
    key_id: str | None = None
    anchor: Anchor | None = None  # the latest digest a valid TSA token fixes
    since_pack: PackContinuity | None = None  # the earlier pack whose ledger this one continues

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def summary(self) -> str:
        """One line saying what was verified and who vouches for it; never a bare OK."""
        if not self.ok:
            return f"{len(self.findings)} finding(s)"
        return self._signature_summary() + (self.since_pack.clause if self.since_pack else "")

    def _signature_summary(self) -> str:
        anchor = self.anchor
        if self.trust is Trust.PINNED:
            stamped = f" and timestamped ({anchor.clause})" if anchor else ""
            return (f"OK, signed by pinned key {self.key_id}{stamped}: nothing was modified, removed, inserted or "
                    "reordered")
        if anchor is not None:
            signed = {Trust.UNPINNED: f"the digests are signed by key {self.key_id}, which is not pinned",
                      Trust.HMAC: f"the digests carry an HMAC (key {self.key_id})",
                      Trust.UNCHECKED: f"the digests carry an HMAC (key {self.key_id}) not checked here",
                      }.get(self.trust, "the digests are unsigned")
            tail = (f"; entries after {anchor.to_seq} rest on the operator alone until the next timestamp"
                    if anchor.to_seq < self.counts.get("entries", 0) else "")
            return (f"TIMESTAMPED: {anchor.clause}, so they cannot have been rewritten since then; {signed}{tail}")
        if self.trust is Trust.UNPINNED:
            return (f"NOT PINNED: the chain is internally consistent and signed by key {self.key_id}, but that key "
                    "is not pinned, so anyone who can write the evidence store could have produced these "
                    f"signatures; pin the owner's public key: {PUBLIC_KEY_ENV}=<PEM or path> ccm evidence verify "
                    "(or --public-key <PEM or path>)")
        if self.trust is Trust.HMAC:
            return (f"NOT PINNED (HMAC key {self.key_id}): the chain is internally consistent and matches the shared "
                    "secret, but whoever holds that secret (the operator) could have produced it: nothing outside "
                    "the operator vouches for it")
        if self.trust is Trust.UNCHECKED:
            return (f"UNCHECKED (HMAC key {self.key_id}, no secret to check it): the chain is internally consistent, "
                    "but nothing outside the operator vouches for it")
        return ("UNSIGNED: the chain is internally consistent, but nothing outside the operator vouches for it "
                "(anyone who can write the evidence store could have rewritten it consistently)")

    def add(self, kind: str, subject: str, detail: str) -> None:
        self.findings.append(Finding(kind, subject, detail))

    def to_dict(self) -> dict[str, Any]:
        return {"store": self.store, "verified_at": self.verified_at, "window": self.window, "ok": self.ok,
                "trust": self.trust.value, "key_id": self.key_id,
                "anchor": asdict(self.anchor) if self.anchor else None,
                "since_pack": asdict(self.since_pack) if self.since_pack else None, "summary": self.summary,
                "counts": self.counts, "findings": [asdict(f) for f in self.findings], "notes": self.notes}


@dataclass(frozen=True)
class Anchor:
    """Digest `digest_seq` (sealing entries 1..`to_seq`) existed at `gen_time`, says the TSA `tsa`."""

    digest_seq: int
    to_seq: int
    gen_time: str
    tsa: str | None

    @property
    def clause(self) -> str:
        by = f" by time-stamping authority {self.tsa}" if self.tsa else " by a trusted time-stamping authority"
        return f"entries 1..{self.to_seq} were fixed no later than {self.gen_time}{by}"


@dataclass(frozen=True)
class PackContinuity:
    """The earlier pack whose ledger this one was found to continue unchanged."""

    pack: str
    generated_at: str | None
    through_entry: int
    through_digest: int

    @property
    def clause(self) -> str:
        return (f"; entries 1..{self.through_entry} are unchanged since pack {self.pack}"
                f"{f' (built {self.generated_at})' if self.generated_at else ''}")


@dataclass(frozen=True)
class WarehouseRow:
    evaluation_id: str
    ledger_seq: int | None
    evidence_path: str | None


@dataclass(frozen=True)
class Scope:
    """Which evaluations steps 3-5 check: all, those overlapping a window, or (Type I, as of a
    day) exactly the latest closed period of each control. Both selections are read from the
    ledger itself, so a record cannot be dropped from a scope without it showing."""

    window: tuple[datetime, datetime] | None = None
    periods: frozenset[tuple[str, datetime]] | None = None

    def includes(self, control_id: str, start: datetime, end: datetime) -> bool:
        if self.periods is not None:
            return (control_id, start) in self.periods
        return self.overlaps(start, end)

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.window is None or (start < self.window[1] and end > self.window[0])


def _entry_period(store: EvidenceStore, entry: LedgerEntry) -> tuple[str, datetime, datetime] | None:
    body = entry.body
    if body.get("period_end"):
        return body["control_id"], as_utc(body["period_start"]), as_utc(body["period_end"])
    try:  # format-1 entries carry no period_end: read it from the record
        period = EvaluationRecord.from_json(store.get(body["record"])).period
    except (EvidenceError, ValueError, KeyError):
        return body.get("control_id"), as_utc(body["period_start"]), as_utc(body["period_start"])
    return body["control_id"], period.start, period.end


def as_of_scope(store: EvidenceStore, entries: dict[int, LedgerEntry], as_of_end: datetime) -> Scope:
    """Type I: for each control, the latest period closed by `as_of_end`."""
    latest: dict[str, datetime] = {}
    for entry in entries.values():
        if entry.kind != "evaluation":
            continue
        found = _entry_period(store, entry)
        if found and found[2] <= as_of_end and found[1] > latest.get(found[0], datetime.min.replace(tzinfo=UTC)):
            latest[found[0]] = found[1]
    return Scope(window=(as_of_end - timedelta(days=1), as_of_end),
                 periods=frozenset((control_id, start) for control_id, start in latest.items()))


def verify_store(store: EvidenceStore, start: datetime | None = None, end: datetime | None = None,
                 warehouse: list[WarehouseRow] | None = None, env: dict[str, str] | None = None,
                 as_of: datetime | None = None, require_pinned: bool = False, require_timestamp: bool = False,
                 since_pack: Path | None = None) -> VerificationReport:
    """Verify the store (see the module doc); `end` is exclusive; `as_of` (a day) selects the
    Type I scope instead of a window; `require_pinned` makes anything less than signatures under
    the pinned public key (`CCM_LEDGER_PUBLIC_KEY`) a finding; `require_timestamp` makes a latest
    digest without a valid TSA token (under `CCM_TSA_ROOTS`) a finding; `since_pack` checks that
    the ledger continues that earlier pack's unchanged."""
    window = (as_utc(start or datetime(1970, 1, 1, tzinfo=UTC)), as_utc(end or datetime(9999, 1, 1, tzinfo=UTC))) \
        if (start or end) else None
    report = VerificationReport(store=store.uri, verified_at=datetime.now(UTC).isoformat(),
                                window=(window[0].isoformat(), window[1].isoformat()) if window else None)
    entries = _check_entries(store, report)
    digests = _check_digests(store, entries, report, env)
    _check_anchors(entries, digests, report)
    _check_timestamps(store, digests, report, env, require_timestamp)
    if since_pack is not None:
        from ccm.evidence.continuity import check_since_pack

        report.since_pack = check_since_pack(since_pack, entries, digests, report)
    if as_of is not None:
        scope = as_of_scope(store, entries, as_utc(as_of) + timedelta(days=1))
        report.window = (f"as of {as_utc(as_of):%Y-%m-%d}", "")
    else:
        scope = Scope(window=window)
    referenced = _check_records(store, entries, scope, report)
    _check_orphans(store, referenced, scope, report)
    if warehouse is not None:
        _check_warehouse(entries, warehouse, scope, report)
    else:
        report.notes.append("no warehouse cross-check (no warehouse given, or it was busy)")
    if not store.is_local:
        for key, detail in store.version_anomalies():
            report.add("object-rewritten", key, detail)
    if require_pinned and report.trust is not Trust.PINNED:
        why = {Trust.UNPINNED: f"the digests are signed by key {report.key_id}, which is not pinned",
               Trust.HMAC: f"the digests carry an HMAC (key {report.key_id}), which only the operator's secret vouches for",
               Trust.UNCHECKED: f"the digests carry an HMAC (key {report.key_id}) that could not be checked",
               }.get(report.trust, "the digests are unsigned, their signatures did not verify, or nothing is sealed yet")
        if not pinned_key_id(env):
            why += f"; no public key is pinned: set {PUBLIC_KEY_ENV} or pass --public-key"
        report.add("trust-not-pinned", store.uri, f"--require-pinned: {why}")
    return report


# 1. entries ------------------------------------------------------------------------------

def _check_entries(store: EvidenceStore, report: VerificationReport) -> dict[int, LedgerEntry]:
    """Entries by the sequence number of their file name (as they are stored)."""
    by_file: dict[int, LedgerEntry] = {}
    for key in store.list(ENTRIES):
        seq = seq_of_key(key)
        if seq is None or key != entry_key(seq):
            report.add("entry-foreign", key, "a file in the ledger that is not a ledger entry (inserted)")
            continue
        try:
            entry = LedgerEntry.from_bytes(store.get(key))
        except (ValueError, KeyError, TypeError) as exc:
            report.add("entry-unreadable", key, f"ledger entry {seq} cannot be parsed ({exc}): modified")
            continue
        if entry.seq != seq:
            report.add("entry-reordered", key, f"the file of entry {seq} holds entry {entry.seq}: "
                       "entries were reordered or renumbered")
        if entry.recomputed_hash() != entry.entry_hash:
            report.add("entry-modified", key, f"ledger entry {seq} no longer matches its own hash: "
                       "its content was changed")
        by_file[seq] = entry
    report.counts["entries"] = len(by_file)
    if not by_file:
        report.notes.append("the ledger is empty")
        return by_file
    previous_hash = GENESIS
    expected = 1
    for seq in sorted(by_file):
        if seq != expected:
            missing = f"{expected}" if seq == expected + 1 else f"{expected}..{seq - 1}"
            report.add("entry-missing", entry_key(expected), f"ledger entry {missing} is missing (removed)")
            previous_hash = None
        entry = by_file[seq]
        if previous_hash is not None and entry.prev_hash != previous_hash:
            report.add("chain-broken", entry_key(seq),
                       f"entry {seq} does not follow entry {seq - 1}: an entry was inserted, removed, "
                       "modified or reordered here")
        previous_hash = entry.entry_hash
        expected = seq + 1
    return by_file


# 2. digests -------------------------------------------------------------------------------

def _check_digests(store: EvidenceStore, entries: dict[int, LedgerEntry], report: VerificationReport,
                   env: dict[str, str] | None) -> dict[int, tuple[Digest, str]]:
    digests: dict[int, tuple[Digest, str]] = {}
    for key in store.list(DIGESTS):
        seq = seq_of_key(key)
        if seq is None or key != digest_key(seq):
            report.add("digest-foreign", key, "a file among the digests that is not a digest (inserted)")
            continue
        data = store.get(key)
        try:
            digest = Digest.from_bytes(data)
        except (ValueError, KeyError, TypeError) as exc:
            report.add("digest-unreadable", key, f"digest {seq} cannot be parsed ({exc}): modified")
            continue
        if digest.digest_seq < seq:
            report.add("digest-rolled-back", key, f"the file of digest {seq} holds the older digest "
                       f"{digest.digest_seq}: the digest was rolled back")
        elif digest.digest_seq != seq:
            report.add("digest-reordered", key, f"the file of digest {seq} holds digest {digest.digest_seq}")
        digests[seq] = (digest, sha256_bytes(data))
    report.counts["digests"] = len(digests)
    base_env = dict(os.environ if env is None else env)
    rotated_from = _check_key_changes(entries, [digests[s][0] for s in sorted(digests)], report, base_env)
    pin = pinned_key_id(base_env)
    handed_over: set[str] = set()  # keys that handed over, by signed rotations, to the pinned key
    key = pin
    while key in rotated_from and rotated_from[key] not in handed_over:
        key = rotated_from[key]
        handed_over.add(key)
    unpinned_env = {k: v for k, v in base_env.items() if k != PUBLIC_KEY_ENV}
    levels: list[Trust] = []
    previous: tuple[Digest, str] | None = None
    expected = 1
    signed = 0
    for seq in sorted(digests):
        digest, digest_hash = digests[seq]
        key = digest_key(seq)
        if seq != expected:
            report.add("digest-missing", digest_key(expected), f"digest {expected} is missing (removed)")
        if previous is not None:
            if digest.previous_digest_sha256 != previous[1]:
                report.add("digest-chain-broken", key, f"digest {seq} does not follow digest {seq - 1}: "
                           f"digest {seq - 1} was modified or rolled back, or {seq} was forged")
            if digest.from_seq != previous[0].to_seq + 1:
                report.add("digest-gap", key, f"digest {seq} starts at entry {digest.from_seq}, but the previous "
                           f"digest ended at entry {previous[0].to_seq}")
        elif seq == 1 and (digest.previous_digest_sha256 != GENESIS or digest.from_seq != 1):
            report.add("digest-chain-broken", key, "the first digest does not start the digest chain")
        hashes = [entries[s].entry_hash if s in entries else "" for s in range(digest.from_seq, digest.to_seq + 1)]
        if entries_digest(hashes) != digest.entries_sha256 or hashes[-1:] != [digest.last_entry_hash]:
            report.add("digest-mismatch", key, f"entries {digest.from_seq}..{digest.to_seq} no longer match the "
                       "digest that sealed them: an entry in that range was changed, inserted, removed or "
                       "reordered")
        signature = digest.signature or {}
        rotated = signature.get("algorithm") == "ed25519" and signature.get("key_id") in handed_over
        check = check_signature(digest.signed_payload(), digest.signature, unpinned_env if rotated else base_env)
        if check.ok is False:
            report.add("digest-signature-invalid", key, f"digest {seq}: {check.detail}")
        elif check.ok:
            signed += 1
            if signature.get("algorithm") == "hmac-sha256":
                levels.append(Trust.HMAC)
            else:
                levels.append(Trust.PINNED if pin else Trust.UNPINNED)
        else:
            levels.append(Trust.UNCHECKED if digest.signature else Trust.UNSIGNED)
        previous = (digest, digest_hash)
        expected = seq + 1
    order = list(Trust)
    report.trust = min(levels, key=order.index) if levels else Trust.UNSIGNED
    if digests:
        last_signature = digests[max(digests)][0].signature or {}
        report.key_id = pin if report.trust is Trust.PINNED else last_signature.get("key_id")
    if digests:
        last = digests[max(digests)][0]
        report.notes.append(f"{len(digests)} digests seal entries 1..{last.to_seq}; {signed} signatures checked")
        tail = [s for s in entries if s > last.to_seq]
        if tail:
            report.notes.append(f"entries {min(tail)}..{max(tail)} are not sealed by a digest yet")
    elif entries:
        report.notes.append("no digest seals the ledger yet")
    return digests


def _check_key_changes(entries: dict[int, LedgerEntry], ordered: list[Digest], report: VerificationReport,
                       env: dict[str, str]) -> dict[str, str]:
    """A digest signed by another key than the one before it (or not at all) is a finding, unless a
    `key_rotation` entry it seals, signed by the previous key, names its key. Returns the accepted
    rotations, new key id -> previous key id."""
    accepted: dict[str, str] = {}
    for before, digest in pairwise(ordered):
        old, new = before.signature, digest.signature
        if not old:
            continue  # starting to sign is not a change of key
        key = digest_key(digest.digest_seq)
        if not new:
            report.add("signing-key-changed", key, f"digest {digest.digest_seq} is unsigned, although digest "
                       f"{before.digest_seq} was signed by key {old.get('key_id')}: its signature was stripped")
            continue
        if (new.get("key_id"), new.get("algorithm")) == (old.get("key_id"), old.get("algorithm")):
            continue
        handed = False
        for seq in range(before.to_seq + 1, digest.to_seq + 1):
            entry = entries.get(seq)
            if entry is None or entry.kind != KEY_ROTATION:
                continue
            body = entry.body
            if (body.get("previous_key_id"), body.get("new_key_id"), body.get("new_algorithm")) != \
                    (old.get("key_id"), new.get("key_id"), new.get("algorithm")) or \
                    (body.get("new_public_key") or "") != (new.get("public_key") or ""):
                continue
            payload = rotation_payload(body["previous_key_id"], body["new_key_id"], body["new_algorithm"],
                                       body.get("new_public_key"))
            check = check_rotation_signature(payload, body.get("signature"), old, env)
            if check.ok is False:
                report.add("key-rotation-invalid", entry_key(seq), f"the key rotation in entry {seq}: {check.detail}")
                continue
            if check.ok is None:
                report.notes.append(f"the key rotation in entry {seq} could not be checked: {check.detail}")
            handed = True
            accepted[new["key_id"]] = old["key_id"]
        if not handed:
            report.add("signing-key-changed", key, f"digest {digest.digest_seq} is signed by key "
                       f"{new.get('key_id')}, digest {before.digest_seq} by key {old.get('key_id')}, and no key "
                       f"rotation entry signed by key {old.get('key_id')} hands over to it")
    return accepted


def _check_anchors(entries: dict[int, LedgerEntry], digests: dict[int, tuple[Digest, str]],
                   report: VerificationReport) -> None:
    """Each entry names the digest that was current when it was appended; it must still be there, unchanged."""
    ordered = sorted((d.to_seq, n) for n, (d, _) in digests.items())
    for seq, entry in sorted(entries.items()):
        sealed_before = [n for to_seq, n in ordered if to_seq < seq]
        expected = max(sealed_before) if sealed_before else None
        anchor = entry.last_digest
        if anchor is None:
            if expected is not None and any(e.last_digest for e in entries.values()):
                report.add("entry-anchor-mismatch", entry_key(seq), f"entry {seq} names no digest, although "
                           f"digest {expected} had sealed the ledger before it: forged or re-written")
            continue
        number = anchor.get("digest_seq")
        if number not in digests:
            report.add("digest-missing", digest_key(number), f"entry {seq} was appended after digest {number}, "
                       "which is no longer in the store (removed or rolled back)")
        elif digests[number][1] != anchor.get("sha256"):
            report.add("digest-modified", digest_key(number), f"digest {number} is not the digest entry {seq} was "
                       "appended after: it was rewritten or rolled back")
        elif expected != number:
            report.add("entry-anchor-mismatch", entry_key(seq), f"entry {seq} names digest {number}, but digest "
                       f"{expected} was the latest before it")


def _check_timestamps(store: EvidenceStore, digests: dict[int, tuple[Digest, str]], report: VerificationReport,
                      env: dict[str, str] | None, require_timestamp: bool) -> None:
    """Every stored token must match its digest (and verify under the trusted roots, when given); the
    latest valid one becomes the report's anchor."""
    roots = roots_from_env(env)
    tokens = 0
    unchecked = 0
    for key in store.list(TIMESTAMPS):
        seq = seq_of_key(key)
        if seq is None or key != timestamp_key(seq):
            report.add("timestamp-foreign", key, "a file among the timestamps that is not a digest's token (inserted)")
            continue
        tokens += 1
        if seq not in digests:
            report.add("timestamp-orphan", key, f"a timestamp token for digest {seq}, which is not in the store "
                       "(removed or rolled back)")
            continue
        digest, digest_hash = digests[seq]
        check = check_token(store.get(key), digest_hash, roots)
        if check.ok is False:
            report.add("timestamp-invalid", key, f"digest {seq}: {check.detail}")
            continue
        if check.ok is None:
            unchecked += 1
            continue
        if report.anchor is None or seq > report.anchor.digest_seq:
            report.anchor = Anchor(seq, digest.to_seq, check.gen_time.isoformat() if check.gen_time else "",
                                   check.tsa)
    if tokens:
        report.counts["timestamps"] = tokens
    if unchecked:
        report.notes.append(f"{unchecked} timestamp token(s) match their digests, but no trusted TSA root is "
                            f"given ({TSA_ROOTS_ENV}), so their signatures were not checked")
    if require_timestamp and digests:
        last = max(digests)
        if report.anchor is None or report.anchor.digest_seq != last:
            why = (f"no trusted TSA root is given: set {TSA_ROOTS_ENV}" if not roots else
                   f"digest {last}, the latest, has no valid timestamp token")
            report.add("not-timestamped", digest_key(last), f"--require-timestamp: {why}")


# 3. records and artefacts -----------------------------------------------------------------

def _check_artefact(store: EvidenceStore, report: VerificationReport, what: str, path: str | None,
                    expected: str | None, owner: str) -> None:
    if not path:
        return
    if not store.exists(path):
        report.add("artefact-missing", path, f"the {what} of {owner} is missing")
        return
    if expected and sha256_bytes(store.get(path)) != expected:
        report.add("artefact-modified", path, f"the {what} of {owner} does not match the SHA-256 in its record")
    report.counts["artefacts"] = report.counts.get("artefacts", 0) + 1


def _check_records(store: EvidenceStore, entries: dict[int, LedgerEntry], scope: Scope,
                   report: VerificationReport) -> set[str]:
    referenced: set[str] = set()
    checked = 0
    for seq, entry in sorted(entries.items()):
        if entry.kind == "run_history":  # an export of Airflow's run history, named by path and SHA-256
            body = entry.body
            if not scope.overlaps(as_utc(body["window_start"]), as_utc(body["window_end"])):
                continue
            _check_artefact(store, report, "Airflow run history export", entry.body.get("path"),
                            entry.body.get("sha256"), f"ledger entry {seq}")
            continue
        if entry.kind != "evaluation":
            continue
        key = entry.body.get("record")
        referenced.add(key)
        body = entry.body
        if body.get("period_end") and not scope.includes(body["control_id"], as_utc(body["period_start"]),
                                                         as_utc(body["period_end"])):
            continue
        if not key or not store.exists(key):
            report.add("record-missing", key or entry_key(seq), f"the evaluation record of ledger entry {seq} "
                       f"({body.get('control_id')} {str(body.get('period_start'))[:10]} v{body.get('version')}) "
                       "is missing")
            continue
        data = store.get(key)
        if sha256_bytes(data) != body.get("record_sha256"):
            report.add("record-modified", key, f"the evaluation record of ledger entry {seq} does not match the "
                       "SHA-256 in the ledger: it was changed")
            continue
        try:
            record = EvaluationRecord.from_json(data)
        except ValueError as exc:  # its hash matches the ledger: the entry was forged along with it
            report.add("record-unreadable", key, f"the evaluation record of ledger entry {seq} matches the ledger "
                       f"but is not an evaluation record ({exc})")
            continue
        if not scope.includes(record.control_id, record.period.start, record.period.end):
            continue
        checked += 1
        for what, path, expected in record.artefacts():
            _check_artefact(store, report, what, path, expected, record.label)
    report.counts["records"] = checked
    return referenced


def _check_orphans(store: EvidenceStore, referenced: set[str], scope: Scope, report: VerificationReport) -> None:
    for key in store.list(EVALUATIONS):
        if key in referenced or not key.endswith(".json"):
            continue
        if scope.window is not None:
            try:
                record = EvaluationRecord.from_json(store.get(key))
                if not scope.includes(record.control_id, record.period.start, record.period.end):
                    continue
            except ValueError:
                pass
        report.add("record-not-in-ledger", key, "an evaluation record that no ledger entry names: its entry was "
                   "removed (or the writer stopped between the record and its entry)")


# 5. warehouse ------------------------------------------------------------------------------

def _check_warehouse(entries: dict[int, LedgerEntry], rows: list[WarehouseRow], scope: Scope,
                     report: VerificationReport) -> None:
    by_evaluation = {e.body.get("evaluation_id"): (seq, e) for seq, e in entries.items() if e.kind == "evaluation"}
    known = {r.evaluation_id for r in rows}
    for row in rows:
        found = by_evaluation.get(row.evaluation_id)
        if found is None:
            report.add("entry-missing-for-result", row.evidence_path or row.evaluation_id,
                       f"the warehouse recorded evaluation {row.evaluation_id} at ledger entry {row.ledger_seq}, "
                       "but no ledger entry names it")
        elif row.ledger_seq is not None and found[0] != row.ledger_seq:
            report.add("entry-moved", entry_key(found[0]), f"evaluation {row.evaluation_id} is at entry {found[0]}, "
                       f"but the warehouse recorded it at entry {row.ledger_seq}: entries were inserted or reordered")
    for seq, entry in sorted(entries.items()):
        if entry.kind == "evaluation" and entry.body.get("evaluation_id") not in known:
            body = entry.body
            if body.get("period_end") and not scope.includes(body["control_id"], as_utc(body["period_start"]),
                                                             as_utc(body["period_end"])):
                continue
            report.add("entry-not-in-warehouse", entry_key(seq), f"ledger entry {seq} names evaluation "
                       f"{body.get('evaluation_id')}, which the warehouse never recorded: forged?")
    report.counts["warehouse_results"] = len(rows)


def warehouse_rows(warehouse_path: Any) -> list[WarehouseRow] | None:
    """Every evaluation the warehouse recorded (all versions), or None if there is no warehouse."""
    from pathlib import Path

    import duckdb

    from ccm.warehouse import connect

    if not Path(warehouse_path).exists():
        return None
    try:
        with connect(warehouse_path, read_only=True) as con:
            exists = con.execute("select count(*) from information_schema.tables where table_schema = 'ccm' "
                                 "and table_name = 'control_results'").fetchone()[0]
            if not exists:
                return None
            rows = con.execute("select evaluation_id, ledger_seq, evidence_path from ccm.control_results").fetchall()
    except duckdb.Error:  # another process holds the write lock (a pipeline run): verify without it
        return None
    return [WarehouseRow(r[0], r[1], r[2]) for r in rows]
