"""The evidence writer without GX, dbt or a lake: artefacts, typed record, ledger, seal."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

from ccm.config import Settings
from ccm.constants import Status
from ccm.controls.catalog import load_catalog
from ccm.controls.engine import Decision
from ccm.controls.exceptions import ControlException, ExceptionRegister
from ccm.controls.gx_runner import ValidationOutcome
from ccm.evidence.ledger import Ledger
from ccm.evidence.record import EvaluationRecord
from ccm.evidence.store import EvidenceStore
from ccm.evidence.verify import verify_store
from ccm.evidence.writer import EvidenceWriter
from ccm.manifests import RunContext
from ccm.periods import Period
from tests.conftest import PROJECT_DIR

OKTA_ONLY = PROJECT_DIR / "tests" / "fixtures" / "controls" / "okta_only.yml"
MANIFEST = "manifests/okta/users/2025-10-01.json"


class _Lake:
    def read_bytes(self, path: str) -> bytes:
        assert path == MANIFEST
        return json.dumps({"status": "complete", "inputs": [{"name": "users.json", "sha256": "a" * 64,
                                                             "bytes": 10}]}).encode()


def _exception(exception_id: str, control_id: str) -> ControlException:
    return ControlException(exception_id, control_id, "u1", "contractor", "ciso@example.com", date(2025, 9, 1),
                            "SEC-1", date(2025, 12, 31))


def test_write_two_versions_and_seal(tmp_path: Path):
    settings = Settings.from_env({"CCM_DATA_DIR": str(tmp_path / "var"), "CCM_CONTROLS": str(OKTA_ONLY)})
    store = EvidenceStore(settings.evidence_uri)
    control = load_catalog(OKTA_ONLY).get("iam_okta_mfa")
    register = ExceptionRegister((_exception("EXC-1", "iam_okta_mfa"), _exception("EXC-2", "other")))
    run = RunContext(dag_id="ccm_controls", run_id="manual__1", try_number=2, task_id="evaluate")
    writer = EvidenceWriter(settings, store, _Lake(), register, run)
    period = Period(datetime(2025, 10, 1, tzinfo=UTC), datetime(2025, 10, 2, tzinfo=UTC))
    started = datetime(2025, 10, 2, 1, 30, tzinfo=UTC)
    result = writer.gx_results_dir(started) / "ctl/result.json"
    result.parent.mkdir(parents=True)
    result.write_text("{}")
    page = writer.gx_docs_dir / "validations/ctl/result.html"
    page.parent.mkdir(parents=True)
    page.write_text("<html></html>")
    outcome = ValidationOutcome(False, ("u1",), ("expect_x",), result, "validations/ctl/result.html",
                                {"evaluated_expectations": 2}, "ctl/run/1", "v-1", page)
    inputs = [{"dataset": "okta.users", "complete": True, "observed_at": "2025-10-02 01:00:00+00:00",
               "manifests": [MANIFEST], "files": [["lake/okta/users.parquet", "b" * 64]]}]

    first = writer.write(control, period, "1" * 32, 1, Decision(Status.EXCEPTED, ("u1",), ("u1",), ("EXC-1",)),
                         "expect_x", "f" * 64, inputs, outcome, b"parquet bytes", 3, started)
    second = writer.write(control, period, "2" * 32, 2, Decision(Status.NOT_TESTED), "inputs incomplete",
                          "e" * 64, inputs, None, None, None, started)
    digest = writer.finish(gx_ran=True)

    record = first.record
    assert store.get(first.key) == record.to_json_bytes()
    assert EvaluationRecord.from_json(store.get(first.key)) == record
    assert [e.exception_id for e in record.exceptions_applied] == ["EXC-1"]
    assert record.gx.result_path == "gx/validations/2025-10/ctl/result.json" and record.gx.docs_sha256
    assert record.population.rows == 3 and record.run.try_number == 2
    manifest = record.inputs.datasets[0].manifests[0]
    assert manifest.evidence_path == f"inputs/{MANIFEST}" and manifest.source_inputs[0].name == "users.json"
    assert second.record.supersedes == first.key and second.record.gx is None
    assert (first.ledger_seq, second.ledger_seq) == (1, 2)
    assert digest is not None and (digest.from_seq, digest.to_seq) == (1, 2)
    assert Ledger(store).entries()[0].body["record_sha256"] == first.sha256
    report = verify_store(store)
    assert report.ok, [str(f) for f in report.findings]
    assert report.counts["artefacts"] == 4 + 1  # population, result, page, manifest; the manifest again


def test_the_seal_is_timestamped_by_the_configured_authority(tmp_path: Path, monkeypatch):
    from ccm.evidence.timestamping import TSA_ROOTS_ENV, TSA_URL_ENV, timestamp_key
    from tests.unit.evidence.local_tsa import LocalTSA

    settings = Settings.from_env({"CCM_DATA_DIR": str(tmp_path / "var"), "CCM_CONTROLS": str(OKTA_ONLY)})
    store = EvidenceStore(settings.evidence_uri)
    control = load_catalog(OKTA_ONLY).get("iam_okta_mfa")
    run = RunContext(dag_id="ccm_controls", run_id="manual__1", try_number=1, task_id="evaluate")
    writer = EvidenceWriter(settings, store, _Lake(), ExceptionRegister(()), run)
    period = Period(datetime(2025, 10, 1, tzinfo=UTC), datetime(2025, 10, 2, tzinfo=UTC))
    inputs = [{"dataset": "okta.users", "complete": False, "observed_at": None, "manifests": [MANIFEST], "files": []}]
    writer.write(control, period, "3" * 32, 1, Decision(Status.NOT_TESTED), "inputs incomplete", "e" * 64, inputs,
                 None, None, None, datetime(2025, 10, 2, 1, 30, tzinfo=UTC))
    with LocalTSA() as tsa:
        monkeypatch.setenv(TSA_URL_ENV, tsa.url)
        digest = writer.finish(gx_ran=False)
        assert tsa.requests == 1
    assert digest is not None and store.exists(timestamp_key(digest.digest_seq))
    report = verify_store(store, env={TSA_ROOTS_ENV: tsa.root_pem.decode()}, require_timestamp=True)
    assert report.ok and report.anchor.digest_seq == digest.digest_seq, [str(f) for f in report.findings]
