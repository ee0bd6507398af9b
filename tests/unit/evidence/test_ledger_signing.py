"""Signed digests: a rewrite that recomputes every hash is still caught when a key signs the digests."""

from __future__ import annotations

import pytest

from ccm.errors import ConfigError, EvidenceError
from ccm.evidence.ledger import Digest, Ledger, LedgerEntry, digest_key, entries_digest, entry_key
from ccm.evidence.signing import HMAC_ENV, PUBLIC_KEY_ENV, SIGNING_KEY_ENV, signer_from_env
from ccm.evidence.store import EvidenceStore, sha256_bytes
from ccm.evidence.verify import verify_store
from tests.unit.evidence.synthetic import ed25519_pem_pair

HMAC_KEY = "k" * 40
CLOSED_BY = {"actor": "tests", "dag_id": "cli", "run_id": "", "task_id": "seal", "try_number": 1}


def _ledger(tmp_path, env: dict[str, str], entries: int = 3) -> EvidenceStore:
    store = EvidenceStore(str(tmp_path / "evidence"))
    ledger = Ledger(store)
    for n in range(entries):
        ledger.append("note", {"n": n}, f"2025-10-0{n + 1}T00:00:00+00:00")
    ledger.seal(CLOSED_BY, "2025-10-05T00:00:00+00:00", signer_from_env(env))
    return store


def _rewrite_everything(store: EvidenceStore) -> None:
    """What an attacker without the key can do: change an entry and recompute every hash."""
    entries = [LedgerEntry.from_bytes(store.get(k)) for k in store.list("ledger/entries")]
    previous = "0" * 64
    rewritten = []
    for entry in entries:
        body = {"n": 99} if entry.seq == 2 else entry.body
        digest = LedgerEntry.compute_hash(entry.seq, previous, entry.recorded_at, entry.kind, body, entry.last_digest)
        rewritten.append(LedgerEntry(entry.seq, previous, entry.recorded_at, entry.kind, body, digest,
                                     entry.last_digest))
        store.local_path(entry_key(entry.seq)).write_bytes(rewritten[-1].to_bytes())
        previous = digest
    old = Digest.from_bytes(store.get(digest_key(1)))
    forged = Digest(**{**old.__dict__, "entries_sha256": entries_digest([e.entry_hash for e in rewritten]),
                       "last_entry_hash": rewritten[-1].entry_hash})
    store.local_path(digest_key(1)).write_bytes(forged.to_bytes())


def test_an_unsigned_ledger_cannot_tell_a_complete_rewrite(tmp_path):
    store = _ledger(tmp_path, {})
    _rewrite_everything(store)
    assert verify_store(store, env={}).ok  # why digests should be signed: documented in the auditor guide


def test_an_hmac_signed_digest_catches_a_complete_rewrite(tmp_path):
    env = {HMAC_ENV: HMAC_KEY}
    store = _ledger(tmp_path, env)
    digest = Digest.from_bytes(store.get(digest_key(1)))
    assert digest.signature["algorithm"] == "hmac-sha256" and HMAC_KEY not in store.get(digest_key(1)).decode()
    assert verify_store(store, env=env).ok
    _rewrite_everything(store)
    findings = verify_store(store, env=env).findings
    assert [(f.kind, f.subject) for f in findings] == [("digest-signature-invalid", digest_key(1))]


def test_a_wrong_or_missing_hmac_key(tmp_path):
    store = _ledger(tmp_path, {HMAC_ENV: HMAC_KEY})
    wrong = verify_store(store, env={HMAC_ENV: "x" * 40})
    assert [f.kind for f in wrong.findings] == ["digest-signature-invalid"]
    unchecked = verify_store(store, env={})
    assert unchecked.ok and "0 signatures checked" in " ".join(unchecked.notes)
    with pytest.raises(ConfigError):
        signer_from_env({HMAC_ENV: "short"})


