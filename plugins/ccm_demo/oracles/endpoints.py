"""Oracles for the endpoint controls (CC6.1, CC6.5, CC6.7, CC6.8, CC7.1, CC7.2).

Each judges the devices of the simulated world (`ccm_demo.world.devices`) at the moment
the demo's run observes Intune and Falcon (`view.observed(period)`), and the HR roster
export for the period's last day, never the API, lake or warehouse. The policy figures
are the key's own copy of the company's policy (dbt_project.yml vars), not read from it.
A control is untestable (None) when a source it needs was down at that moment or the
roster export it needs was never delivered.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ccm.constants import Frequency
from ccm.periods import Period
from ccm_demo.oracles import Oracle, WorldView
from ccm_demo.world import devices as world
from ccm_demo.world import hr
from ccm_demo.world.people import Person, load_people

OS_MINIMUMS = {"macOS": (14, 0), "Windows": (10, 0, 22621)}
CHECK_IN_WINDOW = timedelta(hours=168)
RETIRE_DEADLINE = timedelta(hours=72)
CURRENT_HR_STATUSES = {"Active", "Pending"}


def _devices(view: WorldView) -> list[dict]:
    return view.memo("devices", lambda: world.load_devices(view.demo_dir))


def _listed(view: WorldView, observed: datetime) -> list[dict]:
    """The devices Intune lists at `observed`."""
    return [d for d in _devices(view) if world.in_intune(d, observed)]


def _managed(view: WorldView, observed: datetime) -> list[dict]:
    return [d for d in _listed(view, observed) if world.management_state_at(d, observed) == "managed"]


def _roster(view: WorldView, period: Period) -> dict[str, tuple[Person, str]]:
    """The HR export for the period's last day: work email -> (person, status)."""
    people = view.memo("people", lambda: load_people(view.demo_dir))
    return {p.email.lower(): (p, status) for p in people if (status := hr.status_on(p, period.end)) is not None}


def _untestable(view: WorldView, period: Period, *sources: str, roster: bool = False) -> bool:
    observed = view.observed(period)
    if any(view.source_down(source, observed) for source in sources):
        return True
    return roster and period.end - timedelta(days=1) in hr.missing_export_days(view.spec)


def workforce_has_device(view: WorldView, period: Period) -> list[str] | None:
    """Active people with no actively managed device whose primary user is their email."""
    if _untestable(view, period, "intune", roster=True):
        return None
    observed = view.observed(period)
    owners = {(world.primary_user_at(d, observed) or "").lower() for d in _managed(view, observed)}
    return [person.employee_id for email, (person, status) in _roster(view, period).items()
            if status == "Active" and email not in owners]


def devices_encrypted(view: WorldView, period: Period) -> list[str] | None:
    if _untestable(view, period, "intune"):
        return None
    observed = view.observed(period)
    return [d["intune_id"] for d in _managed(view, observed) if not world.encrypted_at(d, observed)]


def _version(text: str) -> tuple[int, ...] | None:
    try:
        return tuple(int(part) for part in text.split("."))
    except ValueError:
        return None


def devices_os_current(view: WorldView, period: Period) -> list[str] | None:
    """Below the platform's minimum, or no check-in within the window."""
    if _untestable(view, period, "intune"):
        return None
    observed = view.observed(period)
    failing = []
    for device in _managed(view, observed):
        platform = "macOS" if device["platform"] == "macOS" else "Windows"
        version = _version(world.os_version_at(device, observed))
        supported = version is not None and version >= OS_MINIMUMS[platform]
        recent = observed - world.last_sync_at(device, observed) <= CHECK_IN_WINDOW
        if not (supported and recent):
            failing.append(device["intune_id"])
    return failing


def edr_sensor_reporting(view: WorldView, period: Period) -> list[str] | None:
    """Managed devices with no Falcon host of the same serial that reported within the window."""
    if _untestable(view, period, "intune", "crowdstrike"):
        return None
    observed = view.observed(period)
    last_seen: dict[str, datetime] = {}
    for device in _devices(view):
        if world.in_falcon(device, observed):
            seen = world.last_seen_at(device, observed)
            serial = device["serial"].upper()
            last_seen[serial] = max(seen, last_seen.get(serial, seen))
    return [d["intune_id"] for d in _managed(view, observed)
            if d["serial"].upper() not in last_seen or observed - last_seen[d["serial"].upper()] > CHECK_IN_WINDOW]


def device_owners(view: WorldView, period: Period) -> list[str] | None:
    """Listed devices without a current owner: unattributable, or a leaver's past the deadline."""
    if _untestable(view, period, "intune", roster=True):
        return None
    observed = view.observed(period)
    roster = _roster(view, period)
    failing = []
    for device in _listed(view, observed):
        user = world.primary_user_at(device, observed)
        entry = roster.get(user.lower()) if user else None
        if entry is None:
            failing.append(device["intune_id"])  # cannot be attributed to a person
            continue
        person, status = entry
        if status in CURRENT_HR_STATUSES or world.management_state_at(device, observed) != "managed":
            continue
        if person.termination_at is None or observed > person.termination_at + RETIRE_DEADLINE:
            failing.append(device["intune_id"])
    return failing


ORACLES = {
    "end_workforce_has_device": Oracle(Frequency.DAILY, workforce_has_device),
    "end_devices_encrypted": Oracle(Frequency.DAILY, devices_encrypted),
    "end_devices_os_current": Oracle(Frequency.DAILY, devices_os_current),
    "end_edr_sensor_reporting": Oracle(Frequency.DAILY, edr_sensor_reporting),
    "end_device_owners": Oracle(Frequency.DAILY, device_owners),
}
