"""GitHub: organisation settings and members, SAML identities, repositories, branch protection,
merged pull requests with their reviews, commits and check runs, deployments, workflow runs
and Dependabot alerts.

REST v3 (`Authorization: Bearer <token>`, `X-GitHub-Api-Version: 2022-11-28`): lists page
with `Link: rel="next"` (page numbers; Dependabot alerts use `after` cursors), rate limits
come as 403/429 with `retry-after` or `x-ratelimit-remaining: 0` + `x-ratelimit-reset`
(the shared ApiClient waits as told, within its bounds). SAML identities are only in
GraphQL (`organization.samlIdentityProvider.externalIdentities`).

Events or snapshots, and why:
- snapshots (observed at `observed_at`): the organisation (its 2FA requirement), members
  (2FA state, role), SAML identities, repositories, default-branch protection and
  Dependabot alerts. The API only shows their present state; an alert's state can go
  from open to fixed or dismissed and back, so a period is judged on the observation
  made after it closed.
- events: merged pull requests, keyed by `merged_at`; their reviews, commits and the check
  runs of their merged head are stored with the pull request's `merged_at`, so one
  extract over [start, end) holds everything about the pull requests merged in it (what
  happened before a merge cannot change after it). Deployments and workflow runs are
  keyed by `created_at` (ref, sha and creator never change; statuses are as observed).
  An event extract lists pull requests by `updated_at` descending and stops at the first
  page older than the interval: a merge always updates the pull request, so nothing
  merged in the interval can be further down the list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from ccm.constants import DatasetKind
from ccm.datasets import Column, ColumnType, Dataset, parse_timestamp
from ccm.errors import ConfigError, SourceError
from ccm.sources.extract import Fetcher, FetchLog, Interval
from ccm.sources.http_client import ApiClient, HttpSourceConfig, Secret

SOURCE = "github"
CONN_ID = "github_default"
API_VERSION = "2022-11-28"
PAGE_SIZE = 100  # full listings: as few requests as possible
# newest-first listings read only until they pass the interval's start: a daily interval
# needs the first few entries, so small pages move far less data
RECENT_PAGE_SIZE = 30
MAX_PULL_COMMITS = 250  # the pull request commits API lists at most 250 commits
MAX_RUNS_PER_QUERY = 1000  # a filtered workflow-runs query returns at most 1,000 runs

T = ColumnType

ORGANIZATION = Dataset(
    source=SOURCE, name="organization", kind=DatasetKind.SNAPSHOT,
    description="The organisation's settings (GET /orgs/{org}), incl. whether it requires 2FA.",
    key_columns=("org_id",),
    columns=(
        Column("org_id", "id", T.INT, required=True),
        Column("login", "login", required=True),
        Column("name", "name"),
        Column("two_factor_requirement_enabled", "two_factor_requirement_enabled", T.BOOL, required=True),
        Column("default_repository_permission", "default_repository_permission"),
        Column("members_can_create_repositories", "members_can_create_repositories", T.BOOL),
        Column("plan", "plan.name"),
        Column("created_at", "created_at", T.TIMESTAMP),
    ),
)

MEMBERS = Dataset(
    source=SOURCE, name="members", kind=DatasetKind.SNAPSHOT,
    description="Organisation members with role and 2FA state (record = {user, role, two_factor_disabled}).",
    key_columns=("user_id",),
    columns=(
        Column("user_id", "user.id", T.INT, required=True),
        Column("login", "user.login", required=True),
        Column("user_type", "user.type"),
        Column("site_admin", "user.site_admin", T.BOOL),
        Column("role", "role", required=True),
        Column("two_factor_disabled", "two_factor_disabled", T.BOOL, required=True),
    ),
)

SAML_IDENTITIES = Dataset(
    source=SOURCE, name="saml_identities", kind=DatasetKind.SNAPSHOT,
    description="SAML SSO identities of the organisation (GraphQL externalIdentities): nameId -> login.",
    key_columns=("guid",),
    columns=(
        Column("guid", "guid", required=True),
        Column("name_id", "samlIdentity.nameId", required=True),
        Column("saml_username", "samlIdentity.username"),
        Column("login", "user.login"),
    ),
)

REPOSITORIES = Dataset(
    source=SOURCE, name="repositories", kind=DatasetKind.SNAPSHOT,
    description="The organisation's repositories (GET /orgs/{org}/repos), with default branch and topics.",
    key_columns=("repository_id",),
    columns=(
        Column("repository_id", "id", T.INT, required=True),
        Column("name", "name", required=True),
        Column("full_name", "full_name", required=True),
        Column("private", "private", T.BOOL),
        Column("visibility", "visibility"),
        Column("archived", "archived", T.BOOL, required=True),
        Column("disabled", "disabled", T.BOOL),
        Column("fork", "fork", T.BOOL),
        Column("default_branch", "default_branch", required=True),
        Column("topics", "topics", T.STRING_LIST),
        Column("created_at", "created_at", T.TIMESTAMP),
        Column("pushed_at", "pushed_at", T.TIMESTAMP),
    ),
)

BRANCH_PROTECTION = Dataset(
    source=SOURCE, name="branch_protection", kind=DatasetKind.SNAPSHOT,
    description="Protection of each repository's default branch (record = {repository, branch, protected, "
                "protection}; protection is null when GitHub answers 404 'Branch not protected').",
    key_columns=("repository",),
    columns=(
        Column("repository", "repository", required=True),
        Column("branch", "branch", required=True),
        Column("protected", "protected", T.BOOL, required=True),
        Column("required_approving_review_count",
               "protection.required_pull_request_reviews.required_approving_review_count", T.INT),
        Column("dismiss_stale_reviews", "protection.required_pull_request_reviews.dismiss_stale_reviews", T.BOOL),
        Column("require_code_owner_reviews", "protection.required_pull_request_reviews.require_code_owner_reviews",
               T.BOOL),
        Column("enforce_admins", "protection.enforce_admins.enabled", T.BOOL),
        Column("allow_force_pushes", "protection.allow_force_pushes.enabled", T.BOOL),
        Column("allow_deletions", "protection.allow_deletions.enabled", T.BOOL),
        Column("required_linear_history", "protection.required_linear_history.enabled", T.BOOL),
        Column("required_status_checks", "protection.required_status_checks.contexts", T.STRING_LIST),
        Column("strict_status_checks", "protection.required_status_checks.strict", T.BOOL),
    ),
)

DEPENDABOT_ALERTS = Dataset(
    source=SOURCE, name="dependabot_alerts", kind=DatasetKind.SNAPSHOT,
    description="Every Dependabot alert of every repository, in its current state (record = {repository, alert}).",
    key_columns=("repository", "number"),
    columns=(
        Column("repository", "repository", required=True),
        Column("number", "alert.number", T.INT, required=True),
        Column("state", "alert.state", required=True),
        Column("severity", "alert.security_advisory.severity", required=True),
        Column("ghsa_id", "alert.security_advisory.ghsa_id"),
        Column("cve_id", "alert.security_advisory.cve_id"),
        Column("summary", "alert.security_advisory.summary"),
        Column("package_ecosystem", "alert.dependency.package.ecosystem"),
        Column("package_name", "alert.dependency.package.name"),
        Column("manifest_path", "alert.dependency.manifest_path"),
        Column("created_at", "alert.created_at", T.TIMESTAMP, required=True),
        Column("updated_at", "alert.updated_at", T.TIMESTAMP),
        Column("fixed_at", "alert.fixed_at", T.TIMESTAMP),
        Column("dismissed_at", "alert.dismissed_at", T.TIMESTAMP),
        Column("dismissed_reason", "alert.dismissed_reason"),
        Column("auto_dismissed_at", "alert.auto_dismissed_at", T.TIMESTAMP),
        Column("html_url", "alert.html_url"),
    ),
)

PULL_REQUESTS = Dataset(
    source=SOURCE, name="pull_requests", kind=DatasetKind.EVENT, time_column="merged_at",
    description="Pull requests merged in the interval (any base branch), as listed by GET /repos/{o}/{r}/pulls.",
    key_columns=("repository", "number"),
    columns=(
        Column("pull_request_id", "id", T.INT, required=True),
        Column("repository", "base.repo.full_name", required=True),
        Column("number", "number", T.INT, required=True),
        Column("title", "title"),
        Column("author_login", "user.login"),
        Column("author_type", "user.type"),
        Column("state", "state", required=True),
        Column("base_ref", "base.ref", required=True),
        Column("default_branch", "base.repo.default_branch", required=True),
        Column("head_ref", "head.ref"),
        Column("head_sha", "head.sha", required=True),
        Column("merge_commit_sha", "merge_commit_sha"),
        Column("draft", "draft", T.BOOL),
        Column("created_at", "created_at", T.TIMESTAMP, required=True),
        Column("merged_at", "merged_at", T.TIMESTAMP, required=True),
        Column("closed_at", "closed_at", T.TIMESTAMP),
    ),
)

PULL_REQUEST_REVIEWS = Dataset(
    source=SOURCE, name="pull_request_reviews", kind=DatasetKind.EVENT, time_column="merged_at",
    description="Reviews of the pull requests merged in the interval (record = {repository, pull_number, "
                "merged_at, review}).",
    key_columns=("repository", "pull_number", "review_id"),
    columns=(
        Column("repository", "repository", required=True),
        Column("pull_number", "pull_number", T.INT, required=True),
        Column("merged_at", "merged_at", T.TIMESTAMP, required=True),
        Column("review_id", "review.id", T.INT, required=True),
        Column("reviewer_login", "review.user.login"),
        Column("reviewer_type", "review.user.type"),
        Column("state", "review.state", required=True),
        Column("submitted_at", "review.submitted_at", T.TIMESTAMP),
        Column("commit_id", "review.commit_id"),
        Column("author_association", "review.author_association"),
    ),
)

PULL_REQUEST_COMMITS = Dataset(
    source=SOURCE, name="pull_request_commits", kind=DatasetKind.EVENT, time_column="merged_at",
    description="Commits of the pull requests merged in the interval, in the API's (chronological) order "
                "(record = {repository, pull_number, merged_at, position, commit}).",
    key_columns=("repository", "pull_number", "sha"),
    columns=(
        Column("repository", "repository", required=True),
        Column("pull_number", "pull_number", T.INT, required=True),
        Column("merged_at", "merged_at", T.TIMESTAMP, required=True),
        Column("position", "position", T.INT, required=True),
        Column("sha", "commit.sha", required=True),
        Column("author_login", "commit.author.login"),
        Column("author_email", "commit.commit.author.email"),
        Column("authored_at", "commit.commit.author.date", T.TIMESTAMP),
        Column("committer_login", "commit.committer.login"),
        Column("committed_at", "commit.commit.committer.date", T.TIMESTAMP),
    ),
)

CHECK_RUNS = Dataset(
    source=SOURCE, name="check_runs", kind=DatasetKind.EVENT, time_column="merged_at",
    description="Every check run on the merged head of each pull request merged in the interval "
                "(record = {repository, pull_number, merged_at, head_sha, check_run}).",
    key_columns=("repository", "pull_number", "check_run_id"),
    has_api_total=True,
    columns=(
        Column("repository", "repository", required=True),
        Column("pull_number", "pull_number", T.INT, required=True),
        Column("merged_at", "merged_at", T.TIMESTAMP, required=True),
        Column("head_sha", "head_sha", required=True),
        Column("check_run_id", "check_run.id", T.INT, required=True),
        Column("name", "check_run.name", required=True),
        Column("status", "check_run.status", required=True),
        Column("conclusion", "check_run.conclusion"),
        Column("started_at", "check_run.started_at", T.TIMESTAMP),
        Column("completed_at", "check_run.completed_at", T.TIMESTAMP),
        Column("app_slug", "check_run.app.slug"),
    ),
)

DEPLOYMENTS = Dataset(
    source=SOURCE, name="deployments", kind=DatasetKind.EVENT, time_column="created_at",
    description="Deployments created in the interval with their statuses as observed (record = {repository: "
                "{full_name, default_branch}, deployment, statuses}).",
    key_columns=("deployment_id",),
    columns=(
        Column("deployment_id", "deployment.id", T.INT, required=True),
        Column("repository", "repository.full_name", required=True),
        Column("default_branch", "repository.default_branch", required=True),
        Column("environment", "deployment.environment", required=True),
        Column("ref", "deployment.ref", required=True),
        Column("sha", "deployment.sha", required=True),
        Column("task", "deployment.task"),
        Column("creator_login", "deployment.creator.login"),
        Column("creator_type", "deployment.creator.type"),
        Column("app_slug", "deployment.performed_via_github_app.slug"),
        Column("created_at", "deployment.created_at", T.TIMESTAMP, required=True),
        Column("statuses", "statuses", T.JSON),
    ),
)

WORKFLOW_RUNS = Dataset(
    source=SOURCE, name="workflow_runs", kind=DatasetKind.EVENT, time_column="created_at",
    description="GitHub Actions workflow runs created in the interval (GET /repos/{o}/{r}/actions/runs?created=).",
    key_columns=("run_id",),
    has_api_total=True,
    columns=(
        Column("run_id", "id", T.INT, required=True),
        Column("repository", "repository.full_name", required=True),
        Column("name", "name"),
        Column("workflow_id", "workflow_id", T.INT),
        Column("path", "path"),
        Column("event", "event", required=True),
        Column("status", "status", required=True),
        Column("conclusion", "conclusion"),
        Column("head_branch", "head_branch"),
        Column("head_sha", "head_sha", required=True),
        Column("run_number", "run_number", T.INT),
        Column("run_attempt", "run_attempt", T.INT),
        Column("actor_login", "actor.login"),
        Column("triggering_actor_login", "triggering_actor.login"),
        Column("created_at", "created_at", T.TIMESTAMP, required=True),
        Column("updated_at", "updated_at", T.TIMESTAMP),
        Column("run_started_at", "run_started_at", T.TIMESTAMP),
    ),
)

DATASETS = (ORGANIZATION, MEMBERS, SAML_IDENTITIES, REPOSITORIES, BRANCH_PROTECTION, DEPENDABOT_ALERTS,
            PULL_REQUESTS, PULL_REQUEST_REVIEWS, PULL_REQUEST_COMMITS, CHECK_RUNS, DEPLOYMENTS, WORKFLOW_RUNS)

SAML_QUERY = """
query($login: String!, $first: Int!, $after: String) {
  organization(login: $login) {
    samlIdentityProvider {
      externalIdentities(first: $first, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { node { guid samlIdentity { nameId username } user { login } } }
      }
    }
  }
}
"""


@dataclass
class GitHubSession:
    """What the fetchers need: the REST client, the organisation, and where GraphQL lives."""

    api: ApiClient
    org: str
    graphql_url: str
    repos_cache: list[dict[str, Any]] | None = field(default=None, repr=False)

    def __enter__(self) -> GitHubSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.api.close()


def _graphql_url(base_url: str) -> str:
    """github.com: https://api.github.com/graphql; GitHub Enterprise Server: https://host/api/graphql."""
    base = base_url.rstrip("/")
    if base.endswith("/api/v3"):
        return base[: -len("/v3")] + "/graphql"
    return base + "/graphql"


