"""GitHub: the organisation, its repositories, pull requests, CI, deployments and Dependabot.

World form (`world/github.json`), everything with the moment it happened so the stand-in
and the answer key can both ask "as of T":
- `org`: the organisation and the intervals when its two-factor requirement was off;
- `members`: one per GitHub account, derived from the people roster (engineering,
  security, IT and product staff), with membership intervals (leavers are removed with a
  lag), admin flag, intervals with 2FA disabled, and the SAML identity (nameId = email)
  linking the account to the person;
- `repos`: repositories with default branch, topics (`production` marks production
  services) and a branch-protection timeline of the default branch (None = unprotected);
- `pulls`: pull requests with commits (each pushed commit runs CI: check runs `build` and
  `test`), reviews, merge (squash: a new commit on the default branch) or close;
- `runs`: GitHub Actions workflow runs (CI on pull requests and on the default branch,
  Deploy on production repositories);
- `deployments`: production deployments with their statuses;
- `alerts`: Dependabot alerts with created / fixed / dismissed moments.

The baseline is compliant; violations are planted at chosen entities and times (see the
`_plan_*` tables), each control gets approved exceptions (one expiring while its entity
still fails) and the API has one outage.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ccm_demo.spec import DemoSpec
from ccm_demo.world.common import iso, parse, read_json, rng_for, write_json
from ccm_demo.world.people import Person
from ccm_demo.world.seeds import Seeds

if TYPE_CHECKING:
    from ccm_demo.world import WorldContext

ORDER = 30

WORLD_FILE = "world/github.json"
ORG = "kestrel-labs"
ORG_ID = 91827364
CI_BOT = {"login": "github-actions[bot]", "id": 41898282, "type": "Bot"}
CI_APP = {"id": 15368, "slug": "github-actions", "name": "GitHub Actions"}
CI_CHECKS = ("build", "test")  # the jobs of every repository's CI workflow (required by branch protection)
PRODUCTION_TOPIC = "production"

# name, production service?, share of pull requests, default branch
REPOS: list[tuple[str, bool, int, str]] = [
    ("payments-api", True, 4, "main"), ("web-app", True, 4, "main"), ("infra-terraform", False, 2, "main"),
    ("auth-service", True, 3, "main"), ("ledger-service", True, 2, "main"), ("docs", False, 1, "main"),
    ("notifications", True, 2, "main"), ("mobile-app", True, 3, "main"), ("design-system", False, 1, "main"),
    ("search-service", True, 2, "main"), ("billing-worker", True, 2, "main"),
    ("legacy-reports", False, 1, "master"), ("admin-portal", True, 1, "main"), ("data-pipeline", True, 2, "main"),
    ("internal-tools", False, 1, "main"), ("api-gateway", True, 1, "main"), ("sdk-python", False, 1, "main"),
    ("ml-scoring", True, 1, "main"),
]
# production repositories whose branch protection does not dismiss stale approvals
_KEEPS_STALE_APPROVALS = {"web-app", "mobile-app", "notifications"}
_TWO_REVIEWERS = {"payments-api", "ledger-service", "auth-service"}

PACKAGES = [
    ("npm", "lodash", "package-lock.json"), ("npm", "axios", "package-lock.json"),
    ("npm", "express", "package-lock.json"), ("pip", "requests", "requirements.txt"),
    ("pip", "urllib3", "requirements.txt"), ("pip", "cryptography", "poetry.lock"),
    ("pip", "jinja2", "poetry.lock"), ("maven", "com.fasterxml.jackson.core:jackson-databind", "pom.xml"),
    ("go", "golang.org/x/net", "go.mod"), ("go", "google.golang.org/grpc", "go.mod"),
    ("rubygems", "nokogiri", "Gemfile.lock"), ("npm", "semver", "package-lock.json"),
]
TITLES = ["Fix flaky retry in {x}", "Add metrics to {x}", "Refactor {x} handler", "Bump dependencies of {x}",
          "Handle timeouts in {x}", "Add tests for {x}", "Update {x} configuration", "Improve logging in {x}",
          "Remove dead code from {x}", "Validate input in {x}", "Speed up {x} queries", "Document {x}"]
TOPICS = ["ledger", "webhooks", "invoices", "sessions", "exports", "search index", "rate limiter", "cache",
          "onboarding", "notifications", "audit log", "settings page", "api client", "scheduler"]
_GHSA = "23456789cfghjmpqrvwx"


# ------------------------------------------------------------------------------------
# plans: what is planted, per month of the window (index modulo 6); each entry is
# (scenario, exception) with exception "covered" (in force when the month closes),
# "expiring" (expires before the month closes: the entity still fails) or None.

_PLAN_APPROVAL: dict[int, list[tuple[str, str | None]]] = {
    0: [("no_approval", "expiring"), ("self_approval", "covered"), ("approval_then_commits", None),
        ("approval_after_merge", "covered")],
    1: [("self_approval", "covered")],
    2: [],
    3: [("no_approval", None), ("approval_then_commits", None)],
    4: [("approval_then_commits", "covered")],
    5: [("approval_after_merge", None)],
}
_PLAN_CHECKS: dict[int, list[tuple[str, str | None]]] = {
    0: [("failing_check", "covered"), ("missing_check", "expiring"), ("check_after_merge", None),
        ("failing_check", "covered")],
    1: [("missing_check", "covered")],
    2: [],
    3: [("failing_check", None)],
    4: [("check_after_merge", "covered")],
    5: [],
}
_PLAN_DEPLOY: dict[int, list[tuple[str, str | None]]] = {
    0: [("manual_feature_branch", "expiring"), ("ci_non_default_branch", "covered"), ("manual_main", "covered"),
        ("manual_feature_branch", None)],
    1: [("ci_non_default_branch", "covered")],
    2: [],
    3: [("manual_main", None)],
    4: [],
    5: [("manual_feature_branch", "covered")],
}
_REASONS = {
    "no_approval": "Emergency fix merged by the on-call lead during incident INC-{n}; retrospective review done",
    "self_approval": "Pairing session: reviewer co-authored the fix; second review recorded in the ticket",
    "approval_then_commits": "Follow-up commit only changed a comment; re-review recorded in the ticket",
    "approval_after_merge": "Incident hotfix; approval recorded after the merge within the agreed 4 hours",
    "failing_check": "Known flaky test quarantined in ticket QA-{n}; manual test evidence attached",
    "missing_check": "CI outage; the change was tested manually, evidence in the change ticket",
    "check_after_merge": "Release deadline; check confirmed green shortly after the merge",
    "manual_feature_branch": "Customer-impacting incident: hotfix deployed from a branch under CAB approval",
    "ci_non_default_branch": "Emergency change: hotfix branch deployed by CI, merged the next day",
    "manual_main": "Deployment pipeline outage; manual deployment of main under CAB approval",
}


# ------------------------------------------------------------------------------------
# generation

def _sec(moment: datetime | None) -> datetime | None:
    return moment.replace(microsecond=0) if moment is not None else None


def _t(moment: datetime | None) -> str | None:
    return iso(moment, millis=False)


def _workday(moment: datetime) -> datetime:
    while moment.weekday() >= 5:
        moment += timedelta(days=1)
    return moment


def _months(spec: DemoSpec) -> list[tuple[int, datetime, datetime]]:
    """(index, start, end) of every calendar month the window touches."""
    out = []
    start = spec.window_start.replace(day=1)
    index = 0
    while start < spec.window_end:
        end = (start + timedelta(days=32)).replace(day=1)
        out.append((index, start, end))
        start, index = end, index + 1
    return out


@dataclass
class _Builder:
    spec: DemoSpec
    rng: random.Random
    repos: list[dict[str, Any]]
    members: list[dict[str, Any]]
    pulls: list[dict[str, Any]] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)
    deployments: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    _ids: dict[str, int] = field(default_factory=dict)

    def next_id(self, kind: str, start: int) -> int:
        self._ids[kind] = self._ids.get(kind, start) + self.rng.randint(1, 40)
        return self._ids[kind]

    def sha(self) -> str:
        return f"{self.rng.getrandbits(160):040x}"

    def minutes(self, low: float, high: float) -> timedelta:
        return timedelta(seconds=int(self.rng.uniform(low, high) * 60))

    # CI --------------------------------------------------------------------------
    def ci_run(self, repo: str, sha: str, branch: str, event: str, actor: str, at: datetime, name: str = "CI",
               duration: timedelta | None = None, conclusion: str = "success") -> dict[str, Any]:
        run = {"id": self.next_id("run", 11_000_000_000), "repo": repo, "name": name,
               "workflow_id": 60_000_000 + {"CI": 11, "Deploy": 12}[name] * 1000 + _repo_index(repo),
               "path": f".github/workflows/{name.lower()}.yml", "event": event, "head_branch": branch,
               "head_sha": sha, "actor": actor, "created_at": _t(at), "started_at": _t(at + timedelta(seconds=4)),
               "completed_at": _t(at + (duration or self.minutes(3, 15))), "conclusion": conclusion}
        self.runs.append(run)
        return run

    def push(self, pr: dict[str, Any], author: str, at: datetime, message: str,
             check_overrides: dict[str, dict[str, Any] | None] | None = None) -> datetime:
        """A commit pushed to the pull request's branch; CI runs its checks. Returns when CI is done."""
        sha = self.sha()
        pr["commits"].append({"sha": sha, "author": author, "at": _t(at), "message": message})
        run = self.ci_run(pr["repo"], sha, pr["head_ref"], "pull_request", author, at + timedelta(seconds=2))
        done = at
        for name in CI_CHECKS:
            override = (check_overrides or {}).get(name, {})
            if override is None:
                continue  # this check never ran
            started = at + self.minutes(1, 3)
            completed = started + self.minutes(3, 14)
            check = {"id": self.next_id("check", 17_000_000_000), "sha": sha, "name": name, "run_id": run["id"],
                     "started_at": _t(started), "completed_at": _t(completed), "conclusion": "success"}
            check.update(override)
            pr["checks"].append(check)
            done = max(done, parse(check["completed_at"]))
        run["completed_at"] = _t(max(parse(run["completed_at"]), done))
        if any(c["conclusion"] != "success" for c in pr["checks"] if c["sha"] == sha):
            run["conclusion"] = "failure"
        return done

    def review(self, pr: dict[str, Any], user: str, state: str, at: datetime, commit_id: str | None = None) -> None:
        pr["reviews"].append({"id": self.next_id("review", 2_100_000_000), "user": user, "state": state,
                              "at": _t(at), "commit_id": commit_id or pr["commits"][-1]["sha"]})

    # pull requests ---------------------------------------------------------------
    def pull_request(self, repo: dict[str, Any], author: str, reviewer: str, created: datetime,
                     scenario: str | None = None, base_ref: str | None = None, merged: bool = True,
                     second_reviewer: str | None = None) -> dict[str, Any]:
        rng = self.rng
        topic = rng.choice(TOPICS)
        slug = topic.replace(" ", "-")
        pr = {"repo": repo["name"], "number": None, "id": self.next_id("pull", 1_900_000_000),
              "title": rng.choice(TITLES).format(x=topic), "author": author, "created_at": _t(created),
              "head_ref": f"{author.split('-')[0]}/{slug}-{rng.randint(100, 999)}",
              "base_ref": base_ref or repo["default_branch"], "commits": [], "reviews": [], "checks": [],
              "merged_at": None, "closed_at": None, "merged_by": None, "merge_commit_sha": None,
              "scenario": scenario}
        count = rng.choices([1, 2, 3, 4], weights=[40, 30, 20, 10])[0]
        at = created - self.minutes(5, 180)
        ready = created
        for index in range(count):
            if index:
                at = max(at, created) + self.minutes(15, 240)
            overrides = None
            if index == count - 1:
                overrides = _check_overrides(scenario)
            ready = max(ready, self.push(pr, author, at, f"{pr['title']} ({index + 1}/{count})", overrides))
        if not merged:
            if rng.random() < 0.5:
                self.review(pr, reviewer, "CHANGES_REQUESTED", ready + self.minutes(30, 600))
            pr["closed_at"] = _t(ready + self.minutes(60, 5 * 24 * 60))
            return pr
        if scenario is None and rng.random() < 0.2:  # review round: changes requested, fixed, approved
            asked = ready + self.minutes(30, 360)
            self.review(pr, reviewer, "CHANGES_REQUESTED", asked)
            ready = self.push(pr, author, asked + self.minutes(20, 180), "Address review comments")
        approve_at = ready + self.minutes(20, 1200)
        if scenario == "no_approval":
            merged_at = ready + self.minutes(30, 240)
        elif scenario == "self_approval":  # the reviewer writes part of the change, then approves it
            done = self.push(pr, reviewer, ready + self.minutes(30, 120), "Fix edge case found in review")
            approve_at = done + self.minutes(10, 60)
            self.review(pr, reviewer, "APPROVED", approve_at)
            merged_at = approve_at + self.minutes(5, 60)
        elif scenario == "approval_then_commits":
            self.review(pr, reviewer, "APPROVED", approve_at)
            done = self.push(pr, author, approve_at + self.minutes(20, 90), "One more tweak")
            merged_at = done + self.minutes(5, 30)
        elif scenario == "approval_after_merge":
            merged_at = ready + self.minutes(30, 120)
            self.review(pr, reviewer, "APPROVED", merged_at + self.minutes(60, 180))
        else:
            self.review(pr, reviewer, "APPROVED", approve_at)
            if second_reviewer:
                self.review(pr, second_reviewer, rng.choice(["APPROVED", "COMMENTED"]),
                            approve_at + self.minutes(5, 120))
            merged_at = approve_at + self.minutes(5, 300)
            if scenario == "check_after_merge":  # merged while `test` was still running
                test = next(c for c in pr["checks"] if c["sha"] == pr["commits"][-1]["sha"] and c["name"] == "test")
                test["completed_at"] = _t(merged_at + self.minutes(10, 40))
        pr["merged_at"] = pr["closed_at"] = _t(merged_at)
        pr["merged_by"] = author
        pr["merge_commit_sha"] = self.sha()
        self.after_merge(repo, pr, merged_at)
        return pr

    def after_merge(self, repo: dict[str, Any], pr: dict[str, Any], merged_at: datetime) -> None:
        """The squash commit lands on the base branch: CI runs; production services deploy it."""
        sha, branch = pr["merge_commit_sha"], pr["base_ref"]
        self.ci_run(repo["name"], sha, branch, "push", pr["merged_by"], merged_at + timedelta(seconds=3))
        if repo["production"] and branch == repo["default_branch"]:
            run = self.ci_run(repo["name"], sha, branch, "push", pr["merged_by"], merged_at + timedelta(seconds=5),
                              name="Deploy", duration=self.minutes(6, 12))
            self.deployment(repo, sha, branch, merged_at + self.minutes(2, 5), CI_BOT["login"], run)

    def deployment(self, repo: dict[str, Any], sha: str, ref: str, created: datetime, creator: str,
                   run: dict[str, Any] | None, scenario: str | None = None) -> dict[str, Any]:
        deployment_id = self.next_id("deployment", 1_200_000_000)
        log_url = None
        if run is not None:
            job = self.next_id("job", 30_000_000_000)
            log_url = f"https://github.com/{ORG}/{repo['name']}/actions/runs/{run['id']}/job/{job}"
        finished = created + self.minutes(1.5, 5)
        statuses = [("queued", created), ("in_progress", created + timedelta(seconds=15)), ("success", finished)]
        if run is None:  # a person calling the API sets the final status directly
            statuses = [("success", finished)]
        deployment = {
            "id": deployment_id, "repo": repo["name"], "sha": sha, "ref": ref, "environment": "production",
            "creator": creator, "created_at": _t(created), "run_id": run["id"] if run else None,
            "scenario": scenario,
            "statuses": [{"id": self.next_id("status", 4_000_000_000), "state": state, "at": _t(at),
                          "log_url": log_url} for state, at in statuses],
        }
        self.deployments.append(deployment)
        return deployment


