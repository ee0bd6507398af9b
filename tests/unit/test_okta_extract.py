"""The Okta extract against the stand-in: pagination, back-off, and complete-or-nothing."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ccm.constants import ExtractStatus
from ccm.errors import SourceError
from ccm.lake import Lake
from ccm.manifests import RunContext, read_manifests
from ccm.pipeline import extract
from ccm.sources import okta
from ccm.sources.extract import Interval, run_extract
from ccm.sources.registry import get_dataset
from ccm_demo.world import okta as okta_world
from tests.conftest import set_clock

DAY = Interval(datetime(2025, 10, 1), datetime(2025, 10, 2))


def _extract_users(settings, connection, sleeps=None, **overrides):
    sleeps = [] if sleeps is None else sleeps
    return extract(settings, "okta.users", DAY, RunContext(), lambda _conn_id: connection,
                   sleep=sleeps.append, **overrides)


def _world_users(demo_dir, small_spec, moment=None):
    """The users the default listing shows at the observation time (from the world itself)."""
    moment = moment or small_spec.observation_time(DAY.end)
    rendered = [okta_world.user_at(u, moment, "") for u in okta_world.load_users(demo_dir)]
    return [u for u in rendered if u is not None]


def _users_files(settings):
    return Lake(settings.lake_uri).dataset_files(get_dataset("okta.users"))


def test_all_pages_are_followed(settings, okta_connection, okta_standin, monkeypatch, demo_dir, small_spec):
    monkeypatch.setattr(okta.fetchers, "PAGE_SIZE", 7)
    manifest = _extract_users(settings, okta_connection)
    expected = _world_users(demo_dir, small_spec)
    assert manifest.status is ExtractStatus.COMPLETE
    assert manifest.rows_written == len(expected) > 7 * 5
    active_pages = -(-len(expected) // 7)
    assert manifest.pages == active_pages + 1  # + one DEPROVISIONED query (empty on day one)
    table = pq.read_table(Lake(settings.lake_uri).fs.open_input_file(
        Lake(settings.lake_uri)._abs(_users_files(settings)[0])))
    assert table.column("user_id").to_pylist() == sorted(table.column("user_id").to_pylist())
    assert set(table.column("status").to_pylist()) == {u["status"] for u in expected}
    assert table.column("observed_at")[0].as_py().isoformat() == "2025-10-02T01:30:00+00:00"


def test_deprovisioned_users_come_from_the_filtered_query(settings, okta_connection, okta_standin, small_spec,
                                                         demo_dir):
    later = small_spec.window_end + timedelta(days=30)
    set_clock(Path(os.environ["CCM_CLOCK_FILE"]), later)
    manifest = _extract_users(settings, okta_connection)
    statuses = pq.read_table(Lake(settings.lake_uri)._abs(manifest.files_written[0].path)).column("status")
    gone = [u for u in _world_users(demo_dir, small_spec, later) if u["status"] == "DEPROVISIONED"]
    assert gone and statuses.to_pylist().count("DEPROVISIONED") == len(gone)
    assert any("DEPROVISIONED" in path for _method, path, _status in okta_standin.request_log)


def test_rate_limited_requests_back_off_as_told_and_then_complete(settings, okta_connection, okta_standin):
    okta_standin.inject(status=429, count=2, path="/api/v1/users")
    sleeps: list[float] = []
    manifest = _extract_users(settings, okta_connection, sleeps)
    assert manifest.status is ExtractStatus.COMPLETE
    assert manifest.rows_written > 40
    assert len(sleeps) == 2 and all(0.9 <= s <= 60 for s in sleeps)  # Retry-After: 1, bounded


def test_retries_are_bounded_and_the_failure_names_the_request(settings, okta_connection, okta_standin):
    okta_standin.inject(status=503, count=100, path="/api/v1/users")
    with pytest.raises(SourceError, match=r"okta: GET /api/v1/users\?limit=200 still failing after 3 attempts: HTTP 503"):
        _extract_users(settings, okta_connection, max_attempts=3)
    manifests = read_manifests(Lake(settings.lake_uri))
    assert [m.status for m in manifests] == [ExtractStatus.FAILED]
    assert "HTTP 503" in manifests[0].error
    assert _users_files(settings) == []


def test_a_500_on_page_three_fails_and_leaves_the_lake_as_it_was(settings, okta_connection, okta_standin,
                                                                 monkeypatch):
    monkeypatch.setattr(okta.fetchers, "PAGE_SIZE", 7)
    first = _extract_users(settings, okta_connection)
    before = {p: Lake(settings.lake_uri).read_bytes(p) for p in _users_files(settings)}
    okta_standin.inject(status=500, count=50, path="/api/v1/users", after=2)
    with pytest.raises(SourceError, match="HTTP 500"):
        _extract_users(settings, okta_connection, max_attempts=2)
    after = {p: Lake(settings.lake_uri).read_bytes(p) for p in _users_files(settings)}
    assert after == before and first.status is ExtractStatus.COMPLETE
    statuses = [m.status for m in read_manifests(Lake(settings.lake_uri))]
    assert statuses == [ExtractStatus.COMPLETE, ExtractStatus.FAILED]


def test_a_malformed_record_is_quarantined_named_and_nothing_is_written(settings, okta_connection, okta_standin):
    okta_standin.inject(kind="drop_field", field="status", count=1, path="/api/v1/users")
    manifest = _extract_users(settings, okta_connection)
    assert manifest.status is ExtractStatus.INCOMPLETE
    assert manifest.quarantined == 1
    assert manifest.quarantine_reasons == {"required field 'status' is missing": 1}
    assert _users_files(settings) == []
    quarantined = Lake(settings.lake_uri).read_bytes(manifest.quarantine_path).decode()
    assert '"where": "#0 id=00u' in quarantined


def test_a_non_json_body_is_a_clear_source_error(settings, okta_connection, okta_standin):
    okta_standin.inject(kind="non_json", count=1, path="/api/v1/users")
    with pytest.raises(SourceError, match=r"okta: GET /api/v1/users\?limit=200 returned a body that is not JSON \(text/html"):
        _extract_users(settings, okta_connection)


def test_a_truncated_body_is_retried(settings, okta_connection, okta_standin):
    okta_standin.inject(kind="truncate", count=1, path="/api/v1/users")
    sleeps: list[float] = []
    manifest = _extract_users(settings, okta_connection, sleeps)
    assert manifest.status is ExtractStatus.COMPLETE and len(sleeps) == 1


def test_an_unreachable_endpoint_names_the_source(settings):
    from ccm.sources.connections import Connection
    from ccm.sources.http_client import Secret

    nowhere = Connection("okta_default", host="http://127.0.0.1:9", password=Secret("x"))
    with pytest.raises(SourceError, match=r"okta: cannot reach http://127.0.0.1:9"):
        _extract_users(settings, nowhere, max_attempts=2)


def test_factors_are_tagged_with_their_user(settings, okta_connection):
    manifest = extract(settings, "okta.factors", DAY, RunContext(), lambda _conn_id: okta_connection)
    table = pq.read_table(Lake(settings.lake_uri)._abs(manifest.files_written[0].path))
    assert manifest.status is ExtractStatus.COMPLETE
    assert set(table.column("status").to_pylist()) <= {"ACTIVE", "PENDING_ACTIVATION"}
    assert len(set(table.column("user_id").to_pylist())) >= 39


def test_re_extracting_the_same_observation_is_byte_identical(settings, okta_connection):
    first = _extract_users(settings, okta_connection)
    second = _extract_users(settings, okta_connection)
    assert first.files_written == second.files_written
    assert len(_users_files(settings)) == 1


def test_the_token_never_reaches_the_lake_or_manifests(settings, okta_connection):
    _extract_users(settings, okta_connection)
    lake = Lake(settings.lake_uri)
    for path in lake.list_files(""):
        assert b"test-okta-token" not in lake.read_bytes(path), path


def test_run_extract_refuses_events_outside_the_interval(settings):
    from ccm.constants import DatasetKind
    from ccm.datasets import Column, ColumnType, Dataset

    events = Dataset("t", "events", DatasetKind.EVENT, (Column("id", "id", required=True),
                                                        Column("at", "at", ColumnType.TIMESTAMP, required=True)),
                     key_columns=("id",), time_column="at")
    records = [{"id": "1", "at": "2025-10-01T10:00:00Z"}, {"id": "2", "at": "2025-10-03T10:00:00Z"}]
    manifest = run_extract(events, DAY, lambda interval, log: records, Lake(settings.lake_uri))
    assert manifest.status is ExtractStatus.INCOMPLETE
    assert "outside the requested interval" in next(iter(manifest.quarantine_reasons))
