"""The Okta System Log extract: bounded windows, Link pagination, real timestamp formats,
duplicates, retention; and the log agreeing with the users the same world renders."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pyarrow.parquet as pq
import pytest

from ccm.constants import ExtractStatus
from ccm.errors import SourceError
from ccm.lake import Lake
from ccm.manifests import RunContext
from ccm.pipeline import extract
from ccm.sources import okta
from ccm.sources.extract import Interval, run_extract
from ccm.sources.http_client import ApiClient
from ccm.sources.okta.client import config_from_connection
from ccm.sources.okta.datasets import SYSTEM_LOG
from ccm.sources.okta.fetchers import fetch_system_log
from ccm_demo.world import okta as okta_world
from tests.conftest import set_clock

DAY = Interval(datetime(2025, 10, 1), datetime(2025, 10, 2))
BASE = "https://kestrel.okta.example"


def _extract(settings, connection, key="okta.system_log", interval=DAY):
    return extract(settings, key, interval, RunContext(), lambda _conn_id: connection, sleep=lambda _s: None)


def _table(settings, manifest):
    lake = Lake(settings.lake_uri)
    return pq.read_table(lake._abs(manifest.files_written[0].path))


def _mock_client(pages: dict[str | None, tuple[list, str | None]], max_pages: int = 50) -> ApiClient:
    """A client whose server answers /api/v1/logs from `pages`: {after cursor: (events, next cursor)}."""

    def handler(request: httpx.Request) -> httpx.Response:
        events, following = pages[request.url.params.get("after")]
        headers = {}
        if following is not None:
            params = {**dict(request.url.params), "after": following}
            headers["Link"] = f'<{BASE}/api/v1/logs?{httpx.QueryParams(params)}>; rel="next"'
        return httpx.Response(200, json=events, headers=headers)

    config = config_from_connection(BASE, "token", max_pages=max_pages, max_attempts=1)
    return ApiClient(config, transport=httpx.MockTransport(handler))


def _event(uuid: str, published: str, event_type: str = "user.session.start") -> dict:
    return {"uuid": uuid, "published": published, "eventType": event_type, "version": "0", "severity": "INFO",
            "displayMessage": "User login to Okta",
            "actor": {"id": "00u1", "type": "User", "alternateId": "ada@kestrel.example", "displayName": "Ada"},
            "outcome": {"result": "SUCCESS"}, "client": {"ipAddress": "198.51.100.7"},
            "transaction": {"type": "WEB", "id": "tx1"}}


def test_a_bounded_day_is_read_completely_following_next_links_until_an_empty_page(
        settings, okta_connection, okta_standin, monkeypatch, demo_dir):
    monkeypatch.setattr(okta.fetchers, "LOG_PAGE_SIZE", 10)
    manifest = _extract(settings, okta_connection)
    expected = okta_world.events_between(okta_world.load_users(demo_dir), DAY.start, DAY.end)
    assert manifest.status is ExtractStatus.COMPLETE
    assert manifest.rows_written == len(expected) > 10 * 2
    # every full page carried a next link, the last non-empty one too: one more (empty) page ends it
    assert manifest.pages == -(-len(expected) // 10) + 1
    requests = [path for _m, path, _s in okta_standin.request_log if path.startswith("/api/v1/logs")]
    assert len(requests) == manifest.pages
    assert all("since=2025-10-01T00%3A00%3A00.000Z" in p and "until=2025-10-02T00%3A00%3A00.000Z" in p
               for p in requests)
    table = _table(settings, manifest)
    assert sorted(table.column("uuid").to_pylist()) == sorted(e["uuid"] for e in expected)
    assert min(table.column("published").to_pylist()) >= DAY.start


def test_the_real_published_format_is_parsed_and_an_unusable_one_is_quarantined_by_name(settings):
    # Okta System Log events as exported through a SIEM: "YYYY-MM-DD HH:MM:SS.fffffffff", not ISO-8601
    events = [_event("7c1d4b6e-0001-4a1b-9c2d-000000000001", "2025-10-01 09:12:33.496000000"),
              _event("7c1d4b6e-0001-4a1b-9c2d-000000000002", "2025-10-01 17:40:02.875"),
              _event("7c1d4b6e-0001-4a1b-9c2d-000000000003", "redacted")]
    lake = Lake(settings.lake_uri)
    good = run_extract(SYSTEM_LOG, DAY, fetch_system_log(_mock_client({None: (events[:2], None)})), lake)
    assert good.status is ExtractStatus.COMPLETE
    published = _table(settings, good).column("published").to_pylist()
    assert [p.isoformat() for p in published] == ["2025-10-01T09:12:33.496000+00:00",
                                                  "2025-10-01T17:40:02.875000+00:00"]
    bad = run_extract(SYSTEM_LOG, DAY, fetch_system_log(_mock_client({None: (events, None)})), lake)
    assert bad.status is ExtractStatus.INCOMPLETE and bad.rows_written == 0
    reason, = bad.quarantine_reasons
    assert "field 'published' should be timestamp, got 'redacted'" in reason
    assert "uuid=7c1d4b6e-0001-4a1b-9c2d-000000000003" in lake.read_bytes(bad.quarantine_path).decode()


def test_repeated_events_are_read_once_and_conflicting_ones_make_the_extract_incomplete(settings):
    one, two, three = (_event(f"e{n}", f"2025-10-01T0{n}:00:00.000Z") for n in (1, 2, 3))
    lake = Lake(settings.lake_uri)
    pages = {None: ([one, two], "c2"), "c2": ([two, three], "c3"), "c3": ([], None)}
    manifest = run_extract(SYSTEM_LOG, DAY, fetch_system_log(_mock_client(pages)), lake)
    assert manifest.status is ExtractStatus.COMPLETE and manifest.rows_written == 3
    assert "1 events repeated across pages were read once" in manifest.notes
    changed = {**two, "displayMessage": "something else"}
    pages = {None: ([one, two], "c2"), "c2": ([changed, three], "c3"), "c3": ([], None)}
    manifest = run_extract(SYSTEM_LOG, DAY, fetch_system_log(_mock_client(pages)), lake)
    assert manifest.status is ExtractStatus.INCOMPLETE
    assert manifest.quarantine_reasons == {"the same uuid arrived twice with different content": 1}


def test_an_event_published_exactly_at_until_is_left_to_the_next_interval(settings):
    pages = {None: ([_event("a", "2025-10-01T23:59:59.999Z"), _event("b", "2025-10-02T00:00:00.000Z")], None)}
    manifest = run_extract(SYSTEM_LOG, DAY, fetch_system_log(_mock_client(pages)), Lake(settings.lake_uri))
    assert manifest.status is ExtractStatus.COMPLETE and manifest.rows_written == 1
    assert any("left to the next interval" in note for note in manifest.notes)


def test_pagination_is_bounded_a_polling_style_next_link_on_an_empty_page_ends_it(settings):
    lake = Lake(settings.lake_uri)
    # a next link that points back at an earlier page would loop forever
    looping = {None: ([_event("a", "2025-10-01T01:00:00.000Z")], "c1"),
               "c1": ([_event("b", "2025-10-01T02:00:00.000Z")], "c1")}
    with pytest.raises(SourceError, match="pagination loops back to"):
        run_extract(SYSTEM_LOG, DAY, fetch_system_log(_mock_client(looping)), lake)
    # a server that always offers another non-empty page stops at max_pages
    endless = {None if n == 0 else f"c{n}": ([_event(f"e{n}", "2025-10-01T03:00:00.000Z")], f"c{n + 1}")
               for n in range(10)}
    with pytest.raises(SourceError, match="more than 4 pages"):
        run_extract(SYSTEM_LOG, DAY, fetch_system_log(_mock_client(endless, max_pages=4)), lake)
    # an empty page with a next link (Okta's polling behaviour) is the end of a bounded read
    polling = {None: ([_event("a", "2025-10-01T01:00:00.000Z")], "c1"), "c1": ([], "c1")}
    manifest = run_extract(SYSTEM_LOG, DAY, fetch_system_log(_mock_client(polling)), lake)
    assert manifest.status is ExtractStatus.COMPLETE and manifest.rows_written == 1 and manifest.pages == 2


def test_intervals_past_retention_or_still_open_are_refused_and_a_fresh_one_settles_first(settings,
                                                                                          okta_connection):
    old = Interval(datetime(2025, 6, 1), datetime(2025, 6, 2))
    with pytest.raises(SourceError, match="older than the System Log's 90-day retention"):
        _extract(settings, okta_connection, interval=old)
    set_clock(Path(os.environ["CCM_CLOCK_FILE"]), DAY.end - timedelta(minutes=1))
    with pytest.raises(SourceError, match="the interval has not closed yet"):
        _extract(settings, okta_connection)
    set_clock(Path(os.environ["CCM_CLOCK_FILE"]), DAY.end + timedelta(seconds=30))
    sleeps: list[float] = []
    manifest = extract(settings, "okta.system_log", DAY, RunContext(), lambda _c: okta_connection,
                       sleep=sleeps.append)
    assert sleeps == [90.0] and manifest.status is ExtractStatus.COMPLETE


def test_sign_ins_in_the_log_match_last_login_in_the_user_list(settings, okta_connection):
    users = _table(settings, _extract(settings, okta_connection, key="okta.users"))
    log = _table(settings, _extract(settings, okta_connection))
    last_session: dict[str, datetime] = {}
    for row in log.to_pylist():
        if row["event_type"] == "user.session.start":
            last_session[row["actor_id"]] = max(row["published"], last_session.get(row["actor_id"], row["published"]))
    signed_in_today = {r["user_id"]: r["last_login"] for r in users.to_pylist()
                       if r["last_login"] is not None and r["last_login"] >= DAY.start}
    assert last_session and last_session == signed_in_today


def test_lifecycle_factor_and_privilege_events_follow_the_world_timelines(demo_dir, small_spec):
    users = okta_world.load_users(demo_dir)
    start, end = small_spec.window_start, small_spec.window_end
    events = okta_world.events_between(users, start, end)
    about = {(e["eventType"], e["target"][0]["id"], e["published"]) for e in events if e.get("target")}
    expected = set()
    for user in users:
        for at, status in user["timeline"]:
            if start <= okta_world.parse(at) < end:
                kind = {"STAGED": "user.lifecycle.create", "ACTIVE": "user.lifecycle.activate",
                        "SUSPENDED": "user.lifecycle.suspend", "DEPROVISIONED": "user.lifecycle.deactivate"}[status]
                expected.add((kind, user["id"], at))
        for factor in user["factors"]:
            if factor["removed_at"] and start <= okta_world.parse(factor["removed_at"]) < end:
                expected.add(("user.mfa.factor.deactivate", user["id"], factor["removed_at"]))
        for role in user["roles"]:
            if start <= okta_world.parse(role["granted_at"]) < end:
                expected.add(("user.account.privilege.grant", user["id"], role["granted_at"]))
    kinds = {kind for kind, _, _ in expected}
    # the small demo has a seeded MFA reset, a seeded admin grant and lifecycle changes
    assert {"user.mfa.factor.deactivate", "user.account.privilege.grant", "user.lifecycle.deactivate"} <= kinds
    assert expected <= about
    assert len({e["uuid"] for e in events}) == len(events)
    assert events == sorted(events, key=lambda e: (e["published"], e["uuid"]))
    json.dumps(events)  # the stand-in serves them as they are


def test_admin_roles_come_from_the_assignees_listing_and_each_users_roles(settings, okta_connection, okta_standin,
                                                                          monkeypatch, demo_dir, small_spec):
    monkeypatch.setattr(okta.fetchers, "ASSIGNEES_PAGE_SIZE", 1)
    manifest = _extract(settings, okta_connection, key="okta.admin_roles")
    moment = small_spec.observation_time(DAY.end)
    expected = {(u["id"], r["type"]) for u in okta_world.load_users(demo_dir)
                for r in okta_world.roles_at(u, moment, "")}
    rows = _table(settings, manifest).to_pylist()
    assert manifest.status is ExtractStatus.COMPLETE
    assert {(r["user_id"], r["role_type"]) for r in rows} == expected and len(expected) >= 3
    admins = {user_id for user_id, _ in expected}
    # one body-linked page per assignee, then one roles request per assignee
    assert manifest.pages == len(admins) + len(admins)
    assert sum(p.startswith("/api/v1/iam/assignees/users") for _m, p, _s in okta_standin.request_log) == len(admins)