def test_ed25519_digests_verify_with_the_pinned_public_key_only(tmp_path):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
        PublicFormat,
    )

    def pem_pair() -> tuple[str, str]:
        key = Ed25519PrivateKey.generate()
        private = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
        public = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
        return private, public

    private, public = pem_pair()
    other_private, _ = pem_pair()
    key_file = tmp_path / "ledger.pem"
    key_file.write_text(private)
    store = _ledger(tmp_path, {SIGNING_KEY_ENV: str(key_file)})
    assert verify_store(store, env={PUBLIC_KEY_ENV: public}).ok
    # re-signed by someone else (the digest is self-consistent, but not with the pinned key)
    digest = Digest.from_bytes(store.get(digest_key(1)))
    resigned = Digest(**{**digest.__dict__, "signature": signer_from_env({SIGNING_KEY_ENV: other_private}).sign(
        digest.signed_payload())})
    store.local_path(digest_key(1)).write_bytes(resigned.to_bytes())
    assert verify_store(store, env={}).ok  # without a pinned key only consistency is checked
    findings = verify_store(store, env={PUBLIC_KEY_ENV: public}).findings
    assert [(f.kind, f.subject) for f in findings] == [("digest-signature-invalid", digest_key(1))]


def test_digests_chain_and_entries_anchor_the_current_digest(tmp_path):
    store = _ledger(tmp_path, {})
    ledger = Ledger(store)
    entry = ledger.append("note", {"n": 3}, "2025-10-06T00:00:00+00:00")
    assert entry.last_digest == {"digest_seq": 1, "sha256": sha256_bytes(store.get(digest_key(1)))}
    second = ledger.seal(CLOSED_BY, "2025-10-07T00:00:00+00:00")
    assert (second.digest_seq, second.from_seq, second.to_seq) == (2, 4, 4)
    assert second.previous_digest_sha256 == sha256_bytes(store.get(digest_key(1)))
    assert ledger.seal(CLOSED_BY, "2025-10-07T00:00:00+00:00") is None  # nothing new to seal
    assert verify_store(store).ok


def test_the_store_never_overwrites(tmp_path):
    store = EvidenceStore(str(tmp_path / "evidence"))
    store.put("a/b.json", b"one")
    assert store.put("a/b.json", b"one")  # identical: a retried task is harmless
    with pytest.raises(EvidenceError, match="never overwritten"):
        store.put("a/b.json", b"two")
    assert store.get("a/b.json") == b"one"


def test_a_silent_change_of_signing_key_is_a_finding(tmp_path):
    old_private, old_public = ed25519_pem_pair()
    new_private, new_public = ed25519_pem_pair()
    store = _ledger(tmp_path, {SIGNING_KEY_ENV: old_private})
    ledger = Ledger(store)
    ledger.append("note", {"n": 3}, "2025-10-06T00:00:00+00:00")
    ledger.seal(CLOSED_BY, "2025-10-07T00:00:00+00:00", signer_from_env({SIGNING_KEY_ENV: new_private}))
    for env in ({}, {PUBLIC_KEY_ENV: new_public}, {PUBLIC_KEY_ENV: old_public}):
        report = verify_store(store, env=env)
        assert ("signing-key-changed", digest_key(2)) in [(f.kind, f.subject) for f in report.findings], env


def test_stripping_the_signature_of_a_later_digest_is_a_finding(tmp_path):
    private, _ = ed25519_pem_pair()
    store = _ledger(tmp_path, {SIGNING_KEY_ENV: private})
    ledger = Ledger(store)
    ledger.append("note", {"n": 3}, "2025-10-06T00:00:00+00:00")
    ledger.seal(CLOSED_BY, "2025-10-07T00:00:00+00:00", None)
    assert [f.kind for f in verify_store(store, env={}).findings] == ["signing-key-changed"]


