"""The GitHub extracts against the stand-in: pagination, rate limits, complete-or-nothing, as of the clock."""

from __future__ import annotations

import math
import os
from datetime import timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ccm.constants import ExtractStatus
from ccm.errors import SourceError
from ccm.lake import Lake
from ccm.manifests import read_manifests
from ccm.sources import github
from ccm.sources.extract import Interval
from ccm.sources.registry import get_dataset
from ccm_demo.world import github as world
from ccm_demo.world.common import parse
from tests.conftest import SMALL_DEMO, set_clock
from tests.unit.github.conftest import DAY, ORG, TOKEN, run_github

DAY_ONE_CLOSE = SMALL_DEMO.observation_time(SMALL_DEMO.window_start + timedelta(days=2))  # day 1's run


def _at(moment) -> None:
    set_clock(Path(os.environ["CCM_CLOCK_FILE"]), moment)


def _rows(settings, manifest) -> list[dict]:
    lake = Lake(settings.lake_uri)
    rows = []
    for written in manifest.files_written:
        rows += pq.read_table(lake._abs(written.path)).to_pylist()
    return rows


def _world(demo_dir) -> world.GitHubWorld:
    return world.GitHubWorld.load(demo_dir)


def test_members_follow_every_page_with_2fa_and_role_from_the_filtered_lists(
        settings, github_connection, github_standin, demo_dir, monkeypatch):
    monkeypatch.setattr(github.fetchers, "PAGE_SIZE", 7)
    _at(DAY_ONE_CLOSE)  # the first planted 2FA lapse: one member has 2FA disabled
    manifest = run_github(settings, github_connection, "github.members")
    gh = _world(demo_dir)
    expected = gh.members_at(DAY_ONE_CLOSE)
    rows = {r["login"]: r for r in _rows(settings, manifest)}
    assert manifest.status is ExtractStatus.COMPLETE
    assert set(rows) == {m["login"] for m in expected} and len(rows) > 7 * 2
    assert manifest.pages == math.ceil(len(expected) / 7) + 2  # all members, then 2fa_disabled and admins
    disabled = {m["login"] for m in expected if gh.two_factor_disabled(m["login"], DAY_ONE_CLOSE)}
    assert disabled and {login for login, r in rows.items() if r["two_factor_disabled"]} == disabled
    assert {login for login, r in rows.items() if r["role"] == "admin"} == {m["login"] for m in expected if m["admin"]}
    assert any("page=3" in path for _method, path, _status in github_standin.request_log)


def test_the_organisation_is_observed_as_of_the_clock(settings, github_connection):
    _at(DAY_ONE_CLOSE)
    lapsed = _rows(settings, run_github(settings, github_connection, "github.organization"))
    _at(SMALL_DEMO.observation_time(SMALL_DEMO.window_start + timedelta(days=5)))
    restored = _rows(settings, run_github(settings, github_connection, "github.organization"))
    assert [r["two_factor_requirement_enabled"] for r in lapsed + restored] == [False, True]
    assert lapsed[0]["login"] == ORG and lapsed[0]["observed_at"] == DAY_ONE_CLOSE


def test_saml_identities_page_through_graphql(settings, github_connection, github_standin, demo_dir, monkeypatch):
    monkeypatch.setattr(github.fetchers, "PAGE_SIZE", 7)
    _at(DAY_ONE_CLOSE)
    manifest = run_github(settings, github_connection, "github.saml_identities")
    rows = _rows(settings, manifest)
    members = {m["login"]: m for m in _world(demo_dir).members}
    assert manifest.status is ExtractStatus.COMPLETE and manifest.api_total == len(rows) > 14
    assert manifest.pages == math.ceil(len(rows) / 7)
    linked = [r for r in rows if r["login"]]
    assert linked and all(members[r["login"]]["email"] == r["name_id"] for r in linked)
    assert [m for m, _p, _s in github_standin.request_log].count("POST") == manifest.pages


