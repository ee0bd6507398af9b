"""The lake census: is every dataset of the demo company in the raw lake, with the world's rows?

Why it exists: `ccm demo verify` proves that the controls conclude what the answer key
says, but a control reads only some datasets and only the rows its population needs. A
dataset no control reads, or rows no population looks at, could go missing, be
duplicated or be observed at the wrong moment without any conclusion changing. The
census closes that gap: for every dataset of the registry and every day of a window it
counts the rows the lake holds for that day's extract and the rows the generated world
says the source held at that moment, and says why the two differ when they may.

The expected counts are derived from the world only: the world modules' "state at T"
functions (`okta.user_at`, `okta.factors_at`, `okta.events_between`,
`AwsWorld.existing` / `backup_jobs`, `GitHubWorld`, `google.exists_at`, ...) and the
files the generator wrote (CloudTrail's deliveries and `facts.json`, the export files
under `world/exports`). Nothing from `ccm.sources` is called: counting what the extract
code would fetch and comparing it with what it wrote would prove nothing. Reading the
stand-ins shows which world function serves which API; where an API adds rows the world
does not model (a default security group per VPC, the credential report's root row), the
expectation says so in its detail.

What is compared, per dataset-day (the daily run for day D runs at
`DemoSpec.observation_time(D + 1)`):
- snapshots: the rows of the observation the day's complete extract made (its manifest's
  `observed_at`), counted in the lake's partition of that moment, against the world's
  state at exactly that moment;
- events: the rows of the day's partition (`raw/<source>/<dataset>/date=D/`), against the
  world's events of day D that the source had delivered when the lake's current rows
  were extracted (a late-arriving dataset is re-read by the next day's look-back, so the
  latest complete extract of the day is the one that counts);
- a day with no complete extract is "not extracted" with the manifest's reason and the
  planted fault (outage, export never delivered, log file never delivered) that explains
  it; one no planted fault explains keeps `fault=None`, which callers treat as a finding.
"""

from __future__ import annotations

import csv
import io
import json
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

from ccm.config import Settings
from ccm.constants import DatasetKind, ExtractStatus
from ccm.datasets import OBSERVED_AT, Dataset
from ccm.lake import Lake
from ccm.manifests import ExtractManifest, read_manifests
from ccm.sources.registry import ALL_DATASETS
from ccm_demo.spec import DemoSpec
from ccm_demo.world import aws as aws_world
from ccm_demo.world import cloudtrail as cloudtrail_world
from ccm_demo.world import devices as devices_world
from ccm_demo.world import github as github_world
from ccm_demo.world import google as google_world
from ccm_demo.world import hr as hr_world
from ccm_demo.world import okta as okta_world
from ccm_demo.world.common import parse, read_json
from ccm_demo.world.people import load_people

MATCH = "match"
MISMATCH = "mismatch"
NOT_EXTRACTED = "not extracted"

DAY = timedelta(days=1)
OKTA_PUBLIC_URL = "https://kestrel.okta.com"  # only shapes links inside records, never their number
# Okta lists the factors of users who can sign in or be reactivated; a deactivated user's
# factors are outside the okta.factors dataset (its contract), so they are counted apart
OKTA_DEACTIVATED = "DEPROVISIONED"
# the calls that change what a trail records, as the CloudTrail world plants them
TRAIL_CHANGE_SOURCE = "cloudtrail.amazonaws.com"
KMS_PENDING_DELETION = timedelta(days=7)  # the stand-in schedules deletions with a 7-day window
_DIGEST_KEY = re.compile(r"AWSLogs/(\d{12})/CloudTrail-Digest/([^/]+)/.*_(\d{8}T\d{6}Z)\.json\.gz$")


@dataclass(frozen=True)
class CensusRow:
    """One dataset on one day: what the lake holds against what the world held.

    `moment` is the observation (`observed_at`) for a snapshot, and for an event dataset
    the simulated time of the extract whose rows the lake holds (what had been delivered
    by then is what the world is asked for). `fault` names the planted fault that explains
    a "not extracted" row (or that shaped a matching one: a duplicate delivery, a late
    file, a missing digest); None on a "not extracted" row means nothing planted explains it.
    """

    dataset: str
    day: date
    moment: datetime | None
    lake_rows: int | None
    world_rows: int | None
    status: str
    detail: str
    fault: str | None = None

    def __str__(self) -> str:
        when = self.moment.strftime("%Y-%m-%dT%H:%MZ") if self.moment else "-"
        return (f"{self.dataset:<36} {self.day} {when:<17} lake={_n(self.lake_rows):>6} "
                f"world={_n(self.world_rows):>6} {self.status:<13} {self.detail}"
                + (f" [fault: {self.fault}]" if self.fault else ""))


