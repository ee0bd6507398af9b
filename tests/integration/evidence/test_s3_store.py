"""The evidence store on S3 (a moto server): Object Lock in compliance mode with the operator's
retention, never an overwrite, and the engine's evidence (GX staged locally, then copied)
verifying there. A rewritten object is named by `verify`."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta

import pytest

from ccm.errors import EvidenceError
from ccm.evidence.ledger import Ledger, entry_key
from ccm.evidence.store import EvidenceStore
from ccm.evidence.verify import verify_store

pytestmark = pytest.mark.integration

BUCKET = "kestrel-evidence"


@pytest.fixture(scope="module")
def moto_endpoint():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(moto_endpoint, monkeypatch):
    import boto3

    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    client = boto3.client("s3", endpoint_url=moto_endpoint)
    if BUCKET not in [b["Name"] for b in client.list_buckets()["Buckets"]]:
        client.create_bucket(Bucket=BUCKET, ObjectLockEnabledForBucket=True)
    return client


def _store(moto_endpoint, prefix: str, retention_days: int = 30) -> EvidenceStore:
    return EvidenceStore(f"s3://{BUCKET}/{prefix}", moto_endpoint, retention_days)


def test_objects_are_locked_in_compliance_mode_and_never_overwritten(s3, moto_endpoint):
    store = _store(moto_endpoint, "write-once", retention_days=30)
    assert store.check_object_lock()["ObjectLockEnabled"] == "Enabled"
    store.put("evaluations/a.json", b"first")
    retention = store.retention("evaluations/a.json")
    assert retention["Mode"] == "COMPLIANCE"
    assert abs(retention["RetainUntilDate"] - (datetime.now(UTC) + timedelta(days=30))) < timedelta(hours=1)
    store.put("evaluations/a.json", b"first")  # identical: a retried task is a no-op
    with pytest.raises(EvidenceError, match="never overwritten"):
        store.put("evaluations/a.json", b"second")
    versions = s3.list_object_versions(Bucket=BUCKET, Prefix="write-once/")["Versions"]
    assert len(versions) == 1 and store.get("evaluations/a.json") == b"first"
    # compliance mode: not even the bucket owner can delete the locked version
    with pytest.raises(s3.exceptions.ClientError):
        s3.delete_object(Bucket=BUCKET, Key="write-once/evaluations/a.json", VersionId=versions[0]["VersionId"])


def test_a_bucket_without_object_lock_is_refused(s3, moto_endpoint):
    s3.create_bucket(Bucket="no-lock")
    with pytest.raises(EvidenceError, match="Object Lock"):
        EvidenceStore("s3://no-lock/evidence", moto_endpoint).check_object_lock()


def test_a_rewritten_or_hidden_object_is_named(s3, moto_endpoint):
    store = _store(moto_endpoint, "ledger-only")
    ledger = Ledger(store)
    for n in range(3):
        ledger.append("note", {"n": n}, f"2025-10-0{n + 1}T00:00:00+00:00")
    ledger.seal({"actor": "tests"}, "2025-10-04T00:00:00+00:00")
    assert verify_store(store).ok
    # someone with PutObject rights writes a new version over entry 2, and hides entry 3
    s3.put_object(Bucket=BUCKET, Key=f"ledger-only/{entry_key(2)}", Body=store.get(entry_key(2)).replace(b'"n":1', b'"n":7'))
    s3.delete_object(Bucket=BUCKET, Key=f"ledger-only/{entry_key(3)}")
    findings = {(f.kind, f.subject) for f in verify_store(store).findings}
    assert ("object-rewritten", entry_key(2)) in findings
    assert ("object-rewritten", entry_key(3)) in findings
    assert ("entry-modified", entry_key(2)) in findings
    assert ("digest-mismatch", "ledger/digests/000001.json") in findings  # the sealed entry 3 is gone


def test_the_engine_writes_verifiable_evidence_to_s3(s3, moto_endpoint, evidence_run, tmp_path):
    """Re-evaluate the last planned period with the evidence on S3: GX output is staged locally and
    copied write-once; the record, population, result and page all verify on S3."""
    from ccm import pipeline
    from ccm.manifests import RunContext

    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(evidence_run.settings.warehouse_path, warehouse)
    settings = evidence_run.settings.with_overrides(evidence_uri=f"s3://{BUCKET}/engine", s3_endpoint_url=moto_endpoint,
                                                    warehouse_path=warehouse, evidence_retention_days=7)
    summary = pipeline.evaluate(settings, RunContext(dag_id="ccm_controls", run_id="s3-test", task_id="evaluate"))
    assert summary["evaluated"] == 1
    store = _store(moto_endpoint, "engine")
    report = verify_store(store)
    assert report.ok, [str(f) for f in report.findings]
    assert report.counts["records"] == 1 and report.counts["artefacts"] >= 5 and report.counts["digests"] == 1
    record_key = next(k for k in store.list("evaluations"))
    from ccm.evidence.record import EvaluationRecord

    record = EvaluationRecord.from_json(store.get(record_key))
    for key in (record_key, record.population.path, record.gx.result_path, record.gx.docs_path):
        assert store.retention(key)["Mode"] == "COMPLIANCE"
