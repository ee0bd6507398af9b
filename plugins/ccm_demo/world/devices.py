"""Endpoints: the laptops people work on, in Intune (MDM) and CrowdStrike Falcon (EDR).

World form (`world/devices.json`): one document per physical device with its owner (HR
employee id and UPN = work email), platform, serial number, the Intune and Falcon ids,
when it was enrolled, when a retire was issued and when it left Intune, and spans of
trouble: not encrypted, not checking in, sensor not reporting, and its OS versions over
time. `intune_device_at` / `falcon_host_at` render the API objects as of any moment for
the stand-ins and the answer key alike.

Lifecycle: everyone gets a laptop the day before they start (engineers mostly Macs); some
also carry a second (Windows test) machine; some laptops are replaced during the window
(the new one enrolled, the old one retired the next day); a leaver's devices are retired
within a day or so of the termination and leave Intune once the retire completed.

Seeded on purpose (each with clean periods around it, three approved exceptions per
control, one of which expires while its entity still fails):
- a contractor whose laptop died and who worked four days without a managed device;
  three people waiting for replacement hardware (excepted): end_workforce_has_device;
- an unencrypted laptop for three days; three excepted BitLocker/FileVault suspensions:
  end_devices_encrypted;
- an old OS (Windows 10 / macOS 13) for six days; a laptop that stopped checking in for
  ten days; three excepted OS upgrades: end_devices_os_current;
- a sensor silent for twelve days; a laptop enrolled without the sensor for three days;
  three excepted sensor problems: end_edr_sensor_reporting;
- a leaver's laptop retired nine days late; a shared laptop without a primary user for
  three days; three excepted legal holds: end_device_owners;
- one day each when Graph, the Falcon API and Jamf Pro are down after the day closes.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ccm_demo.spec import DemoSpec
from ccm_demo.world.common import iso, parse, read_json, rng_for, write_json
from ccm_demo.world.okta import window_day
from ccm_demo.world.people import Person
from ccm_demo.world.seeds import Seeds

if TYPE_CHECKING:
    from ccm_demo.world import WorldContext

ORDER = 14

DEVICES_FILE = "world/devices.json"
TENANT_ID = "6f1c2b7e-2f51-4a8e-9d0a-6b3c1e7d4a90"
SYNC_EVERY_MINUTES = 8 * 60  # Intune's check-in cycle
SENSOR_EVERY_MINUTES = 15  # how often the Falcon console updates last_seen
MAC_VERSIONS = ["14.7.1", "15.1.1"]
WINDOWS_VERSIONS = ["10.0.22631.4460", "10.0.26100.2314"]
OLD_MAC = "13.6.9"
OLD_WINDOWS = "10.0.19045.5131"  # Windows 10 22H2
AGENT_VERSIONS = ["7.18.18803.0", "7.19.18913.0"]
LEGACY_ENROLMENT = timedelta(days=700)  # devices of long-standing staff were enrolled at most this long ago


def _serial(rng, platform: str) -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
    if platform == "macOS":
        return "C02" + "".join(rng.choice(alphabet) for _ in range(9))
    return "5CG" + "".join(rng.choice(alphabet) for _ in range(7))


def _device(rng, person: Person, platform: str, enrolled: datetime, kind: str = "laptop") -> dict[str, Any]:
    versions = MAC_VERSIONS if platform == "macOS" else WINDOWS_VERSIONS
    initials = (person.first_name[0] + person.last_name[0]).upper()
    serial = _serial(rng, platform)
    return {
        "intune_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "falcon_id": f"{rng.getrandbits(128):032x}",
        "aad_device_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "serial": serial, "platform": platform, "kind": kind,
        "device_name": f"{'MAC' if platform == 'macOS' else 'WIN'}-{initials}-{serial[-4:]}",
        "model": ("MacBook Pro (14-inch, 2023)" if platform == "macOS" else "HP EliteBook 840 G10"),
        "manufacturer": "Apple" if platform == "macOS" else "HP",
        "employee_id": person.employee_id, "upn": person.email,
        "display_name": f"{person.first_name} {person.last_name}",
        "enrolled_at": iso(enrolled), "retire_issued_at": None, "retired_at": None,
        "sensor_installed_at": iso(enrolled + timedelta(minutes=rng.randint(20, 70))),
        "sync_phase": rng.randrange(SYNC_EVERY_MINUTES), "sensor_phase": rng.randrange(SENSOR_EVERY_MINUTES),
        "os": [[iso(enrolled), rng.choice(versions)]],
        "agent_version": rng.choice(AGENT_VERSIONS),
        "unencrypted": [], "sync_stale": [], "sensor_stale": [], "unassigned": [],
    }


def _retire(device: dict[str, Any], issued: datetime, done: datetime) -> None:
    device["retire_issued_at"] = iso(issued)
    device["retired_at"] = iso(done)


def generate_devices(spec: DemoSpec, people: list[Person], seeds: Seeds) -> list[dict[str, Any]]:
    rng = rng_for(spec.seed, "devices")
    ws = spec.window_start
    devices: list[dict[str, Any]] = []
    for person in people:
        mac_share = 0.8 if person.department in {"Engineering", "Product", "Security"} else 0.5
        platform = "macOS" if rng.random() < mac_share else "Windows"
        enrolled = max(person.start_at - timedelta(days=1), ws - LEGACY_ENROLMENT).replace(
            hour=14, minute=rng.randint(0, 59), second=0, microsecond=0)
        laptop = _device(rng, person, platform, enrolled)
        devices.append(laptop)
        if person.department == "Engineering" and rng.random() < 0.15:  # a second, Windows test machine
            devices.append(_device(rng, person, "Windows", enrolled + timedelta(days=rng.randint(3, 60)),
                                   kind="test machine"))
        if person.termination_at is None and person.start_at < ws and rng.random() < 0.06:
            # a replacement during the window: the new laptop first, the old one retired the next day
            day = ws + timedelta(days=rng.randint(2, spec.days - 2))
            new = _device(rng, person, platform, day.replace(hour=10, minute=rng.randint(0, 59)))
            _retire(laptop, day + timedelta(days=1, hours=11), day + timedelta(days=1, hours=16))
            devices.append(new)
    for device in devices:
        person = next(p for p in people if p.employee_id == device["employee_id"])
        if person.termination_at is not None and device["retire_issued_at"] is None:
            issued = person.termination_at + timedelta(hours=rng.randint(1, 30))
            _retire(device, issued, issued + timedelta(hours=rng.randint(2, 40)))
    _Seeding(spec, people, devices, seeds).plant()
    return devices


class RosterExhausted(RuntimeError):
    """No current, long-standing person with one laptop is left to carry another seed."""


class _Seeding:
    """Plants the device violations, each on devices nobody else seeded."""

    def __init__(self, spec: DemoSpec, people: list[Person], devices: list[dict[str, Any]], seeds: Seeds) -> None:
        self.spec, self.devices, self.seeds = spec, devices, seeds
        self.by_employee = {p.employee_id: p for p in people}
        self.used: set[str] = set()  # employee ids already seeded

    def _laptops(self, person: Person) -> list[dict[str, Any]]:
        return [d for d in self.devices if d["employee_id"] == person.employee_id]

    def _take(self, rng, *predicates) -> tuple[Person, dict[str, Any]]:
        """A current, long-standing person (not leadership) with exactly one device, matching
        the first predicate that has one; then anyone such."""
        cutoff = self.spec.window_start - timedelta(days=30)
        for predicate in (*predicates, lambda p: True):
            pool = [p for p in self.by_employee.values()
                    if p.employee_id not in self.used and p.termination_at is None and p.start_at < cutoff
                    and not p.title.startswith(("Head of", "Chief")) and predicate(p)
                    and len(self._laptops(p)) == 1 and self._laptops(p)[0]["retired_at"] is None]
            if pool:
                person = rng.choice(sorted(pool, key=lambda p: p.employee_id))
                self.used.add(person.employee_id)
                return person, self._laptops(person)[0]
        raise RosterExhausted("the demo roster has no one left for another device seed")

    def _day(self, fraction: float, spare: int) -> datetime:
        return window_day(self.spec, fraction, minimum=2, spare=spare)

    def plant(self) -> None:
        """Seed the failures and exceptions, as many as the roster allows: a very small company
        (the 20-person one of some tests) gets the first ones only. The oracles judge the world,
        not this list, so the answer key holds either way."""
        for step in (self.workforce, self.encryption, self.os_current, self.sensor, self.owners):
            try:
                step()
            except RosterExhausted:
                return

    def _gap(self, rng, fraction: float, days: int, predicate=None) -> tuple[Person, dict[str, Any], datetime]:
        """The person's laptop is retired (broken) and its replacement enrolled `days` later."""
        person, laptop = self._take(rng, *([predicate] if predicate else []))
        day = self._day(fraction, spare=days + 3)
        broke = day + timedelta(hours=10)
        _retire(laptop, broke, broke + timedelta(hours=1))
        replacement = _device(rng, person, laptop["platform"], day + timedelta(days=days, hours=15))
        self.devices.append(replacement)
        return person, laptop, day

    def workforce(self) -> None:
        rng = rng_for(self.spec.seed, "devices:workforce")
        self._gap(rng, 0.3, 4, lambda p: p.employment_type == "contractor")  # not excepted
        person, _, day = self._gap(rng, 0.5, 3)
        self.seeds.add_exception("end_workforce_has_device", person.employee_id,
                                 "Laptop stolen; replacement on order, working from the office kiosk",
                                 day, day + timedelta(days=4))
        person, _, day = self._gap(rng, 0.7, 5)
        self.seeds.add_exception("end_workforce_has_device", person.employee_id,
                                 "Laptop in repair; loaner expected", day, day + timedelta(days=2))  # lapses
        person, _, day = self._gap(rng, 0.85, 2)
        self.seeds.add_exception("end_workforce_has_device", person.employee_id,
                                 "New hardware shipped by courier", day, day + timedelta(days=3))

    def _span(self, rng, key: str, fraction: float, days: int, predicate=None) -> tuple[dict[str, Any], datetime]:
        _, laptop = self._take(rng, *([predicate] if predicate else []))
        day = self._day(fraction, spare=days + 3)
        laptop[key].append([iso(day + timedelta(hours=11)), iso(day + timedelta(days=days, hours=13))])
        return laptop, day

    def encryption(self) -> None:
        rng = rng_for(self.spec.seed, "devices:encryption")
        self._span(rng, "unencrypted", 0.15, 3)  # not excepted
        for fraction, days, covered, reason in ((0.4, 3, 4, "BitLocker suspended for a firmware update"),
                                                (0.62, 4, 2, "FileVault re-keyed after a logic board swap"),
                                                (0.9, 2, 3, "BitLocker recovery after a TPM reset")):
            laptop, day = self._span(rng, "unencrypted", fraction, days)
            self.seeds.add_exception("end_devices_encrypted", laptop["intune_id"], reason, day,
                                     day + timedelta(days=covered))

    def _old_os(self, laptop: dict[str, Any], start: datetime, end: datetime) -> None:
        """The laptop runs an unsupported OS version from `start` (its enrolment: pinned; later:
        reimaged from an old image) until it is upgraded at `end`."""
        current = laptop["os"][-1][1]
        laptop["os"] = [*laptop["os"], [iso(start), OLD_MAC if laptop["platform"] == "macOS" else OLD_WINDOWS],
                        [iso(end), current]]

    def os_current(self) -> None:
        rng = rng_for(self.spec.seed, "devices:os")
        _, laptop = self._take(rng, lambda p: p.department == "Finance")
        day = self._day(0.25, spare=9)
        self._old_os(laptop, day + timedelta(hours=9), day + timedelta(days=6, hours=12))  # not excepted
        self._span(rng, "sync_stale", 0.45, 10)  # fails once the last check-in is over 7 days old
        for fraction, lapse_days, reason in ((0.55, 0, "Line-of-business app certified on the old OS only"),
                                             (0.3, 3, "Upgrade scheduled after quarter close"),  # lapses
                                             (0.75, 0, "Lab machine pinned to the old OS for a customer repro")):
            _, laptop = self._take(rng)
            upgrade = self._day(fraction, spare=4) + timedelta(hours=12)
            self._old_os(laptop, parse(laptop["enrolled_at"]), upgrade)
            self.seeds.add_exception("end_devices_os_current", laptop["intune_id"], reason, self.spec.window_start,
                                     upgrade - timedelta(days=lapse_days))

    def sensor(self) -> None:
        rng = rng_for(self.spec.seed, "devices:sensor")
        self._span(rng, "sensor_stale", 0.35, 12)  # not excepted: fails from its eighth silent day
        _, laptop = self._take(rng)  # reimaged without the sensor for three days
        day = self._day(0.6, spare=6)
        laptop["sensor_stale"].append([iso(day + timedelta(hours=9)), iso(day + timedelta(days=3, hours=12))])
        laptop["sensor_removed"] = True
        for fraction, days, covered, reason in ((0.2, 10, 12, "Sensor conflicts with a kernel driver; vendor case"),
                                                (0.5, 11, 8, "Laptop at the repair shop"),  # lapses while silent
                                                (0.8, 9, 12, "Employee on leave, laptop switched off")):
            laptop, day = self._span(rng, "sensor_stale", fraction, days)
            self.seeds.add_exception("end_edr_sensor_reporting", laptop["intune_id"], reason, day,
                                     day + timedelta(days=covered))

    def owners(self) -> None:
        rng = rng_for(self.spec.seed, "devices:owners")
        ws, we = self.spec.window_start, self.spec.window_end
        leavers = sorted((p for p in self.by_employee.values()
                          if p.termination_at is not None and ws + timedelta(days=1) < p.termination_at
                          and p.termination_at < we - timedelta(days=12)),
                         key=lambda p: p.termination_at)
        rng.shuffle(leavers)
        lags = [(timedelta(days=9), None), (timedelta(days=7), 10, "Legal hold on the leaver's laptop"),
                (timedelta(days=8), 3, "Laptop returned by courier; wipe after receipt"),  # lapses
                (timedelta(days=6), 10, "Handover of a shared test machine")]
        for person, (lag, *exception) in zip(leavers, lags, strict=False):
            self.used.add(person.employee_id)
            for device in self._laptops(person):
                if device["retired_at"] and parse(device["retired_at"]) < person.termination_at:
                    continue  # replaced before leaving
                issued = person.termination_at + lag
                _retire(device, issued, issued + timedelta(hours=3))
                if exception and exception[0] is not None:
                    covered, reason = exception
                    self.seeds.add_exception("end_device_owners", device["intune_id"], reason,
                                             person.termination_at, person.termination_at + timedelta(days=covered))
        # a shared laptop with no primary user for three days
        _, laptop = self._take(rng)
        day = self._day(0.55, spare=6)
        laptop["unassigned"].append([iso(day + timedelta(hours=9)), iso(day + timedelta(days=3, hours=12))])