def test_merged_pull_requests_of_the_day_with_their_reviews_commits_and_checks(
        settings, github_connection, demo_dir):
    _at(SMALL_DEMO.observation_time(DAY.end))
    gh = _world(demo_dir)
    merged = [p for p in gh.pulls if p["merged_at"] and DAY.start <= parse(p["merged_at"]) < DAY.end]
    pulls = run_github(settings, github_connection, "github.pull_requests")
    reviews = run_github(settings, github_connection, "github.pull_request_reviews")
    commits = run_github(settings, github_connection, "github.pull_request_commits")
    checks = run_github(settings, github_connection, "github.check_runs")
    assert all(m.status is ExtractStatus.COMPLETE for m in (pulls, reviews, commits, checks))
    got = {(r["repository"], r["number"]) for r in _rows(settings, pulls)}
    assert len(merged) >= 2 and got == {(f"{ORG}/{p['repo']}", p["number"]) for p in merged}
    seen = SMALL_DEMO.observation_time(DAY.end)
    assert reviews.rows_written == sum(1 for p in merged for r in p["reviews"] if parse(r["at"]) <= seen)
    assert commits.rows_written == sum(len(p["commits"]) for p in merged)
    heads = {(p["repo"], p["commits"][-1]["sha"]) for p in merged}
    assert checks.rows_written == checks.api_total == sum(len(gh.checks_by_sha.get(h, [])) for h in heads)
    positions = sorted(r["position"] for r in _rows(settings, commits) if r["pull_number"] == merged[0]["number"]
                       and r["repository"] == f"{ORG}/{merged[0]['repo']}")
    assert positions == list(range(1, len(merged[0]["commits"]) + 1))


def test_deployments_and_workflow_runs_of_the_day(settings, github_connection, demo_dir):
    _at(SMALL_DEMO.observation_time(DAY.end))
    gh = _world(demo_dir)
    deployments = run_github(settings, github_connection, "github.deployments")
    runs = run_github(settings, github_connection, "github.workflow_runs")
    expected = {d["id"] for d in gh.deployments if DAY.start <= parse(d["created_at"]) < DAY.end}
    rows = _rows(settings, deployments)
    assert expected and {r["deployment_id"] for r in rows} == expected
    assert all(r["default_branch"] == "main" and '"state":' in r["statuses"] for r in rows)
    assert runs.status is ExtractStatus.COMPLETE and runs.rows_written == runs.api_total > 0
    assert runs.rows_written == sum(1 for r in gh.runs if DAY.start <= parse(r["created_at"]) < DAY.end)


def test_dependabot_alerts_follow_cursor_pages(settings, github_connection, github_standin, demo_dir, monkeypatch):
    monkeypatch.setattr(github.fetchers, "PAGE_SIZE", 3)
    moment = SMALL_DEMO.observation_time(DAY.end)
    _at(moment)
    manifest = run_github(settings, github_connection, "github.dependabot_alerts")
    visible = [a for a in _world(demo_dir).alerts if parse(a["created_at"]) <= moment]
    rows = _rows(settings, manifest)
    assert manifest.status is ExtractStatus.COMPLETE and len(rows) == len(visible) > 3
    assert any("after=" in path for _m, path, _s in github_standin.request_log)
    states = {(r["repository"].split("/")[1], r["number"]): r["state"] for r in rows}
    for alert in visible:
        fixed = alert["fixed_at"] and parse(alert["fixed_at"]) <= moment
        dismissed = alert["dismissed_at"] and parse(alert["dismissed_at"]) <= moment
        assert states[(alert["repo"], alert["number"])] == ("fixed" if fixed else "dismissed" if dismissed else "open")


def test_branch_not_protected_is_recorded_as_no_protection(settings, github_connection, github_standin, demo_dir):
    _at(DAY_ONE_CLOSE)  # the first planted lapse: a production repository's protection was deleted
    manifest = run_github(settings, github_connection, "github.branch_protection")
    rows = {r["repository"]: r for r in _rows(settings, manifest)}
    gh = _world(demo_dir)
    unprotected = {f"{ORG}/{r['name']}" for r in gh.repos if gh.protection_at(r["name"], DAY_ONE_CLOSE) is None}
    assert manifest.status is ExtractStatus.COMPLETE and len(rows) == len(gh.repos)
    assert {name for name, r in rows.items() if not r["protected"]} == unprotected
    assert f"{ORG}/{next(r for r in gh.repos if r['production'])['name']}" in unprotected
    assert all(r["required_approving_review_count"] is None for name, r in rows.items() if name in unprotected)
    protected = next(r for name, r in rows.items() if name not in unprotected)
    assert protected["required_status_checks"] == ["build", "test"] and protected["enforce_admins"] is True
    assert sum(1 for _m, path, status in github_standin.request_log if path.endswith("/protection")
               and status == 404) == len(unprotected)


def test_secondary_rate_limits_wait_as_long_as_retry_after_says(settings, github_connection, github_standin):
    github_standin.inject(kind="secondary_rate_limit", retry_after=7, count=2, path="/orgs/")
    sleeps: list[float] = []
    manifest = run_github(settings, github_connection, "github.repositories", sleeps=sleeps)
    assert manifest.status is ExtractStatus.COMPLETE and manifest.rows_written > 0
    assert sleeps == [7.0, 7.0]


