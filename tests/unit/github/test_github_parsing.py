"""GitHub answers shaped like the real recorded traffic, mapped and judged without a server."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import parse_qs

import pytest

from ccm.constants import ExtractStatus
from ccm.errors import RecordError, SourceError
from ccm.lake import Lake
from ccm.sources import github
from ccm.sources.extract import FetchLog, Interval, run_extract
from ccm.sources.github.client import make_client
from ccm.sources.github.datasets import BRANCH_PROTECTION, CHECK_RUNS, PULL_REQUEST_REVIEWS, PULL_REQUESTS
from ccm.sources.github.fetchers import (
    fetch_branch_protection,
    fetch_check_runs,
    fetch_organization,
    fetch_pull_requests,
    fetch_saml_identities,
    fetch_workflow_runs,
)
from tests.unit.github.conftest import answer, day, mock_session, protection_body, pull, repository

API = "https://api.github.com"


def test_pull_request_pages_are_followed_wherever_link_points_and_the_listing_stops_early():
    repo = repository("app", 515435940)
    requested: list[str] = []

    def pulls_page(page: int):
        def handle(request):
            requested.append(str(request.url))
            pages = {1: [pull(13, "2022-07-19T04:00:00Z", "2022-07-19T04:00:00Z", repo),
                         pull(12, None, "2022-07-19T03:00:00Z", repo),
                         pull(11, "2022-07-19T02:00:00Z", "2022-07-19T02:30:00Z", repo)],
                     2: [pull(10, "2022-07-18T23:00:00Z", "2022-07-19T01:00:00Z", repo),
                         pull(9, "2022-07-18T20:00:00Z", "2022-07-18T20:00:00Z", repo),
                         pull(8, "2022-07-18T19:00:00Z", "2022-07-18T19:00:00Z", repo)],
                     3: [pull(7, "2022-07-17T19:00:00Z", "2022-07-17T19:00:00Z", repo)]}
            links = [f'<{API}/repositories/515435940/pulls?state=closed&per_page=3&page={page + 1}>; rel="next"',
                     f'<{API}/repositories/515435940/pulls?state=closed&per_page=3&page=3>; rel="last"']
            return answer(200, pages[page], {"link": ", ".join(links)} if page < 3 else {})
        return handle

    routes = {"/orgs/octokit-fixture-org/repos": lambda r: answer(200, [repo]),
              "/repos/octokit-fixture-org/app/pulls": pulls_page(1)}

    def repositories_route(request):  # the Link URLs point at /repositories/{id}/pulls?page=N
        return pulls_page(int(parse_qs(request.url.query.decode())["page"][0]))(request)

    routes["/repositories/515435940/pulls"] = repositories_route
    log = FetchLog()
    records = list(fetch_pull_requests(mock_session(routes))(day("2022-07-19"), log))
    assert [r["number"] for r in records] == [13, 11]  # #12 was closed unmerged, #10 merged the day before
    assert len(requested) == 2 and "page=2" in requested[1]  # page 2 is older than the day: page 3 is never read
    row = PULL_REQUESTS.to_row(records[0], 0)
    assert (row["repository"], row["default_branch"], row["head_sha"]) == ("octokit-fixture-org/app", "main",
                                                                          f"{13 + 7000:040x}")


def test_branch_protection_is_mapped_and_branch_not_protected_means_none():
    repos = [repository("api", 1), repository("web", 2)]
    not_protected = {"message": "Branch not protected",
                     "documentation_url": "https://docs.github.com/rest/reference/repos#get-branch-protection"}
    routes = {"/orgs/octokit-fixture-org/repos": lambda r: answer(200, repos),
              "/repos/octokit-fixture-org/api/branches/main/protection": lambda r: answer(200, protection_body("api")),
              "/repos/octokit-fixture-org/web/branches/main/protection": lambda r: answer(404, not_protected)}
    records = list(fetch_branch_protection(mock_session(routes))(day("2022-07-19"), FetchLog()))
    rows = [BRANCH_PROTECTION.to_row(r, i, datetime(2022, 7, 20)) for i, r in enumerate(records)]
    api, web = rows
    assert (api["protected"], api["required_approving_review_count"], api["dismiss_stale_reviews"]) == (True, 1, True)
    assert (api["enforce_admins"], api["allow_force_pushes"], api["required_status_checks"]) == (False, False,
                                                                                                ["foo/bar"])
    assert web["protected"] is False and web["branch"] == "main"
    assert web["required_approving_review_count"] is None and web["enforce_admins"] is None


def test_any_other_404_on_branch_protection_is_an_error_naming_the_request():
    routes = {"/orgs/octokit-fixture-org/repos": lambda r: answer(200, [repository("gone", 3)]),
              "/repos/octokit-fixture-org/gone/branches/main/protection":
                  lambda r: answer(404, {"message": "Branch not found"})}
    with pytest.raises(SourceError, match=r"github: GET /repos/octokit-fixture-org/gone/branches/main/protection "
                                          r"returned HTTP 404: 'Branch not found'"):
        list(fetch_branch_protection(mock_session(routes))(day("2022-07-19"), FetchLog()))


def test_an_organisation_answer_without_the_2fa_setting_names_the_permission_needed():
    org = {"login": "octokit-fixture-org", "id": 31898100, "type": "Organization"}  # what a non-owner sees
    routes = {"/orgs/octokit-fixture-org": lambda r: answer(200, org)}
    with pytest.raises(SourceError, match=r"GET /orgs/octokit-fixture-org: two_factor_requirement_enabled is not "
                                          r"in the answer; only organisation owners see it"):
        list(fetch_organization(mock_session(routes))(day("2022-07-19"), FetchLog()))


def test_graphql_errors_are_reported_with_their_message():
    denied = {"data": {"organization": None},
              "errors": [{"type": "FORBIDDEN", "path": ["organization", "samlIdentityProvider"],
                          "message": "Resource not accessible by integration"}]}
    routes = {"/graphql": lambda r: answer(200, denied)}
    with pytest.raises(SourceError, match=r"POST https://api.github.com/graphql \(externalIdentities after None\): "
                                          r"GraphQL errors: Resource not accessible by integration"):
        list(fetch_saml_identities(mock_session(routes))(day("2022-07-19"), FetchLog()))


def test_workflow_runs_are_split_when_github_caps_a_query_at_1000():
    start = datetime.fromisoformat("2022-07-19T00:00:00+00:00")
    created = [start + timedelta(minutes=10 * i) for i in range(144)]
    queries: list[str] = []

    def runs(request):
        text = parse_qs(request.url.query.decode())["created"][0]
        queries.append(text)
        low, high = (datetime.fromisoformat(t.replace("Z", "+00:00")) for t in text.split(".."))
        inside = [t for t in created if low <= t <= high]
        total = len(inside) if high - low <= timedelta(hours=6) else 1500  # pretend wide queries hit the cap
        body = [{"id": int(t.timestamp()), "repository": {"full_name": "octokit-fixture-org/app"}, "event": "push",
                 "status": "completed", "head_sha": "a" * 40, "created_at": t.strftime("%Y-%m-%dT%H:%M:%SZ")}
                for t in inside][:100]
        return answer(200, {"total_count": total, "workflow_runs": body})

    routes = {"/orgs/octokit-fixture-org/repos": lambda r: answer(200, [repository("app", 1)]),
              "/repos/octokit-fixture-org/app/actions/runs": runs}
    log = FetchLog()
    records = list(fetch_workflow_runs(mock_session(routes))(day("2022-07-19"), log))
    assert sorted(r["created_at"] for r in records) == [t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in created]
    assert log.api_total == 144 and queries[0] == "2022-07-19T00:00:00Z..2022-07-19T23:59:59Z" and len(queries) > 3


def test_fewer_check_runs_than_the_reported_total_make_the_extract_incomplete(tmp_path):
    repo = repository("app", 1)
    merged = pull(5, "2022-07-19T10:00:00Z", "2022-07-19T10:00:00Z", repo)
    head = merged["head"]["sha"]
    check = {"id": 1, "name": "build", "head_sha": head, "status": "completed", "conclusion": "success",
             "started_at": "2022-07-19T09:00:00Z", "completed_at": "2022-07-19T09:05:00Z", "app": {"slug": "ci"}}
    routes = {"/orgs/octokit-fixture-org/repos": lambda r: answer(200, [repo]),
              "/repos/octokit-fixture-org/app/pulls": lambda r: answer(200, [merged]),
              f"/repos/octokit-fixture-org/app/commits/{head}/check-runs":
                  lambda r: answer(200, {"total_count": 2, "check_runs": [check]})}
    manifest = run_extract(CHECK_RUNS, day("2022-07-19"), fetch_check_runs(mock_session(routes)),
                           Lake(str(tmp_path / "lake")))
    assert manifest.status is ExtractStatus.INCOMPLETE
    assert manifest.notes == ["the API reported 2 records but 1 arrived"]


def test_a_review_without_a_state_is_refused_naming_the_field():
    record = {"repository": "o/r", "pull_number": 5, "merged_at": "2022-07-19T10:00:00Z",
              "review": {"id": 80, "user": {"login": "octokit-fixture-user-b"}, "submitted_at": "2022-07-19T09:00:00Z"}}
    with pytest.raises(RecordError, match=r"github.pull_request_reviews: record #0 repository=o/r pull_number=5 "
                                          r"review.id=80: required field 'review.state' is missing"):
        PULL_REQUEST_REVIEWS.to_row(record, 0)


def test_the_graphql_endpoint_of_github_enterprise_server():
    assert github.client._graphql_url("https://api.github.com") == "https://api.github.com/graphql"
    assert github.client._graphql_url("https://ghe.example.com/api/v3/") == "https://ghe.example.com/api/graphql"


def test_a_connection_without_the_organisation_is_refused():
    from ccm.config import Settings
    from ccm.errors import ConfigError
    from ccm.sources.connections import Connection
    from ccm.sources.http_client import Secret

    with pytest.raises(ConfigError, match=r"connection github_default: extra.org"):
        make_client(Connection("github_default", host="https://api.github.com", password=Secret("t")),
                           Settings.from_env())


def test_intervals_map_to_inclusive_created_ranges():
    interval = Interval(datetime(2022, 7, 19), datetime(2022, 7, 20))
    assert interval.end - timedelta(seconds=1) == datetime.fromisoformat("2022-07-19T23:59:59+00:00")
