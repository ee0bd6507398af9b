"""The evaluation record as a type: every format the product has written reads back and
writes back byte for byte; anything else is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ccm.constants import Frequency, Status
from ccm.evidence.record import FORMAT_1, EvaluationRecord, RecordFormatError
from ccm.evidence.records import RECORD_FORMAT, canonical_json
from tests.conftest import PROJECT_DIR

FORMAT2_STORE = PROJECT_DIR / "tests" / "fixtures" / "evidence_store_format2"


def _fixture_records() -> list[Path]:
    return sorted((FORMAT2_STORE / "evaluations").rglob("*.json"))


def _as_format_1(doc: dict) -> dict:
    """A format-2 record as the code before `record_format` wrote it (commit 4c69673)."""
    old = {k: v for k, v in doc.items() if k not in ("record_format", "supersedes")}
    if old["population"]:
        old["population"] = {k: v for k, v in old["population"].items() if k != "format"}
    if old["gx"]:
        old["gx"] = {k: v for k, v in old["gx"].items()
                     if k not in ("suite", "result_id", "validation_id", "docs_sha256")}
    old["code"] = {k: v for k, v in old["code"].items() if k not in ("dbt_model_path", "gx_suite_path")}
    old["inputs"] = {"fingerprint": doc["inputs"]["fingerprint"], "datasets": [
        {**d, "manifests": [m["path"] for m in d["manifests"]], "files": [[f["path"], f["sha256"]] for f in d["files"]]}
        for d in doc["inputs"]["datasets"]]}
    return old


def test_the_fixture_holds_records_of_every_status_it_can():
    statuses = {EvaluationRecord.from_json(p.read_bytes()).status for p in _fixture_records()}
    assert statuses == {Status.PASS, Status.FAIL, Status.NOT_TESTED}


@pytest.mark.parametrize("path", _fixture_records(), ids=lambda p: p.name[:12])
def test_a_format_2_record_round_trips_byte_for_byte(path):
    data = path.read_bytes()
    record = EvaluationRecord.from_json(data)
    assert record.record_format == RECORD_FORMAT == 2
    assert record.to_json_bytes() == data
    assert EvaluationRecord.from_json(json.loads(data)) == record  # parsed JSON reads the same
    assert record.key == path.relative_to(FORMAT2_STORE).as_posix()
    assert record.control.frequency is Frequency.DAILY
    assert record.period.end > record.period.start
    if record.population:
        assert record.population.format == "parquet" and record.population.rows > 0
    if record.status is Status.NOT_TESTED:
        assert record.gx is None and record.population is None
    else:
        assert record.gx.suite == record.code.gx_suite and record.gx.docs_sha256
        assert all(m.copied for d in record.inputs.datasets for m in d.manifests)


def test_the_second_version_names_the_first():
    records = [EvaluationRecord.from_json(p.read_bytes()) for p in _fixture_records()]
    second = next(r for r in records if r.version == 2)
    first = next(r for r in records if r.version == 1 and r.period == second.period)
    assert second.supersedes == first.key and first.supersedes is None


@pytest.mark.parametrize("path", _fixture_records(), ids=lambda p: p.name[:12])
def test_a_format_1_record_reads_and_round_trips(path):
    data = canonical_json(_as_format_1(json.loads(path.read_bytes())))
    record = EvaluationRecord.from_json(data)
    assert record.record_format == FORMAT_1 and record.supersedes is None
    assert record.to_json_bytes() == data
    assert record.code.dbt_model_path is None
    # manifests named only by lake path: nothing in the store to check for them
    assert all(not m.copied for d in record.inputs.datasets for m in d.manifests)
    kinds = [what for what, _path, _sha in record.artefacts()]
    assert not any(k.startswith("extract manifest") for k in kinds)
    if record.gx:
        assert record.gx.docs_sha256 is None and record.population.format is None


def test_a_record_with_a_key_its_format_does_not_have_is_refused():
    doc = json.loads(_fixture_records()[0].read_bytes())
    with pytest.raises(RecordFormatError, match="unexpected colour"):
        EvaluationRecord.from_json({**doc, "colour": "red"})
    with pytest.raises(RecordFormatError, match="missing run"):
        EvaluationRecord.from_json({k: v for k, v in doc.items() if k != "run"})
    with pytest.raises(RecordFormatError, match="record_format 3"):
        EvaluationRecord.from_json({**doc, "record_format": 3})
    with pytest.raises(RecordFormatError, match="record: unexpected supersedes"):
        EvaluationRecord.from_json(_as_format_1(doc) | {"supersedes": None})
    with pytest.raises(RecordFormatError, match="record_format None"):
        EvaluationRecord.from_json(_as_format_1(doc) | {"record_format": None})
    with pytest.raises(RecordFormatError, match="code: unexpected dbt_model_path"):
        EvaluationRecord.from_json({**_as_format_1(doc), "code": doc["code"]})
    with pytest.raises(RecordFormatError, match="not an evaluation record"):
        EvaluationRecord.from_json({**doc, "status": "maybe"})
    with pytest.raises(RecordFormatError, match="not JSON"):
        EvaluationRecord.from_json(b"{not json")