def _check_overrides(scenario: str | None) -> dict[str, dict[str, Any] | None] | None:
    if scenario == "failing_check":
        return {"test": {"conclusion": "failure"}}
    if scenario == "missing_check":
        return {"test": None}
    return None


def _repo_index(name: str) -> int:
    return next(i for i, repo in enumerate(REPOS) if repo[0] == name)


def _login_for(rng: random.Random, person: Person, used: set[str]) -> str:
    first, last = person.first_name.lower(), person.last_name.lower()
    options = [f"{first}-{last}", f"{first[0]}{last}", f"{first}{last}", f"{first}-{last[0]}{rng.randint(1, 99)}",
               f"{last}-{first}"]
    rng.shuffle(options)
    for candidate in options:
        if candidate not in used:
            used.add(candidate)
            return candidate
    n = 2
    while f"{first}-{last}{n}" in used:
        n += 1
    used.add(f"{first}-{last}{n}")
    return f"{first}-{last}{n}"


def _members(spec: DemoSpec, people: list[Person]) -> list[dict[str, Any]]:
    rng = rng_for(spec.seed, "github:members")
    used: set[str] = set()
    ids: set[int] = set()
    members = []
    for person in people:
        if person.department not in {"Engineering", "Security", "IT", "Product"}:
            continue
        joined = person.start_at + timedelta(hours=rng.randint(1, 30), minutes=rng.randint(0, 59))
        left = None
        if person.termination_at is not None:  # offboarding removes the account a few hours to two days later
            left = person.termination_at + timedelta(hours=rng.randint(2, 40), minutes=rng.randint(0, 59))
        linked = joined - timedelta(minutes=rng.randint(5, 50))
        user_id = 1_000_000 + rng.randint(0, 89_000_000)
        while user_id in ids:
            user_id += 1
        ids.add(user_id)
        members.append({
            "login": _login_for(rng, person, used), "id": user_id,
            "employee_id": person.employee_id, "email": person.email, "department": person.department,
            "name": f"{person.first_name} {person.last_name}", "memberships": [[_t(_sec(joined)), _t(_sec(left))]],
            "admin": person.title in {"Head of Engineering", "Head of Security"}, "two_factor_off": [],
            "saml": {"guid": f"{rng.getrandbits(128):032x}", "linked_at": _t(_sec(linked))},
        })
    stable_engineers = [m for m in members if m["department"] == "Engineering" and not m["admin"]
                        and m["memberships"][0][1] is None and parse(m["memberships"][0][0]) < spec.window_start]
    for member in rng.sample(stable_engineers, min(2, len(stable_engineers))):
        member["admin"] = True  # platform engineers who own the organisation settings
    return members


