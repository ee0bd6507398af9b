"""The Google Workspace users extract: nextPageToken paging, deleted users, Google's errors."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pyarrow.parquet as pq
import pytest

from ccm.constants import ExtractStatus
from ccm.errors import SourceError
from ccm.lake import Lake
from ccm.manifests import RunContext, read_manifests
from ccm.pipeline import extract
from ccm.sources import google
from ccm.sources.extract import Interval, run_extract
from ccm.sources.google.client import config_from_connection
from ccm.sources.google.datasets import USERS
from ccm.sources.google.fetchers import fetch_users
from ccm.sources.http_client import ApiClient
from ccm_demo.world import google as google_world
from tests.conftest import set_clock

DAY = Interval(datetime(2025, 10, 1), datetime(2025, 10, 2))
RATE_LIMITED = {"error": {"code": 403, "message": "Quota exceeded for quota metric 'Queries'",
                          "errors": [{"message": "Quota exceeded", "domain": "usageLimits",
                                      "reason": "userRateLimitExceeded"}], "status": "PERMISSION_DENIED"}}


def _extract(settings, connection, sleeps=None, **overrides):
    sleeps = [] if sleeps is None else sleeps
    return extract(settings, "google.users", DAY, RunContext(), lambda _conn_id: connection,
                   sleep=sleeps.append, **overrides)


def _rows(settings, manifest):
    return pq.read_table(Lake(settings.lake_uri)._abs(manifest.files_written[0].path)).to_pylist()


def _listed(demo_dir, moment, deleted=False):
    users = google_world.load_users(demo_dir)
    test = google_world.deleted_listed_at if deleted else google_world.exists_at
    return [u for u in users if test(u, moment)]


def test_every_page_is_followed_through_next_page_token(settings, google_connection, google_standin, monkeypatch,
                                                        demo_dir, small_spec):
    monkeypatch.setattr(google.fetchers, "PAGE_SIZE", 7)
    manifest = _extract(settings, google_connection)
    expected = _listed(demo_dir, small_spec.observation_time(DAY.end))
    assert manifest.status is ExtractStatus.COMPLETE
    assert manifest.rows_written == len(expected) > 7 * 4
    assert manifest.pages == -(-len(expected) // 7) + 1  # + the (empty) showDeleted listing
    rows = _rows(settings, manifest)
    assert {r["user_id"] for r in rows} == {u["id"] for u in expected}
    assert all(r["is_enrolled_in_2sv"] in (True, False) and r["primary_email"].endswith("@kestrel.example")
               for r in rows)
    tokens = [p for _m, p, _s in google_standin.request_log if "pageToken=" in p]
    assert len(tokens) == manifest.pages - 2
    assert all("customer=my_customer" in p for _m, p, _s in google_standin.request_log)


def test_deleted_users_come_from_the_show_deleted_listing(settings, google_connection, demo_dir, small_spec):
    deletions = sorted(google_world.parse(u["deleted_at"]) for u in google_world.load_users(demo_dir)
                       if u["deleted_at"])
    moment = deletions[0] + timedelta(hours=1)
    set_clock(Path(os.environ["CCM_CLOCK_FILE"]), moment)
    manifest = _extract(settings, google_connection)
    rows = _rows(settings, manifest)
    deleted = [r for r in rows if r["deletion_time"] is not None]
    assert {r["user_id"] for r in deleted} == {u["id"] for u in _listed(demo_dir, moment, deleted=True)}
    assert deleted and all(r["suspended"] for r in deleted)


def test_throttling_403s_and_503s_are_retried_with_back_off(settings, google_connection, google_standin):
    google_standin.inject(status=403, count=1, path="/admin/directory/v1/users", body=RATE_LIMITED)
    google_standin.inject(status=503, count=1, path="/admin/directory/v1/users")
    sleeps: list[float] = []
    manifest = _extract(settings, google_connection, sleeps)
    assert manifest.status is ExtractStatus.COMPLETE and len(sleeps) == 2


def test_a_permission_error_fails_at_once_naming_the_request(settings, google_connection, google_standin):
    google_standin.inject(status=403, count=5, path="/admin/directory/v1/users")
    sleeps: list[float] = []
    with pytest.raises(SourceError, match=r"google: GET /admin/directory/v1/users\?customer=my_customer.* "
                                          r"returned HTTP 403: .*forbidden"):
        _extract(settings, google_connection, sleeps)
    assert sleeps == []
    assert [m.status for m in read_manifests(Lake(settings.lake_uri))] == [ExtractStatus.FAILED]


def test_a_bad_token_is_a_clear_401(settings, google_standin):
    from ccm.sources.connections import Connection
    from ccm.sources.http_client import Secret

    wrong = Connection("google_default", host=google_standin.url, password=Secret("expired-token"))
    with pytest.raises(SourceError, match=r"returned HTTP 401: .*invalid authentication credentials"):
        _extract(settings, wrong)


def test_an_outage_fails_the_extract_and_writes_nothing(settings, google_connection, demo_dir, small_spec):
    outage = next(o for o in google_world.read_json(demo_dir / "world" / "outages.json") if o["source"] == "google")
    set_clock(Path(os.environ["CCM_CLOCK_FILE"]), google_world.parse(outage["start"]) + timedelta(hours=1))
    with pytest.raises(SourceError, match=r"HTTP 503 .*backendError"):
        _extract(settings, google_connection, max_attempts=2)
    assert Lake(settings.lake_uri).dataset_files(USERS) == []


def test_a_user_without_its_2sv_flags_is_quarantined_and_nothing_is_written(settings, google_connection,
                                                                            google_standin):
    google_standin.inject(kind="drop_field", field="isEnrolledIn2Sv", count=1, path="/admin/directory/v1/users")
    manifest = _extract(settings, google_connection)
    assert manifest.status is ExtractStatus.INCOMPLETE
    assert manifest.quarantine_reasons == {"required field 'isEnrolledIn2Sv' is missing": 1}
    assert Lake(settings.lake_uri).dataset_files(USERS) == []


def _client(pages: list[dict]) -> ApiClient:
    answers = iter(pages)
    config = config_from_connection("https://admin.googleapis.com", "token", max_attempts=1)
    return ApiClient(config, transport=httpx.MockTransport(lambda request: httpx.Response(200, json=next(answers))))


def test_an_empty_listing_has_no_users_key_and_a_repeated_token_is_refused(settings):
    user = {"kind": "admin#directory#user", "id": "1", "primaryEmail": "ada@kestrel.example", "isAdmin": False,
            "isEnrolledIn2Sv": True, "isEnforcedIn2Sv": True, "suspended": False,
            "creationTime": "2024-01-01T08:00:00.000Z", "lastLoginTime": "1970-01-01T00:00:00.000Z"}
    page = {"kind": "admin#directory#users", "etag": '"x"'}
    lake = Lake(settings.lake_uri)
    manifest = run_extract(USERS, DAY, fetch_users(_client([{**page, "users": [user]}, page])), lake)
    assert manifest.status is ExtractStatus.COMPLETE and manifest.rows_written == 1
    row, = _rows(settings, manifest)
    assert row["last_login_time"].year == 1970  # "never signed in"; staging turns it into NULL
    looping = [{**page, "users": [user], "nextPageToken": "t1"}, {**page, "nextPageToken": "t1"}]
    with pytest.raises(SourceError, match="nextPageToken 't1' repeats"):
        run_extract(USERS, DAY, fetch_users(_client(looping)), lake)
    with pytest.raises(SourceError, match="expected an admin#directory#users object"):
        run_extract(USERS, DAY, fetch_users(_client([{"items": []}])), lake)
