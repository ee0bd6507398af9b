"""GitHub stand-in: the REST paths and shapes the GitHub source reads, plus GraphQL SAML identities.

Serves the demo world as of the simulated clock (event APIs only show what happened by
then; open/closed, in-progress/completed and alert states are those at that moment) with
GitHub's behaviour: `Link` pagination with page numbers (Dependabot alerts with `after`
cursors), `x-ratelimit-*` headers, `{"message", "documentation_url"}` errors, 404
"Branch not protected", and rate limiting switched on through the fault endpoint:
- {"kind": "secondary_rate_limit", "count": N, "retry_after": S, "path": ...}: 403 with
  `retry-after` (GitHub's secondary limit);
- {"kind": "primary_rate_limit", "count": N, "reset_in": S, "path": ...}: 403 with
  `x-ratelimit-remaining: 0` and `x-ratelimit-reset` S seconds ahead.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from ccm_demo.standins.base import Request, Response, StandinServer
from ccm_demo.world import github as world
from ccm_demo.world.common import iso, parse

DOCS = "https://docs.github.com/rest"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FAR = datetime(2999, 1, 1, tzinfo=UTC)
_REPO = r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"
AUDIT_LOG_RETENTION = timedelta(days=180)  # GitHub keeps an organisation's audit log events for 180 days


def _node_id(kind: str, number: int) -> str:
    return base64.b64encode(f"0{len(kind)}:{kind}{number}".encode()).decode().rstrip("=")


def _simple_user(login: str, account_id: int, kind: str, base_url: str) -> dict[str, Any]:
    """GitHub's `simple-user`: how every user, bot and organisation is embedded in an answer."""
    node_kind = "Organization" if kind == "Organization" else "User"
    return {"login": login, "id": account_id, "node_id": _node_id(node_kind, account_id),
            "avatar_url": f"https://avatars.githubusercontent.com/u/{account_id}?v=4", "gravatar_id": "",
            "url": f"{base_url}/users/{login}", "html_url": f"https://github.com/{login}",
            "type": kind, "user_view_type": "public", "site_admin": False}


def _fake_sha(*parts: Any) -> str:
    return hashlib.sha1(":".join(map(str, parts)).encode()).hexdigest()


def _cursor(number: int) -> str:
    return base64.b64encode(f"cursor:v2:{number}".encode()).decode()


def _uncursor(text: str) -> int | None:
    try:
        return int(base64.b64decode(text.encode()).decode().rsplit(":", 1)[1])
    except (ValueError, IndexError, UnicodeDecodeError):
        return None