def _plan_two_factor(spec: DemoSpec, org: dict[str, Any], members: list[dict[str, Any]],
                     seeds: Seeds) -> set[str]:
    """Requirement lapses and members without 2FA (iam_github_org_2fa). Returns the logins involved.

    L1 (window day 1-3): the requirement is switched off for an IdP migration (org excepted for
    days 1-2); a member disables 2FA meanwhile and, when the requirement comes back, GitHub
    removes them until they re-enrol (never excepted: a fail). L2 (~40%): four days off, the
    exception expires after two (an expired exception stops covering). L3 (~70%): one day off
    with one member without 2FA, both excepted.
    """
    start = spec.window_start
    candidates = sorted((m for m in members if not m["admin"] and m["memberships"][0][1] is None
                         and parse(m["memberships"][0][0]) < start - timedelta(days=30)),
                        key=lambda m: (m["department"] == "Engineering", m["login"]))
    chosen = candidates[:2]
    involved = {m["login"] for m in chosen}
    off_from, back_on = start + timedelta(days=1, hours=14), start + timedelta(days=3, hours=10)
    org["two_factor_off"].append([_t(off_from), _t(back_on)])
    seeds.add_exception("iam_github_org_2fa", ORG, "IdP migration change window (CAB-1187): requirement "
                        "suspended while SAML was reconfigured", off_from, off_from + timedelta(days=1))
    first = chosen[0]
    disabled = off_from + timedelta(hours=2)
    first["two_factor_off"].append([_t(disabled), _t(back_on)])
    rejoined = back_on + timedelta(hours=5)  # removed by GitHub, re-invited once enrolled again
    first["memberships"] = [[first["memberships"][0][0], _t(back_on)], [_t(rejoined), None]]
    if spec.days >= 20:
        day = int(spec.days * 0.4)
        off_from = start + timedelta(days=day, hours=11)
        org["two_factor_off"].append([_t(off_from), _t(off_from + timedelta(days=4, hours=-2))])
        seeds.add_exception("iam_github_org_2fa", ORG, "Contractor onboarding without hardware keys; "
                            "requirement back within 48 hours", off_from, off_from + timedelta(days=1))
        day = int(spec.days * 0.7)
        off_from = start + timedelta(days=day, hours=12)
        org["two_factor_off"].append([_t(off_from), _t(off_from + timedelta(hours=20))])
        second = chosen[1]
        second["two_factor_off"].append([_t(off_from + timedelta(hours=1)), _t(off_from + timedelta(hours=19))])
        seeds.add_exception("iam_github_org_2fa", ORG, "Authenticator vendor outage; requirement suspended "
                            "for one day", off_from, off_from)
        seeds.add_exception("iam_github_org_2fa", second["login"], "Lost security key during the vendor "
                            "outage; re-enrolled the next morning", off_from, off_from)
    return involved


