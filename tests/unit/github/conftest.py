"""Fixtures for the GitHub extract tests: the stand-in on the small demo company, a connection
to it, and an in-memory GitHub (httpx.MockTransport) serving hand-made answers shaped like
GitHub's recorded traffic (octokit fixtures: Link headers with page numbers pointing at
/repositories/{id}/..., branch protection objects, 404 "Branch not protected")."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from ccm.manifests import RunContext
from ccm.pipeline import extract
from ccm.sources.extract import Interval

ORG = "kestrel-labs"
TOKEN = "test-github-token"
DAY = Interval(datetime(2025, 10, 6), datetime(2025, 10, 7))  # a Monday in the small demo's window


@pytest.fixture
def github_standin(demo_dir: Path, settings):
    from ccm_demo.standins.github import GitHubStandin

    server = GitHubStandin(demo_dir, Path(os.environ["CCM_CLOCK_FILE"]), token=TOKEN).start()
    yield server
    server.stop()


@pytest.fixture
def github_connection(github_standin):
    from ccm.sources.connections import Connection
    from ccm.sources.http_client import Secret

    return Connection("github_default", host=github_standin.url, password=Secret(TOKEN), extra={"org": ORG})


def run_github(settings, connection, key: str, interval: Interval = DAY, sleeps: list[float] | None = None,
               **overrides: Any):
    """One GitHub extract through the pipeline's own entry point; waits are recorded, not slept."""
    sleeps = [] if sleeps is None else sleeps
    return extract(settings, key, interval, RunContext(), lambda _conn_id: connection, sleep=sleeps.append,
                   **overrides)


# an in-memory GitHub ------------------------------------------------------------------

Route = Callable[[httpx.Request], httpx.Response]

RATE_HEADERS = {"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "4922", "x-ratelimit-reset": "1658208999",
                "x-ratelimit-used": "78", "x-ratelimit-resource": "core",
                "date": "Tue, 19 Jul 2022 04:39:16 GMT", "content-type": "application/json; charset=utf-8"}


def answer(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(body).encode(), headers={**RATE_HEADERS, **(headers or {})})


def mock_session(routes: dict[str, Route], org: str = "octokit-fixture-org"):
    """A GitHubSession whose requests are answered by `routes` ({path: handler}); unknown paths 404."""
    from ccm.sources.github.client import GitHubSession
    from ccm.sources.http_client import ApiClient, HttpSourceConfig, Secret

    def handle(request: httpx.Request) -> httpx.Response:
        route = routes.get(request.url.path)
        if route is None:
            return answer(404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})
        return route(request)

    config = HttpSourceConfig(source="github", base_url="https://api.github.com", token=Secret("t"),
                              max_attempts=2, max_total_wait_s=1)
    api = ApiClient(config, transport=httpx.MockTransport(handle), sleep=lambda _s: None)
    return GitHubSession(api=api, org=org, graphql_url="https://api.github.com/graphql")


def user(login: str, user_id: int) -> dict[str, Any]:
    return {"login": login, "id": user_id, "node_id": "MDQ6VXNlcjMxODk4MDQ2",
            "avatar_url": f"https://avatars.githubusercontent.com/u/{user_id}?v=4", "gravatar_id": "",
            "url": f"https://api.github.com/users/{login}", "html_url": f"https://github.com/{login}",
            "type": "User", "site_admin": False}


def repository(name: str, repo_id: int, default_branch: str = "main") -> dict[str, Any]:
    return {"id": repo_id, "node_id": "R_kgDOHrjsSA", "name": name, "full_name": f"octokit-fixture-org/{name}",
            "private": False, "owner": {"login": "octokit-fixture-org", "id": 31898100, "type": "Organization"},
            "html_url": f"https://github.com/octokit-fixture-org/{name}", "fork": False, "archived": False,
            "disabled": False, "visibility": "public", "default_branch": default_branch, "topics": ["production"],
            "created_at": "2022-07-19T04:37:01Z", "pushed_at": "2022-07-19T04:37:05Z"}


def protection_body(repo: str) -> dict[str, Any]:
    """Shaped like GitHub's answer to GET .../branches/main/protection (octokit branch-protection scenario)."""
    url = f"https://api.github.com/repos/octokit-fixture-org/{repo}/branches/main/protection"
    return {
        "url": url,
        "required_status_checks": {"url": f"{url}/required_status_checks", "strict": True, "contexts": ["foo/bar"],
                                   "contexts_url": f"{url}/required_status_checks/contexts",
                                   "checks": [{"context": "foo/bar", "app_id": None}]},
        "restrictions": {"url": f"{url}/restrictions", "users": [user("octokit-fixture-user-a", 31898046)],
                         "teams": [{"name": "A-Team", "id": 2527061, "slug": "a-team", "permission": "pull"}],
                         "apps": []},
        "required_pull_request_reviews": {
            "url": f"{url}/required_pull_request_reviews", "dismiss_stale_reviews": True,
            "require_code_owner_reviews": False, "required_approving_review_count": 1,
            "dismissal_restrictions": {"url": f"{url}/dismissal_restrictions",
                                       "users": [user("octokit-fixture-user-a", 31898046)], "teams": []}},
        "required_signatures": {"url": f"{url}/required_signatures", "enabled": False},
        "enforce_admins": {"url": f"{url}/enforce_admins", "enabled": False},
        "required_linear_history": {"enabled": False},
        "allow_force_pushes": {"enabled": False},
        "allow_deletions": {"enabled": False},
        "block_creations": {"enabled": False},
        "required_conversation_resolution": {"enabled": False},
    }


def pull(number: int, merged_at: str | None, updated_at: str, repo: dict[str, Any]) -> dict[str, Any]:
    return {"url": f"https://api.github.com/repos/{repo['full_name']}/pulls/{number}", "id": 1_000_000 + number,
            "number": number, "state": "closed", "title": f"Change {number}", "user": user("octokit-fixture-user-a",
                                                                                          31898046),
            "created_at": "2022-07-18T10:00:00Z", "updated_at": updated_at, "closed_at": updated_at,
            "merged_at": merged_at, "merge_commit_sha": f"{number:040x}", "draft": False,
            "head": {"ref": f"feature-{number}", "sha": f"{number + 7000:040x}", "repo": repo},
            "base": {"ref": "main", "sha": f"{number + 9000:040x}", "repo": repo}}


def day(text: str) -> Interval:
    start = datetime.fromisoformat(text)
    return Interval(start, start + timedelta(days=1))
