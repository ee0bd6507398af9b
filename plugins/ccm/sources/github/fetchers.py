"""GitHub fetchers: REST listings (Link pages, cursors, total_count envelopes) and the GraphQL
SAML identities.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from ccm import clock
from ccm.datasets import parse_timestamp
from ccm.errors import SourceError
from ccm.sources.extract import Fetcher, FetchLog, Interval
from ccm.sources.github.client import GitHubSession
from ccm.sources.github.datasets import (
    AUDIT_LOG,
    BRANCH_PROTECTION,
    CHECK_RUNS,
    DEPENDABOT_ALERTS,
    DEPLOYMENTS,
    MEMBERS,
    ORGANIZATION,
    PULL_REQUEST_COMMITS,
    PULL_REQUEST_REVIEWS,
    PULL_REQUESTS,
    REPOSITORIES,
    SAML_IDENTITIES,
    SOURCE,
    WORKFLOW_RUNS,
)

PAGE_SIZE = 100  # full listings: as few requests as possible
# newest-first listings read only until they pass the interval's start: a daily interval
# needs the first few entries, so small pages move far less data
RECENT_PAGE_SIZE = 30
MAX_PULL_COMMITS = 250  # the pull request commits API lists at most 250 commits
MAX_RUNS_PER_QUERY = 1000  # a filtered workflow-runs query returns at most 1,000 runs
AUDIT_LOG_RETENTION = timedelta(days=180)  # web events; git events are kept 7 days and not read
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


def _merged_pulls(session: GitHubSession, interval: Interval,
                  fetch_log: FetchLog) -> Iterator[tuple[dict[str, Any], dict[str, Any], Any, dict[str, Any]]]:
    """The pull requests merged in the interval with their number and what every record about
    one of them starts with (repository, pull number, merged_at)."""
    for repo, pr, _merged in merged_pull_requests(session, interval, fetch_log):
        number = _field(pr, "number", f"GET {_repo_path(repo)}/pulls")
        yield repo, pr, number, {"repository": repo["full_name"], "pull_number": number, "merged_at": pr["merged_at"]}


def fetch_pull_request_reviews(session: GitHubSession) -> Fetcher:
    def fetch(interval: Interval, fetch_log: FetchLog) -> Iterator[dict[str, Any]]:
        for repo, _pr, number, about in _merged_pulls(session, interval, fetch_log):
            path = f"{_repo_path(repo)}/pulls/{number}/reviews"
            for page in _list(session, fetch_log, path, {"per_page": PAGE_SIZE}):
                for review in page:
                    yield {**about, "review": review}

    return fetch


def fetch_pull_request_commits(session: GitHubSession) -> Fetcher:
    def fetch(interval: Interval, fetch_log: FetchLog) -> Iterator[dict[str, Any]]:
        for repo, _pr, number, about in _merged_pulls(session, interval, fetch_log):
            path = f"{_repo_path(repo)}/pulls/{number}/commits"
            commits = [c for page in _list(session, fetch_log, path, {"per_page": PAGE_SIZE}) for c in page]
            if len(commits) >= MAX_PULL_COMMITS:
                fetch_log.reject(f"the API lists at most {MAX_PULL_COMMITS} commits of a pull request; this one "
                                 f"may have more, so commits after the approval cannot be ruled out",
                                 f"{repo['full_name']}#{number}")
                continue
            for position, commit in enumerate(commits, start=1):
                yield {**about, "position": position, "commit": commit}

    return fetch


def fetch_check_runs(session: GitHubSession) -> Fetcher:
    def fetch(interval: Interval, fetch_log: FetchLog) -> Iterator[dict[str, Any]]:
        for repo, pr, number, about in _merged_pulls(session, interval, fetch_log):
            head = _field(_field(pr, "head", f"{repo['full_name']}#{number}"), "sha", f"{repo['full_name']}#{number}")
            path = f"{_repo_path(repo)}/commits/{head}/check-runs"
            envelope = _Envelope("check_runs", f"GET {path}")
            for page in _list(session, fetch_log, path, {"filter": "all", "per_page": PAGE_SIZE}, items=envelope):
                for check_run in page:
                    yield {**about, "head_sha": head, "check_run": check_run}
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


def fetch_audit_log(session: GitHubSession) -> Fetcher:
    """The interval's audit-log web events, oldest first: `created:` in whole seconds ([start, end - 1s]
    is [start, end)), `after` cursors in `Link`. An interval GitHub no longer keeps is an error: an
    empty answer there would look like a day in which nothing changed."""

    def fetch(interval: Interval, fetch_log: FetchLog) -> Iterator[dict[str, Any]]:
        kept_from = clock.now() - AUDIT_LOG_RETENTION
        if interval.start < kept_from:
            raise SourceError(SOURCE, f"the audit log for {interval.start:%Y-%m-%d} is gone: GitHub keeps "
                                      f"{AUDIT_LOG_RETENTION.days} days (from {kept_from:%Y-%m-%d %H:%M} UTC)")
        start = interval.start.replace(microsecond=0)
        last = (interval.end - timedelta(microseconds=1)).replace(microsecond=0)
        path = f"/orgs/{session.org}/audit-log"
        where = f"GET {path}"
        params = {"phrase": f"created:{start:%Y-%m-%dT%H:%M:%SZ}..{last:%Y-%m-%dT%H:%M:%SZ}", "include": "web",
                  "order": "asc", "per_page": PAGE_SIZE}
        for page in _list(session, fetch_log, path, params):
            for event in page:
                created = _time(event, "created_at", where)
                if not interval.start <= created < interval.end:
                    raise SourceError(SOURCE, f"{where}: event {event.get('_document_id')} created at "
                                              f"{created.isoformat()} is outside the interval asked for")
                yield event

    return fetch


FETCHERS = {
    ORGANIZATION.name: fetch_organization, MEMBERS.name: fetch_members, SAML_IDENTITIES.name: fetch_saml_identities,
    REPOSITORIES.name: fetch_repositories, BRANCH_PROTECTION.name: fetch_branch_protection,
    DEPENDABOT_ALERTS.name: fetch_dependabot_alerts, PULL_REQUESTS.name: fetch_pull_requests,
    PULL_REQUEST_REVIEWS.name: fetch_pull_request_reviews, PULL_REQUEST_COMMITS.name: fetch_pull_request_commits,
    CHECK_RUNS.name: fetch_check_runs, DEPLOYMENTS.name: fetch_deployments, WORKFLOW_RUNS.name: fetch_workflow_runs,
    AUDIT_LOG.name: fetch_audit_log,
}
