"""Oracles for the CloudTrail controls (CC6.1 root use and console MFA, CC7.2 log continuity).

They judge the facts the world recorded while generating the activity (every root and
IAM-user sign-in, every trail change, every delivery fault), never the bucket or the lake:

- event-based controls (root activity, console MFA) cannot be tested for a day whose
  events are incomplete: a log file holding some of the day's events is listed in a
  delivered digest but was never delivered;
- log continuity judges digest hours: an hour fails when its digest never arrived or a
  log file its digest lists never arrived (the file holding a day's last minutes is
  delivered, and digested, in the first hour of the next day); every successful trail
  change found in a delivered file fails too, unless an exception covers it.

A late file counts: it is delivered before the next day's run, whose look-back re-reads
its day.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ccm.constants import Frequency
from ccm.periods import Period
from ccm_demo.oracles import Oracle, WorldView
from ccm_demo.world import cloudtrail as world


def _facts(view: WorldView) -> dict[str, Any]:
    return view.load(world.FACTS_FILE)


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _missing_digest_hours(view: WorldView) -> set[tuple[str, str, datetime]]:
    return view.memo("cloudtrail:missing-digests", lambda: {
        (d["account_id"], d["region"], world.parse_time(d["start"])) for d in _facts(view)["missing_digests"]})


def _known_missing_files(view: WorldView) -> list[dict[str, Any]]:
    """Log files never delivered whose digest was: the extract knows they are missing."""
    lost_digests = _missing_digest_hours(view)
    return [f for f in _facts(view)["missing_log_files"]
            if (f["account_id"], f["region"], _hour(world.parse_time(f["deliver_at"]))) not in lost_digests]


def _events_complete(view: WorldView, period: Period) -> bool:
    for log_file in _known_missing_files(view):
        oldest, newest = world.parse_time(log_file["oldest"]), world.parse_time(log_file["newest"])
        if oldest < period.end and newest >= period.start:
            return False
    return True


def _planted(view: WorldView, kind: str, period: Period) -> list[dict[str, Any]]:
    return [e for e in _facts(view)["planted_events"]
            if e["kind"] == kind and e["delivered"] and period.contains(world.parse_time(e["time"]))]


def root_activity(view: WorldView, period: Period) -> list[str] | None:
    if not _events_complete(view, period):
        return None
    return sorted({world.root_arn(e["account_id"]) for e in _planted(view, "root", period)})


def console_mfa(view: WorldView, period: Period) -> list[str] | None:
    if not _events_complete(view, period):
        return None
    return sorted({e["principal_arn"] for e in _planted(view, "console_login", period)
                   if e["success"] and not e["mfa_used"]})


def continuity(view: WorldView, period: Period) -> list[str] | None:
    facts = _facts(view)
    failing = set()
    lost_digests = _missing_digest_hours(view)
    for account_id, region, start in lost_digests:
        if period.contains(start):
            failing.add(world.hour_entity(account_id, region, start))
    for log_file in facts["missing_log_files"]:
        hour = _hour(world.parse_time(log_file["deliver_at"]))
        if period.contains(hour) and (log_file["account_id"], log_file["region"], hour) not in lost_digests:
            failing.add(world.hour_entity(log_file["account_id"], log_file["region"], hour))
    for change in _planted(view, "trail_change", period):
        if change["success"] and change["event_name"] in world.TRAIL_CHANGE_EVENTS:
            failing.add(world.trail_change_entity(change["account_id"], change["region"], change["event_name"],
                                                  change["trail"]))
    return sorted(failing)


ORACLES = {
    "iam_aws_root_activity": Oracle(Frequency.DAILY, root_activity),
    "iam_aws_console_mfa": Oracle(Frequency.DAILY, console_mfa),
    "mon_cloudtrail_continuity": Oracle(Frequency.DAILY, continuity),
}
