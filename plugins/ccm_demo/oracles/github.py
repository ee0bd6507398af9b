"""Oracles for the GitHub controls (CC6.1 2FA, CC8.1 change management, CC7.1 Dependabot SLA).

Each judges the world file directly with the control's rule written out in Python, never
through the API, lake or warehouse. Snapshot controls look at the state when the daily run
that closes the period observes it; event controls need every day of the period to have
been extracted, so an outage during any of those runs makes the period not_tested.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ccm.constants import Frequency
from ccm.periods import Period
from ccm_demo.oracles import Oracle, WorldView
from ccm_demo.world import github
from ccm_demo.world.common import parse

SOURCE = "github"
CI_CREATOR = github.CI_BOT["login"]
REQUIRED_CHECKS = github.CI_CHECKS
SLA_DAYS = {"critical": 7, "high": 30}


def _world(view: WorldView) -> github.GitHubWorld:
    return view.memo("github:world", lambda: github.GitHubWorld(view.load(github.WORLD_FILE)))


def _events_down(view: WorldView, period: Period) -> bool:
    """Was the API down when any daily run of the period extracted its day?"""
    day = period.start
    while day < period.end:
        if view.source_down(SOURCE, view.spec.observation_time(day + timedelta(days=1))):
            return True
        day += timedelta(days=1)
    return False


def org_2fa(view: WorldView, period: Period) -> list[str] | None:
    observed = view.observed(period)
    if view.source_down(SOURCE, observed):
        return None
    world = _world(view)
    failing = [] if world.two_factor_required(observed) else [github.ORG]
    failing += [m["login"] for m in world.members_at(observed) if world.two_factor_disabled(m["login"], observed)]
    return failing


def branch_protection(view: WorldView, period: Period) -> list[str] | None:
    observed = view.observed(period)
    if view.source_down(SOURCE, observed):
        return None
    world = _world(view)
    failing = []
    for repo in world.repos_at(observed):
        if not repo["production"] or repo["archived"]:
            continue
        settings = world.protection_at(repo["name"], observed)
        if (settings is None or (settings["reviews"] or 0) < 1 or settings["force_pushes"]
                or not settings["enforce_admins"]):
            failing.append(f"{github.ORG}/{repo['name']}")
    return failing


def _merged_to_default(view: WorldView, period: Period) -> list[dict]:
    world = _world(view)
    out = []
    for pr in world.pulls:
        merged = parse(pr["merged_at"])
        if merged is None or not period.start <= merged < period.end:
            continue
        if pr["base_ref"] == world.repo_by_name[pr["repo"]]["default_branch"]:
            out.append(pr)
    return out


def _visible(items: list[dict], key: str, moment: datetime) -> list[dict]:
    """What the extract of the merge day saw (it ran at that day's observation time)."""
    return [item for item in items if parse(item[key]) <= moment]


def _extracted_at(view: WorldView, moment: datetime) -> datetime:
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return view.spec.observation_time(day + timedelta(days=1))


def independent_approval(view: WorldView, period: Period) -> list[str] | None:
    if _events_down(view, period):
        return None
    failing = []
    for pr in _merged_to_default(view, period):
        merged = parse(pr["merged_at"])
        seen = _extracted_at(view, merged)
        commits = _visible(pr["commits"], "at", seen)
        contributors = {pr["author"].lower()} | {c["author"].lower() for c in commits}
        approvals = [r for r in _visible(pr["reviews"], "at", seen)
                     if r["state"] == "APPROVED" and parse(r["at"]) <= merged and r["user"].lower() not in contributors]
        if not approvals:
            failing.append(github.pull_entity(pr))
            continue
        positions = {c["sha"]: index for index, c in enumerate(commits, start=1)}
        last_approved = max(positions.get(r["commit_id"], 0) for r in approvals)
        if len(commits) - last_approved > 0:
            failing.append(github.pull_entity(pr))
    return failing


def checks_passed(view: WorldView, period: Period) -> list[str] | None:
    if _events_down(view, period):
        return None
    world = _world(view)
    failing = []
    for pr in _merged_to_default(view, period):
        merged = parse(pr["merged_at"])
        seen = _extracted_at(view, merged)
        head = _visible(pr["commits"], "at", seen)[-1]["sha"]
        runs = [c for c in world.checks_by_sha.get((pr["repo"], head), []) if parse(c["started_at"]) <= merged]
        for name in REQUIRED_CHECKS:
            named = sorted((c for c in runs if c["name"] == name), key=lambda c: (c["started_at"], c["id"]))
            latest = named[-1] if named else None
            if latest is None or latest["conclusion"] != "success" or parse(latest["completed_at"]) > merged:
                failing.append(github.pull_entity(pr))
                break
    return failing


def deploy_from_ci(view: WorldView, period: Period) -> list[str] | None:
    if _events_down(view, period):
        return None
    world = _world(view)
    failing = []
    for deployment in world.deployments:
        created = parse(deployment["created_at"])
        if deployment["environment"] != "production" or not period.start <= created < period.end:
            continue
        default = world.repo_by_name[deployment["repo"]]["default_branch"]
        ref = deployment["ref"].removeprefix("refs/heads/")
        if deployment["creator"] != CI_CREATOR or ref != default:
            failing.append(github.deployment_entity(deployment))
    return failing


def dependabot_sla(view: WorldView, period: Period) -> list[str] | None:
    observed = view.observed(period)
    if view.source_down(SOURCE, observed):
        return None
    failing = []
    for alert in _world(view).alerts:
        if alert["severity"] not in SLA_DAYS:
            continue
        created = parse(alert["created_at"])
        resolved = parse(alert["fixed_at"] or alert["dismissed_at"])
        if resolved is not None and resolved > observed:
            resolved = None  # not yet resolved when observed
        if created >= period.end or (resolved is not None and resolved < period.start):
            continue
        until = resolved if resolved is not None and resolved < period.end else period.end
        if (until - created).total_seconds() / 86400 > SLA_DAYS[alert["severity"]]:
            failing.append(github.alert_entity(alert))
    return failing


ORACLES = {
    "iam_github_org_2fa": Oracle(Frequency.DAILY, org_2fa),
    "chg_branch_protection": Oracle(Frequency.DAILY, branch_protection),
    "chg_pr_independent_approval": Oracle(Frequency.MONTHLY, independent_approval),
    "chg_pr_checks_passed": Oracle(Frequency.MONTHLY, checks_passed),
    "chg_deploy_from_ci": Oracle(Frequency.MONTHLY, deploy_from_ci),
    "mon_dependabot_sla": Oracle(Frequency.MONTHLY, dependabot_sla),
}
