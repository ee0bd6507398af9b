"""The stand-ins answer in the vendors' formats: field names and types of every response the
extracts read, as the public API references document them.

The extracts are tested against the stand-ins; if a stand-in drifted from the real API
(a renamed field, a number where the API sends a string, another timestamp format) the
extracts would be tested against something no vendor sends. The shapes below are written
from the vendors' references (Okta Users / Factors / Roles / System Log, Google Admin SDK
Directory `users.list`, GitHub REST), not from the stand-ins.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

OKTA_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")  # 2013-06-24T16:39:18.000Z
GOOGLE_TIME = OKTA_TIME  # RFC 3339 with milliseconds, e.g. 2025-10-01T09:00:00.000Z
GITHUB_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")  # ISO 8601 without fractions
TOKEN = "test-token"


class Nullable:
    """The field is always sent, possibly as null."""

    def __init__(self, kind: Any) -> None:
        self.kind = kind


class Omittable(Nullable):
    """The field may be left out (Okta omits `target` on events without one)."""


def problems(value: Any, shape: Any, where: str = "") -> list[str]:
    """Where `value` does not have `shape`: a dict of field -> shape (fields beyond those
    listed are allowed, as in the real APIs), a list of one shape, a type, a pattern, or a set
    of allowed values."""
    if isinstance(shape, Nullable):
        return [] if value is None else problems(value, shape.kind, where)
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return [f"{where}: expected an object, got {value!r}"]
        found = [f"{where}.{key}: missing" for key, sub in shape.items()
                 if key not in value and not isinstance(sub, Omittable)]
        return found + [p for key, sub in shape.items() if key in value
                        for p in problems(value[key], sub, f"{where}.{key}")]
    if isinstance(shape, list):
        if not isinstance(value, list):
            return [f"{where}: expected an array, got {value!r}"]
        return [p for i, item in enumerate(value) for p in problems(item, shape[0], f"{where}[{i}]")]
    if isinstance(shape, re.Pattern):
        return [] if isinstance(value, str) and shape.match(value) else [f"{where}: {value!r} is not {shape.pattern}"]
    if isinstance(shape, (set, frozenset)):
        return [] if value in shape else [f"{where}: {value!r} not one of {sorted(shape)}"]
    if shape is int:  # JSON booleans are not integers
        return [] if isinstance(value, int) and not isinstance(value, bool) else [f"{where}: {value!r} is not int"]
    return [] if isinstance(value, shape) else [f"{where}: {value!r} is not {shape.__name__}"]


def assert_shape(values: list[Any], shape: Any, what: str) -> None:
    assert values, f"{what}: nothing to check"
    found = [p for i, v in enumerate(values) for p in problems(v, shape, f"{what}[{i}]")]
    assert not found, "\n".join(found[:20])


@pytest.fixture
def serve(demo_dir: Path, settings):
    """Start a stand-in class on the session's small company at the test's clock."""
    started = []

    def start(standin_class: type) -> Any:
        started.append(standin_class(demo_dir, Path(os.environ["CCM_CLOCK_FILE"]), token=TOKEN).start())
        return started[-1]

    yield start
    for server in started:
        server.stop()


# Okta ----------------------------------------------------------------------------------

OKTA_USER = {
    "id": str, "status": {"STAGED", "PROVISIONED", "ACTIVE", "RECOVERY", "PASSWORD_EXPIRED", "LOCKED_OUT",
                          "SUSPENDED", "DEPROVISIONED"},
    "created": OKTA_TIME, "activated": Nullable(OKTA_TIME), "statusChanged": Nullable(OKTA_TIME),
    "lastLogin": Nullable(OKTA_TIME), "lastUpdated": OKTA_TIME, "passwordChanged": Nullable(OKTA_TIME),
    "type": {"id": str}, "profile": {"login": str, "email": str, "firstName": str, "lastName": str},
    "_links": dict,
}
OKTA_FACTOR = {"id": str, "factorType": str, "provider": str, "vendorName": str, "status": str,
               "created": OKTA_TIME, "lastUpdated": OKTA_TIME, "profile": dict, "_links": dict}
OKTA_ROLE = {"id": str, "label": str, "type": str, "status": str, "created": OKTA_TIME, "lastUpdated": OKTA_TIME,
             "assignmentType": {"USER", "GROUP"}}
OKTA_ACTOR = {"id": str, "type": str, "alternateId": Nullable(str), "displayName": Nullable(str)}
OKTA_LOG_EVENT = {
    "uuid": str, "published": OKTA_TIME, "eventType": str, "version": str, "severity": {"DEBUG", "INFO", "WARN",
                                                                                        "ERROR"},
    "displayMessage": Nullable(str), "actor": OKTA_ACTOR, "client": Nullable(dict),
    "outcome": {"result": {"SUCCESS", "FAILURE", "SKIPPED", "ALLOW", "DENY", "CHALLENGE", "UNKNOWN"},
                "reason": Nullable(str)},
    "target": Omittable([OKTA_ACTOR]), "transaction": Nullable(dict), "debugContext": Nullable(dict),
    "authenticationContext": Nullable(dict), "securityContext": Nullable(dict), "request": Nullable(dict),
}


@pytest.fixture
def okta(okta_standin):
    with httpx.Client(base_url=okta_standin.url, headers={"Authorization": "SSWS test-okta-token"}) as client:
        yield client


def test_okta_users_factors_roles_and_log_are_in_oktas_format(okta):
    users = okta.get("/api/v1/users", params={"limit": 200})
    assert users.headers["Content-Type"].startswith("application/json")
    assert {"x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset"} <= set(users.headers.keys())
    assert_shape(users.json(), OKTA_USER, "users")
    first = users.json()[0]["id"]
    assert_shape([okta.get(f"/api/v1/users/{first}").json()], OKTA_USER, "user")
    factors = [f for u in users.json()[:20] for f in okta.get(f"/api/v1/users/{u['id']}/factors").json()]
    assert_shape(factors, OKTA_FACTOR, "factors")
    assignees = okta.get("/api/v1/iam/assignees/users", params={"limit": 100}).json()
    assert_shape([assignees], {"value": [{"id": str, "orn": str, "_links": dict}]}, "role assignees")
    roles = [r for a in assignees["value"] for r in okta.get(f"/api/v1/users/{a['id']}/roles").json()]
    assert_shape(roles, OKTA_ROLE, "roles")
    log = okta.get("/api/v1/logs", params={"since": "2025-09-01T00:00:00.000Z", "until": "2025-10-02T00:00:00.000Z",
                                           "limit": 1000})
    assert_shape(log.json(), OKTA_LOG_EVENT, "System Log")
    lifecycle = [e for e in log.json() if e["eventType"].startswith("user.lifecycle.")]
    assert lifecycle and all(e.get("target") for e in lifecycle)  # whose lifecycle: the extract needs it


def test_okta_errors_are_in_oktas_error_format(okta):
    answer = okta.get("/api/v1/users/00u-no-such-user")
    assert answer.status_code == 404
    assert_shape([answer.json()], {"errorCode": str, "errorSummary": str, "errorLink": str, "errorId": str,
                                   "errorCauses": list}, "error")


# Google Workspace ---------------------------------------------------------------------

GOOGLE_USER = {
    "kind": {"admin#directory#user"}, "id": str, "etag": str, "primaryEmail": str,
    "name": {"givenName": str, "familyName": str, "fullName": str},
    "isAdmin": bool, "isDelegatedAdmin": bool, "lastLoginTime": GOOGLE_TIME, "creationTime": GOOGLE_TIME,
    "agreedToTerms": bool, "suspended": bool, "archived": bool, "changePasswordAtNextLogin": bool,
    "customerId": str, "orgUnitPath": str, "isMailboxSetup": bool, "isEnrolledIn2Sv": bool,
    "isEnforcedIn2Sv": bool, "includeInGlobalAddressList": bool,
}


def test_google_directory_users_are_in_the_admin_sdk_format(serve):
    from ccm_demo.standins.google import GoogleStandin

    google_standin = serve(GoogleStandin)
    with httpx.Client(base_url=google_standin.url, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        page = client.get("/admin/directory/v1/users", params={"customer": "my_customer", "maxResults": 10}).json()
    assert_shape([page], {"kind": {"admin#directory#users"}, "etag": str, "users": [GOOGLE_USER],
                          "nextPageToken": str}, "users.list")


# GitHub -------------------------------------------------------------------------------

GITHUB_USER = {"login": str, "id": int, "node_id": str, "avatar_url": str, "url": str, "html_url": str,
               "type": {"User", "Bot", "Organization"}, "site_admin": bool}
GITHUB_REF = {"label": str, "ref": str, "sha": str, "user": GITHUB_USER, "repo": dict}
GITHUB_PULL = {
    "url": str, "id": int, "node_id": str, "html_url": str, "number": int, "state": {"open", "closed"},
    "locked": bool, "title": str, "user": GITHUB_USER, "created_at": GITHUB_TIME, "updated_at": GITHUB_TIME,
    "closed_at": Nullable(GITHUB_TIME), "merged_at": Nullable(GITHUB_TIME), "merge_commit_sha": Nullable(str),
    "head": GITHUB_REF, "base": GITHUB_REF, "author_association": str, "draft": bool,
}
GITHUB_REVIEW = {"id": int, "node_id": str, "user": Nullable(GITHUB_USER),
                 "state": {"APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED", "PENDING"},
                 "submitted_at": GITHUB_TIME, "commit_id": str, "html_url": str, "pull_request_url": str,
                 "author_association": str}
GITHUB_COMMIT = {"sha": str, "node_id": str, "url": str, "html_url": str, "parents": [dict],
                 "commit": {"message": str, "author": {"name": str, "email": str, "date": GITHUB_TIME},
                            "committer": {"name": str, "email": str, "date": GITHUB_TIME}}}
GITHUB_CHECK_RUN = {"id": int, "head_sha": str, "node_id": str, "name": str, "url": str, "html_url": str,
                    "status": {"queued", "in_progress", "completed"},
                    "conclusion": Nullable({"success", "failure", "neutral", "cancelled", "skipped", "timed_out",
                                            "action_required", "stale"}),
                    "started_at": GITHUB_TIME, "completed_at": Nullable(GITHUB_TIME), "app": Nullable(dict)}
GITHUB_DEPLOYMENT = {"url": str, "id": int, "node_id": str, "sha": str, "ref": str, "task": str,
                     "environment": str, "creator": Nullable(GITHUB_USER), "created_at": GITHUB_TIME,
                     "updated_at": GITHUB_TIME, "statuses_url": str, "repository_url": str}
GITHUB_WORKFLOW_RUN = {"id": int, "name": str, "node_id": str, "head_branch": Nullable(str), "head_sha": str,
                       "path": str, "run_number": int, "event": str, "status": Nullable(str),
                       "conclusion": Nullable(str), "workflow_id": int, "url": str, "html_url": str,
                       "created_at": GITHUB_TIME, "updated_at": GITHUB_TIME, "run_attempt": int,
                       "run_started_at": GITHUB_TIME, "actor": GITHUB_USER}
GITHUB_DEPENDABOT_ALERT = {
    "number": int, "state": {"auto_dismissed", "dismissed", "fixed", "open"},
    "dependency": {"package": {"ecosystem": str, "name": str}, "manifest_path": str},
    "security_advisory": {"ghsa_id": str, "summary": str, "severity": {"low", "medium", "high", "critical"}},
    "security_vulnerability": {"package": dict, "severity": {"low", "medium", "high", "critical"},
                               "vulnerable_version_range": str},
    "url": str, "html_url": str, "created_at": GITHUB_TIME, "updated_at": GITHUB_TIME,
    "dismissed_at": Nullable(GITHUB_TIME), "fixed_at": Nullable(GITHUB_TIME),
}
GITHUB_PROTECTION = {"url": str, "enforce_admins": {"url": str, "enabled": bool},
                     "allow_force_pushes": {"enabled": bool}, "allow_deletions": {"enabled": bool}}


def test_github_rest_answers_are_in_githubs_format(serve):
    from ccm_demo.standins.github import GitHubStandin
    from ccm_demo.world.github import ORG

    github_standin = serve(GitHubStandin)
    headers = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/vnd.github+json",
               "X-GitHub-Api-Version": "2022-11-28"}
    with httpx.Client(base_url=github_standin.url, headers=headers) as client:
        def get(path: str, **params: Any) -> Any:
            answer = client.get(path, params=params)
            assert answer.status_code == 200, (path, answer.text)
            assert {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"} <= set(answer.headers.keys())
            return answer.json()

        assert_shape([get(f"/orgs/{ORG}")], {"login": str, "id": int, "two_factor_requirement_enabled": bool},
                     "org")
        assert_shape(get(f"/orgs/{ORG}/members", per_page=100), GITHUB_USER, "members")
        repos = get(f"/orgs/{ORG}/repos", per_page=100)
        assert_shape(repos, {"id": int, "name": str, "full_name": str, "default_branch": str, "archived": bool,
                             "owner": GITHUB_USER}, "repos")
        pulls, protections, deployments, runs, alerts = [], [], [], [], []
        for repo in repos:
            base = f"/repos/{repo['full_name']}"
            pulls += [(base, p) for p in get(f"{base}/pulls", state="closed", per_page=100)]
            answer = client.get(f"{base}/branches/{repo['default_branch']}/protection")
            if answer.status_code == 200:
                protections.append(answer.json())
            deployments += get(f"{base}/deployments", per_page=100)
            runs += get(f"{base}/actions/runs", per_page=100)["workflow_runs"]
            alerts += get(f"{base}/dependabot/alerts", per_page=100)
        assert_shape([p for _, p in pulls], GITHUB_PULL, "pulls")
        merged = [(base, p) for base, p in pulls if p["merged_at"]][:15]
        assert_shape([r for base, p in merged for r in get(f"{base}/pulls/{p['number']}/reviews")],
                     GITHUB_REVIEW, "reviews")
        assert_shape([c for base, p in merged for c in get(f"{base}/pulls/{p['number']}/commits")],
                     GITHUB_COMMIT, "commits")
        check_runs = [get(f"{base}/commits/{p['head']['sha']}/check-runs") for base, p in merged]
        assert_shape(check_runs, {"total_count": int, "check_runs": [GITHUB_CHECK_RUN]}, "check-runs")
        assert_shape(protections, GITHUB_PROTECTION, "branch protection")
        assert_shape(deployments, GITHUB_DEPLOYMENT, "deployments")
        assert_shape(runs, GITHUB_WORKFLOW_RUN, "workflow runs")
        assert_shape(alerts, GITHUB_DEPENDABOT_ALERT, "dependabot alerts")


def test_the_shape_checker_can_fail():
    assert problems({"id": 1}, {"id": str}) == [".id: 1 is not str"]
    assert problems({}, {"id": str}) == [".id: missing"]
    assert problems({"at": "2025-10-01T00:00:00Z"}, {"at": OKTA_TIME})
    assert problems({"flag": True}, {"flag": int})
    assert problems({"t": [{}]}, {"t": Omittable([{"id": str}])}) == [".t[0].id: missing"]
    assert not problems({}, {"t": Omittable([{"id": str}])})

