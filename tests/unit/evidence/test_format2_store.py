"""Evidence written before the record became a type still verifies, shows and packs.

`tests/fixtures/evidence_store_format2/` is a store the code at commit 52aace5 wrote (the
demo company's `iam_okta_mfa` for four days, one of them re-run; the Data Docs site's
static assets, which no record names, left out). It is never regenerated: it stands for
evidence already in auditors' hands.
"""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ccm.config import Settings
from ccm.evidence.cli import evidence_app
from ccm.evidence.index import EvidenceIndex
from ccm.evidence.record import EvaluationRecord
from ccm.evidence.store import EvidenceStore
from ccm.evidence.verify import verify_store
from tests.conftest import PROJECT_DIR

FIXTURE = PROJECT_DIR / "tests" / "fixtures" / "evidence_store_format2"
OKTA_ONLY = PROJECT_DIR / "tests" / "fixtures" / "controls" / "okta_only.yml"


@pytest.fixture
def store_copy(tmp_path: Path) -> Path:
    return Path(shutil.copytree(FIXTURE, tmp_path / "evidence"))


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CCM_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("CCM_CONTROLS", str(OKTA_ONLY))


def test_the_fixture_is_small():
    assert sum(p.stat().st_size for p in FIXTURE.rglob("*") if p.is_file()) < 1_000_000


def test_the_old_store_verifies_from_the_command_line(store_copy, cli_env):
    result = CliRunner().invoke(evidence_app, ["verify", "--store", str(store_copy), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["ok"], report["findings"]
    # 4 days and a re-run, one evaluate step each sealed by a digest; 4 tested evaluations
    # name population, GX result, Data Docs page and two extract manifests each, the untested one two manifests
    assert report["counts"] == {"entries": 5, "digests": 2, "artefacts": 22, "records": 5}


def test_every_record_of_the_old_store_reads_through_the_index(store_copy):
    index = EvidenceIndex.load(EvidenceStore(str(store_copy)))
    assert len(index.evaluations) == 5
    for evaluation in index.evaluations:
        record = index.record(evaluation)
        assert isinstance(record, EvaluationRecord)
        assert (record.evaluation_id, record.version, record.status.value) == (
            evaluation.evaluation_id, evaluation.version, evaluation.status)
        assert record.to_json_bytes() == (store_copy / evaluation.record_key).read_bytes()


def test_show_reads_the_old_store(store_copy, cli_env):
    runner = CliRunner()
    shown = runner.invoke(evidence_app, ["show", "iam_okta_mfa", "2025-10-02", "--store", str(store_copy)])
    assert shown.exit_code == 0, shown.output
    assert "version 2 of 2" in shown.output and "rerun__2025-10-02" in shown.output
    assert "population  40 rows" in shown.output and "okta.users: complete" in shown.output
    as_json = runner.invoke(evidence_app, ["show", "iam_okta_mfa", "2025-10-03", "--store", str(store_copy),
                                           "--json"])
    assert as_json.exit_code == 0, as_json.output
    record = next((store_copy / "evaluations/iam_okta_mfa/2025-10-03").glob("v001-*.json")).read_bytes()
    assert as_json.output.encode() == record + b"\n"  # the record as stored


def test_a_pack_of_the_old_store(store_copy, tmp_path, monkeypatch):
    from ccm.evidence.pack import build_pack

    monkeypatch.delenv("CCM_AIRFLOW_DB_URL", raising=False)
    settings = Settings.from_env({"CCM_DATA_DIR": str(tmp_path / "var"), "CCM_CONTROLS": str(OKTA_ONLY)})
    result = build_pack(settings, tmp_path / "packs", date(2025, 10, 1), date(2025, 10, 4),
                        store_uri=str(store_copy), make_zip=False)
    summary = result.summary
    assert summary["verification_ok"] and summary["pack_verification_ok"], summary["findings"]
    assert summary["totals"] == {"periods": 4, "pass": 1, "fail": 2, "not_tested": 1}
    page = (result.directory / "periods/iam_okta_mfa/2025-10-02.html").read_text()
    assert "rerun__2025-10-02" in page and "okta/users" in page
    assert (result.directory / "populations/iam_okta_mfa/2025-10-02/v002.csv").is_file()
    oscal = json.loads((result.directory / "oscal/assessment-results.json").read_text())
    assert oscal["assessment-results"]["results"]


def test_changing_one_byte_of_an_old_record_is_named(store_copy):
    path = next((store_copy / "evaluations/iam_okta_mfa/2025-10-04").glob("v001-*.json"))
    data = bytearray(path.read_bytes())
    at = data.index(b'"fail"') + 1
    data[at:at + 4] = b"pass"  # the failing day now says it passed
    path.chmod(0o644)
    path.write_bytes(bytes(data))
    report = verify_store(EvidenceStore(str(store_copy)))
    assert [(f.kind, f.subject) for f in report.findings] == [
        ("record-modified", path.relative_to(store_copy).as_posix())]
