"""RFC 3161 timestamps over digests, against a real `openssl ts` authority on loopback: a rewrite
after the timestamp fails with no ledger key; forged, misplaced and untrusted tokens are named."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from ccm.errors import ConfigError, EvidenceError
from ccm.evidence.ledger import Digest, Ledger, LedgerEntry, digest_key, entries_digest, entry_key
from ccm.evidence.store import EvidenceStore, sha256_bytes
from ccm.evidence.timestamping import (
    TSA_ROOTS_ENV,
    TSA_URL_ENV,
    TimestampAuthority,
    check_token,
    stamp_missing,
    timestamp_key,
)
from ccm.evidence.verify import verify_store
from tests.unit.evidence.local_tsa import LocalTSA

CLOSED_BY = {"actor": "tests", "dag_id": "cli", "run_id": "", "task_id": "seal", "try_number": 1}


@pytest.fixture(scope="module")
def tsa():
    with LocalTSA() as authority:
        yield authority


def _kinds(report) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for finding in report.findings:
        found.setdefault(finding.kind, set()).add(finding.subject)
    return found


def _sealed(tmp_path, authority: TimestampAuthority | None, digests: int = 2) -> EvidenceStore:
    """`digests` digests of two entries each, each sealed with the authority (if any)."""
    store = EvidenceStore(str(tmp_path / "evidence"))
    ledger = Ledger(store)
    for d in range(digests):
        for n in range(2):
            ledger.append("note", {"n": 2 * d + n}, f"2025-10-0{d + 1}T0{n}:00:00+00:00")
        ledger.seal(CLOSED_BY, f"2025-10-0{d + 1}T05:00:00+00:00", None, authority)
    return store


def _rewrite_unsigned(store: EvidenceStore) -> None:
    """The keyless attacker: change entry 2, then recompute every hash, link, anchor and digest."""
    entries = [LedgerEntry.from_bytes(store.get(k)) for k in store.list("ledger/entries")]
    digests = [Digest.from_bytes(store.get(k)) for k in store.list("ledger/digests")]
    previous, previous_digest, digest_hashes, rewritten = "0" * 64, "0" * 64, {}, {}
    for entry in entries:
        body = {"n": 99} if entry.seq == 2 else entry.body
        anchor = entry.last_digest and {"digest_seq": entry.last_digest["digest_seq"],
                                        "sha256": digest_hashes[entry.last_digest["digest_seq"]]}
        new = LedgerEntry(entry.seq, previous, entry.recorded_at, entry.kind, body,
                          LedgerEntry.compute_hash(entry.seq, previous, entry.recorded_at, entry.kind, body, anchor),
                          anchor)
        store.local_path(entry_key(entry.seq)).write_bytes(new.to_bytes())
        rewritten[entry.seq] = new
        previous = new.entry_hash
        for digest in (d for d in digests if d.to_seq == entry.seq):
            hashes = [rewritten[s].entry_hash for s in range(digest.from_seq, digest.to_seq + 1)]
            forged = Digest(**{**digest.__dict__, "entries_sha256": entries_digest(hashes),
                               "last_entry_hash": hashes[-1], "previous_digest_sha256": previous_digest})
            store.local_path(digest_key(digest.digest_seq)).write_bytes(forged.to_bytes())
            previous_digest = digest_hashes[digest.digest_seq] = sha256_bytes(forged.to_bytes())


def test_each_seal_stores_a_token_that_anchors_the_history(tmp_path, tsa):
    store = _sealed(tmp_path, TimestampAuthority(tsa.url, (), 5.0))
    assert [k for k in store.list("ledger/timestamps")] == [timestamp_key(1), timestamp_key(2)]
    report = verify_store(store, env={TSA_ROOTS_ENV: tsa.root_pem.decode()})
    assert report.ok, [str(f) for f in report.findings]
    assert report.anchor is not None and (report.anchor.digest_seq, report.anchor.to_seq) == (2, 4)
    assert report.anchor.tsa == "CN=ccm test TSA"
    assert report.summary.startswith("TIMESTAMPED: entries 1..4 were fixed no later than ")
    assert "the digests are unsigned" in report.summary
    assert report.to_dict()["anchor"]["digest_seq"] == 2


def test_a_keyless_rewrite_after_the_timestamp_fails(tmp_path, tsa):
    store = _sealed(tmp_path, TimestampAuthority(tsa.url))
    _rewrite_unsigned(store)
    report = verify_store(store, env={TSA_ROOTS_ENV: tsa.root_pem.decode()})
    assert _kinds(report) == {"timestamp-invalid": {timestamp_key(1), timestamp_key(2)}}
    assert "rewritten after it was timestamped" in str(report.findings[0])
    # the imprint is compared even without a trusted root: the tokens left behind show the rewrite
    assert _kinds(verify_store(store, env={})) == {"timestamp-invalid": {timestamp_key(1), timestamp_key(2)}}


def test_removing_the_tokens_leaves_no_anchor_and_require_timestamp_fails(tmp_path, tsa):
    store = _sealed(tmp_path, TimestampAuthority(tsa.url))
    _rewrite_unsigned(store)
    for key in list(store.list("ledger/timestamps")):
        store.local_path(key).unlink()
    env = {TSA_ROOTS_ENV: tsa.root_pem.decode()}
    plain = verify_store(store, env=env)
    assert plain.ok and plain.anchor is None and plain.summary.startswith("UNSIGNED")
    required = verify_store(store, env=env, require_timestamp=True)
    assert _kinds(required) == {"not-timestamped": {digest_key(2)}}
    no_roots = verify_store(_sealed(tmp_path / "other", TimestampAuthority(tsa.url)), env={}, require_timestamp=True)
    assert "no trusted TSA root" in str(no_roots.findings[0])


def test_a_forged_token_is_named(tmp_path, tsa):
    """A token whose time was edited by half a minute no longer verifies."""
    from rfc3161_client import decode_timestamp_response

    store = _sealed(tmp_path, TimestampAuthority(tsa.url))
    token = store.get(timestamp_key(2))
    gen_time = decode_timestamp_response(token).tst_info.gen_time
    shown = gen_time.strftime("%Y%m%d%H%M%SZ").encode()
    earlier = (gen_time.replace(second=(gen_time.second + 30) % 60)).strftime("%Y%m%d%H%M%SZ").encode()
    assert token.count(shown) == 1
    store.local_path(timestamp_key(2)).write_bytes(token.replace(shown, earlier))
    report = verify_store(store, env={TSA_ROOTS_ENV: tsa.root_pem.decode()})
    assert _kinds(report) == {"timestamp-invalid": {timestamp_key(2)}}
    assert "does not verify under the trusted TSA root(s)" in str(report.findings[0])
    assert "signature failure" in str(report.findings[0])
    assert report.anchor is not None and report.anchor.digest_seq == 1  # the intact earlier token still anchors


def test_a_token_for_another_digest_is_named(tmp_path, tsa):
    store = _sealed(tmp_path, TimestampAuthority(tsa.url))
    store.local_path(timestamp_key(2)).write_bytes(store.get(timestamp_key(1)))
    report = verify_store(store, env={TSA_ROOTS_ENV: tsa.root_pem.decode()})
    assert _kinds(report) == {"timestamp-invalid": {timestamp_key(2)}}
    assert "the token belongs to another digest" in str(report.findings[0])


def test_a_token_from_an_untrusted_authority_is_named(tmp_path, tsa):
    with LocalTSA() as impostor:  # a TSA of its own making, as anyone can run
        store = _sealed(tmp_path, TimestampAuthority(impostor.url))
    report = verify_store(store, env={TSA_ROOTS_ENV: tsa.root_pem.decode()})
    assert _kinds(report) == {"timestamp-invalid": {timestamp_key(1), timestamp_key(2)}}
    assert "does not verify under the trusted TSA root" in str(report.findings[0])
    # and the client refuses such a reply at once when it knows the roots
    with LocalTSA() as impostor, pytest.raises(EvidenceError, match="does not verify"):
        TimestampAuthority(impostor.url, check_roots(tsa)).timestamp(b"digest bytes")


def check_roots(tsa: LocalTSA) -> tuple:
    from ccm.evidence.timestamping import load_roots

    return load_roots(tsa.root_pem.decode())


def test_a_tsa_that_is_down_does_not_stop_the_seal_and_tokens_are_fetched_later(tmp_path, tsa, caplog):
    down = TimestampAuthority("http://127.0.0.1:9/tsr", (), 1.0, attempts=1)
    store = _sealed(tmp_path, down)
    assert list(store.list("ledger/digests")) and not list(store.list("ledger/timestamps"))
    assert "is not timestamped" in caplog.text
    assert stamp_missing(store, TimestampAuthority(tsa.url)) == ([1, 2], [])
    assert stamp_missing(store, TimestampAuthority(tsa.url)) == ([], [])  # written once
    report = verify_store(store, env={TSA_ROOTS_ENV: tsa.root_pem.decode()}, require_timestamp=True)
    assert report.ok and report.anchor.digest_seq == 2


def test_the_timestamp_command(tmp_path, tsa, monkeypatch):
    from ccm.cli import app

    store = _sealed(tmp_path, None)
    runner = CliRunner()
    unset = runner.invoke(app, ["evidence", "timestamp", "--store", str(store.root)], env={TSA_URL_ENV: ""})
    assert unset.exit_code != 0 and TSA_URL_ENV in str(unset.exception or unset.output)
    done = runner.invoke(app, ["evidence", "timestamp", "--store", str(store.root)], env={TSA_URL_ENV: tsa.url})
    assert done.exit_code == 0 and "timestamped 2 digest(s): 1..2" in done.output
    verified = runner.invoke(app, ["evidence", "verify", "--store", str(store.root), "--require-timestamp",
                                   "--tsa-roots", tsa.root_pem.decode()])
    assert verified.exit_code == 0, verified.output
    assert "TIMESTAMPED: entries 1..4" in verified.output


def test_configuration_errors_are_named(tmp_path):
    with pytest.raises(ConfigError, match=TSA_URL_ENV):
        TimestampAuthority("ftp://tsa.example")
    with pytest.raises(ConfigError, match=TSA_ROOTS_ENV):
        TimestampAuthority.from_env({TSA_URL_ENV: "https://tsa.example", TSA_ROOTS_ENV: str(tmp_path / "none.pem")})
    assert check_token(b"not der", "00" * 32, ()).ok is False