class GitHubStandin(StandinServer):
    name = "github"
    public_url = "https://api.github.com"
    conn_id = "github_default"
    default_token = "ghp_demoStandinToken000000000000000000"
    auth_scheme = "Bearer"
    rate_limit = 5000
    rate_limit_header_style = "github"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.world = world.GitHubWorld.load(self.world_dir) if self.world_dir else None
        self._limits: list[dict[str, Any]] = []
        self._limits_lock = threading.Lock()
        self._repo_objects: dict[tuple[str, str], dict[str, Any]] = {}
        if self.world is not None:
            self._users = {m["login"]: m for m in self.world.members}
            self._run_numbers = self._number_runs()

    # connection and errors -------------------------------------------------------
    def connection_env(self) -> dict[str, str]:
        document = {"conn_type": "http", "host": self.url, "password": self.token, "extra": {"org": world.ORG}}
        return {f"AIRFLOW_CONN_{self.conn_id.upper()}": json.dumps(document)}

    def error_body(self, status: int, message: str) -> Any:
        if status == 401:
            message = "Bad credentials"
        return {"message": message, "documentation_url": DOCS, "status": str(status)}

    def _not_found(self, message: str = "Not Found") -> Response:
        return Response(404, self.error_body(404, message))

    # rate-limit faults -------------------------------------------------------------
    def inject(self, **spec: Any) -> None:
        kind = spec.get("kind")
        if kind in {"secondary_rate_limit", "primary_rate_limit"}:
            with self._limits_lock:
                self._limits.append({"kind": kind, "count": int(spec.get("count", 1)), "path": str(spec.get("path", "")),
                                     "after": int(spec.get("after", 0)),
                                     "seconds": int(spec.get("retry_after", spec.get("reset_in", 1)))})
            return
        super().inject(**spec)

    def clear_faults(self) -> None:
        with self._limits_lock:
            self._limits.clear()
        super().clear_faults()

    def _rate_limited(self, path: str) -> Response | None:
        with self._limits_lock:
            for limit in self._limits:
                if limit["count"] > 0 and path.startswith(limit["path"]):
                    if limit["after"] > 0:
                        limit["after"] -= 1
                        return None
                    limit["count"] -= 1
                    if limit["count"] == 0:
                        self._limits.remove(limit)
                    break
            else:
                return None
        if limit["kind"] == "secondary_rate_limit":
            return Response(403, {"message": "You have exceeded a secondary rate limit. Please wait a few minutes "
                                             "before you try again.", "documentation_url": DOCS},
                            headers={"retry-after": str(limit["seconds"])})
        return Response(403, {"message": "API rate limit exceeded for user ID 1.", "documentation_url": DOCS},
                        headers={"x-ratelimit-remaining": "0",
                                 "x-ratelimit-reset": str(int(time.time()) + limit["seconds"])})

    # GitHub App installations ---------------------------------------------------------
    def configure_app(self, app_id: str, public_key_pem: str, installation_id: str,
                      token_lifetime_s: float = 3600.0, token_max_requests: int | None = None) -> None:
        """Serve a GitHub App installation: `POST /app/installations/{id}/access_tokens` checks the
        app's RS256 JWT (signature with `public_key_pem`, `iss`, `iat`/`exp` within 10 minutes, not
        expired) and issues installation tokens that expire after `token_lifetime_s` (real time) or
        `token_max_requests` API calls, whichever comes first (a test can expire one mid-extract)."""
        self._app = {"app_id": str(app_id), "public_key": public_key_pem, "installation_id": str(installation_id),
                     "lifetime": token_lifetime_s, "max_requests": token_max_requests}
        self._installation_tokens: dict[str, dict[str, Any]] = {}
        self.tokens_issued = 0

    def _issue_installation_token(self, request: Request, installation_id: str) -> Response:
        import jwt

        app = getattr(self, "_app", None)
        if app is None or installation_id != app["installation_id"]:
            return self._not_found()
        presented = request.headers.get("authorization", "").removeprefix("Bearer ")
        try:
            claims = jwt.decode(presented, app["public_key"], algorithms=["RS256"], leeway=60,
                                options={"require": ["iat", "exp", "iss"]})
        except jwt.PyJWTError as exc:
            return Response(401, {"message": f"A JSON web token could not be decoded ({type(exc).__name__})",
                                  "documentation_url": DOCS})
        if str(claims["iss"]) != app["app_id"] or claims["exp"] - claims["iat"] > 600:
            return Response(401, {"message": "'Issuer' claim ('iss') must be the app id and the JWT live at most "
                                             "10 minutes", "documentation_url": DOCS})
        token = "ghs_" + hashlib.sha256(f"{presented}{time.monotonic_ns()}".encode()).hexdigest()[:36]
        expires = time.time() + app["lifetime"]
        with self._limits_lock:
            self._installation_tokens[token] = {"expires": expires, "uses_left": app["max_requests"]}
            self.tokens_issued += 1
        return Response(201, {"token": token, "expires_at": datetime.fromtimestamp(expires, UTC).strftime(
            "%Y-%m-%dT%H:%M:%SZ"), "permissions": {"members": "read", "pull_requests": "read"},
            "repository_selection": "all"})

    def authorized(self, headers: dict[str, str]) -> bool:
        if super().authorized(headers):
            return True
        token = headers.get("authorization", "").removeprefix("Bearer ")
        with self._limits_lock:
            live = getattr(self, "_installation_tokens", {}).get(token)
            return bool(live) and live["expires"] > time.time() and (live["uses_left"] is None
                                                                     or live["uses_left"] >= 0)

    def dispatch(self, request: Request) -> Response:
        match = re.fullmatch(r"/app/installations/(\d+)/access_tokens", request.path)
        if match and request.method == "POST":
            return self._issue_installation_token(request, match.group(1))
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        with self._limits_lock:  # one use per API request (authorized() is asked more than once)
            live = getattr(self, "_installation_tokens", {}).get(token)
            if live and live["uses_left"] is not None:
                live["uses_left"] -= 1
        if request.path != "/_standin/faults" and self.authorized(request.headers):
            limited = self._rate_limited(request.path)
            if limited is not None:
                return limited
        return super().dispatch(request)

    # routes ----------------------------------------------------------------------
    def routes(self) -> list[tuple[str, str, Any]]:
        return [
            ("GET", r"/orgs/(?P<org>[^/]+)", self.get_org),
            ("GET", r"/orgs/(?P<org>[^/]+)/members", self.list_members),
            ("GET", r"/orgs/(?P<org>[^/]+)/repos", self.list_repos),
            ("GET", _REPO + r"/pulls", self.list_pulls),
            ("GET", _REPO + r"/pulls/(?P<number>\d+)/reviews", self.list_reviews),
            ("GET", _REPO + r"/pulls/(?P<number>\d+)/commits", self.list_pull_commits),
            ("GET", _REPO + r"/commits/(?P<sha>[0-9a-f]{40})/check-runs", self.list_check_runs),
            ("GET", _REPO + r"/branches/(?P<branch>.+)/protection", self.get_protection),
            ("GET", _REPO + r"/deployments", self.list_deployments),
            ("GET", _REPO + r"/deployments/(?P<deployment_id>\d+)/statuses", self.list_deployment_statuses),
            ("GET", _REPO + r"/actions/runs", self.list_workflow_runs),
            ("GET", _REPO + r"/dependabot/alerts", self.list_dependabot_alerts),
            ("GET", r"/orgs/(?P<org>[^/]+)/audit-log", self.list_audit_log),
            ("POST", r"/graphql", self.graphql),
        ]

    # helpers ---------------------------------------------------------------------
    def _repo(self, request: Request) -> dict[str, Any] | None:
        if self.world is None or request.match["owner"] != world.ORG:
            return None
        repo = self.world.repo_by_name.get(request.match["repo"])
        if repo is None or parse(repo["created_at"]) > self.now():
            return None
        return repo

    def _pages(self, items: list[Any], request: Request, wrap: Any = None) -> Response:
        """GitHub page-number pagination: ?per_page= (max 100) &page=, Link next/last/prev/first."""
        try:
            per_page = max(1, min(100, int(request.query.get("per_page", 30))))
            page = max(1, int(request.query.get("page", 1)))
        except ValueError:
            return Response(422, self.error_body(422, "Invalid request: per_page and page must be integers"))
        last = max(1, math.ceil(len(items) / per_page))
        chunk = items[(page - 1) * per_page: page * per_page]
        links = []

        def link(number: int, rel: str) -> str:
            query = {**request.query, "per_page": per_page, "page": number}
            return f'<{request.link_base}{request.path}?{urlencode(query)}>; rel="{rel}"'

        if page > 1:
            links.append(link(page - 1, "prev"))
        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        if page > 1:
            links.append(link(1, "first"))
        headers = {"Link": ", ".join(links)} if links else {}
        body = chunk if wrap is None else wrap(chunk)
        return Response(200, body, headers)

    def user(self, login: str, base_url: str) -> dict[str, Any]:
        if login == world.CI_BOT["login"]:
            return _simple_user(login, world.CI_BOT["id"], "Bot", base_url)
        return _simple_user(login, self._users[login]["id"], "User", base_url)

    def app(self, base_url: str) -> dict[str, Any]:
        return {"id": world.CI_APP["id"], "slug": world.CI_APP["slug"], "node_id": "MDM6QXBwMTUzNjg=",
                "name": world.CI_APP["name"], "owner": _simple_user("github", 9919, "Organization", base_url),
                "external_url": "https://help.github.com/en/actions", "html_url": "https://github.com/apps/github-actions",
                "created_at": "2018-07-30T09:30:17Z", "updated_at": "2024-04-10T20:33:16Z"}

    def repo_object(self, repo: dict[str, Any], base_url: str) -> dict[str, Any]:
        key = (repo["name"], base_url)
        if key not in self._repo_objects:  # repositories do not change: render each once
            self._repo_objects[key] = self._render_repo(repo, base_url)
        return self._repo_objects[key]

    def _render_repo(self, repo: dict[str, Any], base_url: str) -> dict[str, Any]:
        full = f"{world.ORG}/{repo['name']}"
        return {"id": repo["id"], "node_id": _node_id("Repository", repo["id"]), "name": repo["name"],
                "full_name": full, "private": repo["private"],
                "owner": _simple_user(world.ORG, world.ORG_ID, "Organization", base_url),
                "html_url": f"https://github.com/{full}", "description": None, "fork": False,
                "url": f"{base_url}/repos/{full}", "created_at": repo["created_at"],
                "updated_at": repo["created_at"], "pushed_at": repo["created_at"], "homepage": None,
                "language": None, "archived": repo["archived"], "disabled": False, "visibility": "private",
                "default_branch": repo["default_branch"], "topics": repo["topics"], "is_template": False,
                "has_issues": True, "forks_count": 0, "open_issues_count": 0, "stargazers_count": 0,
                "permissions": {"admin": True, "maintain": True, "push": True, "triage": True, "pull": True}}

    # organisation ----------------------------------------------------------------
    def get_org(self, request: Request) -> Response:
        if self.world is None or request.match["org"] != world.ORG:
            return self._not_found()
        org, moment = self.world.org, self.now()
        return Response(200, {
            "login": org["login"], "id": org["id"], "node_id": _node_id("Organization", org["id"]),
            "url": f"{request.base_url}/orgs/{org['login']}", "name": org["name"], "company": None,
            "html_url": f"https://github.com/{org['login']}", "created_at": org["created_at"],
            "updated_at": org["created_at"], "type": "Organization", "description": "Kestrel Labs engineering",
            "two_factor_requirement_enabled": self.world.two_factor_required(moment),
            "default_repository_permission": "read", "members_can_create_repositories": False,
            "web_commit_signoff_required": False, "plan": {"name": "enterprise", "seats": 500},
        })

    def list_members(self, request: Request) -> Response:
        if self.world is None or request.match["org"] != world.ORG:
            return self._not_found()
        moment = self.now()
        members = self.world.members_at(moment)
        wanted_filter = request.query.get("filter", "all")
        role = request.query.get("role", "all")
        if wanted_filter not in {"all", "2fa_disabled", "2fa_insecure"} or role not in {"all", "admin", "member"}:
            return Response(422, self.error_body(422, "Validation Failed"))
        if wanted_filter != "all":
            members = [m for m in members if self.world.two_factor_disabled(m["login"], moment)]
        if role != "all":
            members = [m for m in members if m["admin"] == (role == "admin")]
        return self._pages([self.user(m["login"], request.base_url) for m in members], request)

    def list_repos(self, request: Request) -> Response:
        if self.world is None or request.match["org"] != world.ORG:
            return self._not_found()
        repos = sorted(self.world.repos_at(self.now()), key=lambda r: r["created_at"])
        if request.query.get("sort", "created") == "full_name":
            repos = sorted(repos, key=lambda r: r["name"])
        if request.query.get("direction", "asc" if request.query.get("sort") == "full_name" else "desc") == "desc":
            repos = repos[::-1]
        return self._pages([self.repo_object(r, request.base_url) for r in repos], request)

    # pull requests ---------------------------------------------------------------
    def pull_object(self, pr: dict[str, Any], repo: dict[str, Any], moment: datetime, base_url: str) -> dict[str, Any]:
        full = f"{world.ORG}/{repo['name']}"
        url = f"{base_url}/repos/{full}/pulls/{pr['number']}"
        closed = pr["closed_at"] if pr["closed_at"] and parse(pr["closed_at"]) <= moment else None
        merged = pr["merged_at"] if closed and pr["merged_at"] else None
        commits = [c for c in pr["commits"] if parse(c["at"]) <= moment]
        head_sha = (commits or pr["commits"])[-1]["sha"]
        repo_doc = self.repo_object(repo, base_url)
        author = self.user(pr["author"], base_url)
        return {
            "url": url, "id": pr["id"], "node_id": _node_id("PullRequest", pr["id"]),
            "html_url": f"https://github.com/{full}/pull/{pr['number']}", "number": pr["number"],
            "state": "closed" if closed else "open", "locked": False, "title": pr["title"], "user": author,
            "body": f"Changes to {pr['title'].lower()}.", "labels": [], "milestone": None,
            "created_at": pr["created_at"],
            "updated_at": closed or iso(world.pull_updated_at(pr, moment), millis=False),
            "closed_at": closed, "merged_at": merged,
            "merge_commit_sha": pr["merge_commit_sha"] if merged else _fake_sha("test-merge", pr["id"], head_sha),
            "assignee": None, "assignees": [], "requested_reviewers": [], "requested_teams": [], "draft": False,
            "head": {"label": f"{world.ORG}:{pr['head_ref']}", "ref": pr["head_ref"], "sha": head_sha,
                     "user": _simple_user(world.ORG, world.ORG_ID, "Organization", base_url), "repo": repo_doc},
            "base": {"label": f"{world.ORG}:{pr['base_ref']}", "ref": pr["base_ref"],
                     "sha": _fake_sha("base", pr["id"]),
                     "user": _simple_user(world.ORG, world.ORG_ID, "Organization", base_url), "repo": repo_doc},
            "author_association": "MEMBER", "auto_merge": None, "active_lock_reason": None,
            "_links": {"self": {"href": url}, "commits": {"href": f"{url}/commits"},
                       "review_comments": {"href": f"{url}/comments"}},
        }

    def list_pulls(self, request: Request) -> Response:
        repo = self._repo(request)
        if repo is None:
            return self._not_found()
        moment = self.now()
        state = request.query.get("state", "open")
        sort = request.query.get("sort", "created")
        direction = request.query.get("direction", "desc" if sort in {"created", "updated"} else "asc")
        if state not in {"open", "closed", "all"} or sort not in {"created", "updated", "popularity", "long-running"}:
            return Response(422, self.error_body(422, "Validation Failed"))
        if state == "closed" and sort == "updated" and direction == "desc":
            pulls = self.world.closed_pulls_at(repo["name"], moment)  # the hot path, indexed
        else:
            pulls = self.world.pulls_created_by(repo["name"], moment)
            closed = {p["number"] for p in self.world.closed_pulls_at(repo["name"], moment)}
            if state != "all":
                pulls = [p for p in pulls if (p["number"] in closed) == (state == "closed")]
            if sort == "updated":
                key = lambda p: (world.pull_updated_at(p, moment), p["number"])  # noqa: E731
            else:
                key = lambda p: (p["created_at"], p["number"])  # noqa: E731
            pulls = sorted(pulls, key=key, reverse=direction == "desc")
        if request.query.get("base"):
            pulls = [p for p in pulls if p["base_ref"] == request.query["base"]]
        response = self._pages(pulls, request)
        response.body = [self.pull_object(p, repo, moment, request.base_url) for p in response.body]
        return response

    def _pull(self, request: Request) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        repo = self._repo(request)
        pr = self.world.pull_by_key.get((repo["name"], int(request.match["number"]))) if repo else None
        if pr is None or parse(pr["created_at"]) > self.now():
            return repo, None
        return repo, pr

    def list_reviews(self, request: Request) -> Response:
        repo, pr = self._pull(request)
        if pr is None:
            return self._not_found()
        moment = self.now()
        full = f"{world.ORG}/{repo['name']}"
        reviews = sorted((r for r in pr["reviews"] if parse(r["at"]) <= moment), key=lambda r: (r["at"], r["id"]))
        body = [{
            "id": r["id"], "node_id": _node_id("PullRequestReview", r["id"]), "user": self.user(r["user"], request.base_url),
            "body": "LGTM" if r["state"] == "APPROVED" else "", "state": r["state"],
            "html_url": f"https://github.com/{full}/pull/{pr['number']}#pullrequestreview-{r['id']}",
            "pull_request_url": f"{request.base_url}/repos/{full}/pulls/{pr['number']}",
            "author_association": "MEMBER", "submitted_at": r["at"], "commit_id": r["commit_id"],
            "_links": {"html": {"href": f"https://github.com/{full}/pull/{pr['number']}#pullrequestreview-{r['id']}"}},
        } for r in reviews]
        return self._pages(body, request)

    def list_pull_commits(self, request: Request) -> Response:
        repo, pr = self._pull(request)
        if pr is None:
            return self._not_found()
        moment = self.now()
        full = f"{world.ORG}/{repo['name']}"
        commits = [c for c in pr["commits"] if parse(c["at"]) <= moment][:250]  # the API lists at most 250
        body = []
        previous = _fake_sha("base", pr["id"])
        for commit in commits:
            member = self._users[commit["author"]]
            signature = {"name": member["name"], "email": member["email"], "date": commit["at"]}
            body.append({
                "sha": commit["sha"], "node_id": _node_id("Commit", int(commit["sha"][:12], 16)),
                "commit": {"author": signature, "committer": signature, "message": commit["message"],
                           "tree": {"sha": _fake_sha("tree", commit["sha"])}, "comment_count": 0,
                           "verification": {"verified": False, "reason": "unsigned", "signature": None,
                                            "payload": None}},
                "url": f"{request.base_url}/repos/{full}/commits/{commit['sha']}",
                "html_url": f"https://github.com/{full}/commit/{commit['sha']}",
                "author": self.user(commit["author"], request.base_url),
                "committer": self.user(commit["author"], request.base_url),
                "parents": [{"sha": previous}],
            })
            previous = commit["sha"]
        return self._pages(body, request)

    def list_check_runs(self, request: Request) -> Response:
        repo = self._repo(request)
        if repo is None:
            return self._not_found()
        moment = self.now()
        full = f"{world.ORG}/{repo['name']}"
        checks = [c for c in self.world.checks_by_sha.get((repo["name"], request.match["sha"]), [])
                  if parse(c["started_at"]) <= moment]
        if request.query.get("check_name"):
            checks = [c for c in checks if c["name"] == request.query["check_name"]]
        if request.query.get("filter", "latest") == "latest":
            latest: dict[str, dict[str, Any]] = {}
            for check in sorted(checks, key=lambda c: (c["started_at"], c["id"])):
                latest[check["name"]] = check
            checks = list(latest.values())
        checks = sorted(checks, key=lambda c: c["id"], reverse=True)
        body = []
        for check in checks:
            done = parse(check["completed_at"]) <= moment
            body.append({
                "id": check["id"], "name": check["name"], "node_id": _node_id("CheckRun", check["id"]),
                "head_sha": check["sha"], "external_id": _fake_sha("job", check["id"])[:36],
                "url": f"{request.base_url}/repos/{full}/check-runs/{check['id']}",
                "html_url": f"https://github.com/{full}/actions/runs/{check['run_id']}/job/{check['id']}",
                "details_url": f"https://github.com/{full}/actions/runs/{check['run_id']}/job/{check['id']}",
                "status": "completed" if done else "in_progress",
                "conclusion": check["conclusion"] if done else None,
                "started_at": check["started_at"], "completed_at": check["completed_at"] if done else None,
                "output": {"title": None, "summary": None, "text": None, "annotations_count": 0,
                           "annotations_url": f"{request.base_url}/repos/{full}/check-runs/{check['id']}/annotations"},
                "check_suite": {"id": 30_000_000_000 + check["run_id"] % 1_000_000_000},
                "app": self.app(request.base_url), "pull_requests": [],
            })
        return self._pages(body, request, wrap=lambda chunk: {"total_count": len(body), "check_runs": chunk})

    # branch protection -----------------------------------------------------------
    def get_protection(self, request: Request) -> Response:
        repo = self._repo(request)
        if repo is None:
            return self._not_found()
        if request.match["branch"] != repo["default_branch"]:
            return self._not_found("Branch not found")
        settings = self.world.protection_at(repo["name"], self.now())
        if settings is None:
            return self._not_found("Branch not protected")
        url = f"{request.base_url}/repos/{world.ORG}/{repo['name']}/branches/{repo['default_branch']}/protection"
        body: dict[str, Any] = {
            "url": url,
            "required_status_checks": {"url": f"{url}/required_status_checks", "strict": True,
                                       "contexts": settings["checks"],
                                       "contexts_url": f"{url}/required_status_checks/contexts",
                                       "checks": [{"context": c, "app_id": world.CI_APP["id"]} for c in settings["checks"]]},
            "required_signatures": {"url": f"{url}/required_signatures", "enabled": False},
            "enforce_admins": {"url": f"{url}/enforce_admins", "enabled": settings["enforce_admins"]},
            "required_linear_history": {"enabled": settings["linear_history"]},
            "allow_force_pushes": {"enabled": settings["force_pushes"]},
            "allow_deletions": {"enabled": settings["deletions"]},
            "block_creations": {"enabled": False},
            "required_conversation_resolution": {"enabled": False},
            "lock_branch": {"enabled": False},
            "allow_fork_syncing": {"enabled": False},
        }
        if settings["reviews"] is not None:
            body["required_pull_request_reviews"] = {
                "url": f"{url}/required_pull_request_reviews", "dismiss_stale_reviews": settings["dismiss_stale"],
                "require_code_owner_reviews": False, "require_last_push_approval": False,
                "required_approving_review_count": settings["reviews"],
            }
        return Response(200, body)

    # deployments -----------------------------------------------------------------
    def _status_objects(self, deployment: dict[str, Any], repo: dict[str, Any], moment: datetime,
                        base_url: str) -> list[dict[str, Any]]:
        full = f"{world.ORG}/{repo['name']}"
        by_ci = deployment["run_id"] is not None
        out = []
        for status in sorted(deployment["statuses"], key=lambda s: s["at"], reverse=True):
            if parse(status["at"]) > moment:
                continue
            out.append({
                "url": f"{base_url}/repos/{full}/deployments/{deployment['id']}/statuses/{status['id']}",
                "id": status["id"], "node_id": _node_id("DeploymentStatus", status["id"]), "state": status["state"],
                "creator": self.user(deployment["creator"], base_url), "description": "",
                "environment": deployment["environment"], "target_url": status["log_url"] or "",
                "log_url": status["log_url"] or "", "environment_url": "", "created_at": status["at"],
                "updated_at": status["at"],
                "deployment_url": f"{base_url}/repos/{full}/deployments/{deployment['id']}",
                "repository_url": f"{base_url}/repos/{full}",
                "performed_via_github_app": self.app(base_url) if by_ci else None,
            })
        return out

    def list_deployments(self, request: Request) -> Response:
        repo = self._repo(request)
        if repo is None:
            return self._not_found()
        moment = self.now()
        full = f"{world.ORG}/{repo['name']}"
        deployments = [d for d in self.world.deployments_of(repo["name"]) if parse(d["created_at"]) <= moment]
        for field_name in ("environment", "sha", "ref"):
            if request.query.get(field_name):
                deployments = [d for d in deployments if d[field_name] == request.query[field_name]]
        deployments = sorted(deployments, key=lambda d: d["id"], reverse=True)
        response = self._pages(deployments, request)
        body = []
        for deployment in response.body:
            by_ci = deployment["run_id"] is not None
            seen = [s["at"] for s in deployment["statuses"] if parse(s["at"]) <= moment]
            body.append({
                "url": f"{request.base_url}/repos/{full}/deployments/{deployment['id']}", "id": deployment["id"],
                "node_id": _node_id("Deployment", deployment["id"]), "task": "deploy",
                "original_environment": deployment["environment"], "environment": deployment["environment"],
                "description": None, "created_at": deployment["created_at"],
                "updated_at": max(seen) if seen else deployment["created_at"],
                "statuses_url": f"{request.base_url}/repos/{full}/deployments/{deployment['id']}/statuses",
                "repository_url": f"{request.base_url}/repos/{full}",
                "creator": self.user(deployment["creator"], request.base_url), "sha": deployment["sha"],
                "ref": deployment["ref"], "payload": {}, "transient_environment": False,
                "production_environment": deployment["environment"] == "production",
                "performed_via_github_app": self.app(request.base_url) if by_ci else None,
            })
        response.body = body
        return response

    def list_deployment_statuses(self, request: Request) -> Response:
        repo = self._repo(request)
        deployment = self.world.deployment_by_id.get(int(request.match["deployment_id"])) if repo else None
        if deployment is None or deployment["repo"] != repo["name"] or parse(deployment["created_at"]) > self.now():
            return self._not_found()
        return self._pages(self._status_objects(deployment, repo, self.now(), request.base_url), request)

    # workflow runs ---------------------------------------------------------------
    def _number_runs(self) -> dict[int, int]:
        numbers: dict[int, int] = {}
        counters: dict[tuple[str, int], int] = {}
        for run in self.world.runs:  # in creation order
            key = (run["repo"], run["workflow_id"])
            counters[key] = counters.get(key, 0) + 1
            numbers[run["id"]] = counters[key]
        return numbers

    @staticmethod
    def _created_range(text: str) -> tuple[datetime, datetime] | None:
        """GitHub search syntax for `created`: a..b (inclusive), >=a, <=b, >a, <b, or one day."""
        second, day = timedelta(seconds=1), timedelta(days=1)

        def bound(value: str, end: bool = False) -> datetime:
            value = value.strip()
            if "T" in value:
                return parse(value)
            start = parse(f"{value}T00:00:00Z")
            return start + day - second if end else start

        low, high = _EPOCH, _FAR
        try:
            if ".." in text:
                first, last = text.split("..", 1)
                if first not in {"", "*"}:
                    low = bound(first)
                if last not in {"", "*"}:
                    high = bound(last, end=True)
            elif text.startswith(">="):
                low = bound(text[2:])
            elif text.startswith("<="):
                high = bound(text[2:], end=True)
            elif text.startswith(">"):
                low = bound(text[1:], end=True) + second
            elif text.startswith("<"):
                high = bound(text[1:]) - second
            else:
                low, high = bound(text), bound(text, end=True)
        except ValueError:
            return None
        return low, high

    def list_workflow_runs(self, request: Request) -> Response:
        repo = self._repo(request)
        if repo is None:
            return self._not_found()
        moment = self.now()
        full = f"{world.ORG}/{repo['name']}"
        low, high = _EPOCH, moment
        if request.query.get("created"):
            bounds = self._created_range(request.query["created"])
            if bounds is None:
                return Response(422, self.error_body(422, f"Invalid created filter: {request.query['created']}"))
            low, high = bounds[0], min(bounds[1], moment)
        runs = self.world.runs_created_between(repo["name"], low, high) if low <= high else []
        for name, key in (("branch", "head_branch"), ("event", "event"), ("head_sha", "head_sha")):
            if request.query.get(name):
                runs = [r for r in runs if r[key] == request.query[name]]
        runs = runs[::-1]
        total = len(runs)
        if total > 1000:  # like GitHub: a filtered query returns at most 1,000 runs
            runs = runs[:1000]

        def render(run: dict[str, Any]) -> dict[str, Any]:
            done = parse(run["completed_at"]) <= moment
            url = f"{request.base_url}/repos/{full}/actions/runs/{run['id']}"
            return {
                "id": run["id"], "name": run["name"], "node_id": _node_id("WorkflowRun", run["id"]),
                "head_branch": run["head_branch"], "head_sha": run["head_sha"], "path": run["path"],
                "display_title": run["name"], "run_number": self._run_numbers[run["id"]], "event": run["event"],
                "status": "completed" if done else "in_progress", "conclusion": run["conclusion"] if done else None,
                "workflow_id": run["workflow_id"], "check_suite_id": 30_000_000_000 + run["id"] % 1_000_000_000,
                "url": url, "html_url": f"https://github.com/{full}/actions/runs/{run['id']}", "pull_requests": [],
                "created_at": run["created_at"], "updated_at": run["completed_at"] if done else run["started_at"],
                "actor": self.user(run["actor"], request.base_url), "run_attempt": 1,
                "run_started_at": run["started_at"], "triggering_actor": self.user(run["actor"], request.base_url),
                "jobs_url": f"{url}/jobs", "logs_url": f"{url}/logs",
                "head_commit": {"id": run["head_sha"], "tree_id": _fake_sha("tree", run["head_sha"]),
                                "timestamp": run["created_at"]},
                "repository": {"id": repo["id"], "name": repo["name"], "full_name": full, "private": True},
            }

        response = self._pages(runs, request)
        rendered = [render(r) for r in response.body]
        response.body = {"total_count": total, "workflow_runs": rendered}
        return response

    # Dependabot ------------------------------------------------------------------
    def alert_object(self, alert: dict[str, Any], repo: dict[str, Any], moment: datetime,
                     base_url: str) -> dict[str, Any]:
        full = f"{world.ORG}/{repo['name']}"
        fixed = alert["fixed_at"] if alert["fixed_at"] and parse(alert["fixed_at"]) <= moment else None
        dismissed = alert["dismissed_at"] if alert["dismissed_at"] and parse(alert["dismissed_at"]) <= moment else None
        state = "fixed" if fixed else "dismissed" if dismissed else "open"
        package = {"ecosystem": alert["ecosystem"], "name": alert["package"]}
        patched = {"identifier": f"{3 + alert['number'] % 5}.{alert['number'] % 11}.1"}
        vulnerability = {"package": package, "severity": alert["severity"],
                         "vulnerable_version_range": f"< {patched['identifier']}", "first_patched_version": patched}
        return {
            "number": alert["number"], "state": state,
            "dependency": {"package": package, "manifest_path": alert["manifest"], "scope": "runtime",
                           "relationship": "direct"},
            "security_advisory": {
                "ghsa_id": alert["ghsa"], "cve_id": alert["cve"], "summary": alert["summary"],
                "description": alert["summary"] + ".", "vulnerabilities": [vulnerability], "severity": alert["severity"],
                "cvss": {"vector_string": None, "score": None}, "cwes": [],
                "identifiers": [{"value": alert["ghsa"], "type": "GHSA"}, {"value": alert["cve"], "type": "CVE"}],
                "references": [{"url": f"https://nvd.nist.gov/vuln/detail/{alert['cve']}"}],
                "published_at": alert["created_at"], "updated_at": alert["created_at"], "withdrawn_at": None,
            },
            "security_vulnerability": vulnerability,
            "url": f"{base_url}/repos/{full}/dependabot/alerts/{alert['number']}",
            "html_url": f"https://github.com/{full}/security/dependabot/{alert['number']}",
            "created_at": alert["created_at"], "updated_at": fixed or dismissed or alert["created_at"],
            "dismissed_at": dismissed,
            "dismissed_by": self.user(alert["dismissed_by"], base_url) if dismissed else None,
            "dismissed_reason": alert["dismissed_reason"] if dismissed else None,
            "dismissed_comment": "Reviewed by security" if dismissed else None,
            "fixed_at": fixed, "auto_dismissed_at": None,
        }

    def list_dependabot_alerts(self, request: Request) -> Response:
        """Cursor pagination (?per_page=&after=), as the Dependabot alerts API uses."""
        repo = self._repo(request)
        if repo is None:
            return self._not_found()
        moment = self.now()
        alerts = [self.alert_object(a, repo, moment, request.base_url) for a in self.world.alerts
                  if a["repo"] == repo["name"] and parse(a["created_at"]) <= moment]
        for name, key in (("state", "state"), ("severity", None)):
            wanted = request.query.get(name)
            if wanted:
                allowed = set(wanted.split(","))
                alerts = [a for a in alerts if (a[key] if key else a["security_advisory"]["severity"]) in allowed]
        descending = request.query.get("direction", "desc") == "desc"
        alerts.sort(key=lambda a: a["number"], reverse=descending)
        return self._cursor_pages([(a["number"], a) for a in alerts], request, descending)

    def _cursor_pages(self, numbered: list[tuple[int, Any]], request: Request, descending: bool) -> Response:
        """GitHub's cursor pagination (?per_page=&after=, `page` refused): `numbered` holds (number,
        body) in the order served, and a cursor names the last number a page held."""
        try:
            per_page = max(1, min(100, int(request.query.get("per_page", 30))))
        except ValueError:
            return Response(422, self.error_body(422, "Invalid per_page"))
        if "page" in request.query:
            return Response(400, self.error_body(400, "Pagination using the `page` parameter is not supported. "
                                                      "Use the `after` and `before` parameters instead."))
        if request.query.get("after"):
            after = _uncursor(request.query["after"])
            if after is None:
                return Response(400, self.error_body(400, "Invalid cursor"))
            numbered = [(n, body) for n, body in numbered if (n < after if descending else n > after)]
        page, rest = numbered[:per_page], numbered[per_page:]
        headers = {}
        if rest:
            query = {k: v for k, v in request.query.items() if k != "after"}
            query |= {"per_page": per_page, "after": _cursor(page[-1][0])}
            headers["Link"] = f'<{request.link_base}{request.path}?{urlencode(query)}>; rel="next"'
        return Response(200, [body for _n, body in page], headers)

    # organisation audit log ------------------------------------------------------
    def list_audit_log(self, request: Request) -> Response:
        """`GET /orgs/{org}/audit-log`: `phrase` (`created:` ranges, `action:`), `include`, `order`
        (desc by default), `per_page` (max 100) and `after` cursors in `Link`; the last 180 days only."""
        if self.world is None or request.match["org"] != world.ORG:
            return self._not_found()
        moment = self.now()
        low, high = moment - AUDIT_LOG_RETENTION, moment
        actions: set[str] | None = None
        for term in request.query.get("phrase", "").split():
            qualifier, _, value = term.partition(":")
            if qualifier == "created":
                bounds = self._created_range(value)
                if bounds is None:
                    return Response(422, self.error_body(422, f"Invalid phrase: {term}"))
                low, high = max(low, bounds[0]), min(high, bounds[1])
            elif qualifier == "action":
                actions = set(value.split(","))
        order = request.query.get("order", "desc")
        if order not in {"asc", "desc"} or request.query.get("include", "web") not in {"web", "git", "all"}:
            return Response(422, self.error_body(422, "Validation Failed"))
        events = self.world.audit_events_between(low, high + timedelta(seconds=1)) if low <= high else []
        if request.query.get("include") == "git":
            events = []  # the world has no git events (clones and pushes)
        if actions is not None:
            events = [e for e in events if e["action"] in actions]
        numbered = [(self.world.audit_position[e["_document_id"]], e) for e in events]
        if order == "desc":
            numbered.reverse()
        return self._cursor_pages(numbered, request, order == "desc")

    # GraphQL ---------------------------------------------------------------------
    def graphql(self, request: Request) -> Response:
        try:
            document = request.json() or {}
        except ValueError:
            return Response(400, {"message": "Problems parsing JSON", "documentation_url": DOCS})
        query = document.get("query") or ""
        variables = document.get("variables") or {}
        if not re.search(r"samlIdentityProvider\s*{[^}]*externalIdentities", query, re.S):
            return Response(200, {"errors": [{"message": "The stand-in answers only "
                                                         "organization.samlIdentityProvider.externalIdentities"}]})
        login = variables.get("login")
        if self.world is None or login != world.ORG:
            return Response(200, {"data": {"organization": None}, "errors": [{
                "type": "NOT_FOUND", "path": ["organization"], "locations": [{"line": 2, "column": 3}],
                "message": f"Could not resolve to an Organization with the login of '{login}'."}]})
        first = int(variables.get("first") or 100)
        if first > 100:
            return Response(200, {"errors": [{"message": "Requesting 101 records on the `externalIdentities` "
                                                         "connection exceeds the `first` limit of 100 records."}]})
        moment = self.now()
        identities = self.world.saml_identities_at(moment)
        start = 0
        if variables.get("after"):
            start = (_uncursor(variables["after"]) or 0)
        chunk = identities[start: start + first]
        edges = [{"cursor": _cursor(start + i + 1), "node": {
            "guid": member["saml"]["guid"],
            "samlIdentity": {"nameId": member["email"], "username": member["email"]},
            "user": {"login": member["login"]} if linked else None,
        }} for i, (member, linked) in enumerate(chunk)]
        end = start + len(chunk)
        return Response(200, {"data": {"organization": {"samlIdentityProvider": {
            "ssoUrl": "https://kestrel.okta.example/app/github/sso/saml",
            "externalIdentities": {"totalCount": len(identities),
                                   "pageInfo": {"hasNextPage": end < len(identities),
                                                "endCursor": _cursor(end) if chunk else None},
                                   "edges": edges}}}}}, headers={"x-ratelimit-resource": "graphql"})


def start(demo_dir: Path, clock_file: Path, port: int = 0) -> GitHubStandin:
    return GitHubStandin(demo_dir, clock_file, port=port).start()