@dataclass(frozen=True)
class Expectation:
    """The world's row count for one dataset-day, with how it was derived.

    `rows` is None when the world holds nothing the source could have served (an export
    that is never delivered). `problems` make the row a mismatch even when the counts
    agree (the world contradicts itself, or the lake holds rows a gap should have
    stopped); `digests_found` is checked against the lake's `digest_found` rows.
    """

    rows: int | None
    detail: str
    fault: str | None = None
    problems: tuple[str, ...] = ()
    digests_found: int | None = None


def _n(value: int | None) -> str:
    return "-" if value is None else str(value)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------------------
# the world, loaded once per census


@dataclass(frozen=True)
class _LogFile:
    key: str
    deliver_at: datetime
    events: dict[date, set[str]]  # eventIDs by the UTC day of their eventTime
    trail_changes: dict[date, set[str]]


@dataclass(frozen=True)
class _Digest:
    account_id: str
    region: str
    start: datetime
    deliver_at: datetime


@dataclass(frozen=True)
class _Export:
    path: str
    deliver_at: datetime
    rows: int


class CensusWorld:
    """What the census asks of one generated demo directory: its systems' state functions,
    its delivery schedules and its planted faults. Read lazily, so a census of one family
    loads only that family's world."""

    def __init__(self, demo_dir: Path, days: int) -> None:
        self.demo_dir = Path(demo_dir)
        self.spec = DemoSpec.load(self.demo_dir)
        self.days = days

    # shared ------------------------------------------------------------------------
    @cached_property
    def outages(self) -> list[dict[str, Any]]:
        return read_json(self.demo_dir / "world" / "outages.json")

    @cached_property
    def deliveries(self) -> dict[str, datetime]:
        return {d["path"]: parse(d["deliver_at"]) for d in read_json(self.demo_dir / "world" / "exports"
                                                                         / "_deliveries.json")}

    def export_dir(self, dataset: Dataset) -> Path:
        return self.demo_dir / "world" / "exports" / dataset.source / dataset.name

    def is_export(self, dataset: Dataset) -> bool:
        return self.export_dir(dataset).is_dir()

    def export(self, dataset: Dataset, day: datetime) -> _Export | None:
        """The export of `dataset` describing `day`, as the world wrote and schedules it."""
        directory = self.export_dir(dataset)
        found = sorted(directory.glob(f"*_{day:%Y-%m-%d}.*"))
        if not found:
            return None
        path = found[-1]
        relative = path.relative_to(self.demo_dir / "world" / "exports").as_posix()
        if relative not in self.deliveries:
            return None
        text = path.read_text(encoding="utf-8-sig")
        if path.suffix == ".json":
            rows = len(json.loads(text))
        else:
            rows = sum(1 for _ in csv.DictReader(io.StringIO(text)))
        return _Export(relative, self.deliveries[relative], rows)

    # systems -----------------------------------------------------------------------
    @cached_property
    def okta_users(self) -> list[dict[str, Any]]:
        return okta_world.load_users(self.demo_dir)

    @cached_property
    def devices(self) -> list[dict[str, Any]]:
        return devices_world.load_devices(self.demo_dir)

    @cached_property
    def google_users(self) -> list[dict[str, Any]]:
        return google_world.load_users(self.demo_dir)

    @cached_property
    def aws(self) -> aws_world.AwsWorld:
        return aws_world.AwsWorld.load(self.demo_dir)

    @cached_property
    def aws_regions(self) -> dict[str, tuple[str, ...]]:
        return {a.account_id: a.regions for a in self.aws.accounts}

    @cached_property
    def github(self) -> github_world.GitHubWorld:
        return github_world.GitHubWorld.load(self.demo_dir)

    @cached_property
    def people(self) -> list[Any]:
        return load_people(self.demo_dir)

    # CloudTrail: every object delivered to the log archive, read back from the world ----
    @cached_property
    def trail_facts(self) -> dict[str, Any]:
        return cloudtrail_world.load_facts(self.demo_dir)

    @cached_property
    def _trail_objects(self) -> tuple[list[_LogFile], list[_Digest]]:
        """Log files and digests delivered up to two days after the census window (the
        last day's files and the next day's look-back); each log file's records are read
        from the world's packs."""
        horizon = self.spec.window_start + (self.days + 2) * DAY
        logs: list[_LogFile] = []
        digests: list[_Digest] = []
        for delivery in cloudtrail_world.load_deliveries(self.demo_dir):
            deliver_at = parse(delivery.deliver_at)
            if deliver_at >= horizon:
                continue
            match = _DIGEST_KEY.search(delivery.key)
            if match:
                end = datetime.strptime(match.group(3), "%Y%m%dT%H%M%SZ").replace(tzinfo=deliver_at.tzinfo)
                digests.append(_Digest(match.group(1), match.group(2), end - timedelta(hours=1), deliver_at))
                continue
            events: dict[date, set[str]] = {}
            changes: dict[date, set[str]] = {}
            for record in json.loads(cloudtrail_world.read_content(self.demo_dir, delivery))["Records"]:
                when = parse(record["eventTime"]).date()
                events.setdefault(when, set()).add(record["eventID"])
                if (record.get("eventSource") == TRAIL_CHANGE_SOURCE
                        and record.get("eventName") in cloudtrail_world.TRAIL_CHANGE_EVENTS):
                    changes.setdefault(when, set()).add(record["eventID"])
            logs.append(_LogFile(delivery.key, deliver_at, events, changes))
        return logs, digests

    @property
    def trail_logs(self) -> list[_LogFile]:
        return self._trail_objects[0]

    @property
    def trail_digests(self) -> list[_Digest]:
        return self._trail_objects[1]

    def missing_log_files(self, day: datetime) -> list[dict[str, Any]]:
        """Planted log files (listed in digests, never delivered) holding events of `day`."""
        return [f for f in self.trail_facts["missing_log_files"]
                if parse(f["oldest"]) < day + DAY and parse(f["newest"]) >= day]

    # planted faults ----------------------------------------------------------------
    def planted_fault(self, dataset: Dataset, day: datetime, moment: datetime) -> str | None:
        """The fault the generator planted that stops `dataset` being read for `day` at `moment`."""
        for outage in self.outages:
            start, end = parse(outage["start"]), parse(outage["end"])
            if outage["source"] == dataset.source and start <= moment < end:
                return f"planted {outage['source']} outage {_stamp(start)}..{_stamp(end)}: {outage['reason']}"
        if self.is_export(dataset):
            export = self.export(dataset, day)
            if export is None:
                return (f"planted: the world never delivers the {dataset.source}/{dataset.name} export "
                        f"dated {day:%Y-%m-%d}")
            if export.deliver_at > moment:
                return f"export {export.path} is delivered at {_stamp(export.deliver_at)}, after {_stamp(moment)}"
        if dataset.key == "cloudtrail.events":  # trail_changes tolerates the gap; digests report it
            missing = self.missing_log_files(day)
            if missing:
                return "planted: " + "; ".join(
                    f"log file {f['key']} (events {f['oldest']}..{f['newest']}) is listed in a digest but "
                    "never delivered" for f in missing)
        return None


