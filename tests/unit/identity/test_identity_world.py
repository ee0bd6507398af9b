"""The identity part of the demo world: deterministic, and seeded the way the guide asks
(violations with clean periods between, three approved exceptions per control, one of
which lapses while its entity still fails, a not_tested period per source family)."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from ccm.controls.catalog import load_catalog
from ccm.periods import next_period_start
from ccm_demo.answer_key import read_answer_key
from ccm_demo.simulator import generate
from ccm_demo.spec import DemoSpec
from ccm_demo.world import okta as okta_world
from ccm_demo.world.access import all_admin_grants
from tests.conftest import PROJECT_DIR

CONTROLS = PROJECT_DIR / "include" / "controls.yml"

IDENTITY_CONTROLS = ("iam_google_2sv", "iam_okta_deprovision_24h", "iam_okta_orphan_accounts",
                     "iam_dormant_accounts", "iam_admins_approved", "iam_access_review_quarterly")


def _digests(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_the_same_spec_gives_the_same_bytes_and_another_seed_another_company(tmp_path):
    spec = DemoSpec(employees=30, days=20)
    first, second = generate(spec, tmp_path / "a"), generate(spec, tmp_path / "b")
    digests = _digests(first)
    assert digests == _digests(second)
    assert (first / "world" / "google_users.json").exists() and (first / "world" / "iga_access_reviews.json").exists()
    other = generate(DemoSpec(seed=spec.seed + 1, employees=30, days=20), tmp_path / "c")
    changed = {path for path, digest in _digests(other).items() if digests.get(path) != digest}
    assert "answer_key.csv" in changed and len(changed) > len(digests) // 2  # another company


def test_every_identity_control_has_passes_failures_and_three_exceptions_one_lapsing(default_company):
    key = read_answer_key(default_company)
    exceptions = yaml.safe_load((default_company / "exceptions.yml").read_text())["exceptions"]
    catalog = load_catalog(CONTROLS)
    for control_id in IDENTITY_CONTROLS:
        frequency = catalog.get(control_id).frequency
        periods = {period: slot for (cid, period), slot in key.items() if cid == control_id}
        statuses = {slot["status"] for slot in periods.values()}
        # the window closes only two quarters: one fails, the other is excepted
        wanted = {"fail", "excepted"} if control_id == "iam_access_review_quarterly" else {"pass", "fail", "excepted"}
        assert wanted <= statuses, (control_id, statuses)
        mine = [e for e in exceptions if e["control_id"] == control_id]
        assert len(mine) >= 3, control_id
        lapsed = False
        for exception in mine:
            valid_until = datetime.fromisoformat(exception["expires_on"]).replace(tzinfo=UTC) + timedelta(days=1)
            for period, slot in periods.items():
                start = datetime.fromisoformat(period).replace(tzinfo=UTC)
                closes = next_period_start(start, frequency)
                uncovered = slot["failing"] - slot["excepted"].keys()
                # the period in which the exception ran out, with its entity still failing
                lapsed = lapsed or (exception["entity_id"] in uncovered and start <= valid_until < closes)
        assert lapsed, f"{control_id}: no exception lapses while its entity still fails"


def test_each_identity_source_family_has_a_not_tested_period(default_company):
    key = read_answer_key(default_company)
    not_tested = defaultdict(int)
    for (control_id, _period), slot in key.items():
        if slot["status"] == "not_tested":
            not_tested[control_id] += 1
    assert not_tested["iam_google_2sv"] == 1  # the Google outage day
    assert not_tested["iam_dormant_accounts"] == 2  # Okta's two outage days
    assert not_tested["iam_admins_approved"] == 4  # Okta twice, Google once, the missing IGA export
    assert not_tested["iam_okta_orphan_accounts"] == 1  # November: the HR export of the 30th is missing


def test_admin_grants_and_the_system_log_agree(default_company):
    grants = all_admin_grants(default_company)
    assert {g.system for g in grants} == {"okta", "google"}
    assert any(not g.approved for g in grants) and any(g.approval_gaps for g in grants)
    admins = [u for u in okta_world.load_users(default_company) if u["roles"]]
    spec = DemoSpec.load(default_company)
    events = okta_world.events_between(admins, spec.window_start, spec.window_end)
    granted = {(e["target"][0]["id"], e["published"]) for e in events if e["eventType"] == "user.account.privilege.grant"}
    in_window = {(g.account_id, okta_world.iso(g.granted_at)) for g in grants
                 if g.system == "okta" and spec.window_start <= g.granted_at < spec.window_end}
    assert in_window and in_window == granted