def test_an_exhausted_rate_limit_waits_until_the_reset(settings, github_connection, github_standin):
    github_standin.inject(kind="primary_rate_limit", reset_in=30, count=1, path="/orgs/")
    sleeps: list[float] = []
    manifest = run_github(settings, github_connection, "github.repositories", sleeps=sleeps)
    assert manifest.status is ExtractStatus.COMPLETE
    assert len(sleeps) == 1 and 29 <= sleeps[0] <= 32  # x-ratelimit-reset - Date + 1 s


@pytest.mark.parametrize(("key", "path", "after", "failing"), [
    ("github.members", f"/orgs/{ORG}/members", 1, rf"GET http://.*/orgs/{ORG}/members\?per_page=3&page=2"),
    ("github.pull_requests", f"/repos/{ORG}/", 2, rf"GET .*/repos/{ORG}/[a-z-]+/pulls\?"),
])
def test_a_500_mid_pagination_fails_and_leaves_the_lake_as_it_was(settings, github_connection, github_standin,
                                                                  monkeypatch, key, path, after, failing):
    monkeypatch.setattr(github.fetchers, "PAGE_SIZE", 3)
    monkeypatch.setattr(github.fetchers, "RECENT_PAGE_SIZE", 3)
    _at(SMALL_DEMO.observation_time(DAY.end))
    lake = Lake(settings.lake_uri)
    first = run_github(settings, github_connection, key)
    before = {p: lake.read_bytes(p) for p in lake.dataset_files(get_dataset(key))}
    github_standin.inject(status=500, count=50, path=path, after=after)
    with pytest.raises(SourceError, match=rf"github: {failing}.* still failing after 2 attempts: HTTP 500"):
        run_github(settings, github_connection, key, max_attempts=2)
    after_files = {p: lake.read_bytes(p) for p in lake.dataset_files(get_dataset(key))}
    assert first.status is ExtractStatus.COMPLETE and first.rows_written > 0 and after_files == before
    assert [m.status for m in read_manifests(lake)] == [ExtractStatus.COMPLETE, ExtractStatus.FAILED]


def test_an_outage_fails_every_request_and_names_it(settings, github_connection):
    outage_day = SMALL_DEMO.window_start + timedelta(days=3)  # the small demo's planted GitHub outage
    _at(SMALL_DEMO.observation_time(outage_day))
    with pytest.raises(SourceError, match=r"github: GET /orgs/kestrel-labs still failing after 2 attempts: HTTP 503"):
        run_github(settings, github_connection, "github.organization", max_attempts=2)


def test_the_token_never_reaches_the_lake_or_manifests(settings, github_connection):
    for key in ("github.members", "github.saml_identities", "github.pull_requests"):
        run_github(settings, github_connection, key)
    lake = Lake(settings.lake_uri)
    for path in lake.list_files(""):
        assert TOKEN.encode() not in lake.read_bytes(path), path


def test_the_audit_log_of_a_day_follows_cursor_pages_oldest_first(settings, github_connection, github_standin,
                                                                   demo_dir, monkeypatch):
    """Day 1 of the window: the 2FA requirement is switched off and a production branch loses its
    protection; the audit log says so, event by event, as the snapshots show it."""
    monkeypatch.setattr(github.fetchers, "PAGE_SIZE", 1)
    day_one = Interval(SMALL_DEMO.window_start + timedelta(days=1), SMALL_DEMO.window_start + timedelta(days=2))
    _at(SMALL_DEMO.observation_time(day_one.end))
    manifest = run_github(settings, github_connection, "github.audit_log", day_one)
    gh = _world(demo_dir)
    expected = gh.audit_events_between(day_one.start, day_one.end)
    rows = _rows(settings, manifest)
    assert manifest.status is ExtractStatus.COMPLETE and manifest.pages == len(expected) >= 2
    assert [r["document_id"] for r in rows] == [e["_document_id"] for e in expected]
    actions = [r["action"] for r in rows]
    assert "org.disable_two_factor_requirement" in actions and "protected_branch.destroy" in actions
    destroyed = next(r for r in rows if r["action"] == "protected_branch.destroy")
    repo = destroyed["repo"].split("/")[1]
    assert gh.protection_at(repo, destroyed["created_at"] - timedelta(seconds=1)) is not None
    assert gh.protection_at(repo, destroyed["created_at"]) is None
    assert sum("after=" in path for _m, path, _s in github_standin.request_log) == len(expected) - 1


def test_an_audit_log_day_github_no_longer_keeps_is_refused_not_empty(settings, github_connection):
    _at(SMALL_DEMO.window_start + timedelta(days=200))
    old = Interval(SMALL_DEMO.window_start, SMALL_DEMO.window_start + timedelta(days=1))
    with pytest.raises(SourceError, match="GitHub keeps 180 days"):
        run_github(settings, github_connection, "github.audit_log", old)