# ---------------------------------------------------------------------------------------
# expected rows, per dataset, from the world alone

Expect = Callable[[CensusWorld, datetime, datetime], Expectation]


def _okta_users(w: CensusWorld, day: datetime, moment: datetime) -> Expectation:
    users = [r for u in w.okta_users if (r := okta_world.user_at(u, moment, OKTA_PUBLIC_URL)) is not None]
    gone = sum(1 for u in users if u["status"] == OKTA_DEACTIVATED)
    return Expectation(len(users), f"okta.user_at: {len(users)} users exist ({gone} {OKTA_DEACTIVATED})")


def _okta_factors(w: CensusWorld, day: datetime, moment: datetime) -> Expectation:
    listed = holders = outside = 0
    for user in w.okta_users:
        status, _since = okta_world.status_at(user, moment)
        if status is None:
            continue
        factors = okta_world.factors_at(user, moment)
        if status == OKTA_DEACTIVATED:
            outside += len(factors)
            continue
        listed += len(factors)
        holders += bool(factors)
    return Expectation(listed, f"okta.factors_at: {listed} factors held by {holders} users that are not "
                               f"{OKTA_DEACTIVATED} ({outside} factors of {OKTA_DEACTIVATED} users are outside "
                               "the dataset)")


def _okta_admin_roles(w: CensusWorld, day: datetime, moment: datetime) -> Expectation:
    held = [(u, okta_world.roles_at(u, moment, OKTA_PUBLIC_URL)) for u in w.okta_users
            if okta_world.status_at(u, moment)[0] is not None]
    roles = sum(len(r) for _u, r in held)
    return Expectation(roles, f"okta.roles_at: {roles} role assignments of {sum(1 for _u, r in held if r)} users")


def _okta_system_log(w: CensusWorld, day: datetime, moment: datetime) -> Expectation:
    events = okta_world.events_between(w.okta_users, day, min(day + DAY, moment))
    return Expectation(len(events), f"okta.events_between: {len(events)} events published on {day:%Y-%m-%d}")


