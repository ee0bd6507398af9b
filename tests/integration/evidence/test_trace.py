"""A failing result traces to the population rows that failed and from there to the raw
source records in the lake, using only what the evidence names."""

from __future__ import annotations

import hashlib
import io
import json

import pyarrow.parquet as pq
import pytest

from ccm.evidence.record import EvaluationRecord
from ccm.evidence.store import EvidenceStore
from ccm.lake import Lake
from ccm.report import current_results

pytestmark = pytest.mark.integration


def test_a_failing_entity_traces_to_its_raw_okta_record(evidence_run):
    settings = evidence_run.settings
    failing = [r for r in current_results(settings) if r["status"] == "fail"]
    assert failing
    store = EvidenceStore(settings.evidence_uri)
    lake = Lake(settings.lake_uri)
    traced = 0
    for result in failing:
        record = EvaluationRecord.from_json(store.get(result["evidence_path"]))
        assert record.population.path == result["population_path"]
        population = pq.read_table(io.BytesIO(store.get(result["population_path"]))).to_pylist()
        rows = [r for r in population if r["entity_id"] in set(record.failing_entity_ids)]
        assert {r["entity_id"] for r in rows} == set(result["failing_entity_ids"])
        users = next(d for d in record.inputs.datasets if d.dataset == "okta.users")
        raw = {}
        for file in users.files:
            data = lake.read_bytes(file.path)
            assert hashlib.sha256(data).hexdigest() == file.sha256  # the file the record names, unchanged
            for row in pq.read_table(io.BytesIO(data)).to_pylist():
                raw[row["user_id"]] = json.loads(row["raw"])
        for row in rows:
            # source_ref: "okta.users:user_id=<id>@<observed_at>"
            dataset, _, rest = row["source_ref"].partition(":")
            user_id = rest.removeprefix("user_id=").split("@")[0]
            assert dataset == "okta.users"
            assert raw[user_id]["id"] == user_id  # the record exactly as Okta returned it
            assert raw[user_id]["profile"]["login"]
            traced += 1
    assert traced >= len(failing)