def generate(ctx: WorldContext) -> None:
    write_json(ctx.demo_dir / DEVICES_FILE, generate_devices(ctx.spec, ctx.people, ctx.seeds))
    for source, fraction, what in (("intune", 0.47, "Microsoft Graph returns 503 for six hours after the day closes"),
                                   ("crowdstrike", 0.66, "the Falcon API returns 503 for six hours after the day "
                                                         "closes"),
                                   ("jamf", 0.58, "Jamf Pro returns 503 for six hours after the day closes")):
        day = max(3, int(ctx.spec.days * fraction))
        closes = ctx.spec.window_start + timedelta(days=day + 1)
        ctx.seeds.add_outage(source, closes, closes + timedelta(hours=6), what)


def load_devices(demo_dir: Path) -> list[dict[str, Any]]:
    return read_json(Path(demo_dir) / DEVICES_FILE)


# state as of a moment ------------------------------------------------------------------

def _in(spans: list[list[str]], moment: datetime) -> bool:
    return any(parse(a) <= moment < parse(b) for a, b in spans)


def in_intune(device: dict[str, Any], moment: datetime) -> bool:
    """Enrolled, and its retire or wipe has not completed yet."""
    retired = parse(device["retired_at"])
    return parse(device["enrolled_at"]) <= moment and (retired is None or moment < retired)