def _google_users(w: CensusWorld, day: datetime, moment: datetime) -> Expectation:
    active = {u["id"] for u in w.google_users if google_world.exists_at(u, moment)}
    deleted = {u["id"] for u in w.google_users if google_world.deleted_listed_at(u, moment)} - active
    return Expectation(len(active) + len(deleted), f"google.exists_at / deleted_listed_at: {len(active)} users, "
                                                   f"{len(deleted)} deleted within retention")


def _intune_devices(w: CensusWorld, day: datetime, moment: datetime) -> Expectation:
    listed = [d for d in w.devices if devices_world.in_intune(d, moment)]
    retiring = sum(1 for d in listed if devices_world.management_state_at(d, moment) != "managed")
    return Expectation(len(listed), f"devices.in_intune: {len(listed)} devices enrolled and not yet retired "
                                    f"({retiring} with a retire pending)")


def _falcon_hosts(w: CensusWorld, day: datetime, moment: datetime) -> Expectation:
    hosts = sum(1 for d in w.devices if devices_world.in_falcon(d, moment))
    return Expectation(hosts, f"devices.in_falcon: {hosts} hosts with a sensor installed and not hidden")


def _jamf_computers(w: CensusWorld, day: datetime, moment: datetime) -> Expectation:
    macs = sum(1 for d in w.devices if devices_world.in_jamf(d, moment))
    return Expectation(macs, f"devices.in_jamf: {macs} Macs enrolled and not yet retired")


def _aws_per_account(what: str) -> Expect:
    def expect(w: CensusWorld, day: datetime, moment: datetime) -> Expectation:
        return Expectation(len(w.aws.accounts), f"one {what} per audited account ({len(w.aws.accounts)})")

    return expect


def _aws_existing(kind: str, regional: bool) -> Expect:
    def expect(w: CensusWorld, day: datetime, moment: datetime) -> Expectation:
        found = [r for r, _state in w.aws.existing(kind, moment)
                 if not regional or r["region"] in w.aws_regions[r["account_id"]]]
        scope = " in the accounts' active regions" if regional else ""
        return Expectation(len(found), f"AwsWorld.existing({kind!r}): {len(found)}{scope}")

    return expect


def _aws_credential_report(w: CensusWorld, day: datetime, moment: datetime) -> Expectation:
    users = len(w.aws.existing(aws_world.USER, moment))
    accounts = len(w.aws.accounts)
    return Expectation(users + accounts, f"AwsWorld.existing('iam_user'): {users} users + the <root_account> row "
                                         f"of each of the {accounts} accounts")


def _aws_buckets(w: CensusWorld, day: datetime, moment: datetime) -> Expectation:
    listed, kept = 0, 0
    for bucket in w.aws.resources(aws_world.BUCKET):
        if w.aws.state(bucket, moment) is not None:
            listed += 1
        elif bucket["static"].get("retain") and any(
                parse(at) <= moment and state is not None for at, state in bucket["timeline"]):
            kept += 1  # the log archive bucket is never deleted, whatever the timeline says
    return Expectation(listed + kept, f"AwsWorld.existing('s3_bucket'): {listed}" + (
        f" + {kept} retained log archive bucket" if kept else ""))


def _aws_security_groups(w: CensusWorld, day: datetime, moment: datetime) -> Expectation:
    groups = _aws_existing(aws_world.SECURITY_GROUP, regional=True)(w, day, moment).rows or 0
    defaults = sum(len(regions) for regions in w.aws_regions.values())
    return Expectation(groups + defaults, f"AwsWorld.existing('security_group'): {groups} + the 'default' group "
                                          f"EC2 keeps in each account-region's default VPC ({defaults}; not modelled "
                                          "by the world)")


def _aws_kms_keys(w: CensusWorld, day: datetime, moment: datetime) -> Expectation:
    alive = pending = 0
    for key in w.aws.resources(aws_world.KMS_KEY):
        if key["region"] not in w.aws_regions[key["account_id"]]:
            continue
        if w.aws.state(key, moment) is not None:
            alive += 1
            continue
        deleted = [parse(at) for at, state in key["timeline"] if state is None and parse(at) <= moment]
        if deleted and moment < deleted[-1] + KMS_PENDING_DELETION:
            pending += 1
    return Expectation(alive + pending, f"AwsWorld.existing('kms_key'): {alive}" + (
        f" + {pending} pending deletion" if pending else ""))


def _aws_guardduty(w: CensusWorld, day: datetime, moment: datetime) -> Expectation:
    rows = detectors = 0
    for account, regions in w.aws_regions.items():
        for region in regions:
            here = sum(1 for r, _s in w.aws.existing(aws_world.DETECTOR, moment)
                       if r["account_id"] == account and r["region"] == region)
            detectors += here
            rows += max(here, 1)
    return Expectation(rows, f"AwsWorld.existing('guardduty_detector'): {detectors} detectors; one row per "
                             "detector, or one per account-region without one")


