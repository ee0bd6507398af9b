"""`ccm evidence verify` catches every kind of tampering with a real evidence store, naming it,
and passes on the untouched store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ccm.evidence.ledger import GENESIS, Digest, LedgerEntry, digest_key, entry_key
from ccm.evidence.record import EvaluationRecord
from ccm.evidence.verify import VerificationReport, verify_store, warehouse_rows
from tests.unit.evidence.synthetic import ed25519_pem_pair

pytestmark = pytest.mark.integration


def _verify(store, evidence_run, **kwargs) -> VerificationReport:
    return verify_store(store, warehouse=warehouse_rows(evidence_run.settings.warehouse_path), **kwargs)


def _kinds(report: VerificationReport) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for finding in report.findings:
        found.setdefault(finding.kind, set()).add(finding.subject)
    return found


def _records(store) -> list[EvaluationRecord]:
    return [EvaluationRecord.from_json(store.get(k)) for k in store.list("evaluations")]


def _tested_record(store) -> EvaluationRecord:
    return next(r for r in _records(store) if r.population and r.gx)


def test_the_untouched_store_verifies(evidence_run, tmp_path):
    store = evidence_run.copy_store(tmp_path / "evidence")
    report = _verify(store, evidence_run)
    assert report.ok, [str(f) for f in report.findings]
    # six days plus the re-run period, each its own ledger entry, sealed by one digest per evaluate step
    assert report.counts["entries"] == evidence_run.days + 1
    assert report.counts["digests"] == 2
    assert report.counts["records"] == evidence_run.days + 1
    tested = sum(1 for r in _records(store) if r.gx)
    # population, GX result, Data Docs page and two extract manifests per tested evaluation
    assert report.counts["artefacts"] >= tested * 5
    assert report.counts["warehouse_results"] == evidence_run.days + 1


@pytest.mark.parametrize("artefact", ["gx result", "population", "docs page", "record", "input manifest"])
def test_one_modified_byte_is_named(evidence_run, tmp_path, artefact):
    store = evidence_run.copy_store(tmp_path / "evidence")
    record = _tested_record(store)
    path = {
        "gx result": record.gx.result_path,
        "population": record.population.path,
        "docs page": record.gx.docs_path,
        "record": record.key,
        "input manifest": record.inputs.datasets[0].manifests[0].evidence_path,
    }[artefact]
    target = store.local_path(path)
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    report = _verify(store, evidence_run)
    expected_kind = "record-modified" if artefact == "record" else "artefact-modified"
    assert path in _kinds(report).get(expected_kind, set()), [str(f) for f in report.findings]
    assert not report.ok


def test_a_deleted_artefact_is_named(evidence_run, tmp_path):
    store = evidence_run.copy_store(tmp_path / "evidence")
    record = _tested_record(store)
    store.local_path(record.population.path).unlink()
    store.local_path(record.gx.docs_path).unlink()
    kinds = _kinds(_verify(store, evidence_run))
    assert kinds["artefact-missing"] == {record.population.path, record.gx.docs_path}


def test_a_deleted_record_is_named(evidence_run, tmp_path):
    store = evidence_run.copy_store(tmp_path / "evidence")
    key = next(iter(store.list("evaluations")))
    store.local_path(key).unlink()
    assert _kinds(_verify(store, evidence_run))["record-missing"] == {key}


def test_two_reordered_ledger_entries_are_named(evidence_run, tmp_path):
    store = evidence_run.copy_store(tmp_path / "evidence")
    second, third = store.local_path(entry_key(2)), store.local_path(entry_key(3))
    a, b = second.read_bytes(), third.read_bytes()
    second.write_bytes(b)
    third.write_bytes(a)
    report = _verify(store, evidence_run)
    kinds = _kinds(report)
    assert kinds["entry-reordered"] == {entry_key(2), entry_key(3)}
    assert entry_key(2) in kinds["chain-broken"]
    assert digest_key(1) in kinds["digest-mismatch"]


def test_an_inserted_forged_entry_is_named(evidence_run, tmp_path):
    """A forged evaluation slipped in as entry 3, later entries renumbered to make room."""
    store = evidence_run.copy_store(tmp_path / "evidence")
    entries = [LedgerEntry.from_bytes(store.get(k)) for k in store.list("ledger/entries")]
    for entry in reversed(entries[2:]):  # move 3..N up by one, content untouched
        store.local_path(entry_key(entry.seq)).rename(store.local_path(entry_key(entry.seq + 1)))
    genuine = entries[2].body
    body = {**genuine, "evaluation_id": "f" * 32, "status": "pass", "version": 1}
    forged = LedgerEntry(3, entries[1].entry_hash, entries[2].recorded_at, "evaluation", body,
                         LedgerEntry.compute_hash(3, entries[1].entry_hash, entries[2].recorded_at, "evaluation", body,
                                                  entries[2].last_digest), entries[2].last_digest)
    store.local_path(entry_key(3)).write_bytes(forged.to_bytes())
    kinds = _kinds(_verify(store, evidence_run))
    assert entry_key(4) in kinds["chain-broken"]  # the genuine entry no longer follows its predecessor
    assert entry_key(4) in kinds["entry-reordered"]  # and sits under a number that is not its own
    assert digest_key(1) in kinds["digest-mismatch"]  # the digest sealed a different sequence
    assert entry_key(3) in kinds["entry-not-in-warehouse"]  # the warehouse never saw the forged evaluation


def test_a_forged_entry_appended_with_a_valid_chain_is_named(evidence_run, tmp_path):
    """Chain-consistent forgery at the tail: the unsigned chain alone cannot tell, the warehouse can."""
    store = evidence_run.copy_store(tmp_path / "evidence")
    from ccm.evidence.ledger import Ledger

    body = {"evaluation_id": "e" * 32, "control_id": "iam_okta_mfa", "period_start": "2025-10-03T00:00:00+00:00",
            "period_end": "2025-10-04T00:00:00+00:00", "version": 2, "status": "pass",
            "record": "evaluations/none.json", "record_sha256": GENESIS}
    entry = Ledger(store).append("evaluation", body, "2025-10-08T01:30:00+00:00")
    kinds = _kinds(_verify(store, evidence_run))
    assert kinds["entry-not-in-warehouse"] == {entry_key(entry.seq)}
    assert kinds["record-missing"] == {"evaluations/none.json"}


def test_a_rolled_back_digest_is_named(evidence_run, tmp_path):
    store = evidence_run.copy_store(tmp_path / "evidence")
    store.local_path(digest_key(2)).write_bytes(store.get(digest_key(1)))
    kinds = _kinds(_verify(store, evidence_run))
    assert kinds["digest-rolled-back"] == {digest_key(2)}
    assert digest_key(2) in kinds["digest-chain-broken"]


def test_rolling_the_ledger_back_to_an_earlier_digest_is_named(evidence_run, tmp_path):
    """Remove the last digest and the entries it sealed: the records they named and the
    warehouse still know."""
    store = evidence_run.copy_store(tmp_path / "evidence")
    last = Digest.from_bytes(store.get(digest_key(2)))
    store.local_path(digest_key(2)).unlink()
    removed = [LedgerEntry.from_bytes(store.get(entry_key(s))) for s in range(last.from_seq, last.to_seq + 1)]
    for entry in removed:
        store.local_path(entry_key(entry.seq)).unlink()
    kinds = _kinds(_verify(store, evidence_run))
    assert kinds["record-not-in-ledger"] == {e.body["record"] for e in removed}
    assert kinds["entry-missing-for-result"] == {e.body["record"] for e in removed}


def test_an_entry_anchored_to_a_removed_digest_is_named(evidence_run, tmp_path):
    store = evidence_run.copy_store(tmp_path / "evidence")
    store.local_path(digest_key(1)).unlink()
    kinds = _kinds(_verify(store, evidence_run))
    assert digest_key(1) in kinds["digest-missing"]


def test_the_window_limits_the_artefact_checks_not_the_chain(evidence_run, tmp_path):
    store = evidence_run.copy_store(tmp_path / "evidence")
    start = evidence_run.window_start
    late = next(r for r in _records(store) if r.population and r.period.label >= "2025-10-04")
    store.local_path(late.population.path).unlink()
    from datetime import timedelta

    early = verify_store(store, start, start + timedelta(days=3))
    assert early.ok and early.counts["records"] == 4  # three days, the re-run day twice
    assert not verify_store(store).ok


def test_the_cli_exits_non_zero_naming_the_finding(evidence_run, tmp_path, monkeypatch):
    from ccm.cli import app

    store = evidence_run.copy_store(tmp_path / "evidence")
    monkeypatch.setenv("CCM_DATA_DIR", str(Path(evidence_run.settings.data_dir)))
    runner = CliRunner()
    ok = runner.invoke(app, ["evidence", "verify", "--store", str(store.root)])
    assert ok.exit_code == 0, ok.output
    assert "UNSIGNED: the chain is internally consistent" in ok.output and "OK" not in ok.output
    record = _tested_record(store)
    store.local_path(record.gx.result_path).write_bytes(b"{}")
    bad = runner.invoke(app, ["evidence", "verify", "--store", str(store.root), "--json"])
    assert bad.exit_code == 1
    findings = json.loads(bad.output)["findings"]
    assert [f["subject"] for f in findings] == [record.gx.result_path]


def test_the_type_one_scope_is_each_controls_latest_closed_period(evidence_run, tmp_path):
    """--as-of checks exactly what a Type I pack holds, chosen from the ledger: dropping that
    period's record is caught, other periods' records are out of scope."""
    from datetime import timedelta

    store = evidence_run.copy_store(tmp_path / "evidence")
    as_of = evidence_run.window_start + timedelta(days=3)
    day = f"{as_of:%Y-%m-%d}"
    other = [k for k in store.list("evaluations") if f"/{day}/" not in k]
    for key in other:
        store.local_path(key).unlink()
    assert not verify_store(store).ok
    report = verify_store(store, as_of=as_of)
    assert report.ok and report.counts["records"] == 1, [str(f) for f in report.findings]
    target = next(k for k in store.list("evaluations") if f"/{day}/" in k)
    store.local_path(target).unlink()
    assert _kinds(verify_store(store, as_of=as_of)) == {"record-missing": {target}}


# the rewrite of a signed store by someone who can write it but holds no key ---------------------

def _rewrite_ledger(store, signer, flip_to_pass: bool = False) -> str | None:
    """Recompute every hash, chain link, anchor and digest, signing the digests with `signer` (None:
    unsigned); with `flip_to_pass`, first turn one failing record into a passing one. Returns its key."""
    from ccm.evidence.store import sha256_bytes

    entries = sorted((LedgerEntry.from_bytes(store.get(k)) for k in store.list("ledger/entries")),
                     key=lambda e: e.seq)
    digests = sorted((Digest.from_bytes(store.get(k)) for k in store.list("ledger/digests")),
                     key=lambda d: d.digest_seq)
    flipped = None
    if flip_to_pass:
        entry = next(e for e in entries if e.kind == "evaluation" and e.body["status"] == "fail")
        doc = json.loads(store.get(entry.body["record"]))
        doc["status"] = "pass"
        data = json.dumps(doc).encode()
        store.local_path(entry.body["record"]).write_bytes(data)
        entry.body.update(status="pass", record_sha256=sha256_bytes(data))
        flipped = entry.body["record"]
    previous_entry, previous_digest = GENESIS, GENESIS
    digest_hashes: dict[int, str] = {}
    rewritten: dict[int, LedgerEntry] = {}
    for entry in entries:
        anchor = entry.last_digest and {"digest_seq": entry.last_digest["digest_seq"],
                                        "sha256": digest_hashes[entry.last_digest["digest_seq"]]}
        new = LedgerEntry(entry.seq, previous_entry, entry.recorded_at, entry.kind, entry.body,
                          LedgerEntry.compute_hash(entry.seq, previous_entry, entry.recorded_at, entry.kind,
                                                   entry.body, anchor), anchor)
        store.local_path(entry_key(entry.seq)).write_bytes(new.to_bytes())
        rewritten[entry.seq] = new
        previous_entry = new.entry_hash
        for digest in (d for d in digests if d.to_seq == entry.seq):
            from ccm.evidence.ledger import entries_digest

            hashes = [rewritten[s].entry_hash for s in range(digest.from_seq, digest.to_seq + 1)]
            forged = Digest(**{**digest.__dict__, "entries_sha256": entries_digest(hashes),
                               "last_entry_hash": hashes[-1], "previous_digest_sha256": previous_digest,
                               "signature": None})
            if signer is not None:
                forged = Digest(**{**forged.__dict__, "signature": signer.sign(forged.signed_payload())})
            data = forged.to_bytes()
            store.local_path(digest_key(digest.digest_seq)).write_bytes(data)
            previous_digest = digest_hashes[digest.digest_seq] = sha256_bytes(data)
    return flipped


@pytest.fixture()
def owner_signed_store(evidence_run, tmp_path):
    """A copy of the store as the owner would have written it with CCM_LEDGER_SIGNING_KEY set."""
    from ccm.evidence.signing import SIGNING_KEY_ENV, signer_from_env

    private, public = ed25519_pem_pair()
    store = evidence_run.copy_store(tmp_path / "evidence")
    _rewrite_ledger(store, signer_from_env({SIGNING_KEY_ENV: private}))
    return store, public


def _cli(*args: str, env: dict[str, str] | None = None):
    from ccm.cli import app

    return CliRunner().invoke(app, ["evidence", "verify", *args], env=env)


@pytest.mark.parametrize("variant", ["re-signed by the attacker", "signatures stripped"])
def test_a_keyless_rewrite_of_a_signed_store_is_never_an_unqualified_ok(owner_signed_store, evidence_run,
                                                                       variant, monkeypatch):
    from ccm.evidence.signing import PUBLIC_KEY_ENV, SIGNING_KEY_ENV, signer_from_env

    store, owner_public = owner_signed_store
    monkeypatch.setenv("CCM_DATA_DIR", str(Path(evidence_run.settings.data_dir)))
    monkeypatch.delenv(PUBLIC_KEY_ENV, raising=False)
    owner = _verify(store, evidence_run, env={PUBLIC_KEY_ENV: owner_public})
    assert owner.ok and owner.trust == "pinned", [str(f) for f in owner.findings]
    assert owner.summary.startswith(f"OK, signed by pinned key {owner.key_id}: nothing was modified")

    attacker = signer_from_env({SIGNING_KEY_ENV: ed25519_pem_pair()[0]}) if variant.startswith("re-signed") else None
    flipped = _rewrite_ledger(store, attacker, flip_to_pass=True)
    assert json.loads(store.get(flipped))["status"] == "pass"

    pinned = _verify(store, evidence_run, env={PUBLIC_KEY_ENV: owner_public})
    assert not pinned.ok and "digest-signature-invalid" in _kinds(pinned)
    bad = _cli("--store", str(store.root), "--public-key", owner_public)
    assert bad.exit_code == 1 and "digest-signature-invalid" in bad.output

    unpinned = _verify(store, evidence_run, env={})
    assert unpinned.ok  # internally consistent: only a pinned key can tell
    expected = (f"NOT PINNED: the chain is internally consistent and signed by key {attacker.key_id}"
                if attacker else "UNSIGNED: the chain is internally consistent, but nothing outside the operator")
    assert unpinned.summary.startswith(expected) and unpinned.trust == ("unpinned" if attacker else "unsigned")
    shown = _cli("--store", str(store.root))
    assert shown.exit_code == 0 and expected in shown.output and "OK" not in shown.output
    if attacker:
        assert PUBLIC_KEY_ENV in shown.output and "anyone who can write the evidence store" in shown.output

    required = _cli("--store", str(store.root), "--require-pinned")
    assert required.exit_code == 1 and "trust-not-pinned" in required.output
    assert "no public key is pinned" in required.output
    assert _cli("--store", str(store.root), "--require-pinned", "--public-key", owner_public).exit_code == 1


def test_require_pinned_passes_under_the_owners_key(owner_signed_store, evidence_run, monkeypatch):
    store, owner_public = owner_signed_store
    monkeypatch.setenv("CCM_DATA_DIR", str(Path(evidence_run.settings.data_dir)))
    done = _cli("--store", str(store.root), "--require-pinned", "--public-key", owner_public)
    assert done.exit_code == 0, done.output
    assert "OK, signed by pinned key" in done.output


# anchors outside the operator's reach: RFC 3161 timestamps and an earlier pack ----------------

@pytest.mark.parametrize("variant", ["re-signed by the attacker", "signatures stripped"])
def test_a_keyless_rewrite_fails_against_a_timestamp_with_no_ledger_key(owner_signed_store, evidence_run, variant,
                                                                       monkeypatch):
    """The attack of the issue: the store's digests were timestamped when sealed; the rewrite recomputes
    everything but cannot make the TSA's tokens match, and no ledger key is needed to see it."""
    from ccm.evidence.signing import PUBLIC_KEY_ENV, SIGNING_KEY_ENV, signer_from_env
    from ccm.evidence.timestamping import TSA_ROOTS_ENV, TimestampAuthority, stamp_missing
    from tests.unit.evidence.local_tsa import LocalTSA

    store, _owner_public = owner_signed_store
    monkeypatch.setenv("CCM_DATA_DIR", str(Path(evidence_run.settings.data_dir)))
    monkeypatch.delenv(PUBLIC_KEY_ENV, raising=False)
    with LocalTSA() as tsa:
        stamped, failed = stamp_missing(store, TimestampAuthority(tsa.url))
        roots = tsa.root_pem.decode()
    assert stamped and not failed
    before = _verify(store, evidence_run, env={TSA_ROOTS_ENV: roots})
    assert before.ok and before.anchor.digest_seq == max(stamped), [str(f) for f in before.findings]

    attacker = signer_from_env({SIGNING_KEY_ENV: ed25519_pem_pair()[0]}) if variant.startswith("re-signed") else None
    _rewrite_ledger(store, attacker, flip_to_pass=True)
    after = _verify(store, evidence_run, env={TSA_ROOTS_ENV: roots})
    assert not after.ok and after.anchor is None
    assert set(_kinds(after)) == {"timestamp-invalid"}
    shown = _cli("--store", str(store.root), "--tsa-roots", roots)
    assert shown.exit_code == 1 and "timestamp-invalid" in shown.output


