"""Identity governance exports: the approved-administrator list and the access-review register."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ccm.constants import ExtractStatus
from ccm.errors import SourceError
from ccm.lake import Lake
from ccm.manifests import RunContext
from ccm.pipeline import extract
from ccm.sources.exports.datasets import ACCESS_REVIEWS, APPROVED_ADMINS
from ccm.sources.extract import Interval
from ccm_demo.world import iga as iga_world


def _extract(settings, key: str, day: datetime):
    return extract(settings, key, Interval(day, day + timedelta(days=1)), RunContext(), lambda _c: None)


def _rows(settings, manifest):
    return pq.read_table(Lake(settings.lake_uri)._abs(manifest.files_written[0].path)).to_pylist()


def test_the_approved_admin_list_of_the_day_is_read_with_typed_columns(settings, deliver, small_spec, demo_dir):
    day = small_spec.window_start + timedelta(days=1)
    deliver(small_spec.observation_time(day + timedelta(days=1)))
    manifest = _extract(settings, "iga.approved_admins", day)
    assert manifest.status is ExtractStatus.COMPLETE
    assert manifest.inputs[0].name == f"iga/approved_admins/approved_admins_{day:%Y-%m-%d}.csv"
    rows = _rows(settings, manifest)
    expected = iga_world.approvals_in_force(iga_world.load_approvals(demo_dir), day + timedelta(days=1))
    assert {r["approval_id"] for r in rows} == {r["approval_id"] for r in expected}
    assert {r["system"] for r in rows} == {"okta", "google"}
    assert all(r["approved_at"].tzinfo is not None and r["role"] for r in rows)


def test_a_missing_export_fails_naming_the_file_expected(settings, deliver, small_spec):
    day = iga_world.missing_approved_admins_day(small_spec)
    deliver(small_spec.observation_time(day + timedelta(days=1)))
    previous = day - timedelta(days=1)
    with pytest.raises(SourceError, match=rf"iga: export iga/approved_admins/approved_admins_{day:%Y-%m-%d}\.csv "
                                          rf"was not delivered \(no export dated {day:%Y-%m-%d} in .*/iga/approved_admins; "
                                          rf"latest is iga/approved_admins/approved_admins_{previous:%Y-%m-%d}\.csv\)"):
        _extract(settings, "iga.approved_admins", day)


def test_the_review_register_keeps_what_had_happened_by_the_export(settings, deliver, demo_dir, small_spec):
    day = small_spec.window_start + timedelta(days=2)
    deliver(small_spec.observation_time(day + timedelta(days=1)))
    manifest = _extract(settings, "iga.access_reviews", day)
    rows = {r["review_id"]: r for r in _rows(settings, manifest)}
    assert manifest.status is ExtractStatus.COMPLETE
    expected = iga_world.reviews_as_of(iga_world.load_reviews(demo_dir), day + timedelta(days=1))
    assert set(rows) == {r["review_id"] for r in expected}
    # last quarter's campaigns are in the cumulative register, completed and signed off
    q3 = [r for r in rows.values() if r["campaign"] == "2025-Q3"]
    assert {r["system"] for r in q3} == set(iga_world.IN_SCOPE_SYSTEMS)
    assert all(r["status"] == "signed_off" and r["signed_off_at"] < r["started_at"] + timedelta(days=40)
               for r in q3)


def test_a_malformed_register_is_refused_naming_the_file_record_and_column(settings, deliver, small_spec):
    day = small_spec.window_start + timedelta(days=3)
    deliver(small_spec.observation_time(day + timedelta(days=1)))
    export = Path(settings.inbox_uri) / "iga" / "access_reviews" / f"access_reviews_{day:%Y-%m-%d}.json"
    records = json.loads(export.read_text())
    records[1]["started_at"] = "soon"
    export.write_text(json.dumps(records))
    with pytest.raises(SourceError, match=rf"iga: iga/access_reviews/access_reviews_{day:%Y-%m-%d}.json record #1 "
                                          r"column 'started_at': field 'started_at' should be timestamp, got 'soon'"):
        _extract(settings, "iga.access_reviews", day)
    assert Lake(settings.lake_uri).dataset_files(ACCESS_REVIEWS) == []
    export.write_text(export.read_text()[:-20])
    with pytest.raises(SourceError, match=rf"iga: iga/access_reviews/access_reviews_{day:%Y-%m-%d}.json line 1: is "
                                          "not valid JSON"):
        _extract(settings, "iga.access_reviews", day)
    csv_export = Path(settings.inbox_uri) / "iga" / "approved_admins" / f"approved_admins_{day:%Y-%m-%d}.csv"
    lines = csv_export.read_text().splitlines()
    lines[1] = ",".join(value if index != 4 else "" for index, value in enumerate(lines[1].split(",")))
    csv_export.write_text("\n".join(lines) + "\n")
    with pytest.raises(SourceError, match=r"approved_admins_.*\.csv line 2 column 'role': required field 'role' is "
                                          "missing"):
        _extract(settings, "iga.approved_admins", day)
    assert Lake(settings.lake_uri).dataset_files(APPROVED_ADMINS) == []