def _aws_config_recorders(w: CensusWorld, day: datetime, moment: datetime) -> Expectation:
    rows = recorders = 0
    for account, regions in w.aws_regions.items():
        for region in regions:
            here = sum(1 for r, _s in w.aws.existing(aws_world.CONFIG_RECORDER, moment)
                       if r["account_id"] == account and r["region"] == region)
            recorders += here
            rows += max(here, 1)
    return Expectation(rows, f"AwsWorld.existing('config_recorder'): {recorders} recorders; one row per "
                             "recorder, or one per account-region without one")


def _aws_backup_jobs(w: CensusWorld, day: datetime, moment: datetime) -> Expectation:
    jobs = sum(len(w.aws.backup_jobs(account, region, day, day + DAY, moment))
               for account, regions in w.aws_regions.items() for region in regions)
    return Expectation(jobs, f"AwsWorld.backup_jobs: {jobs} jobs created on {day:%Y-%m-%d} (as of {_stamp(moment)})")


def _trail_events(changes_only: bool) -> Expect:
    def expect(w: CensusWorld, day: datetime, moment: datetime) -> Expectation:
        on = day.date()
        by_then: set[str] = set()
        ever: set[str] = set()
        pending: list[str] = []
        copies = 0
        for log in w.trail_logs:
            ids = (log.trail_changes if changes_only else log.events).get(on, set())
            if not ids:
                continue
            copies += len(ids & ever) if log.deliver_at <= moment else 0
            ever |= ids
            if log.deliver_at <= moment:
                by_then |= ids
            else:
                pending.append(f"{log.key} (delivered {_stamp(log.deliver_at)})")
        notes, problems, faults = [], [], []
        if copies:
            notes.append(f"{copies} records delivered twice counted once")
            faults += [f"planted duplicate delivery {f['copy_key']}" for f in w.trail_facts["duplicate_log_files"]
                       if parse(f["oldest"]).date() == on]
        if pending:
            notes.append(f"{len(ever) - len(by_then)} records in files delivered later: {', '.join(pending)}")
        for late in w.trail_facts["late_log_files"]:
            if parse(late["oldest"]).date() == on:
                arrived = parse(late["deliver_at"]) <= moment
                faults.append(f"planted late delivery of {late['key']} at {late['deliver_at']}"
                              + (" (read by a later look-back)" if arrived else " (not delivered yet)"))
        missing = w.missing_log_files(day)
        if changes_only:
            lost = [p for p in w.trail_facts["planted_events"]
                    if p.get("kind") == "trail_change" and not p["delivered"] and parse(p["time"]).date() == on]
            if lost:
                notes.append(f"{len(lost)} trail changes are in a log file never delivered (a gap "
                             "cloudtrail.digests reports)")
            if missing:
                faults.append(f"planted: {len(missing)} log file(s) never delivered")
        else:
            generated = w.trail_facts["events_per_day"].get(f"{day:%Y-%m-%d}")
            lost_count = None if generated is None else generated - len(ever)
            if lost_count:
                if missing:
                    notes.append(f"{lost_count} of the {generated} events generated are in log files never delivered")
                else:
                    problems.append(f"the world generated {generated} events on {day:%Y-%m-%d} but its delivered "
                                    f"files hold {len(ever)}")
            if missing:
                problems.append("the day has log files a digest lists but that were never delivered, so no "
                                "extract of it can be complete")
        kind = "trail changes" if changes_only else "events"
        detail = (f"{len(by_then)} unique {kind} with eventTime on {day:%Y-%m-%d} in the log files delivered by "
                  f"{_stamp(moment)}" + (f" ({'; '.join(notes)})" if notes else ""))
        return Expectation(len(by_then), detail, "; ".join(faults) or None, tuple(problems))

    return expect


def _trail_digests(w: CensusWorld, day: datetime, moment: datetime) -> Expectation:
    scopes = [(s["account_id"], s["region"]) for s in w.trail_facts["scopes"]]
    hours = [day + timedelta(hours=h) for h in range(24)]
    found = {(d.account_id, d.region, d.start) for d in w.trail_digests
             if d.deliver_at <= moment and day <= d.start < day + DAY}
    planted = [m for m in w.trail_facts["missing_digests"] if day <= parse(m["start"]) < day + DAY]
    slots = len(scopes) * len(hours)
    detail = (f"{len(scopes)} account-regions x 24 hours: {len(found)} digests delivered by {_stamp(moment)}, "
              f"{slots - len(found)} hours without one")
    fault = (f"planted: {len(planted)} digests never delivered "
             f"({', '.join(m['account_id'] + '/' + m['region'] + ' ' + m['start'] for m in planted)})"
             if planted else None)
    return Expectation(slots, detail, fault, digests_found=len(found))