def test_since_pack_detects_a_rewrite_of_the_history_an_earlier_pack_holds(evidence_run, tmp_path, monkeypatch):
    from ccm.evidence.pack import build_pack

    monkeypatch.setenv("CCM_DATA_DIR", str(Path(evidence_run.settings.data_dir)))
    store = evidence_run.copy_store(tmp_path / "evidence")
    start = evidence_run.window_start.date()
    kept = build_pack(evidence_run.settings, tmp_path / "q1", start, start, store_uri=str(store.root))
    head = json.loads((kept.directory / "manifest.json").read_text())["ledger_head"]
    assert head["entry_seq"] == len(list(store.list("ledger/entries"))) and head["digest_seq"] >= 1
    assert "--since-pack" in (kept.directory / "index.html").read_text()

    continued = _verify(store, evidence_run, since_pack=kept.zip_path)
    assert continued.ok and continued.since_pack.through_entry == head["entry_seq"]
    assert f"entries 1..{head['entry_seq']} are unchanged since pack {kept.directory.name}" in continued.summary

    flipped = _rewrite_ledger(store, None, flip_to_pass=True)
    assert json.loads(store.get(flipped))["status"] == "pass"
    assert _verify(store, evidence_run).ok  # consistent in itself: only the kept pack can tell
    for earlier in (kept.directory, kept.zip_path):
        report = _verify(store, evidence_run, since_pack=earlier)
        assert not report.ok and report.since_pack is None
        assert set(_kinds(report)) == {"history-rewritten"}
    shown = _cli("--store", str(store.root), "--since-pack", str(kept.zip_path))
    assert shown.exit_code == 1 and "history-rewritten" in shown.output and "rewritten after that pack" in shown.output

    # a later pack of the rewritten store, verified against the kept one, shows it too
    later = build_pack(evidence_run.settings, tmp_path / "q2", start, start, store_uri=str(store.root), make_zip=False)
    from ccm.evidence.store import EvidenceStore

    assert "history-rewritten" in _kinds(verify_store(EvidenceStore(str(later.directory / "evidence")),
                                                      since_pack=kept.directory))


def test_an_edited_copy_of_the_earlier_pack_is_refused(evidence_run, tmp_path, monkeypatch):
    from ccm.evidence.ledger import entry_key
    from ccm.evidence.pack import build_pack

    monkeypatch.setenv("CCM_DATA_DIR", str(Path(evidence_run.settings.data_dir)))
    store = evidence_run.copy_store(tmp_path / "evidence")
    start = evidence_run.window_start.date()
    kept = build_pack(evidence_run.settings, tmp_path / "q1", start, start, store_uri=str(store.root), make_zip=False)
    (kept.directory / "evidence" / entry_key(1)).write_text("{}")
    report = _verify(store, evidence_run, since_pack=kept.directory)
    assert _kinds(report) == {"earlier-pack-unusable": {str(kept.directory)}}
    assert "does not match the pack's SHA256SUMS" in str(report.findings[0])
