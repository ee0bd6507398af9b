"""LMS and GRC exports: read on time into typed columns, refused when missing or malformed."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ccm.constants import ExtractStatus
from ccm.errors import SourceError
from ccm.lake import Lake
from ccm.sources.exports.datasets import RISKS, TRAINING_COMPLETIONS
from ccm.sources.registry import datasets_of
from ccm_demo.simulator import generate

from .conftest import extract_day, run_at


def _table(settings, manifest):
    return pq.read_table(Lake(settings.lake_uri)._abs(manifest.files_written[0].path))


def test_the_lms_csv_report_is_read_into_typed_columns(org_settings, org_demo, org_spec):
    day = org_spec.window_start + timedelta(days=4)
    run_at(org_settings, org_demo, org_spec.observation_time(day + timedelta(days=1)))
    manifest = extract_day(org_settings, "lms.training_completions", day)
    assert manifest.status is ExtractStatus.COMPLETE
    export = Path(org_settings.inbox_uri) / "lms/training_completions/training_completions_2025-10-05.csv"
    assert [(i.name, i.sha256) for i in manifest.inputs] == [
        ("lms/training_completions/training_completions_2025-10-05.csv", hashlib.sha256(export.read_bytes()).hexdigest())]
    table = _table(org_settings, manifest)
    assert manifest.rows_written == table.num_rows == len(export.read_text().splitlines()) - 1
    assert str(table.schema.field("completed_at").type) == "timestamp[us, tz=UTC]"
    assert str(table.schema.field("due_date").type) == "date32[day]"
    assert str(table.schema.field("score").type) == "int64"
    rows = table.to_pylist()
    done = next(r for r in rows if r["status"] == "Completed")
    assert done["completed_at"] is not None and isinstance(done["score"], int)
    assert json.loads(done["raw"])["enrollment_id"] == done["enrollment_id"]
    # LMS-only guests are in the report without an HR employee id
    assert any(r["employee_id"] is None for r in rows)
    assert {r["status"] for r in rows} <= {"Not Started", "In Progress", "Overdue", "Completed"}


def test_the_grc_json_registers_are_read_with_nested_fields(org_settings, org_demo, org_spec):
    day = org_spec.window_start + timedelta(days=4)
    run_at(org_settings, org_demo, org_spec.observation_time(day + timedelta(days=1)))
    manifests = {d.name: extract_day(org_settings, d.key, day) for d in datasets_of("grc")}
    assert {name: m.status for name, m in manifests.items()} == dict.fromkeys(manifests, ExtractStatus.COMPLETE)
    risks = _table(org_settings, manifests["risks"]).to_pylist()
    owned = next(r for r in risks if r["owner_email"])
    raw = json.loads(owned["raw"])
    assert owned["owner_email"] == raw["owner"]["email"]  # "owner.email" in the export
    assert owned["identified_on"].isoformat() == raw["identified_on"]
    assert json.loads(owned["review_history"]) == raw["review_history"]
    incidents = _table(org_settings, manifests["incidents"]).to_pylist()
    written = [i for i in incidents if i["postmortem_completed_at"] is not None]
    assert written and all(i["postmortem_status"] == "completed" for i in written)
    restore = _table(org_settings, manifests["restore_tests"]).to_pylist()
    assert {r["system_id"] for r in restore} >= {"SYS-DB-CORE", "SYS-S3-DOCS"}
    assert all(isinstance(r["data_verified"], bool) for r in restore)


def test_a_missing_export_fails_naming_the_file(org_settings, org_demo, org_spec):
    day = org_spec.window_start + timedelta(days=30)  # the planted gap: October 31st's incident export
    run_at(org_settings, org_demo, org_spec.observation_time(day + timedelta(days=1)))
    with pytest.raises(SourceError, match=r"grc: export grc/incidents/incidents_2025-10-31\.json was not delivered "
                                          r"\(no export dated 2025-10-31 in .*/grc/incidents; latest is "
                                          r"grc/incidents/incidents_2025-10-30\.json\)"):
        extract_day(org_settings, "grc.incidents", day)
    # the other registers of that day arrived
    assert extract_day(org_settings, "grc.risks", day).status is ExtractStatus.COMPLETE


def test_an_export_not_yet_delivered_is_not_read(org_settings, org_demo, org_spec):
    day = org_spec.window_start + timedelta(days=4)
    run_at(org_settings, org_demo, day + timedelta(days=1, minutes=30))  # the LMS delivers at 00:40
    with pytest.raises(SourceError, match=r"lms: export lms/training_completions/training_completions_2025-10-05\.csv"):
        extract_day(org_settings, "lms.training_completions", day)


def test_a_malformed_json_record_refuses_the_export_naming_record_and_field(org_settings, org_demo, org_spec):
    day = org_spec.window_start + timedelta(days=4)
    run_at(org_settings, org_demo, org_spec.observation_time(day + timedelta(days=1)))
    export = Path(org_settings.inbox_uri) / "grc/risks/risks_2025-10-05.json"
    records = json.loads(export.read_text())
    records[2]["identified_on"] = "05/10/2025"
    export.write_text(json.dumps(records))
    with pytest.raises(SourceError, match=r"grc: grc/risks/risks_2025-10-05\.json record #2 column 'identified_on': "
                                          r"field 'identified_on' should be date, got '05/10/2025'"):
        extract_day(org_settings, "grc.risks", day)
    assert Lake(org_settings.lake_uri).dataset_files(RISKS) == []


def test_a_csv_row_without_a_required_field_refuses_the_export_naming_line_and_column(org_settings, org_demo,
                                                                                     org_spec):
    day = org_spec.window_start + timedelta(days=4)
    run_at(org_settings, org_demo, org_spec.observation_time(day + timedelta(days=1)))
    export = Path(org_settings.inbox_uri) / "lms/training_completions/training_completions_2025-10-05.csv"
    lines = export.read_text().splitlines()
    header = lines[0].split(",")
    fields = lines[5].split(",")
    fields[header.index("status")] = ""
    lines[5] = ",".join(fields)
    export.write_text("\n".join(lines) + "\n")
    with pytest.raises(SourceError, match=r"training_completions_2025-10-05\.csv line 6 column 'status': required "
                                          r"field 'status' is missing"):
        extract_day(org_settings, "lms.training_completions", day)
    assert Lake(org_settings.lake_uri).dataset_files(TRAINING_COMPLETIONS) == []


def test_the_exports_are_reproducible(tmp_path, org_demo, org_spec):
    again = generate(org_spec, tmp_path / "again")
    for directory in ("lms", "grc"):
        first = sorted((org_demo / "world/exports" / directory).rglob("*.*"))
        second = sorted((again / "world/exports" / directory).rglob("*.*"))
        assert [p.relative_to(org_demo) for p in first] == [p.relative_to(again) for p in second]
        assert all(a.read_bytes() == b.read_bytes() for a, b in zip(first, second, strict=True))