def _github_merged(w: CensusWorld, day: datetime, moment: datetime) -> list[dict[str, Any]]:
    repos = {r["name"] for r in w.github.repos_at(moment)}
    return [p for p in w.github.pulls
            if p["repo"] in repos and p["merged_at"] and day <= parse(p["merged_at"]) < day + DAY
            and parse(p["closed_at"]) <= moment]


def _github(name: str) -> Expect:
    def expect(w: CensusWorld, day: datetime, moment: datetime) -> Expectation:
        g = w.github
        repos = g.repos_at(moment)
        names = {r["name"] for r in repos}
        match name:
            case "organization":
                return Expectation(1, f"the organisation {github_world.ORG}")
            case "members":
                rows, what = len(g.members_at(moment)), "GitHubWorld.members_at"
            case "saml_identities":
                rows, what = len(g.saml_identities_at(moment)), "GitHubWorld.saml_identities_at"
            case "repositories":
                rows, what = len(repos), "GitHubWorld.repos_at"
            case "branch_protection":
                active = [r for r in repos if not r["archived"]]
                protected = sum(1 for r in active if g.protection_at(r["name"], moment) is not None)
                return Expectation(len(active), f"the default branch of {len(active)} repositories that are not "
                                                f"archived ({protected} protected, GitHubWorld.protection_at)")
            case "dependabot_alerts":
                rows = sum(1 for a in g.alerts if a["repo"] in names and parse(a["created_at"]) <= moment)
                what = "Dependabot alerts created by then"
            case "deployments":
                rows = sum(1 for d in g.deployments if d["repo"] in names and day <= parse(d["created_at"]) < day + DAY)
                what = f"deployments created on {day:%Y-%m-%d}"
            case "workflow_runs":
                rows = sum(1 for r in g.runs if r["repo"] in names and day <= parse(r["created_at"]) < day + DAY)
                what = f"workflow runs created on {day:%Y-%m-%d}"
            case "audit_log":
                rows = len(g.audit_events_between(day, min(day + DAY, moment)))
                what = f"audit-log events of {day:%Y-%m-%d} (GitHubWorld.audit_events_between)"
            case _:
                pulls = _github_merged(w, day, moment)
                if name == "pull_requests":
                    rows = len(pulls)
                elif name == "pull_request_reviews":
                    rows = sum(1 for p in pulls for r in p["reviews"] if parse(r["at"]) <= moment)
                elif name == "pull_request_commits":
                    rows = sum(1 for p in pulls for c in p["commits"] if parse(c["at"]) <= moment)
                else:  # check_runs: every check run on each merged pull request's head commit
                    rows = 0
                    for pr in pulls:
                        head = [c for c in pr["commits"] if parse(c["at"]) <= moment][-1]["sha"]
                        rows += sum(1 for c in g.checks_by_sha.get((pr["repo"], head), [])
                                    if parse(c["started_at"]) <= moment)
                what = f"{name.replace('_', ' ')} of the {len(pulls)} pull requests merged on {day:%Y-%m-%d}"
        return Expectation(rows, f"{what}: {rows}")

    return expect


def _export_rows(w: CensusWorld, dataset: Dataset, day: datetime, moment: datetime) -> Expectation:
    export = w.export(dataset, day)
    if export is None:
        return Expectation(None, f"the world has no {dataset.source}/{dataset.name} export dated {day:%Y-%m-%d}")
    late = f" (delivered at {_stamp(export.deliver_at)}, after {_stamp(moment)})" if export.deliver_at > moment else ""
    return Expectation(export.rows, f"{export.rows} records in world/exports/{export.path}{late}")


def _exports(w: CensusWorld, day: datetime, moment: datetime, dataset: Dataset) -> Expectation:
    expectation = _export_rows(w, dataset, day, moment)
    if dataset.key != "hr.employees" or expectation.rows is None:
        return expectation
    roster = sum(1 for p in w.people if hr_world.status_on(p, day + DAY) is not None)
    if roster == expectation.rows:
        return Expectation(roster, f"{expectation.detail}; the roster (people.json, hr.status_on) agrees")
    return Expectation(expectation.rows, expectation.detail,
                       problems=(f"the roster (people.json, hr.status_on) lists {roster} people",))


