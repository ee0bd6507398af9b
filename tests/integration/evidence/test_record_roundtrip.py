"""Every record the current writer stores reads back as an EvaluationRecord and writes back
to exactly the stored bytes, and the warehouse holds what the record says."""

from __future__ import annotations

import pytest

from ccm.evidence.index import EvidenceIndex
from ccm.evidence.record import EvaluationRecord
from ccm.evidence.records import RECORD_FORMAT
from ccm.evidence.store import EvidenceStore
from ccm.warehouse import connect

pytestmark = pytest.mark.integration


def test_every_stored_record_round_trips(evidence_run):
    store = EvidenceStore(str(evidence_run.evidence_dir))
    keys = list(store.list("evaluations"))
    assert len(keys) == evidence_run.days + 1
    for key in keys:
        data = store.get(key)
        record = EvaluationRecord.from_json(data)
        assert record.record_format == RECORD_FORMAT
        assert record.key == key
        assert record.to_json_bytes() == data, key


def test_the_warehouse_holds_what_the_records_say(evidence_run):
    index = EvidenceIndex.load(EvidenceStore(str(evidence_run.evidence_dir)))
    with connect(evidence_run.settings.warehouse_path, read_only=True) as con:
        rows = {r[0]: r[1:] for r in con.execute(
            "select evaluation_id, status, version, data_docs_path, population_path, population_sha256, "
            "evidence_path, ledger_seq from ccm.control_results").fetchall()}
    assert len(rows) == len(index.evaluations)
    for evaluation in index.evaluations:
        record = index.record(evaluation)
        assert rows[record.evaluation_id] == (
            record.status.value, record.version, record.gx.docs_path if record.gx else None,
            record.population.path if record.population else None,
            record.population.sha256 if record.population else None, record.key, evaluation.seq)