def management_state_at(device: dict[str, Any], moment: datetime) -> str:
    issued = parse(device["retire_issued_at"])
    return "retirePending" if issued is not None and issued <= moment else "managed"


def encrypted_at(device: dict[str, Any], moment: datetime) -> bool:
    return not _in(device["unencrypted"], moment)


def os_version_at(device: dict[str, Any], moment: datetime) -> str:
    version = device["os"][0][1]
    for since, value in device["os"]:
        if parse(since) <= moment:
            version = value
    return version


def _last_beat(moment: datetime, phase: int, every: int, spans: list[list[str]], since: datetime) -> datetime:
    """The last periodic check-in at or before `moment`: on a per-device grid, frozen at the
    start of a silent span while it lasts, and back at a span's end."""
    for a, b in spans:
        if parse(a) <= moment < parse(b):
            return parse(a)
    minutes = int(moment.timestamp() // 60)
    beat = datetime.fromtimestamp((minutes - (minutes - phase) % every) * 60, tz=UTC)
    for a, b in spans:
        if parse(a) <= beat < parse(b):
            beat = parse(b)
    return max(beat, since)


def last_sync_at(device: dict[str, Any], moment: datetime) -> datetime:
    return _last_beat(moment, device["sync_phase"], SYNC_EVERY_MINUTES, device["sync_stale"],
                      parse(device["enrolled_at"]))


def primary_user_at(device: dict[str, Any], moment: datetime) -> str | None:
    return None if _in(device["unassigned"], moment) else device["upn"]


def intune_device_at(device: dict[str, Any], moment: datetime) -> dict[str, Any] | None:
    """The Graph managedDevice object as of `moment`, or None when Intune does not list it."""
    if not in_intune(device, moment):
        return None
    mac = device["platform"] == "macOS"
    version = os_version_at(device, moment)
    encrypted = encrypted_at(device, moment)
    upn = primary_user_at(device, moment)
    old = version in (OLD_MAC, OLD_WINDOWS)
    return {
        "id": device["intune_id"], "userId": None if upn is None else str(uuid.uuid5(uuid.NAMESPACE_URL, upn)),
        "deviceName": device["device_name"], "managedDeviceName": f"{device['device_name']}_{device['enrolled_at'][:10]}",
        "managedDeviceOwnerType": "company", "enrolledDateTime": device["enrolled_at"],
        "lastSyncDateTime": iso(last_sync_at(device, moment), millis=False),
        "operatingSystem": "macOS" if mac else "Windows", "osVersion": version,
        "complianceState": "compliant" if encrypted and not old else "noncompliant",
        "jailBroken": "Unknown", "managementAgent": "mdm", "managementState": management_state_at(device, moment),
        "deviceEnrollmentType": "appleBulkWithUser" if mac else "windowsAzureADJoin",
        "deviceRegistrationState": "registered", "azureADRegistered": True,
        "azureADDeviceId": device["aad_device_id"], "isSupervised": mac, "isEncrypted": encrypted,
        "userPrincipalName": upn or "", "emailAddress": upn or "",
        "userDisplayName": device["display_name"] if upn else None, "model": device["model"], "manufacturer": device["manufacturer"],
        "serialNumber": device["serial"], "partnerReportedThreatState": "unknown",
        "totalStorageSpaceInBytes": 494384795648, "freeStorageSpaceInBytes": 201863462912,
        "wiFiMacAddress": hashlib.sha256(device["serial"].encode()).hexdigest()[:12].upper(),
    }


def in_falcon(device: dict[str, Any], moment: datetime) -> bool:
    """The sensor was installed and the host not yet hidden (hosts are hidden once retired),
    and the device is not in a span where it was reimaged without the sensor."""
    retired = parse(device["retired_at"])
    if parse(device["sensor_installed_at"]) > moment or (retired is not None and moment >= retired):
        return False
    return not (device.get("sensor_removed") and _in(device["sensor_stale"], moment))


def last_seen_at(device: dict[str, Any], moment: datetime) -> datetime:
    return _last_beat(moment, device["sensor_phase"], SENSOR_EVERY_MINUTES, device["sensor_stale"],
                      parse(device["sensor_installed_at"]))


def falcon_host_at(device: dict[str, Any], moment: datetime) -> dict[str, Any] | None:
    """The Falcon device details (v2) object as of `moment`, or None when Falcon does not list it."""
    if not in_falcon(device, moment):
        return None
    mac = device["platform"] == "macOS"
    version = os_version_at(device, moment)
    return {
        "device_id": device["falcon_id"], "cid": "4f8e9d2c1b0a49e8a7d6c5b4a3928170",
        "agent_load_flags": "0", "agent_local_time": iso(moment), "agent_version": device["agent_version"],
        "bios_manufacturer": "Apple Inc." if mac else "HP", "config_id_base": "65994763",
        "external_ip": "203.0.113.10", "first_seen": iso(parse(device["sensor_installed_at"]), millis=False),
        "hostname": device["device_name"], "last_seen": iso(last_seen_at(device, moment), millis=False),
        "local_ip": "10.20.0.15", "mac_address": hashlib.sha256(device["serial"].encode()).hexdigest()[:12],
        "machine_domain": "" if mac else "KESTREL", "major_version": version.split(".")[0],
        "minor_version": version.split(".")[1], "os_version": (f"macOS {version}" if mac else
                                                                ("Windows 10" if version == OLD_WINDOWS else
                                                                 "Windows 11")),
        "platform_id": "1" if mac else "0", "platform_name": "Mac" if mac else "Windows",
        "product_type_desc": "Workstation", "serial_number": device["serial"], "status": "normal",
        "system_manufacturer": device["manufacturer"], "system_product_name": device["model"],
        "tags": [], "modified_timestamp": iso(last_seen_at(device, moment), millis=False),
    }


def jamf_id(device: dict[str, Any]) -> str:
    """Jamf Pro's numeric computer id, derived from the device (Jamf numbers computers itself)."""
    return str(int(hashlib.sha256(device["intune_id"].encode()).hexdigest()[:7], 16))


def in_jamf(device: dict[str, Any], moment: datetime) -> bool:
    """Macs are co-managed: Jamf Pro inventories them from enrolment until their retire completes."""
    return device["platform"] == "macOS" and in_intune(device, moment)


def jamf_computer_at(device: dict[str, Any], moment: datetime) -> dict[str, Any] | None:
    """The Jamf Pro computers-inventory record (GENERAL, HARDWARE, DISK_ENCRYPTION,
    OPERATING_SYSTEM, USER_AND_LOCATION) as of `moment`, or None when Jamf does not list it."""
    if not in_jamf(device, moment):
        return None
    encrypted = encrypted_at(device, moment)
    upn = primary_user_at(device, moment)
    contact = iso(last_sync_at(device, moment))
    return {
        "id": jamf_id(device), "udid": device["aad_device_id"].upper(),
        "general": {"name": device["device_name"], "platform": "Mac", "lastContactTime": contact,
                    "reportDate": contact, "lastEnrolledDate": device["enrolled_at"],
                    "remoteManagement": {"managed": management_state_at(device, moment) == "managed",
                                         "managementUsername": "jamfmanage"},
                    "supervised": True, "userApprovedMdm": True, "enrolledViaAutomatedDeviceEnrollment": True},
        "hardware": {"serialNumber": device["serial"], "model": device["model"], "make": "Apple"},
        "diskEncryption": {"bootPartitionEncryptionDetails": {
            "partitionName": "Macintosh HD (Boot Partition)",
            "partitionFileVault2State": "ENCRYPTED" if encrypted else "UNENCRYPTED",
            "partitionFileVault2Percent": 100 if encrypted else 0},
            "individualRecoveryKeyValidityStatus": "VALID" if encrypted else "UNKNOWN",
            "institutionalRecoveryKeyPresent": False},
        "operatingSystem": {"name": "macOS", "version": os_version_at(device, moment),
                            "fileVault2Status": "BOOT_ENCRYPTED" if encrypted else "NOT_ENCRYPTED"},
        "userAndLocation": {"username": (upn or "").split("@")[0], "realname": device["display_name"] if upn else "",
                            "email": upn or "", "position": "", "phone": ""},
    }