EXPECTATIONS: dict[str, Expect] = {
    "okta.users": _okta_users,
    "okta.factors": _okta_factors,
    "okta.admin_roles": _okta_admin_roles,
    "okta.system_log": _okta_system_log,
    "google.users": _google_users,
    "intune.managed_devices": _intune_devices,
    "crowdstrike.hosts": _falcon_hosts,
    "jamf.computers": _jamf_computers,
    "aws.credential_report": _aws_credential_report,
    "aws.account_summary": _aws_per_account("account summary"),
    "aws.password_policy": _aws_per_account("password policy (or its absence)"),
    "aws.iam_policies": _aws_existing(aws_world.POLICY, regional=False),
    "aws.iam_users": _aws_existing(aws_world.USER, regional=False),
    "aws.s3_buckets": _aws_buckets,
    "aws.s3_account_public_access_block": _aws_per_account("account public access block (or its absence)"),
    "aws.security_groups": _aws_security_groups,
    "aws.rds_instances": _aws_existing(aws_world.RDS, regional=True),
    "aws.kms_keys": _aws_kms_keys,
    "aws.cloudtrail_trails": _aws_existing(aws_world.TRAIL, regional=True),
    "aws.guardduty_detectors": _aws_guardduty,
    "aws.config_recorders": _aws_config_recorders,
    "aws.backup_jobs": _aws_backup_jobs,
    "cloudtrail.events": _trail_events(changes_only=False),
    "cloudtrail.trail_changes": _trail_events(changes_only=True),
    "cloudtrail.digests": _trail_digests,
    **{f"github.{name}": _github(name) for name in (
        "organization", "members", "saml_identities", "repositories", "branch_protection", "dependabot_alerts",
        "pull_requests", "pull_request_reviews", "pull_request_commits", "check_runs", "deployments",
        "workflow_runs", "audit_log")},
}


def expected_rows(world: CensusWorld, dataset: Dataset, day: datetime, moment: datetime) -> Expectation | None:
    """The world's count for a dataset-day, or None when no world derivation is known for it."""
    if dataset.key in EXPECTATIONS:
        return EXPECTATIONS[dataset.key](world, day, moment)
    if world.is_export(dataset):
        return _exports(world, day, moment, dataset)
    return None


# ---------------------------------------------------------------------------------------
# the lake


def _read_column(lake: Lake, relative: str, column: str) -> Any:
    import pyarrow.parquet as pq

    with lake.fs.open_input_file(posixpath.join(lake.root, relative)) as handle:
        return pq.read_table(handle, columns=[column]).column(column)


def _count_in(lake: Lake, files: list[str], column: str, keep: Callable[[Any], Any]) -> int:
    import pyarrow.compute as pc

    return sum(pc.sum(keep(_read_column(lake, path, column))).as_py() or 0 for path in files)


@dataclass
class _LakeCount:
    rows: int
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _snapshot_rows(lake: Lake, dataset: Dataset, manifest: ExtractManifest) -> _LakeCount:
    """Rows of the observation `manifest` made, counted in its whole partition (a second file
    with the same observed_at would be a duplicate observation and is counted too)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    observed = manifest.observed_at
    files = [p for p in lake.list_files(lake.partition_dir(dataset, observed)) if p.endswith(".parquet")]

    def at_moment(column: Any) -> Any:
        return pc.cast(pc.equal(column, pa.scalar(observed, column.type)), pa.int64())

    count = _LakeCount(_count_in(lake, files, OBSERVED_AT, at_moment))
    missing = [f.path for f in manifest.files_written if f.path not in files]
    if missing:
        count.problems.append(f"the manifest lists files the lake does not have: {', '.join(missing)}")
    if count.rows != manifest.rows_written:
        count.problems.append(f"the manifest says {manifest.rows_written} rows were written")
    return count


def _event_rows(lake: Lake, dataset: Dataset, day: datetime) -> _LakeCount:
    """Rows of the day's partition; rows timed outside the day would be misfiled."""
    import pyarrow as pa
    import pyarrow.compute as pc

    files = [p for p in lake.list_files(lake.partition_dir(dataset, day)) if p.endswith(".parquet")]

    def outside(column: Any) -> Any:
        early = pc.less(column, pa.scalar(day, column.type))
        late = pc.greater_equal(column, pa.scalar(day + DAY, column.type))
        return pc.cast(pc.or_(early, late), pa.int64())

    count = _LakeCount(_count_in(lake, files, dataset.time_column, lambda c: pc.cast(pc.is_valid(c), pa.int64())))
    misfiled = _count_in(lake, files, dataset.time_column, outside)
    if misfiled:
        count.problems.append(f"{misfiled} rows of the partition are timed outside {day:%Y-%m-%d}")
    if len(files) > 1:
        count.notes.append(f"{len(files)} files in the partition")
    return count


