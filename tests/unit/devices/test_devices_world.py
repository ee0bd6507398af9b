"""The demo company's devices: the lifecycle the stand-ins and oracles both read, and the
planted failures the endpoint controls must find."""

from __future__ import annotations

from datetime import timedelta

from ccm_demo.world import devices as world
from ccm_demo.world.common import parse
from ccm_demo.world.people import load_people


def test_everyone_has_a_laptop_before_their_first_day_and_leavers_lose_theirs(demo_dir, small_spec):
    devices = world.load_devices(demo_dir)
    by_owner: dict[str, list[dict]] = {}
    for device in devices:
        by_owner.setdefault(device["employee_id"], []).append(device)
    for person in load_people(demo_dir):
        owned = by_owner[person.employee_id]
        # before their first day; long-standing staff carry a laptop enrolled at the last refresh
        first_needed = max(person.start_at, small_spec.window_start)
        assert min(parse(d["enrolled_at"]) for d in owned) < first_needed, person.employee_id
        if person.termination_at is not None:
            assert all(d["retired_at"] is not None for d in owned), person.employee_id
            after = person.termination_at + timedelta(days=30)
            assert not any(world.intune_device_at(d, after) or world.falcon_host_at(d, after) for d in owned)


def test_the_apis_render_one_device_consistently(demo_dir, small_spec):
    moment = small_spec.observation_time(small_spec.window_start + timedelta(days=2))
    for device in world.load_devices(demo_dir):
        managed, host = world.intune_device_at(device, moment), world.falcon_host_at(device, moment)
        if managed is None:
            continue
        assert managed["serialNumber"] == device["serial"] and managed["id"] == device["intune_id"]
        assert parse(managed["lastSyncDateTime"]) <= moment
        if host is not None:
            assert host["serial_number"] == managed["serialNumber"] and parse(host["last_seen"]) <= moment
        computer = world.jamf_computer_at(device, moment)
        assert (computer is not None) == (device["platform"] == "macOS")


def test_the_planted_failures_are_in_the_world(demo_dir):
    devices = world.load_devices(demo_dir)
    assert sum(1 for d in devices if d["unencrypted"]) >= 4  # one failing, three excepted
    assert sum(1 for d in devices if d["sensor_stale"]) >= 5
    assert sum(1 for d in devices if d["sync_stale"]) >= 1
    assert sum(1 for d in devices if len(d["os"]) > 1) >= 4  # old OS, then upgraded
    assert sum(1 for d in devices if d["unassigned"]) == 1  # the shared laptop nobody owns
    stale = next(d for d in devices if d["sync_stale"])
    start, end = (parse(t) for t in stale["sync_stale"][0])
    inside = start + (end - start) / 2
    assert world.last_sync_at(stale, inside) == start  # frozen while it does not check in
    assert world.last_sync_at(stale, end + timedelta(hours=1)) >= end  # and checks in again