def make_client(connection: Any, settings: Any, sleep: Any = None, **overrides: Any) -> GitHubSession:
    """A GitHub session from a Connection: host = API URL, password = token, extra.org = organisation."""
    org = (connection.extra or {}).get("org")
    if not org:
        raise ConfigError(f"connection {connection.conn_id}: extra.org (the GitHub organisation's login) is required")
    limits = {"max_attempts": settings.http_max_attempts, "max_total_wait_s": settings.http_max_total_wait_s}
    config = HttpSourceConfig(
        source=SOURCE, base_url=connection.base_url.rstrip("/"), token=Secret(connection.password),
        auth_prefix="Bearer ",
        extra_headers={"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION},
        **{**limits, **overrides},
    )
    api = ApiClient(config, sleep=sleep) if sleep else ApiClient(config)
    graphql = (connection.extra or {}).get("graphql_url") or _graphql_url(connection.base_url)
    return GitHubSession(api=api, org=str(org), graphql_url=graphql)


# reading helpers ------------------------------------------------------------------------

def _list(session: GitHubSession, fetch_log: FetchLog, path: str, params: dict[str, Any],
          items: Callable[[Any], Any] = lambda body: body) -> Iterator[list[Any]]:
    """Pages of a list endpoint (Link rel="next"), counting pages."""
    for page, _response in session.api.paginate(path, params, items=items):
        fetch_log.pages += 1
        yield page


class _Envelope:
    """Reads `{"total_count": N, "<key>": [...]}` pages: the list for pagination, the total on the side."""

    def __init__(self, key: str, where: str) -> None:
        self.key, self.where, self.total = key, where, None

    def __call__(self, body: Any) -> Any:
        if self.total is None and isinstance(body, dict):
            self.total = body.get("total_count")
        return _field(body, self.key, self.where)


def _field(record: Any, name: str, where: str) -> Any:
    if not isinstance(record, dict) or record.get(name) is None:
        raise SourceError(SOURCE, f"{where}: a record has no {name!r}: {str(record)[:160]}")
    return record[name]


def _time(record: dict[str, Any], name: str, where: str) -> datetime:
    value = _field(record, name, where)
    try:
        return parse_timestamp(value)
    except (TypeError, ValueError):
        raise SourceError(SOURCE, f"{where}: field {name!r} is not a timestamp: {value!r}") from None


def _repositories(session: GitHubSession, fetch_log: FetchLog) -> list[dict[str, Any]]:
    """Every repository of the organisation (cached per session: one extract lists them once)."""
    if session.repos_cache is None:
        path = f"/orgs/{session.org}/repos"
        repos = [repo for page in _list(session, fetch_log, path, {"type": "all", "sort": "full_name",
                                                                   "per_page": PAGE_SIZE}) for repo in page]
        for repo in repos:
            _field(repo, "full_name", f"GET {path}")
        session.repos_cache = repos
    return session.repos_cache


def _repo_path(repo: dict[str, Any]) -> str:
    owner, _, name = repo["full_name"].partition("/")
    return f"/repos/{quote(owner, safe='')}/{quote(name, safe='')}"


def merged_pull_requests(session: GitHubSession, interval: Interval,
                         fetch_log: FetchLog) -> Iterator[tuple[dict[str, Any], dict[str, Any], datetime]]:
    """(repository, pull request, merged_at) for every pull request merged in [start, end)."""
    for repo in _repositories(session, fetch_log):
        path = f"{_repo_path(repo)}/pulls"
        where = f"GET {path}"
        params = {"state": "closed", "sort": "updated", "direction": "desc", "per_page": RECENT_PAGE_SIZE}
        for page in _list(session, fetch_log, path, params):
            oldest = None
            for pr in page:
                updated = _time(pr, "updated_at", f"{where} (#{pr.get('number') if isinstance(pr, dict) else '?'})")
                oldest = updated if oldest is None else min(oldest, updated)
                if pr.get("merged_at") is None:
                    continue  # closed without merging
                merged = _time(pr, "merged_at", f"{where} (#{pr.get('number')})")
                if interval.start <= merged < interval.end:
                    yield repo, pr, merged
            if oldest is None or oldest < interval.start:
                break  # sorted by updated_at: everything further down was updated (so merged) earlier


# fetchers -------------------------------------------------------------------------------

def fetch_organization(session: GitHubSession) -> Fetcher:
    def fetch(interval: Interval, fetch_log: FetchLog) -> Iterator[dict[str, Any]]:
        path = f"/orgs/{session.org}"
        body, _ = session.api.get_json(path)
        fetch_log.pages += 1
        if not isinstance(body, dict):
            raise SourceError(SOURCE, f"GET {path}: expected a JSON object")
        if body.get("two_factor_requirement_enabled") is None:
            raise SourceError(SOURCE, f"GET {path}: two_factor_requirement_enabled is not in the answer; only "
                                      "organisation owners see it (token needs admin:org / owner access)")
        yield body

    return fetch


def fetch_members(session: GitHubSession) -> Fetcher:
    def fetch(interval: Interval, fetch_log: FetchLog) -> Iterator[dict[str, Any]]:
        path = f"/orgs/{session.org}/members"

        def logins(params: dict[str, Any]) -> dict[str, dict[str, Any]]:
            found = {}
            for page in _list(session, fetch_log, path, {**params, "per_page": PAGE_SIZE}):
                for user in page:
                    found[str(_field(user, "login", f"GET {path}"))] = user
            return found

        everyone = logins({})
        no_2fa = logins({"filter": "2fa_disabled"})
        admins = logins({"role": "admin"})
        # membership can change between the three listings; whoever shows up in any is a member
        for login in sorted(everyone.keys() | no_2fa.keys() | admins.keys()):
            user = everyone.get(login) or no_2fa.get(login) or admins[login]
            yield {"user": user, "role": "admin" if login in admins else "member",
                   "two_factor_disabled": login in no_2fa}

    return fetch


def fetch_saml_identities(session: GitHubSession) -> Fetcher:
    def fetch(interval: Interval, fetch_log: FetchLog) -> Iterator[dict[str, Any]]:
        after = None
        total = 0
        seen_cursors: set[str] = set()
        while True:
            if fetch_log.pages >= session.api.config.max_pages:
                raise SourceError(SOURCE, f"more than {session.api.config.max_pages} pages of SAML identities")
            body, _ = session.api.post_json(session.graphql_url, {
                "query": SAML_QUERY, "variables": {"login": session.org, "first": PAGE_SIZE, "after": after}})
            fetch_log.pages += 1
            where = f"POST {session.graphql_url} (externalIdentities after {after})"
            if not isinstance(body, dict):
                raise SourceError(SOURCE, f"{where}: expected a JSON object")
            if body.get("errors"):
                messages = "; ".join(str(e.get("message", e)) for e in body["errors"] if isinstance(e, dict))
                raise SourceError(SOURCE, f"{where}: GraphQL errors: {messages or body['errors']}")
            organization = (body.get("data") or {}).get("organization")
            if organization is None:
                raise SourceError(SOURCE, f"{where}: organization {session.org!r} not found")
            provider = organization.get("samlIdentityProvider")
            if provider is None:
                fetch_log.notes.append(f"organization {session.org} has no SAML identity provider configured")
                return
            connection = provider.get("externalIdentities") or {}
            edges = connection.get("edges")
            if not isinstance(edges, list):
                raise SourceError(SOURCE, f"{where}: externalIdentities.edges is missing")
            total = connection.get("totalCount", total)
            for edge in edges:
                yield (edge or {}).get("node")
            info = connection.get("pageInfo") or {}
            if not info.get("hasNextPage"):
                break
            after = info.get("endCursor")
            if not after or after in seen_cursors:
                raise SourceError(SOURCE, f"{where}: pagination does not advance (endCursor {after!r})")
            seen_cursors.add(after)
        if isinstance(total, int):
            fetch_log.api_total = total

    return fetch


def fetch_repositories(session: GitHubSession) -> Fetcher:
    def fetch(interval: Interval, fetch_log: FetchLog) -> Iterator[dict[str, Any]]:
        yield from _repositories(session, fetch_log)

    return fetch


def fetch_branch_protection(session: GitHubSession) -> Fetcher:
    def fetch(interval: Interval, fetch_log: FetchLog) -> Iterator[dict[str, Any]]:
        for repo in _repositories(session, fetch_log):
            if repo.get("archived"):
                continue  # read-only: nothing can be pushed to it
            branch = _field(repo, "default_branch", f"GET /orgs/{session.org}/repos ({repo['full_name']})")
            path = f"{_repo_path(repo)}/branches/{quote(branch, safe='')}/protection"
            body, response = session.api.get_json(path, ok_statuses=(404,))
            fetch_log.pages += 1
            if response.status_code == 404:
                message = body.get("message") if isinstance(body, dict) else None
                if message != "Branch not protected":
                    raise SourceError(SOURCE, f"GET {path} returned HTTP 404: {message or body!r}")
                yield {"repository": repo["full_name"], "branch": branch, "protected": False, "protection": None}
                continue
            if not isinstance(body, dict):
                raise SourceError(SOURCE, f"GET {path}: expected a JSON object")
            yield {"repository": repo["full_name"], "branch": branch, "protected": True, "protection": body}

    return fetch


def fetch_dependabot_alerts(session: GitHubSession) -> Fetcher:
    def fetch(interval: Interval, fetch_log: FetchLog) -> Iterator[dict[str, Any]]:
        for repo in _repositories(session, fetch_log):
            path = f"{_repo_path(repo)}/dependabot/alerts"
            for page in _list(session, fetch_log, path, {"per_page": PAGE_SIZE}):
                for alert in page:
                    yield {"repository": repo["full_name"], "alert": alert}

    return fetch


def fetch_pull_requests(session: GitHubSession) -> Fetcher:
    def fetch(interval: Interval, fetch_log: FetchLog) -> Iterator[dict[str, Any]]:
        for _repo, pr, _merged in merged_pull_requests(session, interval, fetch_log):
            yield pr

    return fetch


def fetch_pull_request_reviews(session: GitHubSession) -> Fetcher:
    def fetch(interval: Interval, fetch_log: FetchLog) -> Iterator[dict[str, Any]]:
        for repo, pr, _merged in merged_pull_requests(session, interval, fetch_log):
            number = _field(pr, "number", f"GET {_repo_path(repo)}/pulls")
            path = f"{_repo_path(repo)}/pulls/{number}/reviews"
            for page in _list(session, fetch_log, path, {"per_page": PAGE_SIZE}):
                for review in page:
                    yield {"repository": repo["full_name"], "pull_number": number, "merged_at": pr["merged_at"],
                           "review": review}

    return fetch


def fetch_pull_request_commits(session: GitHubSession) -> Fetcher:
    def fetch(interval: Interval, fetch_log: FetchLog) -> Iterator[dict[str, Any]]:
        for repo, pr, _merged in merged_pull_requests(session, interval, fetch_log):
            number = _field(pr, "number", f"GET {_repo_path(repo)}/pulls")
            path = f"{_repo_path(repo)}/pulls/{number}/commits"
            commits = [c for page in _list(session, fetch_log, path, {"per_page": PAGE_SIZE}) for c in page]
            if len(commits) >= MAX_PULL_COMMITS:
                fetch_log.reject(f"the API lists at most {MAX_PULL_COMMITS} commits of a pull request; this one "
                                 f"may have more, so commits after the approval cannot be ruled out",
                                 f"{repo['full_name']}#{number}")
                continue
            for position, commit in enumerate(commits, start=1):
                yield {"repository": repo["full_name"], "pull_number": number, "merged_at": pr["merged_at"],
                       "position": position, "commit": commit}

    return fetch


def fetch_check_runs(session: GitHubSession) -> Fetcher:
    def fetch(interval: Interval, fetch_log: FetchLog) -> Iterator[dict[str, Any]]:
        for repo, pr, _merged in merged_pull_requests(session, interval, fetch_log):
            number = _field(pr, "number", f"GET {_repo_path(repo)}/pulls")
            head = _field(_field(pr, "head", f"{repo['full_name']}#{number}"), "sha", f"{repo['full_name']}#{number}")
            path = f"{_repo_path(repo)}/commits/{head}/check-runs"
            envelope = _Envelope("check_runs", f"GET {path}")
            for page in _list(session, fetch_log, path, {"filter": "all", "per_page": PAGE_SIZE}, items=envelope):
                for check_run in page:
                    yield {"repository": repo["full_name"], "pull_number": number, "merged_at": pr["merged_at"],
                           "head_sha": head, "check_run": check_run}
            if not isinstance(envelope.total, int):
                raise SourceError(SOURCE, f"GET {path}: no total_count in the answer")
            fetch_log.api_total = (fetch_log.api_total or 0) + envelope.total

    return fetch


def fetch_deployments(session: GitHubSession) -> Fetcher:
    def fetch(interval: Interval, fetch_log: FetchLog) -> Iterator[dict[str, Any]]:
        for repo in _repositories(session, fetch_log):
            path = f"{_repo_path(repo)}/deployments"
            context = {"full_name": repo["full_name"],
                       "default_branch": _field(repo, "default_branch", f"GET /orgs/{session.org}/repos")}
            for page in _list(session, fetch_log, path, {"per_page": RECENT_PAGE_SIZE}):  # newest first
                oldest = None
                for deployment in page:
                    created = _time(deployment, "created_at", f"GET {path}")
                    oldest = created if oldest is None else min(oldest, created)
                    if not interval.start <= created < interval.end:
                        continue
                    status_path = f"{path}/{_field(deployment, 'id', f'GET {path}')}/statuses"
                    statuses = [s for p in _list(session, fetch_log, status_path, {"per_page": PAGE_SIZE}) for s in p]
                    yield {"repository": context, "deployment": deployment, "statuses": statuses}
                if oldest is None or oldest < interval.start:
                    break

    return fetch


def fetch_workflow_runs(session: GitHubSession) -> Fetcher:
    def runs_between(repo: dict[str, Any], start: datetime, last: datetime,
                     fetch_log: FetchLog) -> Iterator[dict[str, Any]]:
        """Runs created in [start, last] (seconds); halves the range while GitHub caps the answer."""
        path = f"{_repo_path(repo)}/actions/runs"
        created = f"{start:%Y-%m-%dT%H:%M:%SZ}..{last:%Y-%m-%dT%H:%M:%SZ}"
        envelope = _Envelope("workflow_runs", f"GET {path}?created={created}")
        pages = _list(session, fetch_log, path, {"created": created, "per_page": PAGE_SIZE}, items=envelope)
        first = next(pages)
        if not isinstance(envelope.total, int):
            raise SourceError(SOURCE, f"GET {path}?created={created}: no total_count in the answer")
        if envelope.total > MAX_RUNS_PER_QUERY:
            pages.close()
            if last - start < timedelta(seconds=2):
                raise SourceError(SOURCE, f"GET {path}: more than {MAX_RUNS_PER_QUERY} runs created in {created}")
            middle = (start + (last - start) / 2).replace(microsecond=0)
            yield from runs_between(repo, start, middle, fetch_log)
            yield from runs_between(repo, middle + timedelta(seconds=1), last, fetch_log)
            return
        fetch_log.api_total = (fetch_log.api_total or 0) + envelope.total
        yield from first
        for page in pages:
            yield from page

    def fetch(interval: Interval, fetch_log: FetchLog) -> Iterator[dict[str, Any]]:
        # `created` ranges are inclusive and in whole seconds: [start, end - 1s] is [start, end)
        start = interval.start.replace(microsecond=0)
        last = (interval.end - timedelta(microseconds=1)).replace(microsecond=0)
        for repo in _repositories(session, fetch_log):
            yield from runs_between(repo, start, last, fetch_log)

    return fetch


FETCHERS = {
    ORGANIZATION.name: fetch_organization, MEMBERS.name: fetch_members, SAML_IDENTITIES.name: fetch_saml_identities,
    REPOSITORIES.name: fetch_repositories, BRANCH_PROTECTION.name: fetch_branch_protection,
    DEPENDABOT_ALERTS.name: fetch_dependabot_alerts, PULL_REQUESTS.name: fetch_pull_requests,
    PULL_REQUEST_REVIEWS.name: fetch_pull_request_reviews, PULL_REQUEST_COMMITS.name: fetch_pull_request_commits,
    CHECK_RUNS.name: fetch_check_runs, DEPLOYMENTS.name: fetch_deployments, WORKFLOW_RUNS.name: fetch_workflow_runs,
}