def _digests_found(lake: Lake, dataset: Dataset, day: datetime) -> int:
    import pyarrow as pa
    import pyarrow.compute as pc

    files = [p for p in lake.list_files(lake.partition_dir(dataset, day)) if p.endswith(".parquet")]
    return _count_in(lake, files, "digest_found", lambda c: pc.cast(pc.fill_null(c, False), pa.int64()))


def _why_incomplete(manifest: ExtractManifest) -> str:
    parts = [f"{manifest.status.value} at {_stamp(manifest.started_at)}"]
    if manifest.error:
        parts.append(manifest.error)
    if manifest.quarantine_reasons:
        parts.append("quarantined: " + "; ".join(f"{n} x {reason}" for reason, n in manifest.quarantine_reasons.items()))
    parts += manifest.notes[:2]
    text = ": ".join(parts[:2]) + ("; " + "; ".join(parts[2:]) if len(parts) > 2 else "")
    return text if len(text) <= 400 else text[:397] + "..."


# ---------------------------------------------------------------------------------------
# the census


def _row(world: CensusWorld, lake: Lake, dataset: Dataset, day: datetime, attempts: list[ExtractManifest]) -> CensusRow:
    scheduled = world.spec.observation_time(day + DAY)
    complete = [m for m in attempts if m.status is ExtractStatus.COMPLETE]
    if not complete:
        latest = attempts[-1] if attempts else None
        moment = latest.started_at if latest else scheduled
        fault = world.planted_fault(dataset, day, moment)
        expectation = expected_rows(world, dataset, day, moment)
        why = _why_incomplete(latest) if latest else "no extract of this day was attempted"
        detail = "; ".join([why, *([] if fault else ["no planted fault explains it"]),
                            *([f"world: {expectation.detail}"] if expectation else [])])
        return CensusRow(dataset.key, day.date(), moment, None, expectation.rows if expectation else None,
                         NOT_EXTRACTED, detail, fault)
    current = complete[-1]
    if dataset.kind is DatasetKind.SNAPSHOT:
        moment = current.observed_at or current.started_at
        lake_count = _snapshot_rows(lake, dataset, current)
        if moment != scheduled:
            lake_count.notes.append(f"observed at {_stamp(moment)}, not at the scheduled {_stamp(scheduled)}")
    else:
        moment = current.started_at
        lake_count = _event_rows(lake, dataset, day)
    expectation = expected_rows(world, dataset, day, moment)
    if expectation is None:
        return CensusRow(dataset.key, day.date(), moment, lake_count.rows, None, MISMATCH,
                         "no way to derive this dataset's rows from the world is known")
    problems = list(expectation.problems) + lake_count.problems
    if expectation.digests_found is not None:
        found = _digests_found(lake, dataset, day)
        if found != expectation.digests_found:
            problems.append(f"the lake marks {found} hours digest_found, the world delivered "
                            f"{expectation.digests_found} digests")
    if expectation.rows is None:
        problems.append("the lake holds an extract the world never delivered")
    earlier = [m for m in attempts if m.status is not ExtractStatus.COMPLETE]
    notes = lake_count.notes + ([f"{len(earlier)} other attempt(s) not complete: {_why_incomplete(earlier[-1])}"]
                                if earlier else [])
    status = MATCH if lake_count.rows == expectation.rows and not problems else MISMATCH
    detail = "; ".join([expectation.detail, *problems, *notes])
    fault = expectation.fault or (world.planted_fault(dataset, day, earlier[-1].started_at) if earlier else None)
    return CensusRow(dataset.key, day.date(), moment, lake_count.rows, expectation.rows, status, detail, fault)


def census(demo_dir: Path, settings: Settings, days: int, datasets: list[str] | None = None) -> list[CensusRow]:
    """One row per dataset (every dataset of the registry, or those named) and per day of
    the window's first `days` days: the lake's rows against the world's."""
    world = CensusWorld(Path(demo_dir), days)
    lake = Lake(settings.lake_uri, settings.s3_endpoint_url)
    wanted = set(datasets) if datasets else None
    rows: list[CensusRow] = []
    for dataset in ALL_DATASETS:
        if wanted is not None and dataset.key not in wanted:
            continue
        by_interval: dict[tuple[datetime, datetime], list[ExtractManifest]] = {}
        for manifest in read_manifests(lake, dataset):  # oldest attempt first
            by_interval.setdefault((manifest.interval_start, manifest.interval_end), []).append(manifest)
        for offset in range(days):
            day = world.spec.window_start + offset * DAY
            rows.append(_row(world, lake, dataset, day, by_interval.get((day, day + DAY), [])))
    return rows


def format_census(rows: list[CensusRow]) -> str:
    """The census as a table, one line per dataset-day (for logs and assertion messages)."""
    return "\n".join(str(row) for row in rows)