def test_a_rotation_signed_by_the_previous_key_is_accepted(tmp_path):
    from ccm.evidence.ledger import KEY_ROTATION, rotate_key

    old_private, old_public = ed25519_pem_pair()
    new_private, new_public = ed25519_pem_pair()
    old, new = signer_from_env({SIGNING_KEY_ENV: old_private}), signer_from_env({SIGNING_KEY_ENV: new_private})
    store = _ledger(tmp_path, {SIGNING_KEY_ENV: old_private})
    entry, digest = rotate_key(store, old, new, CLOSED_BY, "2025-10-06T00:00:00+00:00")
    assert entry.kind == KEY_ROTATION and digest.signature["key_id"] == new.key_id
    ledger = Ledger(store)
    ledger.append("note", {"n": 4}, "2025-10-07T00:00:00+00:00")
    ledger.seal(CLOSED_BY, "2025-10-08T00:00:00+00:00", new)
    unpinned = verify_store(store, env={})
    assert unpinned.ok and unpinned.trust == "unpinned" and unpinned.key_id == new.key_id
    pinned = verify_store(store, env={PUBLIC_KEY_ENV: new_public}, require_pinned=True)
    assert pinned.ok, [str(f) for f in pinned.findings]
    assert pinned.summary == f"OK, signed by pinned key {new.key_id}: nothing was modified, removed, inserted or " \
                             "reordered"
    # the old key alone does not vouch for digests signed by the new one
    assert not verify_store(store, env={PUBLIC_KEY_ENV: old_public}).ok
    # a rotation needs the current key
    with pytest.raises(EvidenceError, match="must be signed by the key"):
        rotate_key(store, old, new, CLOSED_BY, "2025-10-09T00:00:00+00:00")


def test_a_rotation_not_signed_by_the_previous_key_is_a_finding(tmp_path):
    from ccm.evidence.ledger import KEY_ROTATION
    from ccm.evidence.signing import rotation_payload

    old_private, _ = ed25519_pem_pair()
    attacker = signer_from_env({SIGNING_KEY_ENV: ed25519_pem_pair()[0]})
    store = _ledger(tmp_path, {SIGNING_KEY_ENV: old_private})
    old = signer_from_env({SIGNING_KEY_ENV: old_private})
    ledger = Ledger(store)
    payload = rotation_payload(old.key_id, attacker.key_id, "ed25519", attacker.public_key_b64)
    ledger.append(KEY_ROTATION, {"previous_key_id": old.key_id, "new_key_id": attacker.key_id,
                                 "new_algorithm": "ed25519", "new_public_key": attacker.public_key_b64,
                                 "signature": attacker.sign(payload)}, "2025-10-06T00:00:00+00:00")
    ledger.seal(CLOSED_BY, "2025-10-07T00:00:00+00:00", attacker)
    kinds = [f.kind for f in verify_store(store, env={}).findings]
    assert "key-rotation-invalid" in kinds and "signing-key-changed" in kinds


def test_the_summary_names_each_trust_level(tmp_path):
    private, public = ed25519_pem_pair()
    unsigned = verify_store(_ledger(tmp_path / "u", {}), env={})
    assert unsigned.trust == "unsigned" and unsigned.summary.startswith("UNSIGNED: the chain is internally consistent")
    hmac_store = _ledger(tmp_path / "h", {HMAC_ENV: HMAC_KEY})
    assert verify_store(hmac_store, env={HMAC_ENV: HMAC_KEY}).summary.startswith("NOT PINNED (HMAC key")
    assert verify_store(hmac_store, env={}).summary.startswith("UNCHECKED (HMAC key")
    required = verify_store(hmac_store, env={HMAC_ENV: HMAC_KEY}, require_pinned=True)
    assert [f.kind for f in required.findings] == ["trust-not-pinned"]
    signed = _ledger(tmp_path / "s", {SIGNING_KEY_ENV: private})
    report = verify_store(signed, env={})
    assert report.trust == "unpinned" and "is not pinned" in report.summary and PUBLIC_KEY_ENV in report.summary
    assert not report.summary.startswith("OK")
    assert verify_store(signed, env={PUBLIC_KEY_ENV: public}).summary.startswith("OK, signed by pinned key")
    assert report.to_dict()["trust"] == "unpinned" and report.to_dict()["key_id"] == report.key_id