def _protection(name: str, production: bool) -> dict[str, Any] | None:
    if not production:
        if name in {"docs", "design-system", "legacy-reports"}:
            return None
        return {"reviews": 1, "dismiss_stale": False, "enforce_admins": False, "force_pushes": False,
                "deletions": False, "checks": list(CI_CHECKS), "linear_history": False}
    return {"reviews": 2 if name in _TWO_REVIEWERS else 1, "dismiss_stale": name not in _KEEPS_STALE_APPROVALS,
            "enforce_admins": True, "force_pushes": False, "deletions": False, "checks": list(CI_CHECKS),
            "linear_history": True}


def _repos(spec: DemoSpec, engineers: int) -> list[dict[str, Any]]:
    rng = rng_for(spec.seed, "github:repos")
    count = max(6, min(len(REPOS), engineers // 7))
    repos = []
    for name, production, weight, branch in REPOS[:count]:
        created = spec.window_start - timedelta(days=rng.randint(200, 1500), hours=rng.randint(0, 23))
        topics = sorted({PRODUCTION_TOPIC, "service"} if production else {"tooling"})
        repos.append({"id": 300_000_000 + rng.randint(0, 400_000_000), "name": name, "production": production,
                      "weight": weight, "default_branch": branch, "topics": topics,
                      "created_at": _t(created), "private": True, "archived": False,
                      "protection": [[_t(created + timedelta(hours=2)), _protection(name, production)]]})
    return repos


def _plan_protection(spec: DemoSpec, repos: list[dict[str, Any]], seeds: Seeds) -> None:
    """Lapses of default-branch protection on production repositories (chg_branch_protection).

    B1 (window day 1): protection deleted for a hotfix push (404 "Branch not protected"),
    restored the next morning; no exception. B2 (~25%): force pushes allowed for three days
    to purge a leaked secret, excepted. B3 (~60%): admins exempted for five days; the
    exception expires after two. B4 (~80%): required reviews dropped to 0 for a day, excepted.
    """
    production = [r for r in repos if r["production"]]
    start = spec.window_start

    def change(repo: dict[str, Any], at: datetime, until: datetime, **settings: Any) -> None:
        base = repo["protection"][-1][1]
        changed = None if settings.get("delete") else {**base, **settings}
        repo["protection"].append([_t(at), changed])
        repo["protection"].append([_t(until), base])

    at = start + timedelta(days=1, hours=15, minutes=20)
    change(production[0], at, start + timedelta(days=2, hours=11), delete=True)
    if spec.days < 20:
        return
    at = start + timedelta(days=int(spec.days * 0.25), hours=10)
    change(production[1 % len(production)], at, at + timedelta(days=3), force_pushes=True)
    seeds.add_exception("chg_branch_protection", f"{ORG}/{production[1 % len(production)]['name']}",
                        "History rewrite to purge a leaked credential (SEC incident); force pushes allowed "
                        "for three days", at, at + timedelta(days=3))
    at = start + timedelta(days=int(spec.days * 0.6), hours=9)
    change(production[2 % len(production)], at, at + timedelta(days=5), enforce_admins=False)
    seeds.add_exception("chg_branch_protection", f"{ORG}/{production[2 % len(production)]['name']}",
                        "Repository migration by platform admins; admin enforcement suspended",
                        at, at + timedelta(days=1))
    at = start + timedelta(days=int(spec.days * 0.8), hours=13)
    change(production[3 % len(production)], at, at + timedelta(hours=20), reviews=0)
    seeds.add_exception("chg_branch_protection", f"{ORG}/{production[3 % len(production)]['name']}",
                        "Solo on-call weekend: review requirement lowered for one day, changes reviewed after",
                        at, at + timedelta(days=1))


def _member_at(member: dict[str, Any], moment: datetime) -> bool:
    return any(parse(a) <= moment and (b is None or moment < parse(b)) for a, b in member["memberships"])


def _generate_activity(b: _Builder, spec: DemoSpec, people: dict[str, Person], excluded: set[str]) -> None:
    """Baseline pull requests: each engineer opens one on about one workday in five."""
    rng = b.rng
    spans = {m["login"]: [_interval(i) for i in m["memberships"]] for m in b.members}

    def around(member: dict[str, Any], day: datetime) -> bool:
        """A member and employed from the day before until five days after (the pull request's life)."""
        first, last = day - timedelta(days=1), day + timedelta(days=5)
        person = people[member["employee_id"]]
        return (person.employed_at(first) and person.employed_at(last)
                and any(a <= first and (z is None or last < z) for a, z in spans[member["login"]]))

    engineers = [m for m in b.members if m["department"] == "Engineering" and m["login"] not in excluded]
    reviewers = [m for m in b.members if m["department"] in {"Engineering", "Security"}
                 and m["login"] not in excluded]
    weights = [r["weight"] for r in b.repos]
    home = {m["login"]: rng.choices(b.repos, weights=weights, k=2) for m in engineers}
    day = spec.window_start - timedelta(days=10)
    while day < spec.window_end:
        if day.weekday() < 5:
            authors = [m for m in engineers if around(m, day)]
            pool = [m["login"] for m in reviewers if around(m, day)]
            for member in authors:
                if rng.random() >= 0.19:
                    continue
                created = day + timedelta(hours=8) + b.minutes(0, 540)
                repo = home[member["login"]][0] if rng.random() < 0.7 else rng.choices(b.repos, weights=weights)[0]
                others = [login for login in pool if login != member["login"]]
                if len(others) < 2:
                    continue
                reviewer, second = rng.sample(others, 2)
                base_ref = None
                if repo["name"] == "mobile-app" and rng.random() < 0.15:
                    base_ref = f"release/{created:%Y.%m}"
                b.pulls.append(b.pull_request(repo, member["login"], reviewer, created, base_ref=base_ref,
                                              merged=rng.random() >= 0.1,
                                              second_reviewer=second if rng.random() < 0.25 else None))
        day += timedelta(days=1)


def _plan_changes(b: _Builder, spec: DemoSpec, excluded: set[str]) -> None:
    """Planted pull requests and deployments (chg_pr_*, chg_deploy_from_ci), per month."""
    rng = rng_for(spec.seed, "github:planted")
    production = [r for r in b.repos if r["production"]]
    keeps_stale = [r for r in production if r["name"] in _KEEPS_STALE_APPROVALS] or production
    stable = sorted((m for m in b.members if m["department"] in {"Engineering", "Security"}
                     and m["login"] not in excluded and m["memberships"][0][1] is None
                     and parse(m["memberships"][0][0]) < spec.window_start - timedelta(days=30)),
                    key=lambda m: m["login"])
    engineers = [m for m in stable if m["department"] == "Engineering"]
    if len(engineers) < 2:  # a tiny company: security engineers write code too
        engineers = stable
    for index, month_start, _month_end in _months(spec):
        for control, plan in (("chg_pr_independent_approval", _PLAN_APPROVAL), ("chg_pr_checks_passed", _PLAN_CHECKS),
                              ("chg_deploy_from_ci", _PLAN_DEPLOY)):
            for slot, (scenario, exception) in enumerate(plan[index % 6]):
                offset = {"chg_pr_independent_approval": 0, "chg_pr_checks_passed": 1, "chg_deploy_from_ci": 2}
                day = _workday(month_start + timedelta(days=3 + 5 * slot + offset[control]))
                at = day + timedelta(hours=13, minutes=7 * slot)
                author, reviewer = rng.sample(engineers, 2)
                if control == "chg_deploy_from_ci":
                    repo = production[(index + slot) % len(production)]
                    _planted_deployment(b, repo, scenario, at, author["login"], exception)
                    continue
                repos = keeps_stale if scenario == "approval_then_commits" else production
                repo = repos[(index + slot) % len(repos)]
                pr = b.pull_request(repo, author["login"], reviewer["login"], at, scenario=scenario)
                pr["exception"] = {"control_id": control, "kind": exception} if exception else None
                b.pulls.append(pr)


def _planted_deployment(b: _Builder, repo: dict[str, Any], scenario: str, at: datetime, person: str,
                        exception: str | None) -> None:
    if scenario == "manual_feature_branch":  # someone deploys their branch by calling the API
        deployment = b.deployment(repo, b.sha(), f"{person.split('-')[0]}/quick-fix-{b.rng.randint(10, 99)}",
                                  at, person, None, scenario)
    elif scenario == "ci_non_default_branch":  # the deploy workflow dispatched on a hotfix branch
        branch = f"hotfix/{at:%Y%m%d}-{b.rng.choice(TOPICS).replace(' ', '-')}"
        sha = b.sha()
        run = b.ci_run(repo["name"], sha, branch, "workflow_dispatch", person, at, name="Deploy",
                       duration=b.minutes(6, 12))
        deployment = b.deployment(repo, sha, branch, at + b.minutes(2, 5), CI_BOT["login"], run, scenario)
    else:  # manual_main: the default branch, but deployed by a person, not by CI
        deployment = b.deployment(repo, b.sha(), repo["default_branch"], at, person, None, scenario)
    deployment["exception"] = {"control_id": "chg_deploy_from_ci", "kind": exception} if exception else None


def _generate_alerts(b: _Builder, spec: DemoSpec) -> None:
    """Baseline Dependabot alerts: critical and high ones fixed well within their SLA."""
    rng = rng_for(spec.seed, "github:dependabot")
    day = spec.window_start - timedelta(days=120)
    while day < spec.window_end:
        for repo in b.repos:
            if rng.random() >= 0.02 * repo["weight"]:
                continue
            created = day + timedelta(hours=rng.randint(0, 23), minutes=rng.randint(0, 59))
            severity = rng.choices(["critical", "high", "medium", "low"], weights=[10, 25, 40, 25])[0]
            fixed = dismissed = None
            reason = None
            if severity == "critical":
                fixed = created + timedelta(hours=rng.randint(6, 120))
            elif severity == "high":
                if rng.random() < 0.1:
                    dismissed, reason = created + timedelta(hours=rng.randint(24, 240)), "tolerable_risk"
                else:
                    fixed = created + timedelta(hours=rng.randint(24, 500))
            elif rng.random() < 0.6:
                fixed = created + timedelta(days=rng.randint(2, 100))
            elif rng.random() < 0.3:
                dismissed, reason = created + timedelta(days=rng.randint(1, 30)), rng.choice(["not_used", "inaccurate"])
            b.alerts.append(_alert(b, rng, repo, severity, created, fixed, dismissed, reason))
        day += timedelta(days=1)


def _alert(b: _Builder, rng: random.Random, repo: dict[str, Any], severity: str, created: datetime,
           fixed: datetime | None, dismissed: datetime | None, reason: str | None) -> dict[str, Any]:
    ecosystem, package, manifest = rng.choice(PACKAGES)
    ghsa = "GHSA-" + "-".join("".join(rng.choice(_GHSA) for _ in range(4)) for _ in range(3))
    dismisser = rng.choice([m for m in b.members if m["department"] in {"Engineering", "Security"}])["login"]
    return {"repo": repo["name"], "number": None, "severity": severity, "ecosystem": ecosystem,
            "package": package, "manifest": manifest, "ghsa": ghsa, "cve": f"CVE-2025-{rng.randint(10000, 59999)}",
            "summary": f"{package} vulnerable to {rng.choice(['prototype pollution', 'ReDoS', 'request smuggling', 'path traversal', 'SSRF', 'denial of service'])}",
            "created_at": _t(_sec(created)), "fixed_at": _t(_sec(fixed)),
            "dismissed_at": _t(_sec(dismissed)), "dismissed_reason": reason,
            "dismissed_by": dismisser if dismissed else None, "exception": None}


def _plan_alerts(b: _Builder, spec: DemoSpec) -> None:
    """Critical/high alerts fixed late or open past their SLA (mon_dependabot_sla).

    Per month (index): 0: a critical fixed after 10 days (fail); a high open since before the
    window, overdue at the close of month 0 (excepted) and fixed late in month 1 after its
    exception expired (fail); a critical still open at the close (excepted through month 1);
    a critical dismissed within its SLA (pass). 2: clean. 3-4: a high overdue at the close of
    month 3 and fixed late in month 4 (excepted both). 5: a critical fixed after 9 days (fail).
    """
    rng = rng_for(spec.seed, "github:dependabot:planted")
    production = [r for r in b.repos if r["production"]]
    months = {index: start for index, start, _ in _months(spec)}

    def planted(repo_index: int, severity: str, created: datetime, fixed: datetime | None = None,
                dismissed: datetime | None = None, reason: str | None = None,
                exception: tuple[datetime, datetime, str] | None = None) -> None:
        alert = _alert(b, rng, production[repo_index % len(production)], severity, created, fixed, dismissed, reason)
        if exception:
            alert["exception"] = {"approved": _t(exception[0]), "expires": _t(exception[1]), "reason": exception[2]}
        b.alerts.append(alert)

    m0 = months[0]
    planted(0, "critical", m0 + timedelta(days=4, hours=10), fixed=m0 + timedelta(days=14, hours=10))
    m1 = months.get(1, m0 + timedelta(days=31))
    planted(1, "high", m0 - timedelta(days=25, hours=-9), fixed=m1 + timedelta(days=10, hours=15),
            exception=(m0 + timedelta(days=5), m1 + timedelta(days=13),
                       "No patched version of the library yet; mitigated by a WAF rule"))
    planted(2, "critical", m0 + timedelta(days=18, hours=12), fixed=m1 + timedelta(days=2, hours=11),
            exception=(m0 + timedelta(days=26), m1 + timedelta(days=40),
                       "Upgrade needs a major framework migration; vulnerable endpoint disabled"))
    planted(3, "critical", m0 + timedelta(days=24, hours=8), dismissed=m0 + timedelta(days=29, hours=8),
            reason="tolerable_risk")
    if 3 in months:
        planted(4, "high", months[2] + timedelta(days=25, hours=9), fixed=months[3] + timedelta(days=33, hours=9),
                exception=(months[3] + timedelta(days=27), months[3] + timedelta(days=70),
                           "Vendor fix scheduled; exposure limited to an internal service"))
    if 5 in months:
        planted(5, "critical", months[5] + timedelta(days=6, hours=9), fixed=months[5] + timedelta(days=15, hours=9))


def _number_and_except(b: _Builder, spec: DemoSpec, seeds: Seeds) -> None:
    """Number pull requests and alerts per repository in creation order, then file the planted exceptions."""
    for key, items in (("pulls", b.pulls), ("alerts", b.alerts)):
        counters: dict[str, int] = {}
        base = rng_for(spec.seed, f"github:numbers:{key}")
        for item in sorted(items, key=lambda i: (i["created_at"], i["repo"], str(i.get("id", i.get("ghsa"))))):
            if item["repo"] not in counters:
                counters[item["repo"]] = base.randint(100, 2400) if key == "pulls" else base.randint(3, 60)
            counters[item["repo"]] += 1
            item["number"] = counters[item["repo"]]
    ticket = 7000
    for pr in sorted(b.pulls, key=lambda p: p["created_at"]):
        marker = pr.pop("exception", None)
        if not marker:
            continue
        ticket += 1
        merged = parse(pr["merged_at"])
        month_end = (merged.replace(day=1) + timedelta(days=32)).replace(day=1)
        expires = merged + timedelta(days=4) if marker["kind"] == "expiring" else month_end + timedelta(days=20)
        seeds.add_exception(marker["control_id"], pull_entity(pr), _REASONS[pr["scenario"]].format(n=ticket),
                            merged, expires)
    for deployment in sorted(b.deployments, key=lambda d: d["created_at"]):
        marker = deployment.pop("exception", None)
        if not marker:
            continue
        created = parse(deployment["created_at"])
        month_end = (created.replace(day=1) + timedelta(days=32)).replace(day=1)
        expires = created + timedelta(days=4) if marker["kind"] == "expiring" else month_end + timedelta(days=20)
        seeds.add_exception("chg_deploy_from_ci", deployment_entity(deployment), _REASONS[deployment["scenario"]],
                            created, expires)
    for alert in sorted(b.alerts, key=lambda a: a["created_at"]):
        marker = alert.pop("exception", None)
        if marker:
            seeds.add_exception("mon_dependabot_sla", alert_entity(alert), marker["reason"],
                                parse(marker["approved"]), parse(marker["expires"]))


def generate(ctx: WorldContext) -> None:
    spec = ctx.spec
    people = {p.employee_id: p for p in ctx.people}
    members = _members(spec, ctx.people)
    org = {"login": ORG, "id": ORG_ID, "name": "Kestrel Labs",
           "created_at": _t(spec.window_start - timedelta(days=2500)), "two_factor_off": []}
    excluded = _plan_two_factor(spec, org, members, ctx.seeds)
    repos = _repos(spec, sum(1 for m in members if m["department"] == "Engineering"))
    _plan_protection(spec, repos, ctx.seeds)
    builder = _Builder(spec, rng_for(spec.seed, "github:activity"), repos, members)
    _generate_activity(builder, spec, people, excluded)
    builder.rng = rng_for(spec.seed, "github:planted-activity")
    _plan_changes(builder, spec, excluded)
    _generate_alerts(builder, spec)
    _plan_alerts(builder, spec)
    _number_and_except(builder, spec, ctx.seeds)
    write_json(ctx.demo_dir / WORLD_FILE, {
        "org": org, "members": members, "repos": repos,
        "pulls": sorted(builder.pulls, key=lambda p: (p["repo"], p["number"])),
        "runs": sorted(builder.runs, key=lambda r: (r["created_at"], r["id"])),
        "deployments": sorted(builder.deployments, key=lambda d: (d["created_at"], d["id"])),
        "alerts": sorted(builder.alerts, key=lambda a: (a["repo"], a["number"])),
    })
    # the API is down for six hours after a day closes, so that day's run observes nothing: the
    # window's third day for short demos, otherwise a day 55% into the window
    day = 2 if spec.days < 31 else int(spec.days * 0.55)
    closes = spec.window_start + timedelta(days=day + 1)
    ctx.seeds.add_outage("github", closes, closes + timedelta(hours=6),
                         "GitHub API returns 503 for six hours after the day closes")


# ------------------------------------------------------------------------------------
# entity ids (shared by the population models' entity_id and the answer key)

def pull_entity(pr: dict[str, Any]) -> str:
    return f"{ORG}/{pr['repo']}#{pr['number']}"


def deployment_entity(deployment: dict[str, Any]) -> str:
    return f"{ORG}/{deployment['repo']}/deployments/{deployment['id']}"


def alert_entity(alert: dict[str, Any]) -> str:
    return f"{ORG}/{alert['repo']}/dependabot/{alert['number']}"


# ------------------------------------------------------------------------------------
# state as of a moment

def _interval(pair: list[str | None]) -> tuple[datetime, datetime | None]:
    return parse(pair[0]), parse(pair[1])


# the organisation audit log: derived from the same histories the snapshots are read from, so
# what the log says changed is exactly what the snapshots show (one source of truth)
_PROTECTION_ACTIONS = {  # setting -> (audit action, field the event carries, rendering of the value)
    "enforce_admins": ("protected_branch.update_admin_enforced", "admin_enforced", bool),
    "force_pushes": ("protected_branch.update_allow_force_pushes_enforcement_level",
                     "allow_force_pushes_enforcement_level", lambda on: "everyone" if on else "off"),
    "deletions": ("protected_branch.update_allow_deletions_enforcement_level",
                  "allow_deletions_enforcement_level", lambda on: "everyone" if on else "off"),
    "reviews": ("protected_branch.update_required_approving_review_count", "required_approving_review_count", int),
    "dismiss_stale": ("protected_branch.dismiss_stale_reviews", "dismiss_stale_reviews_on_push", bool),
    "linear_history": ("protected_branch.update_linear_history_requirement_enforcement_level",
                       "linear_history_requirement_enforcement_level", lambda on: "everyone" if on else "off"),
    "checks": ("protected_branch.update_required_status_checks_enforcement_level",
               "required_status_checks_enforcement_level", lambda checks: "everyone" if checks else "off"),
}


def _audit_events(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Every audit-log event of the organisation, oldest first, in the API's shape (epoch-ms
    `created_at` and `@timestamp`, `_document_id`, `actor`, `org`, `repo`, `user`, ...)."""
    org = doc["org"]
    members = sorted(doc["members"], key=lambda m: m["id"])
    owners = [m for m in members if m["admin"]] or members[:1]
    events: list[tuple[datetime, dict[str, Any]]] = []

    def add(at: str | None, action: str, actor: dict[str, Any] | None, **fields: Any) -> None:
        if at is None:
            return
        moment = parse(at)
        who = actor or owners[0]
        events.append((moment, {"action": action, "actor": who["login"], "actor_id": who["id"],
                                "actor_is_bot": False, "org": org["login"], "org_id": org["id"],
                                "operation_type": _operation(action), **fields}))

    for start, end in org["two_factor_off"]:
        add(start, "org.disable_two_factor_requirement", None)
        add(end, "org.enable_two_factor_requirement", None)
    for member in members:
        for start, end in member["memberships"]:
            user = {"user": member["login"], "user_id": member["id"]}
            add(start, "org.add_member", None, permission="admin" if member["admin"] else "read", **user)
            add(end, "org.remove_member", None, **user)
    for repo in doc["repos"]:
        where = {"repo": f"{org['login']}/{repo['name']}", "repo_id": repo["id"], "name": repo["default_branch"],
                 "public_repo": not repo["private"]}
        before = None
        for at, settings in repo["protection"]:
            if before is None and settings is not None:
                add(at, "protected_branch.create", None, **where)
            elif before is not None and settings is None:
                add(at, "protected_branch.destroy", None, **where)
            elif before is not None and settings is not None:
                for key, (action, field_name, render) in _PROTECTION_ACTIONS.items():
                    if before[key] != settings[key]:
                        add(at, action, None, **where, **{field_name: render(settings[key])})
            before = settings
    events.sort(key=lambda pair: (pair[0], pair[1]["action"], pair[1].get("repo", ""), pair[1].get("user", "")))
    out = []
    for number, (moment, event) in enumerate(events):
        millis = int(moment.timestamp() * 1000)
        out.append({"@timestamp": millis, "created_at": millis,
                    "_document_id": _document_id(org["id"], number), **event})
    return out


def parse_millis(value: int) -> datetime:
    from datetime import UTC

    return datetime.fromtimestamp(value / 1000, tz=UTC)


def _operation(action: str) -> str:
    verb = action.rsplit(".", 1)[1]
    if verb in {"create", "add_member"}:
        return "create"
    if verb in {"destroy", "remove_member"}:
        return "remove"
    return "modify"


def _document_id(org_id: int, number: int) -> str:
    """22 URL-safe characters, as GitHub's `_document_id`s are; stable across runs."""
    import base64
    import hashlib

    return base64.urlsafe_b64encode(hashlib.sha256(f"{org_id}:{number}".encode()).digest())[:22].decode()


class GitHubWorld:
    """The world file with parsed moments and indices: what the API shows at any moment."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self.org = doc["org"]
        self.members = sorted(doc["members"], key=lambda m: m["id"])
        self.repos = doc["repos"]
        self.repo_by_name = {r["name"]: r for r in self.repos}
        self._org_off = [_interval(i) for i in self.org["two_factor_off"]]
        self._memberships = {m["login"]: [_interval(i) for i in m["memberships"]] for m in self.members}
        self._two_factor_off = {m["login"]: [_interval(i) for i in m["two_factor_off"]] for m in self.members}
        self._protection = {r["name"]: [(parse(at), value) for at, value in r["protection"]] for r in self.repos}
        self.pulls = doc["pulls"]
        self.pull_by_key = {(p["repo"], p["number"]): p for p in self.pulls}
        self._closed: dict[str, tuple[list[datetime], list[dict[str, Any]]]] = {}
        self._pulls_by_repo: dict[str, list[dict[str, Any]]] = {r["name"]: [] for r in self.repos}
        for pr in self.pulls:
            self._pulls_by_repo[pr["repo"]].append(pr)
        for name, pulls in self._pulls_by_repo.items():
            closed = sorted((p for p in pulls if p["closed_at"]), key=lambda p: (p["closed_at"], p["number"]))
            self._closed[name] = ([parse(p["closed_at"]) for p in closed], closed)
        self.checks_by_sha: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for pr in self.pulls:
            for check in pr["checks"]:
                self.checks_by_sha.setdefault((pr["repo"], check["sha"]), []).append(check)
        self.deployments = doc["deployments"]
        self.deployment_by_id = {d["id"]: d for d in self.deployments}
        self._deployments_by_repo: dict[str, list[dict[str, Any]]] = {}
        for deployment in self.deployments:
            self._deployments_by_repo.setdefault(deployment["repo"], []).append(deployment)
        self.runs = doc["runs"]
        grouped: dict[str, list[dict[str, Any]]] = {r["name"]: [] for r in self.repos}
        for run in self.runs:  # already in creation order
            grouped[run["repo"]].append(run)
        self._runs_by_repo = {name: ([parse(r["created_at"]) for r in runs], runs) for name, runs in grouped.items()}
        self.alerts = doc["alerts"]
        self.audit_events = _audit_events(doc)
        self._audit_times = [parse_millis(e["created_at"]) for e in self.audit_events]
        # an event's place in the whole log: the stand-in's cursors name it
        self.audit_position = {e["_document_id"]: n for n, e in enumerate(self.audit_events, start=1)}

    @classmethod
    def load(cls, demo_dir: Path) -> GitHubWorld:
        return cls(read_json(Path(demo_dir) / WORLD_FILE))

    def audit_events_between(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """The audit-log events with `start <= created_at < end`, oldest first."""
        return self.audit_events[bisect.bisect_left(self._audit_times, start):
                                 bisect.bisect_left(self._audit_times, end)]

    # organisation and members ----------------------------------------------------
    def two_factor_required(self, moment: datetime) -> bool:
        return not any(start <= moment and (end is None or moment < end) for start, end in self._org_off)

    def is_member(self, login: str, moment: datetime) -> bool:
        return any(start <= moment and (end is None or moment < end) for start, end in self._memberships[login])

    def members_at(self, moment: datetime) -> list[dict[str, Any]]:
        return [m for m in self.members if self.is_member(m["login"], moment)]

    def two_factor_disabled(self, login: str, moment: datetime) -> bool:
        return any(start <= moment and (end is None or moment < end) for start, end in self._two_factor_off[login])

    def saml_identities_at(self, moment: datetime) -> list[tuple[dict[str, Any], bool]]:
        """(member, linked) for every identity the IdP has provisioned by `moment` (removed with the account)."""
        out = []
        for member in self.members:
            spans = self._memberships[member["login"]]
            provisioned = parse(member["saml"]["linked_at"]) - timedelta(days=1)
            if provisioned > moment or (spans[-1][1] is not None and moment >= spans[-1][1]):
                continue
            out.append((member, self.is_member(member["login"], moment)))
        return out

    # repositories ----------------------------------------------------------------
    def repos_at(self, moment: datetime) -> list[dict[str, Any]]:
        return [r for r in self.repos if parse(r["created_at"]) <= moment]

    def protection_at(self, repo: str, moment: datetime) -> dict[str, Any] | None:
        current = None
        for at, value in self._protection[repo]:
            if at <= moment:
                current = value
        return current

    # pull requests ---------------------------------------------------------------
    def closed_pulls_at(self, repo: str, moment: datetime) -> list[dict[str, Any]]:
        """Pull requests closed (merged or not) by `moment`, most recently closed first."""
        times, pulls = self._closed[repo]
        return pulls[: bisect.bisect_right(times, moment)][::-1]

    def pulls_created_by(self, repo: str, moment: datetime) -> list[dict[str, Any]]:
        return [p for p in self._pulls_by_repo[repo] if parse(p["created_at"]) <= moment]

    def runs_created_between(self, repo: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Workflow runs created in [start, end]."""
        times, runs = self._runs_by_repo[repo]
        return runs[bisect.bisect_left(times, start): bisect.bisect_right(times, end)]

    def deployments_of(self, repo: str) -> list[dict[str, Any]]:
        return self._deployments_by_repo.get(repo, [])


def pull_updated_at(pr: dict[str, Any], moment: datetime) -> datetime:
    """Last activity on the pull request visible at `moment`."""
    if pr["closed_at"] and parse(pr["closed_at"]) <= moment:
        return parse(pr["closed_at"])
    times = [parse(pr["created_at"])]
    times += [parse(c["at"]) for c in pr["commits"] if parse(c["at"]) <= moment]
    times += [parse(r["at"]) for r in pr["reviews"] if parse(r["at"]) <= moment]
    return max(times)

